"""Appointment e-mail through a real SMTP server (aiosmtpd on a loopback port), on both databases: every message
arrives once, to the right person, with the right subject, times in the practice's zone and the calendar file;
a running `fusioncare serve` delivers a reminder with no other command; two server processes never send the same
one twice; `fusioncare worker` finishes the message in hand on SIGTERM, then exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from fusioncare.accounts.audit import Actor
from fusioncare.accounts.service import get_user_by_email
from fusioncare.notifications import SmtpNotifier
from fusioncare.scheduling import service
from fusioncare.scheduling.models import MessageKind, OutboxMessage
from fusioncare.scheduling.outbox import send_due
from tests.scheduling.builders import future_day
from tests.scheduling.smtp import Received, SmtpServer
from tests.support import _free_port

NEW_YORK = ZoneInfo("America/New_York")
BASE = "http://fusioncare.test"
REASON = "Numb left foot since Tuesday"


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def _send(db, smtp: SmtpServer, now: datetime | None = None) -> int:
    notifier = SmtpNotifier(host="127.0.0.1", port=smtp.port, sender="FusionCare <no-reply@fusioncare.test>",
                            starttls=False)
    return send_due(db=db, notifier=notifier, base_url=BASE, now=now or datetime.now(UTC)).sent


def _ics(received: Received):
    assert received.calendar, f"no calendar file on {received.subject!r}"
    return next(c for c in Calendar.from_ical(received.calendar).walk() if c.name == "VEVENT")


def _only(found: list[Received], to: str, starts: str) -> Received:
    matching = [r for r in found if r.to == (to,) and r.subject.startswith(starts)]
    assert len(matching) == 1, (to, starts, [(r.to, r.subject) for r in found])
    return matching[0]


def test_every_appointment_email_arrives_once_with_recipient_subject_times_and_calendar(db, provider, make_person,
                                                                                          smtp):
    ann, bob, cat = make_person("ann"), make_person("bob"), make_person("cat")
    doctor = f"dr{provider}@example.org"
    doctor_actor = Actor.of(get_user_by_email(db, email=doctor), "test")
    day = future_day()

    booked, _ = service.book(db=db, actor=Actor.of(ann.user, "test"), npi=provider, start=_local(day, 9),
                             type_code="new_patient", patient_name="Ann Lee", reason=REASON)
    assert _send(db, smtp) == 2
    request = _only(smtp.received, ann.email, "Request sent: ")
    day_words = f"{_local(day, 9):%a} {day.day} {_local(day, 9):%b}"
    assert request.subject == f"Request sent: {day_words}, 9:00 am with Jane Smith, MD"
    assert "9:00 – 9:45 am Eastern Time" in request.text and "What happens next" in request.text
    assert "9:00 – 9:45 am Eastern Time" in request.html and "<table" in request.html
    event = _ics(request)
    assert event["STATUS"] == "TENTATIVE" and event.decoded("DTSTART") == _local(day, 9).astimezone(UTC)
    assert "Jane Smith, MD" in str(event["SUMMARY"]) and "JANE" not in str(event["SUMMARY"])
    assert "1 Main St, New York, NY 10001" in str(event["LOCATION"])
    assert "(212) 555-0100" in str(event["DESCRIPTION"])
    alarms = [c for c in event.walk() if c.name == "VALARM"]
    assert len(alarms) == 1 and alarms[0].decoded("TRIGGER") == -timedelta(hours=1)
    to_doctor = _only(smtp.received, doctor, "New request: ")
    assert "Ann Lee" in to_doctor.text and to_doctor.calendar is None

    service.respond(db=db, actor=doctor_actor, appointment_id=str(booked.id), decision="confirm")
    assert _send(db, smtp) == 1
    confirmed = _only(smtp.received, ann.email, "Confirmed: ")
    assert _ics(confirmed)["STATUS"] == "CONFIRMED" and int(_ics(confirmed)["SEQUENCE"]) == 1

    service.reschedule(db=db, actor=Actor.of(ann.user, "test"), appointment_id=str(booked.id),
                       start=_local(day, 13, 30))
    assert _send(db, smtp) == 2
    moved = _only(smtp.received, ann.email, "Moved to ")
    assert "from " in moved.text and "9:00 am" in moved.text and "1:30 pm" in moved.text
    assert _ics(moved).decoded("DTSTART") == _local(day, 13, 30).astimezone(UTC)
    assert "instead of" in _only(smtp.received, doctor, "Moved: ").subject

    start = _local(day, 13, 30).astimezone(UTC)
    assert _send(db, smtp, now=start - timedelta(hours=23)) == 1
    assert _send(db, smtp, now=start - timedelta(hours=1)) == 1
    reminders = [r for r in smtp.received if r.subject.startswith("Reminder: ")]
    assert len(reminders) == 2 and {r.to for r in reminders} == {(ann.email,)}
    assert all("1:30 pm" in r.subject for r in reminders), "reminders name the new time"
    assert "tomorrow" in reminders[0].text and "in 2 hours" in reminders[1].text

    declined, _ = service.book(db=db, actor=Actor.of(bob.user, "test"), npi=provider, start=_local(day, 10, 30),
                               type_code="new_patient", patient_name="Bob Ray")
    service.respond(db=db, actor=doctor_actor, appointment_id=str(declined.id), decision="decline")
    by_practice, _ = service.book(db=db, actor=Actor.of(cat.user, "test"), npi=provider, start=_local(day, 15),
                                  type_code="new_patient", patient_name="Cat Ng")
    service.respond(db=db, actor=doctor_actor, appointment_id=str(by_practice.id), decision="confirm")
    service.respond(db=db, actor=doctor_actor, appointment_id=str(by_practice.id), decision="cancel")
    service.cancel(db=db, actor=Actor.of(ann.user, "test"), appointment_id=str(booked.id))
    _send(db, smtp)
    assert _ics(_only(smtp.received, bob.email, "Not booked: ")).get("STATUS") == "CANCELLED"
    _only(smtp.received, cat.email, "Cancelled by the practice: ")
    _only(smtp.received, ann.email, "Cancelled: ")
    _only(smtp.received, doctor, "Cancelled by the patient: ")

    assert _send(db, smtp, now=start + timedelta(days=2)) == 0, "nothing is left to send"
    counts = Counter((r.to, r.subject) for r in smtp.received)
    assert set(counts.values()) == {1}, "every e-mail arrives once"
    for received in smtp.received:
        body = received.text + received.html + (received.calendar or b"").decode()
        assert REASON not in body and "numb" not in received.subject.lower(), "no health data in any e-mail"
        assert "America/New_York" not in body and "14:30" not in body


def _serve(database_url: str, smtp: SmtpServer, tmp_path, *, port: int) -> subprocess.Popen:
    env = {**os.environ, "FUSIONCARE_DATABASE_URL": database_url, "FUSIONCARE_ENV": "test",
           "FUSIONCARE_DATA_DIR": str(tmp_path), "FUSIONCARE_SECRET_KEY": "serve-process-" + "k" * 40,
           "FUSIONCARE_LOG_LEVEL": "WARNING", "FUSIONCARE_OUTBOX_POLL_SECONDS": "0.2", **smtp.env()}
    env.pop("FUSIONCARE_OUTBOX_WORKER", None)  # the default: in-process
    proc = subprocess.Popen([sys.executable, "-m", "fusioncare.cli", "serve", "--port", str(port)], env=env,
                            start_new_session=True)
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline:
        assert proc.poll() is None, "the server exited while starting"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            clock.sleep(0.1)
    raise RuntimeError("fusioncare serve did not answer")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _book_with_due_reminders(db, provider, make_person, count: int) -> list[str]:
    """``count`` patients each with an appointment whose 24-hour reminder is due now (as if a day had passed)."""
    day = future_day()
    emails = []
    for index in range(count):
        person = make_person(f"patient{index}")
        service.book(db=db, actor=Actor.of(person.user, "test"), npi=provider,
                     start=_local(day, 9) + timedelta(minutes=45 * index), type_code="new_patient")
        emails.append(person.email)
    db.execute(update(OutboxMessage).where(OutboxMessage.kind == MessageKind.reminder_24h)
               .values(due_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    return emails


@pytest.mark.slow
def test_a_running_fusioncare_serve_delivers_a_reminder_with_no_other_command(db, settings, provider, make_person,
                                                                              smtp, tmp_path):
    emails = _book_with_due_reminders(db, provider, make_person, 1)
    proc = _serve(settings.database_url, smtp, tmp_path, port=_free_port())
    try:
        reminders = smtp.wait_for(1, what=lambda r: r.subject.startswith("Reminder: "))
    finally:
        _stop(proc)
    assert [r.to for r in reminders] == [(emails[0],)]
    assert _ics(reminders[0])["STATUS"] == "TENTATIVE"
    db.expire_all()
    assert db.scalar(select(OutboxMessage.outcome).where(OutboxMessage.kind == MessageKind.reminder_24h)) == "sent"


@pytest.mark.slow
def test_two_server_processes_never_send_the_same_reminder_twice(db, settings, provider, make_person, tmp_path):
    patients = 8
    # A mail server taking 50 ms a message, so the 24 messages take longer than a poll: both processes send some.
    with SmtpServer(delay_seconds=0.05) as smtp:
        emails = _book_with_due_reminders(db, provider, make_person, patients)
        later = datetime.now(UTC) + timedelta(days=365)
        db.execute(update(OutboxMessage).values(due_at=later))  # held back until both servers are up
        db.commit()
        first = _serve(settings.database_url, smtp, tmp_path, port=_free_port())
        second = _serve(settings.database_url, smtp, tmp_path, port=_free_port())
        try:
            db.execute(update(OutboxMessage).where(OutboxMessage.kind != MessageKind.reminder_2h)
                       .values(due_at=datetime.now(UTC) - timedelta(seconds=1)))
            db.commit()
            # Per patient: the request to them and to the provider, and the 24-hour reminder.
            smtp.wait_for(patients * 3, timeout=60)
            clock.sleep(1.5)  # several more polls of both processes: nothing more may arrive
        finally:
            _stop(first)
            _stop(second)
        received = smtp.received
    counts = Counter((r.to, r.subject) for r in received)
    reminders = [r for r in received if r.subject.startswith("Reminder: ")]
    assert sorted(r.to[0] for r in reminders) == sorted(emails)
    assert len(received) == patients * 3 and set(counts.values()) == {1}, counts
    db.expire_all()
    claimers = {m.claimed_by for m in db.scalars(select(OutboxMessage).where(OutboxMessage.done_at.is_not(None)))}
    assert len(claimers) >= 2, "both processes took part (each claims under its own id per pass)"


@pytest.mark.slow
def test_fusioncare_worker_finishes_the_message_in_hand_on_sigterm_then_exits(db, settings, provider, make_person,
                                                                             tmp_path):
    with SmtpServer(delay_seconds=2) as slow:
        _book_with_due_reminders(db, provider, make_person, 2)  # six messages due
        env = {**os.environ, "FUSIONCARE_DATABASE_URL": settings.database_url, "FUSIONCARE_ENV": "test",
               "FUSIONCARE_DATA_DIR": str(tmp_path), "FUSIONCARE_LOG_LEVEL": "WARNING", **slow.env()}
        proc = subprocess.Popen([sys.executable, "-m", "fusioncare.cli", "worker", "--poll-seconds", "0.2"], env=env,
                                stderr=subprocess.PIPE, text=True)
        try:
            assert slow.handler.started.wait(30), "the worker began sending"
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, stderr
        assert "finishing the message in hand" in stderr and "Outbox worker stopped." in stderr
        assert len(slow.received) == 1, "the message in hand was delivered, no other was started"
    db.expire_all()
    messages = list(db.scalars(select(OutboxMessage).where(OutboxMessage.due_at <= datetime.now(UTC))))
    done = [m for m in messages if m.done_at is not None]
    assert len(done) == 1 and done[0].outcome == "sent"
    assert all(m.claimed_at is None for m in messages if m.done_at is None), "nothing left claimed"
