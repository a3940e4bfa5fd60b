"""Reminder outbox: due rows go out once each, even with two workers sending at the same moment."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from fusioncare.accounts.audit import Actor
from fusioncare.db import make_session_factory
from fusioncare.scheduling import service
from fusioncare.scheduling.models import Reminder
from fusioncare.scheduling.reminders import send_due
from tests.scheduling.builders import future_day


class RecordingNotifier:
    """A Notifier that keeps the messages (the e-mail boundary), thread-safe."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def send(self, *, to: str, subject: str, body: str) -> None:
        with self._lock:
            self.messages.append((to, subject, body))


def _book_three(db, provider, make_person) -> datetime:
    start = datetime.combine(future_day(), time(14), tzinfo=UTC)
    for index, name in enumerate(["ann", "bob", "cat"]):
        person = make_person(name)
        service.book(db=db, actor=Actor.of(person.user, "test"), npi=provider,
                     start=start + timedelta(minutes=30 * index), type_code="telehealth")
    return start


def test_booking_queues_reminders_24_and_2_hours_before(db, provider, make_person):
    start = _book_three(db, provider, make_person)
    due = sorted(r.due_at for r in db.scalars(select(Reminder)))
    assert due[0] == start - timedelta(hours=24)
    assert start - timedelta(hours=2) in due and len(due) == 6


def test_two_workers_deliver_each_due_reminder_exactly_once(db, clean_engine, provider, make_person,
                                                            saved_assessment):
    start = _book_three(db, provider, make_person)
    notifier = RecordingNotifier()
    factory = make_session_factory(clean_engine)
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        session = factory()
        try:
            barrier.wait()
            reports.append(send_due(db=session, notifier=notifier, now=start - timedelta(hours=1)))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(notifier.messages) == 6
    assert sum(r.sent for r in reports) == 6
    per_person = Counter(to for to, _, _ in notifier.messages)
    assert set(per_person.values()) == {2}, "each patient gets the 24-hour and the 2-hour reminder, once each"
    db.expire_all()
    assert all(r.sent_at is not None for r in db.scalars(select(Reminder)))
    assert send_due(db=db, notifier=notifier, now=start).sent == 0, "nothing left to send"
    assert all("appointment" in body and "sciatica" not in body.lower() for _, _, body in notifier.messages)


def test_reminders_that_are_not_yet_due_wait(db, provider, make_person):
    start = _book_three(db, provider, make_person)
    notifier = RecordingNotifier()
    report = send_due(db=db, notifier=notifier, now=start - timedelta(hours=3))
    assert report.sent == 3 and len(notifier.messages) == 3, "only the 24-hour reminders are due"


def test_send_reminders_command_reports_what_it_sent(settings, monkeypatch, db, provider, make_person):
    from fusioncare import cli
    from fusioncare.settings import get_settings

    _book_three(db, provider, make_person)
    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["send-reminders"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 0" in result.output, "none are due yet"
