"""The appointment e-mail outbox: every change queues its messages in its own transaction; due rows go out once
each, even with two workers sending at the same moment; failures are retried later; reminders that no longer
make sense are skipped."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from fusioncare.accounts.audit import Actor
from fusioncare.db import make_session_factory
from fusioncare.scheduling import service
from fusioncare.scheduling.models import MessageKind, OutboxMessage
from fusioncare.scheduling.outbox import send_due
from tests.scheduling.builders import future_day

BASE = "http://fusioncare.test"


class RecordingNotifier:
    """A Notifier that keeps the messages (the e-mail boundary), thread-safe; ``fail`` makes sends raise."""

    def __init__(self, fail: bool = False) -> None:
        self.messages: list[dict] = []
        self.fail = fail
        self._lock = threading.Lock()

    def send(self, *, to: str, subject: str, body: str, html=None, attachments=()) -> None:
        if self.fail:
            raise ConnectionRefusedError("mail server down")
        with self._lock:
            self.messages.append({"to": to, "subject": subject, "body": body, "html": html,
                                  "attachments": list(attachments)})


def _book_three(db, provider, make_person) -> datetime:
    start = datetime.combine(future_day(), time(14), tzinfo=UTC)
    for index, name in enumerate(["ann", "bob", "cat"]):
        person = make_person(name)
        service.book(db=db, actor=Actor.of(person.user, "test"), npi=provider,
                     start=start + timedelta(minutes=30 * index), type_code="telehealth")
    return start


def _kinds(db) -> Counter:
    db.expire_all()
    return Counter((m.kind, m.recipient) for m in db.scalars(select(OutboxMessage)))


def test_booking_queues_the_request_for_both_sides_and_reminders_24_and_2_hours_before(db, provider, make_person):
    start = _book_three(db, provider, make_person)
    reminders = sorted(m.due_at for m in db.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.in_([MessageKind.reminder_24h, MessageKind.reminder_2h]))))
    assert reminders[0] == start - timedelta(hours=24)
    assert start - timedelta(hours=2) in reminders and len(reminders) == 6
    kinds = _kinds(db)
    assert kinds[("requested", "patient")] == 3 and kinds[("requested", "provider")] == 3


def test_two_workers_deliver_each_due_message_exactly_once(db, clean_engine, provider, make_person):
    start = _book_three(db, provider, make_person)
    notifier = RecordingNotifier()
    factory = make_session_factory(clean_engine)
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        session = factory()
        try:
            barrier.wait()
            reports.append(send_due(db=session, notifier=notifier, base_url=BASE, now=start - timedelta(hours=1)))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # Per booking: the request to the patient and to the provider, the 24-hour and the 2-hour reminder.
    assert len(notifier.messages) == 12
    assert sum(r.sent for r in reports) == 12
    per_person = Counter(m["to"] for m in notifier.messages)
    assert per_person[f"dr{provider}@example.org"] == 3
    assert {per_person[f"{name}@example.org"] for name in ("ann", "bob", "cat")} == {3}
    db.expire_all()
    assert all(m.done_at is not None and m.outcome == "sent" for m in db.scalars(select(OutboxMessage)))
    assert send_due(db=db, notifier=notifier, base_url=BASE, now=start).sent == 0, "nothing left to send"


def test_messages_that_are_not_yet_due_wait(db, provider, make_person):
    start = _book_three(db, provider, make_person)
    notifier = RecordingNotifier()
    report = send_due(db=db, notifier=notifier, base_url=BASE, now=start - timedelta(hours=3))
    assert report.sent == 9, "the requests (patient and provider) and the 24-hour reminders are due, not the 2-hour"


def test_a_failed_send_is_retried_later_and_not_lost(db, provider, make_person):
    _book_three(db, provider, make_person)
    now = datetime.now(UTC)
    report = send_due(db=db, notifier=RecordingNotifier(fail=True), base_url=BASE, now=now)
    assert report.failed == 6 and report.sent == 0
    db.expire_all()
    failed = list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "requested")))
    assert all(m.attempts == 1 and m.done_at is None and m.last_error == "ConnectionRefusedError" for m in failed)
    assert all(m.due_at > now for m in failed), "tried again a minute later, not at once"
    notifier = RecordingNotifier()
    assert send_due(db=db, notifier=notifier, base_url=BASE, now=now + timedelta(minutes=2)).sent == 6
    assert len(notifier.messages) == 6


def test_a_cancelled_appointment_sends_no_reminder_but_tells_both_sides(db, provider, make_person):
    ann = make_person("ann")
    start = datetime.combine(future_day(), time(14), tzinfo=UTC)
    booked, _ = service.book(db=db, actor=Actor.of(ann.user, "test"), npi=provider, start=start,
                             type_code="telehealth")
    service.cancel(db=db, actor=Actor.of(ann.user, "test"), appointment_id=str(booked.id))
    notifier = RecordingNotifier()
    send_due(db=db, notifier=notifier, base_url=BASE, now=start - timedelta(minutes=30))
    subjects = sorted(m["subject"] for m in notifier.messages)
    assert not any(s.startswith("Reminder") for s in subjects)
    assert sum(s.startswith("Cancelled") for s in subjects) == 2


def test_send_reminders_command_reports_what_it_sent(settings, monkeypatch, db, provider, make_person):
    from fusioncare import cli
    from fusioncare.settings import get_settings

    _book_three(db, provider, make_person)
    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["send-reminders"])
        again = CliRunner().invoke(cli.app, ["send-reminders"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    # 3 bookings: a request e-mail to the patient and one to the provider each; the 6 reminders are days away.
    assert "Appointment e-mails sent: 6; failed (will retry): 0; skipped: 0" in result.output
    db.expire_all()
    done = Counter((m.kind, m.recipient, m.outcome) for m in db.scalars(select(OutboxMessage))
                   if m.done_at is not None)
    assert done == {(MessageKind.requested, "patient", "sent"): 3, (MessageKind.requested, "provider", "sent"): 3}
    pending = Counter(m.kind for m in db.scalars(select(OutboxMessage)) if m.done_at is None)
    assert pending == {MessageKind.reminder_24h: 3, MessageKind.reminder_2h: 3}
    assert "Appointment e-mails sent: 0; failed (will retry): 0; skipped: 0" in again.output, "each goes out once"
