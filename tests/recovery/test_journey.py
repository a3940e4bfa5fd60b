"""The patient's diary journey (issue 13) through the real app, on each test database: the safety re-check for the
entry just saved whatever its date, kept listed until read; editing a day keeps what was not cleared; diary dates
from the operation to today; the operation and long-standing symptoms recorded once and passed to the re-check."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from fusioncare.recovery.models import DiaryEntry, RecoveryProfile
from tests.recovery.conftest import HTML

TODAY = dt.date.today()
RED_FLAGS = ["saddle_numbness", "bladder_dysfunction"]


def _token(client, token, path: str) -> str:
    return token(client.get(path, headers=HTML).text)


def _post_page(client, token, data: dict, *, follow: bool = True):
    return client.post("/recovery/today", headers=HTML, follow_redirects=follow,
                       data={**data, "csrf_token": _token(client, token, "/recovery/today")})


def _day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def test_a_red_flag_saved_for_a_past_day_after_today_is_shown_at_once_for_that_day(signed_in_client, post_entry, db):
    client, token = signed_in_client
    assert post_entry(TODAY, 3, 2).status_code == 201
    past = TODAY - dt.timedelta(days=3)
    page = _post_page(client, token, {"date": past.isoformat(), "leg_pain": "6", "back_pain": "4",
                                      "symptoms": RED_FLAGS})
    main = _main(page.text)
    assert f"Saved your entry for {_day(past)}: it reports a warning sign" in main
    assert "Saved today" not in main
    # The alert is about that day, and comes before everything else on the page.
    assert main.index("urgency-emergency") < main.index("<h1>My recovery</h1>")
    assert f"Your diary entry for {past:%A} {past.day} {past:%B %Y} reported a warning sign" in main
    assert 'href="tel:911"' in main
    stored = db.scalar(select(DiaryEntry).where(DiaryEntry.entry_date == past))
    assert stored.safety["urgency"] == "emergency" and stored.safety_seen_at is None


def test_an_unread_safety_result_stays_on_the_tracker_until_the_patient_has_read_it(signed_in_client, post_entry, db):
    client, token = signed_in_client
    past = TODAY - dt.timedelta(days=5)
    entry_id = post_entry(past, 6, 4, symptoms=RED_FLAGS).json()["id"]
    post_entry(TODAY, 2, 2)
    for _ in range(2):  # later entries and reloads do not hide it
        tracker = _main(client.get("/recovery", headers=HTML).text)
        assert "Not yet read" in tracker and "urgency-emergency" in tracker
        assert f"/recovery/entries/{entry_id}/seen" in tracker
    read = client.post(f"/recovery/entries/{entry_id}/seen", headers=HTML, follow_redirects=True,
                       data={"csrf_token": token(client.get("/recovery", headers=HTML).text)})
    assert read.status_code == 200
    assert "urgency-emergency" not in _main(read.text) and "Not yet read" not in read.text
    stored = db.get(DiaryEntry, entry_id)
    assert stored.safety_seen_at is not None and stored.safety["urgency"] == "emergency"  # kept, just read


def test_a_safety_result_can_be_marked_read_only_by_its_owner(client, post_entry, make_person, bearer):
    entry_id = post_entry(TODAY, 6, 4, symptoms=RED_FLAGS).json()["id"]
    other = bearer(make_person("other"))
    assert client.post(f"/api/v1/diary/entries/{entry_id}/safety-seen", headers=other).status_code == 404


def test_the_api_lists_whether_the_safety_result_was_read(client, post_entry, patient):
    entry_id = post_entry(TODAY, 6, 4, symptoms=RED_FLAGS).json()["id"]
    assert client.get(f"/api/v1/diary/entries/{entry_id}", headers=patient[1]).json()["safety_seen"] is False
    marked = client.post(f"/api/v1/diary/entries/{entry_id}/safety-seen", headers=patient[1])
    assert marked.status_code == 200 and marked.json()["safety_seen"] is True


def test_opening_a_saved_day_shows_its_entry_filled_in(signed_in_client, post_entry):
    client, _ = signed_in_client
    day = TODAY - dt.timedelta(days=2)
    post_entry(day, 7, 3, medications=["gabapentin", "ibuprofen"], exercise_minutes=25, sleep_quality=2,
               note="stiff morning", treatments_started=["physical_therapy"])
    page = client.get(f"/recovery/today?day={day.isoformat()}", headers=HTML).text
    assert f"Your entry for {day:%A} {day.day} {day:%B %Y}" in page
    assert re.search(r'id="leg_pain-7"[^>]* checked', page) and re.search(r'id="back_pain-3"[^>]* checked', page)
    assert 'value="gabapentin, ibuprofen"' in page and 'value="25"' in page and "stiff morning</textarea>" in page
    assert re.search(r'id="sleep-2"[^>]* checked', page)
    assert re.search(r'id="treatments_started-physical_therapy"[^>]* checked', page)
    assert f'name="loaded_for" value="{day.isoformat()}"' in page


def test_saving_the_opened_day_changes_only_what_the_patient_changed(signed_in_client, post_entry, db):
    client, token = signed_in_client
    day = TODAY - dt.timedelta(days=1)
    post_entry(day, 7, 3, medications=["gabapentin"], exercise_minutes=25, sleep_quality=2, note="stiff")
    # The form as the browser sends it back after changing leg pain only (every field, filled in).
    page = _post_page(client, token, {"loaded_for": day.isoformat(), "date": day.isoformat(), "leg_pain": "5",
                                      "back_pain": "3", "medications": "gabapentin", "exercise_minutes": "25",
                                      "sleep_quality": "2", "note": "stiff"})
    assert f"Updated your entry for {_day(day)}" in page.text
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.entry_date == day))
    assert (entry.leg_pain, entry.medications, entry.exercise_minutes, entry.sleep_quality, entry.note) == (
        5, ["gabapentin"], 25, 2, "stiff")
    # Clearing a field on the opened entry clears it: that is the patient's choice.
    _post_page(client, token, {"loaded_for": day.isoformat(), "date": day.isoformat(), "leg_pain": "5",
                               "back_pain": "3", "medications": "", "exercise_minutes": "25", "sleep_quality": "2",
                               "note": "stiff"})
    db.refresh(entry)
    assert entry.medications == [] and entry.exercise_minutes == 25 and entry.note == "stiff"


def test_a_quick_save_on_a_day_that_has_an_entry_never_erases_its_details(signed_in_client, post_entry, db):
    client, token = signed_in_client
    post_entry(TODAY, 6, 3, medications=["gabapentin"], exercise_minutes=30, sleep_quality=4, note="walked",
               symptoms=["walking_leg_pain"], treatments_started=["tens"])
    # A blank form (not opened from that day's entry) with only the two pain scores.
    _post_page(client, token, {"date": TODAY.isoformat(), "leg_pain": "4", "back_pain": "2"})
    entry = db.scalar(select(DiaryEntry))
    assert (entry.leg_pain, entry.back_pain, entry.medications, entry.exercise_minutes, entry.sleep_quality,
            entry.note, entry.symptoms, entry.treatments_started) == (
        4, 2, ["gabapentin"], 30, 4, "walked", ["walking_leg_pain"], ["tens"])


def test_the_api_keeps_the_fields_a_second_save_leaves_out(client, post_entry, patient):
    post_entry(TODAY, 6, 3, medications=["gabapentin"], note="walked", sleep_quality=4)
    kept = post_entry(TODAY, 5, 3).json()
    assert (kept["medications"], kept["note"], kept["sleep_quality"]) == (["gabapentin"], "walked", 4)
    cleared = post_entry(TODAY, 5, 3, medications=[], sleep_quality=None).json()
    assert (cleared["medications"], cleared["note"], cleared["sleep_quality"]) == ([], "walked", None)


def test_a_diary_date_in_1900_or_the_future_is_refused_in_plain_words(signed_in_client, post_entry, db):
    client, token = signed_in_client
    for day in (dt.date(1900, 1, 1), TODAY - dt.timedelta(days=366 * 11)):
        api = post_entry(day, 3, 2)
        assert api.status_code == 422, (day, api.text)
        page = _post_page(client, token, {"date": day.isoformat(), "leg_pain": "3", "back_pain": "2"})
        assert page.status_code == 400
        assert "Choose a day from" in page.text and "record your operation date" in page.text
    future = _post_page(client, token, {"date": (TODAY + dt.timedelta(days=3)).isoformat(), "leg_pain": "3",
                                        "back_pain": "2"})
    assert future.status_code == 400 and "today or an earlier day" in future.text
    assert db.scalar(select(func.count()).select_from(DiaryEntry)) == 0
    assert "1900" not in client.get("/recovery", headers=HTML).text


def test_a_diary_date_before_the_recorded_operation_is_refused(client, signed_in_client, patient, post_entry, db):
    web, token = signed_in_client
    operation = TODAY - dt.timedelta(days=60)
    assert client.put("/api/v1/recovery/profile", headers=patient[1],
                      json={"operation_date": operation.isoformat()}).status_code == 200
    before = post_entry(operation - dt.timedelta(days=1), 3, 2)
    assert before.status_code == 422 and "on or after your operation" in before.text
    page = _post_page(web, token, {"date": (operation - dt.timedelta(days=1)).isoformat(), "leg_pain": "3",
                                   "back_pain": "2"})
    assert page.status_code == 400 and f"{operation:%A} {operation.day} {operation:%B %Y}" in page.text
    assert post_entry(operation, 3, 2).status_code == 201
    assert db.scalar(select(func.count()).select_from(DiaryEntry)) == 1


def test_the_operation_is_recorded_once_on_its_page_and_kept(signed_in_client, db, patient):
    client, token = signed_in_client
    saved = client.post("/recovery/operation", headers=HTML, follow_redirects=True, data={
        "csrf_token": _token(client, token, "/recovery/operation"), "full_name": "Ana Lima",
        "date_of_birth": "1961-05-02", "operation_date": (TODAY - dt.timedelta(days=400)).isoformat(),
        "fusion_region": "lumbar", "fusion_levels": "L4-L5", "fusion_approach": "posterior",
        "surgeon": "Dr Rao, Valley Spine", "long_standing_symptoms": ["foot_drop"]})
    assert saved.status_code == 200 and "Saved." in saved.text
    assert 'value="L4-L5"' in saved.text and re.search(r'id="fusion_approach-posterior"[^>]* checked', saved.text)
    profile = db.get(RecoveryProfile, patient[0].id)
    assert (profile.full_name, profile.date_of_birth, profile.fusion_levels, profile.surgeon,
            profile.long_standing_symptoms) == ("Ana Lima", dt.date(1961, 5, 2), "L4-L5", "Dr Rao, Valley Spine",
                                                ["foot_drop"])


def test_bad_operation_details_are_refused_in_plain_words_and_nothing_is_stored(signed_in_client, db, patient):
    client, token = signed_in_client
    for field, value, words in (("operation_date", (TODAY + dt.timedelta(days=9)).isoformat(), "has not come yet"),
                                ("date_of_birth", TODAY.replace(year=TODAY.year - 5, day=1).isoformat(),
                                 "16 to 120 years old"),
                                ("operation_date", "not a date", "Enter the date of your operation"),
                                ("fusion_approach", "sideways", "how the surgeon reached your spine"),
                                ("long_standing_symptoms", "saddle_numbness", "Choose only from the symptoms")):
        page = client.post("/recovery/operation", headers=HTML, data={
            "csrf_token": _token(client, token, "/recovery/operation"), field: value})
        assert page.status_code == 400 and words in page.text, (field, value)
        assert f'href="#field-{field}"' in page.text
    assert db.get(RecoveryProfile, patient[0].id) is None


def test_the_re_check_passes_the_operation_and_long_standing_symptoms_to_the_assessment(client, post_entry, patient):
    new = post_entry(TODAY - dt.timedelta(days=1), 4, 3, symptoms=["foot_drop"]).json()
    assert new["safety"]["urgency"] in {"urgent", "emergency"} and new["safety"]["red_flags"] == ["foot_drop"]
    client.put("/api/v1/recovery/profile", headers=patient[1], json={
        "operation_date": (TODAY - dt.timedelta(days=500)).isoformat(), "fusion_approach": "posterior",
        "long_standing_symptoms": ["foot_drop"]})
    old = post_entry(TODAY, 4, 3, symptoms=["foot_drop"]).json()
    assert old["safety"] is None  # an old, unchanged foot drop is not a new warning sign
    # A cauda equina sign is never lowered, whatever was there before.
    alarm = post_entry(TODAY, 4, 3, symptoms=["foot_drop", "saddle_numbness"]).json()
    assert alarm["safety"]["urgency"] == "emergency"
    profile = client.get("/api/v1/recovery/profile", headers=patient[1]).json()
    assert profile["long_standing_symptoms"] == ["foot_drop"] and profile["fusion_approach"] == "posterior"


def test_someone_elses_entry_id_on_the_tracker_shows_nothing_of_theirs(signed_in_client, client, make_person, bearer):
    web, _ = signed_in_client
    other = bearer(make_person("other"))
    theirs = client.post("/api/v1/diary/entries", headers=other, json={
        "date": TODAY.isoformat(), "leg_pain": 6, "back_pain": 4, "symptoms": RED_FLAGS}).json()["id"]
    page = web.get(f"/recovery?saved=created&entry={theirs}", headers=HTML)
    assert page.status_code == 200
    assert "Saved your entry" not in page.text and "urgency-emergency" not in page.text


def test_a_meaningful_change_of_one_point_is_one_point(client, patient):
    for answers in ([6, 6, 6], [4, 4, 4]):
        client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "peg", "answers": answers})
    peg = next(m for m in client.get("/api/v1/recovery/trends", headers=patient[1]).json()["measures"]
               if m["measure"] == "peg")
    assert "a change of 1 point or 30% is meaningful" in peg["summary"] and "1 points" not in peg["summary"]


def test_no_diary_answer_reaches_a_url_or_a_log_line(signed_in_client, caplog):
    """The redirect after saving names the entry by its random id and the day to edit by its date, never an
    answer: symptoms, medications, the note, pain scores or the operation stay out of URLs and logs."""
    import logging

    client, token = signed_in_client
    lines: list[str] = []
    client.event_hooks["request"] = [lambda r: lines.append(f"{r.method} {r.url.raw_path.decode()}")]
    caplog.set_level(logging.DEBUG)
    day = TODAY - dt.timedelta(days=1)
    _post_page(client, token, {"date": day.isoformat(), "leg_pain": "7", "back_pain": "3",
                               "symptoms": ["saddle_numbness"], "medications": "zopiclonex",
                               "note": "markernote"})
    client.get(f"/recovery/today?day={day.isoformat()}", headers=HTML)
    client.post("/recovery/operation", headers=HTML, data={
        "csrf_token": _token(client, token, "/recovery/operation"), "fusion_levels": "T11-T12markerlevel",
        "surgeon": "Dr Markerson", "long_standing_symptoms": ["foot_drop"]})
    seen = lines + [record.getMessage() for record in caplog.records]
    assert any("/recovery?saved=created&entry=" in line for line in lines)
    for marker in ("saddle_numbness", "zopiclonex", "markernote", "leg_pain", "T11-T12", "Markerson", "foot_drop"):
        assert not [line for line in seen if marker in line], marker


def test_a_red_flag_symptom_rated_soon_without_a_listed_red_flag_is_kept_and_shown(client, patient, post_entry):
    """Some of the pack's red-flag symptoms send a patient to a doctor soon through an ordinary rule, with no red
    flag listed: three months after a fusion, belly swelling, night pain, weight loss and new numbness. The diary's
    re-check must keep that result and list it until read (it used to keep only results listing a red flag); pain
    in the buttock on sitting, no red-flag symptom and no worsening, leaves nothing to read."""
    operation = TODAY - dt.timedelta(days=92)
    assert client.put("/api/v1/recovery/profile", headers=patient[1],
                      json={"operation_date": operation.isoformat()}).status_code == 200
    days = {}
    for back, symptom in enumerate(("abdominal_swelling", "night_pain", "weight_loss", "new_numbness")):
        day = TODAY - dt.timedelta(days=back)
        saved = post_entry(day, 3, 2, symptoms=[symptom])
        assert saved.status_code == 201, saved.text
        assert saved.json()["safety"]["urgency"] == "soon", symptom
        days[day] = symptom
    quiet = post_entry(TODAY - dt.timedelta(days=10), 3, 2, symptoms=["sitting_buttock_pain"])
    assert quiet.status_code == 201 and quiet.json()["safety"] is None

    page = client.get("/recovery", headers={**HTML, **patient[1]})
    for day in days:
        assert f"Your diary entry for {day:%A} {day.day} {day:%B %Y} reported a symptom to get checked" in page.text


def test_filling_in_an_earlier_day_rechecks_the_later_day_it_makes_a_worsening(client, patient, post_entry):
    """The worsening test of a day looks back 14 to 20 days. Today saved at 8/8 with nothing before it is no
    worsening; the day 17 days ago then filled in at 2/2 makes today a meaningful worsening (MCID: 2 points), so
    today's entry must get its re-check result then, listed until read, not only if today is saved again."""
    today = post_entry(TODAY, 8, 8)
    assert today.status_code == 201 and today.json()["safety"] is None
    earlier = post_entry(TODAY - dt.timedelta(days=17), 2, 2)
    assert earlier.status_code == 201 and earlier.json()["safety"] is None  # nothing before it either

    read = client.get(f"/api/v1/diary/entries/{today.json()['id']}", headers=patient[1]).json()
    assert read["safety"] is not None and read["safety"]["urgency"] != "routine"
    page = client.get("/recovery", headers={**HTML, **patient[1]})
    assert (f"Your diary entry for {TODAY:%A} {TODAY.day} {TODAY:%B %Y} showed your pain getting meaningfully "
            "worse") in page.text
