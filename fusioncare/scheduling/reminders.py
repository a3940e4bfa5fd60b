"""Reminder outbox: rows queued at booking (24 h and 2 h before) and delivered once, even with several workers.

A worker claims a due row with a conditional UPDATE (``claimed_at`` still empty, or its lease expired); only
the worker whose UPDATE changed the row sends it, then stamps ``sent_at``. If a worker dies between sending
and stamping, the row is sent again after the lease: delivery is at-least-once in that one crash window and
exactly-once otherwise.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fusioncare.accounts import service as accounts
from fusioncare.db import rowcount
from fusioncare.directory import service as directory
from fusioncare.notifications import Notifier
from fusioncare.scheduling.models import Appointment, Reminder

log = logging.getLogger("fusioncare.scheduling.reminders")
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


def _claim(db: Session, *, reminder_id: int, worker: str, now: datetime) -> bool:
    result = db.execute(update(Reminder).where(
        Reminder.id == reminder_id, Reminder.sent_at.is_(None),
        or_(Reminder.claimed_at.is_(None), Reminder.claimed_at < now - CLAIM_LEASE),
    ).values(claimed_by=worker, claimed_at=now).execution_options(synchronize_session=False))
    db.commit()
    return rowcount(result) == 1


def _message(db: Session, appointment: Appointment) -> tuple[str, str]:
    """Who and when and where, never why: e-mail is not a private channel."""
    provider = directory.get_provider(db=db, npi=appointment.npi)
    when = appointment.starts_at.astimezone(ZoneInfo(appointment.time_zone)).strftime("%A %d %B %Y at %H:%M %Z")
    place = ", ".join(p for p in (provider.address_line1, provider.city, provider.state, provider.zip_code) if p)
    return ("Reminder: your FusionCare appointment",
            f"You have an appointment with {provider.display_name} on {when}.\n"
            f"Where: {place}\n\nIf you cannot come, please cancel it in FusionCare so someone else can have the slot.")


def send_due(*, db: Session, notifier: Notifier, now: datetime | None = None, limit: int = 100) -> DeliveryReport:
    """Send every due, unsent reminder this worker manages to claim."""
    now = now or datetime.now(UTC)
    worker = uuid.uuid4().hex
    due = list(db.scalars(select(Reminder.id).where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
                          .order_by(Reminder.due_at).limit(limit)))
    db.commit()
    sent = failed = 0
    for reminder_id in due:
        if not _claim(db, reminder_id=reminder_id, worker=worker, now=now):
            continue
        reminder = db.get(Reminder, reminder_id)
        appointment = db.get(Appointment, reminder.appointment_id) if reminder is not None else None
        to = accounts.contact_email(db, user_id=appointment.patient_id) if appointment is not None else None
        if reminder is None or appointment is None or to is None:
            continue  # cancelled or erased since it was claimed (reminder, appointment and account go together)
        try:
            subject, body = _message(db, appointment)
            notifier.send(to=to, subject=subject, body=body)
        except Exception as exc:  # noqa: BLE001 - one bad address must not stop the batch
            log.warning("reminder %s not delivered: %s", reminder_id, type(exc).__name__)
            reminder.claimed_at, reminder.claimed_by, reminder.last_error = None, None, type(exc).__name__
            db.commit()
            failed += 1
            continue
        reminder.sent_at = now
        db.commit()
        sent += 1
    return DeliveryReport(sent=sent, failed=failed)
