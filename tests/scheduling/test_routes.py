"""The scheduling API over the real app: slots, booking, idempotency, bad input, cancel, reschedule, provider side."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fusioncare.scheduling.models import Appointment, IdempotencyKey, MessageKind, OutboxMessage, SlotHold
from tests.scheduling.builders import bookable_provider, future_day
from tests.scheduling.conftest import UNVERIFIED_NPI

NEW_YORK = ZoneInfo("America/New_York")


def local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def slots(client, npi: str, start: datetime, end: datetime, type_code: str | None = None):
    query = f"from={quote(start.isoformat())}&to={quote(end.isoformat())}"
    if type_code:
        query += f"&type={type_code}"
    return client.get(f"/api/v1/providers/{npi}/slots?{query}")


def booking(npi: str, start: datetime, type_code: str = "new_patient", **extra) -> dict:
    return {"npi": npi, "start": start.isoformat(), "type": type_code, **extra}


def appointments_stored(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Appointment))


@pytest.fixture
def patient(make_person, bearer):
    return bearer(make_person("ann"))


def test_slots_are_listed_in_the_location_time_zone_with_offsets(client, provider):
    day = future_day()
    response = slots(client, provider, local(day, 0), local(day + timedelta(days=1), 0), "new_patient")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["time_zone"] == "America/New_York"
    starts = [s["start"] for s in body["slots"]]
    # 09:00-17:00 in 45-minute steps: 09:00, 09:45 ... 15:45 (16:30 would end after closing).
    assert len(starts) == 10
    assert datetime.fromisoformat(starts[0]) == local(day, 9)
    assert datetime.fromisoformat(body["slots"][-1]["end"]) == local(day, 16, 30)
    assert all(s[-6:] in ("-05:00", "-04:00") for s in starts), starts


def test_slots_keep_local_hours_across_the_daylight_saving_change(client, provider, db):
    from fusioncare.scheduling import service

    service.set_booking_horizon(db=db, npi=provider, days=365)  # March 2027 is more than the default 90 days away
    # US clocks spring forward on Sunday 14 March 2027: 09:00 local moves from 14:00 UTC to 13:00 UTC.
    start = datetime(2027, 3, 12, tzinfo=NEW_YORK)
    response = slots(client, provider, start, start + timedelta(days=5), "telehealth")

    assert response.status_code == 200, response.text
    firsts = {}
    for slot in response.json()["slots"]:
        moment = datetime.fromisoformat(slot["start"])
        firsts.setdefault(moment.date(), moment)
    assert [m.strftime("%H:%M%z") for m in firsts.values()] == ["09:00-0500", "09:00-0500", "09:00-0400",
                                                                 "09:00-0400", "09:00-0400"]
    assert [m.astimezone(UTC).hour for m in firsts.values()] == [14, 14, 13, 13, 13]


def test_slot_listing_rejects_ranges_over_sixty_days_and_unknown_types(client, provider):
    start = local(future_day(), 0)
    too_long = slots(client, provider, start, start + timedelta(days=61))
    assert too_long.status_code == 422
    assert "60 days" in too_long.json()["message"]
    backwards = slots(client, provider, start, start - timedelta(hours=1))
    assert backwards.status_code == 422
    unknown = slots(client, provider, start, start + timedelta(days=1), "massage")
    assert unknown.status_code == 422
    assert "new_patient" in unknown.json()["message"]
    naive = client.get(f"/api/v1/providers/{provider}/slots?from=2030-01-01T00:00:00&to=2030-01-02T00:00:00")
    assert naive.status_code == 422


def test_unknown_provider_slots_are_404_and_unverified_provider_has_none(client, provider, db, tmp_path):
    start = local(future_day(), 0)
    assert slots(client, "1234567893", start, start + timedelta(days=1)).status_code == 404
    bookable_provider(db, tmp_path, UNVERIFIED_NPI, verified=False)
    assert slots(client, UNVERIFIED_NPI, start, start + timedelta(days=1)).json()["slots"] == []


def test_booking_returns_the_appointment_and_takes_the_slot_off_the_listing(client, provider, patient, db):
    day = future_day()
    response = client.post("/api/v1/appointments", json=booking(provider, local(day, 9, 45)), headers=patient)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert datetime.fromisoformat(body["start"]) == local(day, 9, 45)
    assert datetime.fromisoformat(body["end"]) == local(day, 10, 30)
    listed = slots(client, provider, local(day, 0), local(day, 23), "new_patient").json()["slots"]
    assert local(day, 9, 45) not in [datetime.fromisoformat(s["start"]) for s in listed]
    follow_ups = slots(client, provider, local(day, 0), local(day, 23), "follow_up").json()["slots"]
    # 20-minute follow-ups at 09:40, 10:00 and 10:20 overlap 09:45-10:30 and are gone too.
    starts = [datetime.fromisoformat(s["start"]) for s in follow_ups]
    assert local(day, 9, 20) in starts and local(day, 10, 40) in starts
    assert not {local(day, 9, 40), local(day, 10), local(day, 10, 20)} & set(starts)
    mine = client.get("/api/v1/appointments", headers=patient).json()["appointments"]
    assert [a["id"] for a in mine] == [body["id"]]
    assert db.scalar(select(func.count()).select_from(OutboxMessage)
                     .where(OutboxMessage.kind.in_(["reminder_24h", "reminder_2h"]))) == 2


def test_second_booking_of_a_slot_gets_409_with_next_free_slots(client, provider, patient, make_person, bearer):
    day = future_day()
    first = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=patient)
    assert first.status_code == 201
    other = bearer(make_person("bob"))

    second = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=other)

    assert second.status_code == 409, second.text
    assert second.json()["code"] == "slot_taken"
    next_free = [datetime.fromisoformat(s["start"]) for s in second.json()["next_free_slots"]]
    assert next_free[0] == local(day, 9, 45)


def test_overlapping_booking_of_a_different_length_gets_409(client, provider, patient, make_person, bearer):
    day = future_day()
    response = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=patient)
    assert response.status_code == 201

    overlapping = client.post("/api/v1/appointments", json=booking(provider, local(day, 9, 20), "follow_up"),
                              headers=bearer(make_person("bob")))

    assert overlapping.status_code == 409


def test_same_idempotency_key_and_body_returns_the_same_appointment(client, provider, patient, db):
    body = booking(provider, local(future_day(), 11, 15))
    headers = {**patient, "Idempotency-Key": "retry-7f3a"}

    first = client.post("/api/v1/appointments", json=body, headers=headers)
    again = client.post("/api/v1/appointments", json=body, headers=headers)

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert appointments_stored(db) == 1


def test_same_idempotency_key_with_a_different_body_is_422_and_stores_nothing(client, provider, patient, db):
    headers = {**patient, "Idempotency-Key": "retry-7f3a"}
    day = future_day()
    response = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=headers)
    assert response.status_code == 201

    reused = client.post("/api/v1/appointments", json=booking(provider, local(day, 13, 30)), headers=headers)

    assert reused.status_code == 422
    assert reused.json()["detail"][0]["field"] == "Idempotency-Key"
    assert appointments_stored(db) == 1


@pytest.mark.parametrize(("make_body", "field", "words"), [
    (lambda npi, day: booking(npi, datetime.now(UTC) - timedelta(days=1)), "start", "past"),
    (lambda npi, day: booking(npi, local(day, 3)), "start", "outside their hours"),
    (lambda npi, day: booking(npi, local(day, 9, 5)), "start", "grid"),
    (lambda npi, day: booking(npi, local(day, 9), end=local(day, 9, 30).isoformat()), "end", "45 minutes"),
    (lambda npi, day: booking(npi, local(day, 9), "massage"), "type", "new_patient"),
    (lambda npi, day: booking(UNVERIFIED_NPI, local(day, 9)), "npi", "not verified"),
    (lambda npi, day: booking("1234567893", local(day, 9)), "npi", "no active provider"),
    (lambda npi, day: {**booking(npi, local(day, 9)), "start": "2030-01-01T09:00:00"}, "start", "timezone"),
], ids=["past", "outside-hours", "off-grid", "wrong-length", "unknown-type", "unverified-provider",
        "unknown-provider", "no-offset"])
def test_bad_booking_is_a_clear_422_naming_the_field_and_stores_nothing(client, provider, patient, db, tmp_path,
                                                                        make_body, field, words):
    bookable_provider(db, tmp_path, UNVERIFIED_NPI, verified=False)

    response = client.post("/api/v1/appointments", json=make_body(provider, future_day()), headers=patient)

    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["field"] == field
    assert words in response.json()["message"]
    assert appointments_stored(db) == 0


def test_booking_needs_a_signed_in_patient(client, provider):
    response = client.post("/api/v1/appointments", json=booking(provider, local(future_day(), 9)))
    assert response.status_code == 401


def test_cancelling_frees_the_slot_and_cannot_happen_twice(client, provider, patient, make_person, bearer, db):
    start = local(future_day(), 9)
    booked = client.post("/api/v1/appointments", json=booking(provider, start), headers=patient).json()

    cancelled = client.delete(f"/api/v1/appointments/{booked['id']}", headers=patient)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/appointments/{booked['id']}", headers=patient).status_code == 409
    assert db.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind.in_([MessageKind.reminder_24h, MessageKind.reminder_2h]))) == 0, "no reminders left"
    again = client.post("/api/v1/appointments", json=booking(provider, start), headers=bearer(make_person("bob")))
    assert again.status_code == 201


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(client, provider, patient, make_person, bearer):
    day = future_day()
    booked = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=patient).json()

    moved = client.post(f"/api/v1/appointments/{booked['id']}/reschedule",
                        json={"start": local(day, 9, 45).isoformat()}, headers=patient)

    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["start"]) == local(day, 9, 45)
    old = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=bearer(make_person("bob")))
    assert old.status_code == 201


def test_reschedule_into_a_taken_slot_is_409_and_keeps_the_old_slot(client, provider, patient, make_person, bearer,
                                                                     db):
    day = future_day()
    mine = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=patient).json()
    bob = bearer(make_person("bob"))
    response = client.post("/api/v1/appointments", json=booking(provider, local(day, 10, 30)), headers=bob)
    assert response.status_code == 201

    refused = client.post(f"/api/v1/appointments/{mine['id']}/reschedule",
                          json={"start": local(day, 10, 30).isoformat()}, headers=patient)

    assert refused.status_code == 409
    kept = client.get(f"/api/v1/appointments/{mine['id']}", headers=patient).json()
    assert datetime.fromisoformat(kept["start"]) == local(day, 9)
    assert client.post("/api/v1/appointments", json=booking(provider, local(day, 9)),
                       headers=bearer(make_person("carol"))).status_code == 409
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SlotHold)
                     .where(SlotHold.appointment_id == mine["id"])) == 45 // 5


def test_provider_confirms_or_declines_and_sees_the_schedule(client, provider, patient, bearer, make_person, db):
    from fusioncare.accounts import service as accounts
    from tests.accounts.conftest import PASSWORD, Person

    day = future_day()
    first = client.post("/api/v1/appointments", json=booking(provider, local(day, 9)), headers=patient).json()
    second = client.post("/api/v1/appointments", json=booking(provider, local(day, 9, 45)), headers=patient).json()
    doctor_user = accounts.get_user_by_email(db, email=f"dr{provider}@example.org")
    doctor = bearer(Person(user=doctor_user, email=doctor_user.email, password=PASSWORD))

    confirmed = client.post(f"/api/v1/appointments/{first['id']}/confirm", headers=doctor)
    declined = client.post(f"/api/v1/appointments/{second['id']}/decline", headers=doctor)
    by_patient = client.post(f"/api/v1/appointments/{first['id']}/confirm", headers=patient)

    assert confirmed.json()["status"] == "confirmed"
    assert declined.json()["status"] == "declined"
    assert by_patient.status_code == 404
    schedule = client.get(f"/api/v1/me/schedule?from={quote(local(day, 0).isoformat())}"
                          f"&to={quote(local(day, 23).isoformat())}", headers=doctor)
    assert [a["status"] for a in schedule.json()["appointments"]] == ["confirmed", "declined"]
    rebook = client.post("/api/v1/appointments", json=booking(provider, local(day, 9, 45)),
                         headers=bearer(make_person("bob")))
    assert rebook.status_code == 201, "declining frees the slot"


def test_booked_provider_sees_the_assessment_summary_only_with_consent(client, provider, make_person, bearer,
                                                                        saved_assessment, db):
    from fusioncare.accounts import service as accounts
    from tests.accounts.conftest import PASSWORD, Person

    ann, bob = make_person("ann"), make_person("bob")
    saved_assessment(ann)
    saved_assessment(bob)
    day = future_day()
    shared = client.post("/api/v1/appointments", json=booking(provider, local(day, 9), share_latest_assessment=True),
                         headers=bearer(ann)).json()
    private = client.post("/api/v1/appointments", json=booking(provider, local(day, 9, 45)),
                          headers=bearer(bob)).json()
    doctor_user = accounts.get_user_by_email(db, email=f"dr{provider}@example.org")
    doctor = bearer(Person(user=doctor_user, email=doctor_user.email, password=PASSWORD))

    seen_shared = client.get(f"/api/v1/appointments/{shared['id']}", headers=doctor).json()
    seen_private = client.get(f"/api/v1/appointments/{private['id']}", headers=doctor).json()

    assert seen_shared["assessment_summary"] == {"urgency": "soon", "headline": "See your surgeon's team soon."}
    assert seen_private["assessment_summary"] is None and seen_private["shares_assessment"] is False


def test_calendar_file_has_the_utc_times_and_no_health_content(client, provider, make_person, bearer,
                                                               saved_assessment):
    ann = make_person("ann")
    saved_assessment(ann)
    day = future_day()
    booked = client.post("/api/v1/appointments", json=booking(provider, local(day, 9), share_latest_assessment=True),
                         headers=bearer(ann)).json()

    response = client.get(f"/api/v1/appointments/{booked['id']}.ics", headers=bearer(ann))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    start_utc = local(day, 9).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start_utc}\r\n" in text
    assert "surgeon" not in text.lower() and "soon" not in text.lower()


def test_export_and_account_deletion_include_appointments(client, provider, make_person, bearer, db):
    ann = make_person("ann")
    headers = bearer(ann)
    booked = client.post("/api/v1/appointments", json=booking(provider, local(future_day(), 9)),
                         headers={**headers, "Idempotency-Key": "k1"}).json()

    exported = client.get("/api/v1/me/export", headers=headers).json()
    assert [a["id"] for a in exported["data"]["appointments"]] == [booked["id"]]
    deleted = client.request("DELETE", "/api/v1/me", headers=headers, json={"password": ann.password})
    assert deleted.status_code in (200, 204), deleted.text
    db.expire_all()
    assert appointments_stored(db) == 0
    assert db.scalar(select(func.count()).select_from(SlotHold)) == 0
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_provider_removes_their_own_time_off_through_the_api_and_no_one_elses(client, provider, patient, bearer,
                                                                                  db, tmp_path):
    from fusioncare.accounts import service as accounts
    from fusioncare.directory.npi import with_check_digit
    from tests.accounts.conftest import PASSWORD, Person

    day = future_day()
    doctor_user = accounts.get_user_by_email(db, email=f"dr{provider}@example.org")
    doctor = bearer(Person(user=doctor_user, email=doctor_user.email, password=PASSWORD))
    other_npi = with_check_digit("170000019")
    bookable_provider(db, tmp_path, other_npi, postal="10002")
    other_user = accounts.get_user_by_email(db, email=f"dr{other_npi}@example.org")
    other = bearer(Person(user=other_user, email=other_user.email, password=PASSWORD))
    added = client.post("/api/v1/me/availability/exceptions", headers=doctor, json={
        "kind": "time_off", "start": local(day, 0).isoformat(), "end": local(day, 23).isoformat()})
    assert added.status_code == 201
    assert slots(client, provider, local(day, 0), local(day, 23)).json()["slots"] == []

    by_other = client.delete(f"/api/v1/me/availability/exceptions/{added.json()['id']}", headers=other)
    by_patient = client.delete(f"/api/v1/me/availability/exceptions/{added.json()['id']}", headers=patient)
    assert by_other.status_code == 404 and by_patient.status_code == 404
    assert slots(client, provider, local(day, 0), local(day, 23)).json()["slots"] == []

    removed = client.delete(f"/api/v1/me/availability/exceptions/{added.json()['id']}", headers=doctor)
    again = client.delete(f"/api/v1/me/availability/exceptions/{added.json()['id']}", headers=doctor)

    assert removed.status_code == 204 and again.status_code == 404
    assert slots(client, provider, local(day, 0), local(day, 23)).json()["slots"] != []
    for bad in ("0", str(2**31), "99999999999999999999", "abc"):
        refused = client.delete(f"/api/v1/me/availability/exceptions/{bad}", headers=doctor)
        assert refused.status_code == 422 and "exception_id" in refused.text, bad


def test_extra_hours_off_the_five_minute_grid_cannot_hold_overlapping_time_twice(client, provider, make_person,
                                                                                   bearer, db):
    """Extra hours starting at 13:01 give slots at 13:01, 13:31...; the weekly hours give 13:00, 13:30... A
    13:01-13:31 visit overlaps a 13:00-13:30 one: holds keyed on the grid cells covering each interval collide."""
    from fusioncare.accounts import service as accounts
    from tests.accounts.conftest import PASSWORD, Person

    day = future_day()
    doctor_user = accounts.get_user_by_email(db, email=f"dr{provider}@example.org")
    doctor = bearer(Person(user=doctor_user, email=doctor_user.email, password=PASSWORD))
    added = client.post("/api/v1/me/availability/exceptions", headers=doctor, json={
        "kind": "extra_hours", "start": local(day, 13, 1).isoformat(), "end": local(day, 15, 1).isoformat()})
    assert added.status_code == 201
    listed = slots(client, provider, local(day, 13), local(day, 14), "telehealth").json()["slots"]
    offered = {s["start"] for s in listed}
    assert {local(day, 13).isoformat(), local(day, 13, 1).isoformat()} <= offered

    first = client.post("/api/v1/appointments", headers=bearer(make_person("ann")),
                        json=booking(provider, local(day, 13), "telehealth"))
    second = client.post("/api/v1/appointments", headers=bearer(make_person("bob")),
                         json=booking(provider, local(day, 13, 1), "telehealth"))
    assert first.status_code == 201 and second.status_code == 409, second.text
    left = {s["start"] for s in slots(client, provider, local(day, 12), local(day, 15), "telehealth").json()["slots"]}
    assert local(day, 13, 1).isoformat() not in left and local(day, 13, 31).isoformat() in left


EXTREME_MOMENTS = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-23:59",
                   "0001-01-01T00:00:00+23:59", "1899-12-31T23:00:00+00:00", "2201-01-01T00:00:00+00:00"]


@pytest.mark.parametrize("moment", EXTREME_MOMENTS)
def test_extreme_dates_are_a_422_naming_the_field_everywhere_scheduling_takes_one(client, provider, patient, db,
                                                                                   bearer, moment):
    from fusioncare.accounts import service as accounts
    from tests.accounts.conftest import PASSWORD, Person

    doctor_user = accounts.get_user_by_email(db, email=f"dr{provider}@example.org")
    doctor = bearer(Person(user=doctor_user, email=doctor_user.email, password=PASSWORD))
    soon = local(future_day(), 9)
    near = soon.isoformat()
    answers = {
        "from": client.get(f"/api/v1/providers/{provider}/slots", params={"from": moment, "to": near}),
        "to": client.get(f"/api/v1/providers/{provider}/slots", params={"from": near, "to": moment}),
        "start": client.post("/api/v1/appointments", headers=patient, json=booking(provider, soon) | {"start": moment}),
        "end": client.post("/api/v1/me/availability/exceptions", headers=doctor,
                           json={"kind": "time_off", "start": near, "end": moment}),
        "schedule from": client.get("/api/v1/me/schedule", headers=doctor, params={"from": moment, "to": near}),
    }
    for field, response in answers.items():
        assert response.status_code == 422, (field, response.status_code, response.text)
        assert response.json()["detail"][0]["field"] == field.split()[-1], field
    assert appointments_stored(db) == 0


def test_a_domain_error_says_where_its_field_was_sent(client, provider, patient):
    """loc names the part of the request that carried the field: the query string or the body (a header: the
    Idempotency-Key tests in test_conflict_answers.py)."""
    soon = local(future_day(), 9)
    answers = {
        ("query", "to"): client.get(f"/api/v1/providers/{provider}/slots",
                                    params={"from": soon.isoformat(), "to": (soon - timedelta(hours=1)).isoformat()}),
        ("query", "type"): client.get(f"/api/v1/providers/{provider}/slots", params={"type": "massage"}),
        ("body", "type"): client.post("/api/v1/appointments", headers=patient,
                                      json=booking(provider, soon) | {"type": "massage"}),
    }
    for (where, field), response in answers.items():
        assert response.status_code == 422, (where, field, response.text)
        assert [(d["field"], d["loc"]) for d in response.json()["detail"]] == [(field, [where, field])]


@pytest.mark.parametrize("bad_id", ["¹", "①", "٣", "1" * 65, "2147483648", "0", "-1", "1_0", " 1"])
def test_appointment_ids_must_be_ascii_digits_within_32_bits(client, provider, patient, bad_id, db):
    from fusioncare.accounts.models import AuditEvent

    for method, path in (("GET", f"/api/v1/appointments/{bad_id}"), ("GET", f"/api/v1/appointments/{bad_id}.ics"),
                         ("DELETE", f"/api/v1/appointments/{bad_id}"),
                         ("POST", f"/api/v1/appointments/{bad_id}/confirm")):
        response = client.request(method, path, headers=patient)
        assert response.status_code == 422, (method, path, response.status_code)
        assert response.json()["detail"][0]["field"] == "appointment_id"
    assert db.scalars(select(AuditEvent.record_id).where(AuditEvent.record_type == "appointment")).all() == []


def test_appointment_pages_refuse_unicode_digit_ids_without_a_500(client, provider, make_person):
    import re

    html = {"Accept": "text/html"}
    ann = make_person("ann")
    page = client.get("/account/sign-in", headers=html)
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    client.post("/account/sign-in", headers=html, data={"csrf_token": token, "email": ann.email,
                                                         "password": ann.password})
    for path in ("/appointments/¹/cancel", "/appointments/①/cancel", "/provider/appointments/①/confirm",
                 "/appointments/" + "9" * 12 + "/cancel"):
        response = client.post(path, headers=html, data={"csrf_token": token})
        assert response.status_code in (404, 422), (path, response.status_code)
