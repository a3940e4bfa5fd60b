"""Booking rules through the API on both databases: the slot listing's default range, each provider's booking
horizon on every booking path, and one patient never holding two overlapping appointments, also when two
bookings with two providers race over real HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from fusioncare.directory.npi import with_check_digit
from fusioncare.scheduling import service
from fusioncare.scheduling.models import Appointment, PatientHold
from tests.accounts.conftest import PASSWORD, Person
from tests.scheduling.builders import bookable_provider, future_day

NEW_YORK = ZoneInfo("America/New_York")
SECOND_NPI = with_check_digit("170000035")


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def _booking(npi: str, start: datetime, type_code: str = "new_patient") -> dict:
    return {"npi": npi, "start": start.isoformat(), "type": type_code}


def test_slots_without_from_and_to_are_the_next_14_days(client, provider):
    response = client.get(f"/api/v1/providers/{provider}/slots?type=new_patient")
    assert response.status_code == 200, response.text
    starts = [datetime.fromisoformat(s["start"]) for s in response.json()["slots"]]
    now = datetime.now(UTC)
    assert starts and now < starts[0] < now + timedelta(days=1, hours=12)
    assert max(starts) < now + timedelta(days=14) and max(starts) > now + timedelta(days=12)
    only_from = client.get(f"/api/v1/providers/{provider}/slots", params={
        "from": _local(future_day(20), 0).isoformat(), "type": "new_patient"}).json()["slots"]
    assert datetime.fromisoformat(only_from[-1]["start"]).date() == future_day(33)


def test_the_horizon_limits_the_listing_and_every_booking_path_with_a_422_naming_start(client, provider, db,
                                                                                      make_person, bearer):
    patient = bearer(make_person("ann"))
    service.set_booking_horizon(db=db, npi=provider, days=10)
    listed = client.get(f"/api/v1/providers/{provider}/slots", params={
        "from": _local(future_day(5), 0).isoformat(), "to": _local(future_day(25), 0).isoformat(),
        "type": "new_patient"}).json()["slots"]
    assert max(datetime.fromisoformat(s["start"]) for s in listed) <= datetime.now(UTC) + timedelta(days=10)

    too_far = client.post("/api/v1/appointments", json=_booking(provider, _local(future_day(12), 9)), headers=patient)
    assert too_far.status_code == 422
    assert too_far.json()["detail"][0]["field"] == "start" and "10 days ahead" in too_far.json()["message"]

    booked = client.post("/api/v1/appointments", json=_booking(provider, _local(future_day(3), 9)), headers=patient)
    assert booked.status_code == 201
    moved = client.post(f"/api/v1/appointments/{booked.json()['id']}/reschedule",
                        json={"start": _local(future_day(13), 9).isoformat()}, headers=patient)
    assert moved.status_code == 422 and moved.json()["detail"][0]["field"] == "start"
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1


def test_the_horizon_is_a_provider_setting_through_the_availability_api(client, provider, db, bearer):
    doctor = bearer(Person(user=None, email=f"dr{provider}@example.org", password=PASSWORD))  # type: ignore[arg-type]
    body = {"hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(7)],
            "appointment_types": [{"code": "new_patient", "name": "New-patient consult", "duration_minutes": 45}]}
    assert client.put("/api/v1/me/availability", json={**body, "booking_horizon_days": 30},
                      headers=doctor).status_code == 204
    assert service.booking_horizon_days(db=db, npi=provider) == 30
    assert client.put("/api/v1/me/availability", json=body, headers=doctor).status_code == 204
    assert service.booking_horizon_days(db=db, npi=provider) == 30, "absent: unchanged"
    refused = client.put("/api/v1/me/availability", json={**body, "booking_horizon_days": 400}, headers=doctor)
    assert refused.status_code == 422 and "booking_horizon_days" in refused.text


def test_an_overlapping_booking_with_another_provider_is_409_naming_the_first(client, provider, db, tmp_path,
                                                                             make_person, bearer):
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    patient = bearer(make_person("ann"))
    day = future_day()
    first = client.post("/api/v1/appointments", json=_booking(provider, _local(day, 9)), headers=patient).json()

    clash = client.post("/api/v1/appointments", json=_booking(SECOND_NPI, _local(day, 9, 20), "follow_up"),
                        headers=patient)
    assert clash.status_code == 409
    body = clash.json()
    assert body["code"] == "appointment_overlaps"
    assert body["overlapping_appointment"]["id"] == first["id"]
    assert body["overlapping_appointment"]["npi"] == provider
    assert f"appointment {first['id']}" in body["detail"]

    # Back to back is fine: the first ends at 9:45, a 20-minute follow-up on that grid can start at 10:00.
    after = client.post("/api/v1/appointments", json=_booking(SECOND_NPI, _local(day, 10), "follow_up"),
                        headers=patient)
    assert after.status_code == 201, after.text


def test_moving_onto_another_of_ones_own_appointments_is_409_and_keeps_the_time(client, provider, db, tmp_path,
                                                                               make_person, bearer):
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    patient = bearer(make_person("ann"))
    day = future_day()
    first = client.post("/api/v1/appointments", json=_booking(provider, _local(day, 9)), headers=patient).json()
    second = client.post("/api/v1/appointments", json=_booking(SECOND_NPI, _local(day, 14), "follow_up"),
                         headers=patient).json()
    refused = client.post(f"/api/v1/appointments/{second['id']}/reschedule",
                          json={"start": _local(day, 9, 20).isoformat()}, headers=patient)
    assert refused.status_code == 409 and refused.json()["overlapping_appointment"]["id"] == first["id"]
    kept = client.get(f"/api/v1/appointments/{second['id']}", headers=patient).json()
    assert datetime.fromisoformat(kept["start"]) == _local(day, 14)


def test_two_parallel_bookings_by_one_patient_with_two_providers_have_exactly_one_winner(live_server, provider, db,
                                                                                          tmp_path, make_person,
                                                                                          bearer):
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    patient = bearer(make_person("ann"))
    rounds, results = 6, []
    for index in range(rounds):
        day = future_day(3 + index)
        wanted = [_booking(provider, _local(day, 9)), _booking(SECOND_NPI, _local(day, 9, 20), "follow_up")]
        barrier = threading.Barrier(2)

        def attempt(body: dict, barrier: threading.Barrier = barrier) -> httpx.Response:
            with httpx.Client(base_url=live_server.url, timeout=30) as http:
                barrier.wait()
                return http.post("/api/v1/appointments", json=body, headers=patient)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(attempt, wanted))
        results.append(sorted(a.status_code for a in answers))
        loser = next(a for a in answers if a.status_code == 409)
        winner = next(a for a in answers if a.status_code == 201)
        assert loser.json()["code"] == "appointment_overlaps"
        assert loser.json()["overlapping_appointment"]["id"] == winner.json()["id"]
    assert results == [[201, 409]] * rounds
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Appointment)) == rounds
    held = db.scalar(select(func.count()).select_from(PatientHold))
    assert held == sum(45 // 5 if a.type_code == "new_patient" else 20 // 5 for a in db.scalars(select(Appointment)))


def test_the_patient_holds_refuse_an_overlap_that_slipped_past_the_read_check(db, provider, tmp_path, make_person,
                                                                              monkeypatch):
    """The race window made certain: the check before the write sees nothing (as when the other booking has not
    committed yet), and the holds' primary key still refuses the second appointment inside the transaction."""
    from fusioncare.accounts.audit import Actor
    from fusioncare.scheduling.errors import AppointmentOverlaps

    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    ann = make_person("ann")
    day = future_day()
    first, _ = service.book(db=db, actor=Actor.of(ann.user, "test"), npi=provider, start=_local(day, 9),
                            type_code="new_patient")
    real = service.overlapping_appointment
    calls = []

    def blind_first_time(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(service, "overlapping_appointment", blind_first_time)
    try:
        service.book(db=db, actor=Actor.of(ann.user, "test"), npi=SECOND_NPI, start=_local(day, 9, 20),
                     type_code="follow_up")
    except AppointmentOverlaps as exc:
        assert exc.extra["overlapping_appointment"]["id"] == first.id
    else:
        raise AssertionError("the second, overlapping appointment was stored")
    assert len(calls) == 2, "refused by the database, then explained"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1
