"""The appointment e-mail outbox: rows written with each change (scheduling/service.py), delivered once by
whichever worker claims them, retried on failure.

A worker claims a due row with a conditional UPDATE (not done, and unclaimed or its lease expired); only the
worker whose UPDATE changed the row sends it, then stamps ``done_at``. If a worker dies between sending and
stamping, the row is sent again after the lease: delivery is at-least-once in that one crash window and
exactly-once otherwise, whatever the number of workers and processes. A failed send releases the claim and is
tried again later (1, 5, 15, 60 minutes, then every 4 hours, at most 10 times).

Who runs it: ``fusioncare serve`` runs an ``OutboxWorker`` thread in each app process (``FUSIONCARE_OUTBOX_WORKER``
in-process, the default), ``fusioncare worker`` runs one in the foreground for deployments that keep it apart, and
``fusioncare send-reminders`` sends what is due once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from fusioncare.db import rowcount
from fusioncare.notifications import Notifier
from fusioncare.scheduling import mail
from fusioncare.scheduling.models import Appointment, OutboxMessage

log = logging.getLogger("fusioncare.scheduling.outbox")
CLAIM_LEASE = timedelta(minutes=10)
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
RETRY_LATER = timedelta(hours=4)
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped: int = 0


def _claim(db: Session, *, message_id: int, worker: str, now: datetime) -> bool:
    result = db.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.done_at.is_(None),
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - CLAIM_LEASE),
    ).values(claimed_by=worker, claimed_at=now).execution_options(synchronize_session=False))
    db.commit()
    return rowcount(result) == 1


def pending(*, db: Session, now: datetime, limit: int) -> list[int]:
    ids = list(db.scalars(select(OutboxMessage.id).where(OutboxMessage.done_at.is_(None), OutboxMessage.due_at <= now)
                          .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)))
    db.commit()
    return ids


def send_due(*, db: Session, notifier: Notifier, base_url: str, now: datetime | None = None, limit: int = 100,
             should_stop: Callable[[], bool] = lambda: False) -> DeliveryReport:
    """Send every due message this worker manages to claim, one at a time; ``should_stop`` is asked before each
    claim, so a stopping worker finishes the message it holds and claims no other."""
    now = now or datetime.now(UTC)
    worker = uuid.uuid4().hex
    sent = failed = skipped = 0
    for message_id in pending(db=db, now=now, limit=limit):
        if should_stop():
            break
        if not _claim(db, message_id=message_id, worker=worker, now=now):
            continue
        message = db.get(OutboxMessage, message_id)
        appointment = db.get(Appointment, message.appointment_id) if message is not None else None
        if message is None or appointment is None:
            continue  # erased with the account since it was claimed (the row goes with the appointment)
        try:
            email = mail.compose(db=db, message=message, appointment=appointment, base_url=base_url,
                                 now=max(now, datetime.now(UTC)))
            if email is None:
                message.done_at, message.outcome = datetime.now(UTC), "skipped"
                db.commit()
                skipped += 1
                continue
            notifier.send(to=email.to, subject=email.subject, body=email.text, html=email.html,
                          attachments=email.attachments)
        except Exception as exc:  # noqa: BLE001 - one bad address or a mail server hiccup must not stop the batch
            log.warning("appointment e-mail %s not delivered: %s", message_id, type(exc).__name__)
            db.rollback()
            _retry_later(db, message_id=message_id, now=now, error=type(exc).__name__)
            failed += 1
            continue
        message.done_at, message.outcome = datetime.now(UTC), "sent"
        db.commit()
        sent += 1
    return DeliveryReport(sent=sent, failed=failed, skipped=skipped)


def _retry_later(db: Session, *, message_id: int, now: datetime, error: str) -> None:
    message = db.get(OutboxMessage, message_id)
    if message is None:
        return
    message.attempts += 1
    message.claimed_at, message.claimed_by, message.last_error = None, None, error
    if message.attempts >= MAX_ATTEMPTS:
        message.done_at, message.outcome = now, "failed"
    else:
        message.due_at = now + (RETRY_AFTER[message.attempts - 1] if message.attempts <= len(RETRY_AFTER)
                                else RETRY_LATER)
    db.commit()


class OutboxWorker:
    """Polls the outbox and sends what is due until stopped; several may run, in threads or processes."""

    def __init__(self, *, session_factory: sessionmaker[Session], notifier: Notifier, base_url: str,
                 poll_seconds: float) -> None:
        self.session_factory, self.notifier, self.base_url = session_factory, notifier, base_url
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> DeliveryReport:
        session = self.session_factory()
        try:
            return send_due(db=session, notifier=self.notifier, base_url=self.base_url,
                            should_stop=self.stopping.is_set)
        finally:
            session.close()

    def run(self) -> None:
        """Until ``stop()``: send what is due, then wait a poll interval (or less, if stopped meanwhile)."""
        while not self.stopping.is_set():
            try:
                report = self.run_once()
                if report.sent or report.failed:
                    log.info("appointment e-mails sent: %s, failed (will retry): %s", report.sent, report.failed)
            except Exception:  # noqa: BLE001 - a database restart must not end the worker
                log.exception("the outbox worker could not read the outbox; trying again")
            self.stopping.wait(self.poll_seconds)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run, name="fusioncare-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


@dataclass(frozen=True)
class Backlog:
    """The outbox as an operator sees it: what is waiting, what is overdue, and since when."""

    pending: int  # not done yet (sent or skipped), due or not
    due: int  # due now and not done yet
    oldest_due_at: datetime | None  # the due time of the oldest due message not done yet


def backlog(*, db: Session, now: datetime | None = None) -> Backlog:
    """Counts of messages not done yet, in one statement (for /metrics; reads nothing but the outbox)."""
    from sqlalchemy import func

    now = now or datetime.now(UTC)
    is_due = OutboxMessage.due_at <= now
    pending, due, oldest = db.execute(select(
        func.count(),
        func.count().filter(is_due),
        func.min(OutboxMessage.due_at).filter(is_due),
    ).where(OutboxMessage.done_at.is_(None))).one()
    if isinstance(oldest, str):  # an aggregate over a UtcDateTime column may come back untyped on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Backlog(pending=pending, due=due, oldest_due_at=oldest)
