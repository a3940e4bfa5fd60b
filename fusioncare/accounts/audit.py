"""The append-only audit log: who did what to which record, when, from where, and the outcome; never content."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncare.accounts.models import AuditEvent, User, utcnow
from fusioncare.accounts.sidecar import committed_apart


class Outcome(StrEnum):
    allowed = "allowed"
    denied = "denied"  # the record exists but the actor may not touch it (the actor was told 404)
    not_found = "not_found"
    failed = "failed"  # e.g. a wrong password
    refused = "refused"  # e.g. rate limited, or sign-up for an existing e-mail


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user or an anonymous client, with the client address for the audit log."""

    user_id: int | None
    role: str | None
    verified_npi: str | None
    client_address: str | None

    @classmethod
    def of(cls, user: User | None, client_address: str | None) -> Actor:
        if user is None:
            return cls(user_id=None, role=None, verified_npi=None, client_address=client_address)
        return cls(user_id=user.id, role=user.role, verified_npi=user.verified_npi, client_address=client_address)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


def record(db: Session, *, actor: Actor, action: str, record_type: str, outcome: Outcome,
           record_id: str | int | None = None, detail: str = "") -> None:
    """Append one event, committed on its own (see sidecar.committed_apart). ``detail`` must hold no health data."""
    with committed_apart(db) as side:
        side.add(AuditEvent(occurred_at=utcnow(), actor_user_id=actor.user_id, actor_role=actor.role,
                            action=action, record_type=record_type,
                            record_id=None if record_id is None else _as_logged(str(record_id)[:64]),
                            client_address=(actor.client_address or "")[:64] or None,
                            outcome=outcome, detail=detail[:200]))


def _as_logged(value: str) -> str:
    """An id as it came in, with what a database text column cannot hold (NUL: PostgreSQL refuses it) or a CSV
    reader should not see (other control characters) replaced by '?': a probe's id is still recorded."""
    return "".join(c if c.isprintable() else "?" for c in value)


@dataclass(frozen=True)
class AuditFilter:
    actor_user_id: int | None = None
    action: str | None = None
    record_type: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(db: Session, *, filters: AuditFilter, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent)
    if filters.actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == filters.actor_user_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.record_type:
        query = query.where(AuditEvent.record_type == filters.record_type)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= _aware(filters.since))
    if filters.until is not None:
        query = query.where(AuditEvent.occurred_at < _aware(filters.until))
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(db.scalars(query))


def review(db: Session, *, actor: Actor, filters: AuditFilter, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
    """An admin reading the log: the reading itself is logged first (who looked, when, from where)."""
    record(db, actor=actor, action="audit_log.read", record_type="audit_log", outcome=Outcome.allowed)
    return search(db, filters=filters, limit=limit, offset=offset)


def _aware(moment: datetime) -> datetime:
    """A filter time without a zone is taken as UTC, the zone everything is stored in."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


EXPORT_FIELDS = ["id", "occurred_at", "actor_user_id", "actor_role", "action", "record_type", "record_id",
                 "client_address", "outcome", "detail"]


def as_dict(event: AuditEvent) -> dict:
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["occurred_at"] = event.occurred_at.isoformat()
    return row


def to_csv(events: list[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for event in events:
        writer.writerow({k: ("" if v is None else _csv_safe(str(v))) for k, v in as_dict(event).items()})
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with =, +, -, @, a tab or a carriage return would run as a
    # formula when opened (OWASP's list); a leading apostrophe makes it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
