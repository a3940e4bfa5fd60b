"""What a patient is told when a booking or a move cannot go through, and what cancelling leaves behind, on both
databases: the "slot taken" answer with the next free slots of the same type in the provider's time zone (also
when the slot went to another patient between the check and the write), the "you already have an appointment"
answer naming the other appointment, and cancelling releasing exactly the cancelled appointment's holds and
unsent reminders."""

from __future__ import annotations

import os
import time as time_module
from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from fusioncare.accounts.audit import Actor
from fusioncare.accounts.models import AuditEvent
from fusioncare.directory.importer import import_nppes
from fusioncare.directory.npi import with_check_digit
from fusioncare.scheduling import service
from fusioncare.scheduling.errors import AppointmentOverlaps, SlotTaken
from fusioncare.scheduling.models import (
    Appointment,
    AppointmentStatus,
    IdempotencyKey,
    MessageKind,
    OutboxMessage,
    PatientHold,
    SlotHold,
)
from tests.directory.nppes_files import deactivation_row, write_nppes
from tests.scheduling.builders import bookable_provider, future_day

NEW_YORK = ZoneInfo("America/New_York")
SECOND_NPI = with_check_digit("170000043")
TAKEN = "This slot was just taken by someone else; please choose another."


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def _actor(person) -> Actor:
    return Actor.of(person.user, "test")


def _rival_commits_after_the_checks(db: Session, book: Callable[[Session], object]) -> None:
    """The race window made certain without touching the code under test: the booking's read phase ends with a
    commit, and right then another request's booking commits from a session of its own."""

    def rival(_session: Session) -> None:
        with Session(db.get_bind()) as other:
            book(other)

    event.listen(db, "after_commit", rival, once=True)


def _bob_books(bob, npi: str, start: datetime, type_code: str) -> Callable[[Session], object]:
    return lambda session: service.book(db=session, actor=_actor(bob), npi=npi, start=start, type_code=type_code)


def _rival_commits_during_the_checks(db: Session, book: Callable[[Session], object]) -> None:
    """Another request's booking commits while this one checks its slot: right after its first statement (the
    Idempotency-Key lookup), before its second (the slot checks begin)."""
    statements = []

    def rival(_state) -> None:
        statements.append(1)
        if len(statements) == 2:
            with Session(db.get_bind()) as other:
                book(other)

    event.listen(db, "do_orm_execute", rival)


def _assert_slot_taken(exc: SlotTaken, day, type_code: str, starts: list[tuple[int, int]]) -> None:
    """The answer word for word, with the next free slots: back to back from ``starts`` (local hour, minute; each
    ends where the next begins), in New York time with their offsets."""
    assert str(exc) == TAKEN
    assert exc.extra["next_free_slots"] == [
        {"start": _local(day, *start).isoformat(), "end": _local(day, *end).isoformat(), "type": type_code}
        for start, end in zip(starts, starts[1:], strict=False)]


def test_a_slot_taken_between_the_check_and_the_write_answers_with_the_next_slots_of_that_type(db, provider,
                                                                                              make_person):
    day = future_day()
    ann, bob = make_person("ann"), make_person("bob")
    _rival_commits_after_the_checks(db, _bob_books(bob, provider, _local(day, 9), "new_patient"))

    with pytest.raises(SlotTaken) as refused:
        service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")

    # Bob holds 9:00-9:45; the provider's 45-minute new-patient grid runs from 9:00, in New York time.
    _assert_slot_taken(refused.value, day, "new_patient", [(9, 45), (10, 30), (11, 15), (12, 0), (12, 45), (13, 30)])
    db.expire_all()
    assert [(a.patient_id, a.starts_at) for a in db.scalars(select(Appointment))] == [(bob.user.id, _local(day, 9))]
    assert db.scalars(select(PatientHold.appointment_id).distinct()).all() == \
        db.scalars(select(Appointment.id).where(Appointment.patient_id == bob.user.id)).all()


def test_a_move_that_loses_its_new_slot_keeps_the_old_time_and_says_slot_taken_not_overlap(db, provider,
                                                                                           make_person):
    """Ann moves her 9:00-9:45 new-patient visit to a 9:30-10:00 telehealth visit: the new time overlaps her own
    old one, which a move may. Bob takes the 9:45 new-patient slot in between: the answer is that the slot is
    taken (not that she already has an appointment then, her own), and she keeps 9:00."""
    day = future_day()
    ann, bob = make_person("ann"), make_person("bob")
    mine, _ = service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")
    _rival_commits_after_the_checks(db, _bob_books(bob, provider, _local(day, 9, 45), "new_patient"))

    with pytest.raises(SlotTaken) as refused:
        service.reschedule(db=db, actor=_actor(ann), appointment_id=mine.id, start=_local(day, 9, 30),
                           type_code="telehealth")

    # Ann still holds 9:00-9:45 and Bob 9:45-10:30: the 30-minute telehealth grid's next slots start at 10:30.
    _assert_slot_taken(refused.value, day, "telehealth", [(10, 30), (11, 0), (11, 30), (12, 0), (12, 30), (13, 0)])
    db.expire_all()
    kept = db.get(Appointment, mine.id)
    assert kept is not None
    assert (kept.starts_at, kept.type_code, kept.sequence) == (_local(day, 9), "new_patient", 0)
    assert db.scalars(select(PatientHold.cell_start_utc).where(PatientHold.appointment_id == mine.id)
                      .order_by(PatientHold.cell_start_utc)).all() == [
                          _local(day, 9, minute) for minute in range(0, 45, 5)]


def _ann_at_nine_with_a_second_provider(db: Session, tmp_path, make_person):
    """Ann, and her 9:00-9:45 new-patient visit with a second provider, on the usual future day."""
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    day = future_day()
    ann = make_person("ann")
    first, _ = service.book(db=db, actor=_actor(ann), npi=SECOND_NPI, start=_local(day, 9), type_code="new_patient")
    return ann, first, day


def test_an_overlap_names_the_other_appointment_its_provider_and_its_local_time(db, provider, tmp_path,
                                                                                 make_person):
    ann, first, day = _ann_at_nine_with_a_second_provider(db, tmp_path, make_person)

    with pytest.raises(AppointmentOverlaps) as refused:
        service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9, 20), type_code="follow_up")

    start = _local(day, 9)
    said = f"{start:%a} {day.day} {start:%b}, 9:00 am"  # "Tue 3 Dec, 9:00 am"
    assert str(refused.value) == (f"You already have an appointment at this time (appointment {first.id}: {said} "
                                  f"with Jane Smith). Cancel or move that one first.")
    assert refused.value.extra["overlapping_appointment"] == {
        "id": first.id, "npi": SECOND_NPI, "provider_name": "Jane Smith", "start": start.isoformat(),
        "end": _local(day, 9, 45).isoformat(), "status": "requested"}


def test_an_overlap_with_a_provider_no_longer_in_the_directory_names_their_npi(db, provider, tmp_path,
                                                                               make_person):
    ann, first, day = _ann_at_nine_with_a_second_provider(db, tmp_path, make_person)
    import_nppes(db=db, path=write_nppes(tmp_path / "deactivated.csv", [deactivation_row(SECOND_NPI, "01/02/2026")]))

    with pytest.raises(AppointmentOverlaps) as refused:
        service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")

    assert f"(appointment {first.id}: " in str(refused.value)
    assert str(refused.value).endswith(f" with NPI {SECOND_NPI}). Cancel or move that one first.")
    assert refused.value.extra["overlapping_appointment"]["provider_name"] == f"NPI {SECOND_NPI}"


def test_cancelling_releases_that_appointment_only(db, provider, tmp_path, make_person):
    """Ann has a 9:00 visit and a 14:00 visit with two providers and cancels the first: her 9:00 is free again
    (with any provider), while the 14:00 visit keeps its cells, its reminders and its sent messages; of the
    cancelled one, the reminder already sent stays on record and the unsent one goes."""
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    day = future_day()
    ann = make_person("ann")
    morning, _ = service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")
    afternoon, _ = service.book(db=db, actor=_actor(ann), npi=SECOND_NPI, start=_local(day, 14),
                                type_code="follow_up")
    sent_at = datetime.now(UTC)
    db.execute(update(OutboxMessage).where(OutboxMessage.appointment_id == morning.id,
                                           OutboxMessage.kind == MessageKind.reminder_24h).values(done_at=sent_at))
    db.commit()

    service.cancel(db=db, actor=_actor(ann), appointment_id=morning.id)

    db.expire_all()

    def cells(model, appointment_id: int) -> int:
        return len(db.scalars(select(model.cell_start_utc).where(model.appointment_id == appointment_id)).all())

    assert (cells(SlotHold, morning.id), cells(PatientHold, morning.id)) == (0, 0)
    assert (cells(SlotHold, afternoon.id), cells(PatientHold, afternoon.id)) == (20 // 5, 20 // 5)
    messages = {(m.appointment_id, m.kind, m.recipient) for m in db.scalars(select(OutboxMessage))}
    assert messages == {
        (morning.id, MessageKind.requested, "patient"), (morning.id, MessageKind.requested, "provider"),
        (morning.id, MessageKind.reminder_24h, "patient"),  # sent before the cancellation: kept
        (morning.id, MessageKind.cancelled, "patient"), (morning.id, MessageKind.cancelled, "provider"),
        (afternoon.id, MessageKind.requested, "patient"), (afternoon.id, MessageKind.requested, "provider"),
        (afternoon.id, MessageKind.reminder_24h, "patient"), (afternoon.id, MessageKind.reminder_2h, "patient")}

    again, created = service.book(db=db, actor=_actor(ann), npi=SECOND_NPI, start=_local(day, 9),
                                  type_code="new_patient")
    assert created and again.starts_at == _local(day, 9)


def test_a_visit_may_end_exactly_when_another_of_ones_own_begins(db, provider, tmp_path, make_person):
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    day = future_day()
    ann = make_person("ann")
    service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 10, 30), type_code="telehealth")

    before, created = service.book(db=db, actor=_actor(ann), npi=SECOND_NPI, start=_local(day, 9, 45),
                                   type_code="new_patient")  # 9:45-10:30

    assert created and (before.starts_at, before.ends_at) == (_local(day, 9, 45), _local(day, 10, 30))


def test_an_appointment_may_move_onto_a_time_that_overlaps_its_own_old_time(db, provider, make_person):
    day = future_day()
    ann = make_person("ann")
    mine, _ = service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")

    moved = service.reschedule(db=db, actor=_actor(ann), appointment_id=mine.id, start=_local(day, 9, 30),
                               type_code="telehealth")

    assert (moved.id, moved.starts_at, moved.ends_at, moved.type_code) == (
        mine.id, _local(day, 9, 30), _local(day, 10), "telehealth")


def test_of_two_overlapping_appointments_the_earlier_one_is_named(db, provider, tmp_path, make_person):
    """Ann has 9:20-9:40 with one provider (booked first) and 9:00-9:20 with another; a 9:00-9:45 visit with a
    third overlaps both, and the answer names the one that comes first in her day."""
    third = with_check_digit("170000050")
    bookable_provider(db, tmp_path, SECOND_NPI, postal="10002")
    bookable_provider(db, tmp_path, third, postal="10003")
    day = future_day()
    ann = make_person("ann")
    service.book(db=db, actor=_actor(ann), npi=SECOND_NPI, start=_local(day, 9, 20), type_code="follow_up")
    earlier, _ = service.book(db=db, actor=_actor(ann), npi=third, start=_local(day, 9), type_code="follow_up")

    with pytest.raises(AppointmentOverlaps) as refused:
        service.book(db=db, actor=_actor(ann), npi=provider, start=_local(day, 9), type_code="new_patient")

    assert refused.value.extra["overlapping_appointment"]["id"] == earlier.id


def test_a_malformed_idempotency_key_is_a_422_naming_the_header(client, provider, make_person, bearer, db):
    headers = {**bearer(make_person("ann")), "Idempotency-Key": "two words"}
    body = {"npi": provider, "start": _local(future_day(), 9).isoformat(), "type": "new_patient"}

    response = client.post("/api/v1/appointments", json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert [(d["field"], d["loc"], d["msg"]) for d in response.json()["detail"]] == [
        ("Idempotency-Key", ["header", "Idempotency-Key"],
         "must be 1 to 255 printable ASCII characters without spaces")]
    assert db.scalars(select(Appointment)).all() == []


def test_a_key_reused_with_an_end_time_added_is_a_different_request(client, provider, make_person, bearer, db):
    """The body is compared as sent: adding "end" (even the right one) to a retried request makes it another
    request, refused rather than silently answered with the first booking."""
    headers = {**bearer(make_person("ann")), "Idempotency-Key": "retry-end"}
    body = {"npi": provider, "start": _local(future_day(), 9).isoformat(), "type": "new_patient"}
    assert client.post("/api/v1/appointments", json=body, headers=headers).status_code == 201

    again = client.post("/api/v1/appointments", json={**body, "end": _local(future_day(), 9, 45).isoformat()},
                        headers=headers)

    assert again.status_code == 422, again.text
    assert [(d["field"], d["loc"], d["type"]) for d in again.json()["detail"]] == [
        ("Idempotency-Key", ["header", "Idempotency-Key"], "idempotency_key_reused")]


def test_booking_through_the_service_shares_nothing_unless_asked(db, provider, make_person, saved_assessment):
    ann = make_person("ann")
    saved_assessment(ann)

    booked, _ = service.book(db=db, actor=_actor(ann), npi=provider, start=_local(future_day(), 9),
                             type_code="new_patient")

    assert booked.shared_assessment_id is None


def test_booking_without_a_signed_in_patient_is_a_programming_error(db, provider):
    with pytest.raises(ValueError, match="^booking needs a signed-in patient$"):
        service.book(db=db, actor=Actor.of(None, "test"), npi=provider,
                     start=_local(future_day(), 9), type_code="new_patient")


@pytest.mark.parametrize("when", ["during the checks", "before the write"])
def test_a_retry_whose_first_attempt_commits_in_between_answers_with_that_booking(db, provider, make_person, when):
    """A retried request (same Idempotency-Key, same body) whose first attempt commits while the retry is under
    way gets the first attempt's appointment, marked as replayed, whichever of its checks then refuses it."""
    ann = make_person("ann")
    wanted = {"npi": provider, "start": _local(future_day(), 9), "type_code": "new_patient",
              "idempotency_key": "retry-7f3a"}
    first = []

    def first_attempt(session: Session) -> None:
        first.append(service.book(db=session, actor=_actor(ann), **wanted)[0].id)

    rival = _rival_commits_during_the_checks if when == "during the checks" else _rival_commits_after_the_checks
    rival(db, first_attempt)

    appointment, created = service.book(db=db, actor=_actor(ann), **wanted)

    assert (appointment.id, created) == (first[0], False)
    db.expire_all()
    assert db.scalars(select(Appointment.id)).all() == first
    assert db.scalars(select(IdempotencyKey.appointment_id)).all() == first


def test_a_booking_stores_what_was_asked_at_the_moment_given(db, provider, make_person):
    ann = make_person("ann")
    now = datetime.combine(future_day(-1), time(8, 30), tzinfo=UTC)  # yesterday: not the clock's time

    booked, created = service.book(db=db, actor=_actor(ann), npi=provider, start=_local(future_day(), 9),
                                   type_code="new_patient", idempotency_key="first-try", patient_name="Ann Lee",
                                   reason="left leg pain since March", now=now)

    assert created is True
    db.expire_all()
    stored = db.get(Appointment, booked.id)
    assert stored is not None
    assert (stored.status, stored.sequence, stored.created_at, stored.updated_at, stored.patient_name,
            stored.reason) == (AppointmentStatus.requested, 0, now, now, "Ann Lee", "left leg pain since March")
    key = db.get(IdempotencyKey, (ann.user.id, "first-try"))
    assert key is not None and (key.appointment_id, key.created_at) == (booked.id, now)
    assert db.scalars(select(AuditEvent.record_id).where(AuditEvent.action == "appointment.create")).all() == [
        str(booked.id)]


def test_a_retry_is_recognised_whatever_the_host_time_zone(db, provider, make_person):
    """Several app processes may serve one patient's retries, on hosts set to different zones: the request is
    compared by its instants, so a retry served under another TZ is still the same request."""
    ann = make_person("ann")
    start = _local(future_day(), 9)
    wanted = {"npi": provider, "start": start, "end": _local(future_day(), 9, 45), "type_code": "new_patient",
              "idempotency_key": "retry-tz"}
    first, _ = service.book(db=db, actor=_actor(ann), **wanted)
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time_module.tzset()
    try:
        again, created = service.book(db=db, actor=_actor(ann), **wanted)
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time_module.tzset()

    assert (again.id, created) == (first.id, False)
