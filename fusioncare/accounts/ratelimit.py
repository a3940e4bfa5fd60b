"""Rate limits counted in the database, so every app process shares them (nothing in process memory)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fusioncare.accounts.models import RateLimitEvent, utcnow
from fusioncare.accounts.sidecar import committed_apart
from fusioncare.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``max_events`` events per key within any ``window_seconds``."""

    name: str
    max_events: int
    window_seconds: int
    message: str


_SIGN_IN_MESSAGE = "Too many sign-in attempts. Please wait a minute and try again."
_SIGN_UP_MESSAGE = "Too many sign-up attempts. Please try again later."
_RESET_MESSAGE = "Too many password reset requests. Please try again later."

# Failed sign-ins: the 6th wrong password within a minute is refused, whether or not the account exists.
SIGN_IN_FAILURES_PER_ACCOUNT = Limit("sign_in_failures:account", 5, 60, _SIGN_IN_MESSAGE)
SIGN_IN_FAILURES_PER_ADDRESS = Limit("sign_in_failures:address", 20, 60, _SIGN_IN_MESSAGE)
SIGN_UP_PER_ACCOUNT = Limit("sign_up:account", 3, 3600, _SIGN_UP_MESSAGE)
SIGN_UP_PER_ADDRESS = Limit("sign_up:address", 20, 3600, _SIGN_UP_MESSAGE)
RESET_PER_ACCOUNT = Limit("reset:account", 3, 3600, _RESET_MESSAGE)
RESET_PER_ADDRESS = Limit("reset:address", 10, 3600, _RESET_MESSAGE)

_LONGEST_WINDOW = max(limit.window_seconds for limit in (
    SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_FAILURES_PER_ADDRESS, SIGN_UP_PER_ACCOUNT, SIGN_UP_PER_ADDRESS,
    RESET_PER_ACCOUNT, RESET_PER_ADDRESS))


def _bucket(limit: Limit, key: str) -> str:
    # Keys are e-mail addresses or client addresses: store a digest, not the personal data itself.
    return f"{limit.name}:{hashlib.sha256(key.strip().lower().encode()).hexdigest()[:40]}"


def check(db: Session, *, limit: Limit, key: str, now: datetime | None = None) -> None:
    """Raise RateLimited when the key has already used up its window."""
    now = now or utcnow()
    start = now - timedelta(seconds=limit.window_seconds)
    count, oldest = db.execute(
        select(func.count(), func.min(RateLimitEvent.created_at))
        .where(RateLimitEvent.bucket == _bucket(limit, key), RateLimitEvent.created_at > start)
    ).one()
    if count >= limit.max_events:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        retry_after = max(1, int((oldest + timedelta(seconds=limit.window_seconds) - now).total_seconds()) + 1)
        raise RateLimited(limit.message, retry_after_seconds=retry_after)


def count_event(db: Session, *, limit: Limit, key: str, now: datetime | None = None) -> None:
    """Count one event (committed apart from the caller) and drop every event older than the longest window."""
    now = now or utcnow()
    with committed_apart(db) as side:
        expired = now - timedelta(seconds=_LONGEST_WINDOW)
        side.execute(delete(RateLimitEvent).where(RateLimitEvent.created_at <= expired))
        side.add(RateLimitEvent(bucket=_bucket(limit, key), created_at=now))


def hit(db: Session, *, limit: Limit, key: str, now: datetime | None = None) -> None:
    """Check, then count: for limits on attempts (sign-up, reset) rather than on failures."""
    check(db, limit=limit, key=key, now=now)
    count_event(db, limit=limit, key=key, now=now)
