"""The recovery API over the real app: diary entries, bad input, safety re-check, questionnaires, trends, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select

from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse

TODAY = dt.date.today()


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_posting_a_diary_entry_returns_it_with_an_id_and_no_safety_when_nothing_is_wrong(client, post_entry, patient):
    response = post_entry(TODAY, 5, 3, symptoms=["walking_leg_pain"], medications=["paracetamol"],
                          treatments_started=["physical_therapy"], exercise_minutes=20, sleep_quality=3, note="ok")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] and body["leg_pain"] == 5 and body["updated_existing"] is False
    assert body["safety"] is None
    read = client.get(f"/api/v1/diary/entries/{body['id']}", headers=patient[1])
    assert read.status_code == 200 and read.json()["medications"] == ["paracetamol"]


def test_second_entry_for_the_same_day_updates_it_and_says_so(client, post_entry, patient, db):
    first = post_entry(TODAY, 5, 3).json()
    second = post_entry(TODAY, 4, 2, note="better")
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert second.json()["updated_existing"] is True
    assert "Updated your entry" in second.json()["message"]
    assert _count(db, DiaryEntry) == 1
    listed = client.get("/api/v1/diary/entries", headers=patient[1]).json()
    assert [(e["leg_pain"], e["note"]) for e in listed] == [(4, "better")]


def test_a_red_flag_in_the_diary_raises_an_emergency(post_entry):
    response = post_entry(TODAY, 6, 5, symptoms=["saddle_numbness", "bladder_dysfunction"])
    assert response.status_code == 201
    safety = response.json()["safety"]
    assert safety["urgency"] == "emergency"
    assert set(safety["red_flags"]) >= {"saddle_numbness"}
    assert safety["headline"]


def test_meaningful_worsening_over_two_weeks_runs_the_assessment(post_entry):
    for days_ago in (20, 18, 16):
        assert post_entry(TODAY - dt.timedelta(days=days_ago), 3, 2).json()["safety"] is None
    small_rise = post_entry(TODAY - dt.timedelta(days=2), 4, 2).json()  # 1 point on 3 is 33%: meaningful
    assert small_rise["safety"] is not None
    worse = post_entry(TODAY, 6, 2).json()
    assert worse["safety"]["urgency"] in {"soon", "urgent", "emergency"}
    assert any(r["rule"].startswith("worsening_pain") for r in worse["safety"]["reasons"])


def test_steady_pain_over_two_weeks_does_not_run_the_assessment(post_entry):
    for days_ago in (20, 16, 14):
        post_entry(TODAY - dt.timedelta(days=days_ago), 6, 4)
    assert post_entry(TODAY, 6, 4).json()["safety"] is None


def test_bad_diary_input_is_422_naming_the_field_and_nothing_is_stored(client, patient, db):
    cases = [({"leg_pain": 11}, "leg_pain"), ({"back_pain": -1}, "back_pain"),
             ({"date": (TODAY + dt.timedelta(days=3)).isoformat()}, "date"),
             ({"symptoms": ["headache"]}, "symptoms[0]"), ({"treatments_started": ["magic"]}, "treatments_started[0]")]
    for change, field in cases:
        body = {"date": TODAY.isoformat(), "leg_pain": 5, "back_pain": 3, **change}
        response = client.post("/api/v1/diary/entries", json=body, headers=patient[1])
        assert response.status_code == 422, (change, response.text)
        assert field in [d["field"] for d in response.json()["detail"]], response.json()
    assert "future" in client.post("/api/v1/diary/entries", headers=patient[1], json={
        "date": (TODAY + dt.timedelta(days=3)).isoformat(), "leg_pain": 5, "back_pain": 3}).json()["message"]
    assert _count(db, DiaryEntry) == 0


def test_diary_needs_a_signed_in_patient(client):
    assert client.post("/api/v1/diary/entries", json={"date": TODAY.isoformat(), "leg_pain": 1,
                                                      "back_pain": 1}).status_code == 401
    assert client.get("/api/v1/diary/entries").status_code == 401
    assert client.get("/api/v1/recovery/trends").status_code == 401
    assert client.get("/api/v1/diary/export.csv").status_code == 401


def test_questionnaires_are_scored_and_saved(client, patient):
    odi = client.post("/api/v1/questionnaires", headers=patient[1],
                      json={"instrument": "odi", "answers": [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]})
    assert odi.status_code == 201, odi.text
    assert (odi.json()["score"], odi.json()["band"]) == (32.0, "moderate")
    peg = client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "peg", "answers": [7, 5, 6]})
    assert peg.json()["score"] == 6.0 and peg.json()["interpretation"]
    pgic = client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "pgic", "answers": [2]})
    assert "meaningful improvement" in pgic.json()["interpretation"]
    again = client.get(f"/api/v1/questionnaires/{odi.json()['id']}", headers=patient[1])
    assert again.json()["score"] == 32.0


def test_unscorable_questionnaire_is_422_naming_the_answer_and_nothing_is_stored(client, patient, db):
    bad = client.post("/api/v1/questionnaires", headers=patient[1],
                      json={"instrument": "odi", "answers": [1, 1, 7, 1, 1, 1, 1, 1, 1, 1]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "answers[2]"
    few = client.post("/api/v1/questionnaires", headers=patient[1],
                      json={"instrument": "odi", "answers": [1, 1, 1, 1, 1, 1, 1, None, None, None]})
    assert few.status_code == 422 and "at least 8" in few.json()["message"]
    unknown = client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "sf36", "answers": [1]})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "instrument"
    assert _count(db, QuestionnaireResponse) == 0


def test_trends_judge_change_from_baseline_against_the_mcid_in_words(client, post_entry, patient):
    start = TODAY - dt.timedelta(days=35)
    for i in range(0, 36, 3):
        day = start + dt.timedelta(days=i)
        post_entry(day, 8 if i < 14 else 4, 3)
    trends = client.get("/api/v1/recovery/trends", headers=patient[1])
    assert trends.status_code == 200
    leg, back = trends.json()["measures"][0], trends.json()["measures"][1]
    assert leg["judgement"] == "improved" and leg["baseline"] == 8 and leg["latest"] == 4
    assert leg["summary"].startswith(f"Your leg pain has improved meaningfully since {start.day} {start:%B %Y}")
    assert back["judgement"] == "no_meaningful_change"
    assert len(leg["weekly"]) >= 5
    assert all(w["week_start"] <= TODAY.isoformat() for w in leg["weekly"])


def test_trends_mark_treatment_starts(client, post_entry, patient):
    post_entry(TODAY - dt.timedelta(days=3), 6, 3, treatments_started=["injection"])
    markers = client.get("/api/v1/recovery/trends", headers=patient[1]).json()["treatments"]
    assert markers == [{"date": (TODAY - dt.timedelta(days=3)).isoformat(), "treatment": "injection",
                        "event": "started"}]


def test_diary_exports_as_csv_with_formulas_defused(client, post_entry, patient):
    post_entry(TODAY - dt.timedelta(days=1), 6, 3, medications=["ibuprofen", "paracetamol"], note="=HYPERLINK(1)")
    post_entry(TODAY, 5, 3)
    response = client.get("/api/v1/diary/export.csv", headers=patient[1])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["leg_pain"] for r in rows] == ["6", "5"]
    assert rows[0]["medications"] == "ibuprofen; paracetamol"
    assert rows[0]["note"] == "'=HYPERLINK(1)"


def test_another_patient_sees_none_of_my_diary(client, post_entry, make_person, bearer):
    post_entry(TODAY, 6, 3)
    other = bearer(make_person("other"))
    assert client.get("/api/v1/diary/entries", headers=other).json() == []
    assert client.get("/api/v1/recovery/trends", headers=other).json()["measures"][0]["baseline"] is None
    assert client.get("/api/v1/diary/export.csv", headers=other).text.count("\n") == 1


def test_my_data_export_and_account_deletion_include_the_recovery_tracker(client, post_entry, patient, db):
    post_entry(TODAY, 6, 3)
    client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "peg", "answers": [5, 5, 5]})
    exported = client.get("/api/v1/me/export", headers=patient[1]).json()["data"]
    assert len(exported["diary_entries"]) == 1 and len(exported["questionnaire_responses"]) == 1
    assert client.request("DELETE", "/api/v1/me", headers=patient[1],
                          json={"password": patient[0].password}).status_code == 200
    assert _count(db, DiaryEntry) == 0 and _count(db, QuestionnaireResponse) == 0


def test_patient_can_pick_a_later_baseline_for_the_trends(client, post_entry, patient):
    for days_ago, leg in ((40, 9), (30, 5), (20, 5), (10, 4), (0, 4)):
        post_entry(TODAY - dt.timedelta(days=days_ago), leg, 3)
    default = client.get("/api/v1/recovery/trends", headers=patient[1]).json()["measures"][0]
    assert default["baseline"] == 9 and default["judgement"] == "improved"
    picked_day = TODAY - dt.timedelta(days=32)
    picked = client.get(f"/api/v1/recovery/trends?baseline_from={picked_day.isoformat()}",
                        headers=patient[1]).json()["measures"][0]
    assert picked["baseline"] == 5 and picked["baseline_date"] == (TODAY - dt.timedelta(days=30)).isoformat()
    assert picked["judgement"] == "no_meaningful_change"
    bad = client.get("/api/v1/recovery/trends?baseline_from=soon", headers=patient[1])
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "baseline_from"


def test_ten_parallel_saves_of_a_new_day_give_one_entry_and_no_5xx(live_server, patient, db, monkeypatch):
    """Racing saves for a day with no entry yet: one creates it, the others update it (the unique constraint
    decides, on SQLite and PostgreSQL), nobody gets a 500 and the note reaches no log."""
    import time

    import httpx

    from fusioncare.recovery import service
    from tests.support import fire_together, sentinel

    real_check = service.safety_check

    def slow_check(*args, **kwargs):  # every save reads the day's (missing) entry before any of them writes
        time.sleep(0.1)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(service, "safety_check", slow_check)

    day = (TODAY - dt.timedelta(days=3)).isoformat()
    notes = [sentinel("note") for _ in range(10)]

    def save(index: int) -> int:
        return httpx.post(f"{live_server.url}/api/v1/diary/entries", headers=patient[1], timeout=60,
                          json={"date": day, "leg_pain": 5, "back_pain": 2, "note": notes[index],
                                "medications": [sentinel("medication")]}).status_code

    statuses = fire_together(10, save)
    assert sorted(statuses) == [200] * 9 + [201], statuses
    db.expire_all()
    stored = db.scalars(select(DiaryEntry)).all()
    assert len(stored) == 1 and stored[0].note in notes


def test_a_nul_byte_in_any_diary_text_is_a_422_naming_the_field(post_entry, db):
    for field, value in (("note", "before\x00after"), ("medications", ["ibu\x00profen"])):
        response = post_entry(TODAY, 5, 2, **{field: value})
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"][0]["field"].startswith(field)
    assert _count(db, DiaryEntry) == 0


def test_diary_dates_outside_the_calendar_the_tracker_can_chart_are_a_422(post_entry, client, patient, db):
    for day in ("0001-01-01", "1899-12-31", "9999-12-31"):
        response = post_entry(dt.date.fromisoformat(day), 5, 2)
        assert response.status_code == 422, day
        assert response.json()["detail"][0]["field"] == "date"
    assert _count(db, DiaryEntry) == 0
    for path in ("/api/v1/recovery/trends", "/api/v1/recovery/summary.pdf", "/api/v1/diary/export.csv"):
        assert client.get(path, headers=patient[1]).status_code == 200, path
    too_early = client.get("/api/v1/recovery/trends?baseline_from=0001-01-01", headers=patient[1])
    assert too_early.status_code == 422 and too_early.json()["detail"][0]["field"] == "baseline_from"


def test_listing_my_shares_is_audited(client, patient, db):
    from fusioncare.accounts.models import AuditEvent

    assert client.get("/api/v1/recovery/shares", headers=patient[1]).status_code == 200
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id == patient[0].id)).all()
    assert "recovery_share.list" in actions
