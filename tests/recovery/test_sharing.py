"""Sharing the recovery record with a provider the patient chose: who can read, revoking, validation, audit."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from sqlalchemy import select

from fusioncare.accounts.models import AuditEvent
from fusioncare.directory.npi import with_check_digit
from fusioncare.recovery.models import RecoveryShare
from tests.accounts.conftest import PASSWORD
from tests.conftest import SHARED_NPI_NINE
from tests.recovery.conftest import HTML
from tests.scheduling.builders import add_directory_provider, bookable_provider

NPI = with_check_digit(SHARED_NPI_NINE)
OTHER_NPI = with_check_digit("170000033")


@pytest.fixture
def record(client, patient, post_entry):
    """The patient's diary entry and ODI ids."""
    entry = post_entry(dt.date.today() - dt.timedelta(days=1), 6, 3).json()["id"]
    odi = client.post("/api/v1/questionnaires", json={"instrument": "odi", "answers": [2] * 10},
                      headers=patient[1]).json()["id"]
    return entry, odi


@pytest.fixture
def chosen(db, tmp_path, make_person, bearer):
    """Bearer headers of the verified provider account for NPI (a directory provider)."""
    bookable_provider(db, tmp_path, NPI)
    from fusioncare.accounts import service as accounts
    from tests.accounts.conftest import Person

    user = accounts.get_user_by_email(db, email=f"dr{NPI}@example.org")
    return bearer(Person(user=user, email=user.email, password=PASSWORD))


def _share(client, patient, npi=NPI):
    return client.post("/api/v1/recovery/shares", json={"npi": npi}, headers=patient[1])


def _reads(share_id: str, entry: str, odi: str) -> list[str]:
    return [f"/api/v1/diary/entries/{entry}", f"/api/v1/questionnaires/{odi}",
            f"/api/v1/provider/shared/{share_id}/trends", f"/api/v1/provider/shared/{share_id}/entries",
            f"/api/v1/provider/shared/{share_id}/questionnaires", f"/api/v1/provider/shared/{share_id}/summary.pdf"]


def test_the_chosen_provider_reads_the_diary_questionnaires_trends_and_summary(client, patient, record, chosen, db):
    entry, odi = record
    before = dt.datetime.now(dt.UTC)
    shared = _share(client, patient)
    after = dt.datetime.now(dt.UTC)
    assert shared.status_code == 201, shared.text
    share_id = shared.json()["id"]
    assert shared.json()["npi"] == NPI and share_id != str(patient[0].id)

    answers = {path: client.get(path, headers=chosen) for path in _reads(share_id, entry, odi)}

    assert {path: r.status_code for path, r in answers.items()} == {path: 200 for path in answers}
    assert answers[f"/api/v1/diary/entries/{entry}"].json()["leg_pain"] == 6
    assert [e["id"] for e in answers[f"/api/v1/provider/shared/{share_id}/entries"].json()] == [entry]
    assert answers[f"/api/v1/provider/shared/{share_id}/summary.pdf"].content.startswith(b"%PDF")
    listed = client.get("/api/v1/provider/shared", headers=chosen).json()
    assert [sorted(item) for item in listed] == [["patient_email", "share_id", "shared_since"]]
    assert listed[0]["share_id"] == share_id and listed[0]["patient_email"] == patient[0].email
    since = dt.datetime.fromisoformat(listed[0]["shared_since"])
    assert before - dt.timedelta(seconds=1) <= since <= after + dt.timedelta(seconds=1), "when the share was made"
    reads = db.scalars(select(AuditEvent).where(AuditEvent.action == "recovery_share.read",
                                                AuditEvent.outcome == "allowed")).all()
    assert len(reads) == 4, "every read through the share is audited"


def test_another_verified_provider_gets_404_everywhere(client, patient, record, chosen, make_person, bearer):
    share_id = _share(client, patient).json()["id"]
    other = bearer(make_person("dr-other", npi=OTHER_NPI, verified=True))

    codes = {path: client.get(path, headers=other).status_code for path in _reads(share_id, *record)}

    assert set(codes.values()) == {404}, codes
    assert client.get("/api/v1/provider/shared", headers=other).json() == []


def test_after_revoking_the_provider_gets_404_at_once(client, patient, record, chosen, db):
    share_id = _share(client, patient).json()["id"]
    assert client.get(f"/api/v1/provider/shared/{share_id}/trends", headers=chosen).status_code == 200

    assert client.delete(f"/api/v1/recovery/shares/{share_id}", headers=patient[1]).status_code == 204

    codes = {path: client.get(path, headers=chosen).status_code for path in _reads(share_id, *record)}
    assert set(codes.values()) == {404}, codes
    assert client.get("/api/v1/provider/shared", headers=chosen).json() == []
    assert client.get("/api/v1/recovery/shares", headers=patient[1]).json() == []
    assert client.delete(f"/api/v1/recovery/shares/{share_id}", headers=patient[1]).status_code == 404


def test_an_unverified_account_claiming_the_chosen_npi_gets_404(client, patient, record, make_person, bearer, db,
                                                                  tmp_path):
    impostor = bearer(make_person("impostor", npi=NPI, verified=False))  # claims before the real one is verified
    bookable_provider(db, tmp_path, NPI)
    share_id = _share(client, patient).json()["id"]

    codes = {path: client.get(path, headers=impostor).status_code for path in _reads(share_id, *record)}

    assert set(codes.values()) == {404}, codes
    assert client.get("/api/v1/provider/shared", headers=impostor).status_code == 404


def test_the_provider_can_never_write(client, patient, record, chosen, db):
    share_id = _share(client, patient).json()["id"]
    entry, odi = record

    assert client.delete(f"/api/v1/recovery/shares/{share_id}", headers=chosen).status_code == 404
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in _reads(share_id, entry, odi):
            assert client.request(method, path, headers=chosen).status_code in (404, 405), (method, path)
    owned = client.post("/api/v1/diary/entries", headers=chosen, json={
        "date": dt.date.today().isoformat(), "leg_pain": 1, "back_pain": 1, "owner_id": patient[0].id})
    assert owned.status_code == 422
    assert db.scalar(select(RecoveryShare.id).where(RecoveryShare.id == share_id)) == share_id
    assert [e["id"] for e in client.get("/api/v1/diary/entries", headers=patient[1]).json()] == [entry]


@pytest.mark.parametrize(("npi", "words"), [("1234567890", "check the digits"), ("12345", "10-digit"),
                                            (with_check_digit("170000041"), "no active provider"),
                                            (with_check_digit("170000058"), "verified")])
def test_sharing_needs_a_verified_provider_in_the_directory(npi, words, client, patient, db, tmp_path):
    add_directory_provider(db, tmp_path, with_check_digit("170000058"))  # in the directory, no account

    response = _share(client, patient, npi)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "npi" and words in response.json()["message"]
    assert db.scalars(select(RecoveryShare)).all() == []


def test_sharing_twice_returns_the_same_share(client, patient, chosen):
    first, second = _share(client, patient), _share(client, patient)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert [s["id"] for s in client.get("/api/v1/recovery/shares", headers=patient[1]).json()] == [first.json()["id"]]


def test_providers_with_appointments_are_suggested_until_shared(client, patient, chosen):
    from tests.scheduling.builders import future_day

    start = dt.datetime.combine(future_day(), dt.time(14), tzinfo=dt.UTC).isoformat()
    booked = client.post("/api/v1/appointments", headers=patient[1],
                         json={"npi": NPI, "start": start, "type": "telehealth"})
    assert booked.status_code == 201, booked.text

    assert [c["npi"] for c in client.get("/api/v1/recovery/shares/suggestions", headers=patient[1]).json()] == [NPI]
    _share(client, patient)
    assert client.get("/api/v1/recovery/shares/suggestions", headers=patient[1]).json() == []


def test_shares_are_in_my_data_export_and_erased_with_the_account(client, patient, chosen, db):
    share_id = _share(client, patient).json()["id"]

    exported = client.get("/api/v1/me/export", headers=patient[1]).json()["data"]["recovery_shares"]
    assert [(s["id"], s["npi"]) for s in exported] == [(share_id, NPI)]
    assert client.request("DELETE", "/api/v1/me", headers=patient[1],
                          json={"password": patient[0].password}).status_code == 200
    db.expire_all()
    assert db.scalars(select(RecoveryShare)).all() == []
    assert client.get("/api/v1/provider/shared", headers=chosen).json() == []


def test_trends_and_other_list_reads_are_audited(client, patient, record, db):
    for path in ("/api/v1/recovery/trends", "/api/v1/diary/entries", "/api/v1/diary/export.csv",
                 "/api/v1/recovery/summary.pdf"):
        assert client.get(path, headers=patient[1]).status_code == 200
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id == patient[0].id,
                                                             AuditEvent.outcome == "allowed")))
    assert {"diary_entry.trends", "diary_entry.list", "diary_entry.export", "visit_summary.export"} <= actions


def test_patient_shares_and_revokes_on_the_sharing_page(signed_in_client, chosen, db):
    client, token = signed_in_client
    page = client.get("/recovery/sharing", headers=HTML)
    assert "Only you." in page.text

    done = client.post("/recovery/sharing", headers=HTML, follow_redirects=False,
                       data={"csrf_token": token(page.text), "npi": NPI})
    assert done.status_code == 303 and done.headers["location"] == "/recovery/sharing?done=shared"
    page = client.get("/recovery/sharing?done=shared", headers=HTML)
    assert f"NPI {NPI}" in page.text and "Only you." not in page.text
    share_id = db.scalar(select(RecoveryShare.id))

    bad = client.post("/recovery/sharing", headers=HTML, data={"csrf_token": token(page.text), "npi": "12"})
    assert bad.status_code == 400 and "10-digit" in bad.text

    revoked = client.post(f"/recovery/sharing/{share_id}/revoke", headers=HTML, follow_redirects=False,
                          data={"csrf_token": token(page.text)})
    assert revoked.status_code == 303
    assert "Only you." in client.get("/recovery/sharing", headers=HTML).text


def test_provider_pages_list_shared_patients_and_show_the_summary(client, patient, record, chosen, make_person,
                                                                     bearer):
    share_id = _share(client, patient).json()["id"]

    schedule = client.get("/provider/schedule", headers={**chosen, **HTML})
    assert 'href="/provider/shared"' in schedule.text
    listing = client.get("/provider/shared", headers={**chosen, **HTML})
    assert listing.status_code == 200 and patient[0].email in listing.text
    assert f'href="/provider/shared/{share_id}"' in listing.text
    summary = client.get(f"/provider/shared/{share_id}", headers={**chosen, **HTML})
    assert summary.status_code == 200 and "shared by your patient" in summary.text
    assert f"/api/v1/provider/shared/{share_id}/summary.pdf" in summary.text

    other = bearer(make_person("dr-other", npi=OTHER_NPI, verified=True))
    assert client.get(f"/provider/shared/{share_id}", headers={**other, **HTML}).status_code == 404


def test_the_sharing_page_offers_the_providers_i_have_appointments_with(signed_in_client, patient, chosen, db):
    from tests.scheduling.builders import future_day

    client, token = signed_in_client
    start = dt.datetime.combine(future_day(), dt.time(15), tzinfo=dt.UTC).isoformat()
    assert client.post("/api/v1/appointments", headers=patient[1],
                       json={"npi": NPI, "start": start, "type": "telehealth"}).status_code == 201
    page = client.get("/recovery/sharing", headers=HTML)
    assert f'name="choice" value="{NPI}"' in page.text and "Or enter the provider" in page.text

    done = client.post("/recovery/sharing", headers=HTML, follow_redirects=False,
                       data={"csrf_token": token(page.text), "choice": NPI, "npi": ""})

    assert done.headers["location"] == "/recovery/sharing?done=shared"
    assert db.scalar(select(RecoveryShare.npi)) == NPI
    assert 'name="choice"' not in client.get("/recovery/sharing", headers=HTML).text, "no longer offered"


def test_trend_sentences_speak_to_the_patient_and_about_them_to_the_provider(client, patient, post_entry, chosen):
    today = dt.date.today()
    for days_ago, leg in ((30, 8), (3, 3), (2, 3), (1, 3)):
        assert post_entry(today - dt.timedelta(days=days_ago), leg, 2).status_code == 201
    share_id = _share(client, patient).json()["id"]

    own = client.get("/api/v1/recovery/trends", headers=patient[1]).json()["measures"][0]
    shared = client.get(f"/api/v1/provider/shared/{share_id}/trends", headers=chosen).json()["measures"][0]
    page = client.get(f"/provider/shared/{share_id}", headers={**chosen, **HTML}).text

    assert own["summary"].startswith("Your leg pain has improved meaningfully since")
    assert shared["summary"].startswith("Leg pain has improved meaningfully since")
    assert shared["summary"].removeprefix("Leg") == own["summary"].removeprefix("Your leg")
    assert "Leg pain has improved meaningfully" in page and "Your leg pain" not in page


def _pdf_text(content: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "shared.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _shared(client, patient, chosen, consent: bool) -> str:
    """A share made the way the patient chose: the consent is asked for explicitly, never assumed."""
    shared = client.post("/api/v1/recovery/shares", headers=patient[1],
                         json={"npi": NPI, **({"share_assessments": True} if consent else {})})
    assert shared.status_code == 201, shared.text
    assert shared.json().get("share_assessments", False) is consent
    return shared.json()["id"]


@pytest.mark.parametrize("consent", [False, True])
def test_the_provider_sees_the_saved_assessment_only_with_the_patients_consent(
        client, patient, chosen, post_entry, saved_assessment_of, tmp_path, consent):
    headline = saved_assessment_of(patient[0])
    post_entry(dt.date.today() - dt.timedelta(days=1), 4, 3)
    share_id = _shared(client, patient, chosen, consent)

    page = unescape(client.get(f"/provider/shared/{share_id}", headers={**chosen, **HTML}).text)
    pdf = _pdf_text(client.get(f"/api/v1/provider/shared/{share_id}/summary.pdf", headers=chosen).content, tmp_path)

    assert [headline in page, headline in " ".join(pdf.split())] == [consent, consent]
    own = unescape(client.get("/recovery/summary", headers={**patient[1], **HTML}).text)
    assert headline in own, "always to the patient"


@pytest.mark.parametrize("consent", [False, True])
def test_the_provider_sees_a_diary_entrys_safety_result_only_with_the_patients_consent(
        client, patient, chosen, post_entry, tmp_path, consent):
    flagged = post_entry(dt.date.today() - dt.timedelta(days=1), 6, 3, symptoms=["saddle_numbness"]).json()
    headline = flagged["safety"]["headline"]
    share_id = _shared(client, patient, chosen, consent)

    page = unescape(client.get(f"/provider/shared/{share_id}", headers={**chosen, **HTML}).text)
    pdf = _pdf_text(client.get(f"/api/v1/provider/shared/{share_id}/summary.pdf", headers=chosen).content, tmp_path)
    listed = client.get(f"/api/v1/provider/shared/{share_id}/entries", headers=chosen).json()[0]
    entry = client.get(f"/api/v1/diary/entries/{flagged['id']}", headers=chosen).json()

    shown = [headline in page, headline in " ".join(pdf.split()), listed["safety"] is not None,
             entry["safety"] is not None]
    assert shown == [consent] * 4
    assert client.get(f"/api/v1/diary/entries/{flagged['id']}", headers=patient[1]).json()["safety"]


@pytest.fixture
def saved_assessment_of(db):
    """saved_assessment_of(person) -> the headline of an assessment that person saved."""
    from fusioncare.accounts.audit import Actor
    from fusioncare.triage import records
    from tests.accounts.conftest import ASSESSMENT_REQUEST, ASSESSMENT_RESULT

    def save(person) -> str:
        records.save(db, actor=Actor.of(person.user, "test"), request=ASSESSMENT_REQUEST, result=ASSESSMENT_RESULT)
        return ASSESSMENT_RESULT["headline"]

    return save


def test_the_sharing_page_asks_before_sharing_assessments(signed_in_client, chosen, db):
    client, token = signed_in_client
    page = client.get("/recovery/sharing", headers=HTML)
    assert 'name="share_assessments"' in page.text
    client.post("/recovery/sharing", headers=HTML, data={"csrf_token": token(page.text), "npi": NPI})
    assert db.scalar(select(RecoveryShare.share_assessments)) is False
