"""Rate limits counted in the database, so every app process shares them (nothing in process memory).

An attempt is *reserved* before it is evaluated: in one short transaction the bucket rows are locked (an UPDATE
of ``rate_limit_buckets``, which SQLite serialises as a write and PostgreSQL as a row lock), the window is counted
and, if there is room, the attempt is counted too, then committed. So N simultaneous attempts, in any number of
processes, evaluate at most the limit: the (N+1)th waits for the lock and then sees N. A password check that
succeeds gives its reservation back (``release``), so the password limits count failures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fusioncare.accounts.models import RateLimitBucket, RateLimitEvent, utcnow
from fusioncare.accounts.sidecar import committed_apart
from fusioncare.db import rowcount
from fusioncare.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    """At most ``max_events`` events per key within any ``window_seconds``."""

    name: str
    max_events: int
    window_seconds: int
    message: str


_PASSWORD_MESSAGE = "Too many wrong passwords. Please wait a minute and try again."
_SIGN_UP_MESSAGE = "Too many sign-up attempts. Please try again later."
_RESET_MESSAGE = "Too many password reset requests. Please try again later."

# Wrong passwords, at sign-in and wherever the current password is asked again (changing it, deleting the
# account): the 6th within a minute is refused, whether or not the account exists, even when it is right.
SIGN_IN_FAILURES_PER_ACCOUNT = Limit("sign_in_failures:account", 5, 60, _PASSWORD_MESSAGE)
SIGN_IN_FAILURES_PER_ADDRESS = Limit("sign_in_failures:address", 20, 60, _PASSWORD_MESSAGE)
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


def _lock(side: Session, bucket: str, now: datetime) -> None:
    """Hold the bucket's row until the transaction ends (creating it first if it is new or was purged)."""
    dialect = side.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for _ in range(5):
        side.execute(insert(RateLimitBucket).values(bucket=bucket, touched_at=now).on_conflict_do_nothing())
        locked = rowcount(side.execute(update(RateLimitBucket).where(RateLimitBucket.bucket == bucket)
                                       .values(touched_at=now)))
        if locked == 1:
            return
    raise RuntimeError("a rate-limit bucket kept disappearing while it was being locked")


def reserve(db: Session, *, attempts: Sequence[tuple[Limit, str]], now: datetime | None = None) -> list[int]:
    """Count one attempt under every (limit, key), atomically, or raise RateLimited and count none.

    Committed apart from the caller (see sidecar.committed_apart) before the attempt is evaluated, so parallel
    attempts see it. Returns the ids of the counted events, for ``release``.
    """
    now = now or utcnow()
    wanted = sorted({(_bucket(limit, key), limit) for limit, key in attempts}, key=lambda pair: pair[0])
    with committed_apart(db) as side:
        for bucket, _ in wanted:  # always in the same order, so two reservations never wait for each other
            _lock(side, bucket, now)
        for bucket, limit in wanted:
            start = now - timedelta(seconds=limit.window_seconds)
            count, oldest = side.execute(
                select(func.count(), func.min(RateLimitEvent.created_at))
                .where(RateLimitEvent.bucket == bucket, RateLimitEvent.created_at > start)).one()
            if count >= limit.max_events:
                oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
                retry_after = max(1, int((oldest + timedelta(seconds=limit.window_seconds) - now).total_seconds()) + 1)
                raise RateLimited(limit.message, retry_after_seconds=retry_after)
        events = [RateLimitEvent(bucket=bucket, created_at=now) for bucket, _ in wanted]
        side.add_all(events)
        side.flush()
        reserved = [event.id for event in events]
    _purge(db, now)
    return reserved


def release(db: Session, *, event_ids: Sequence[int]) -> None:
    """Give back a reservation (a password that turned out right is not a failure)."""
    with committed_apart(db) as side:
        side.execute(delete(RateLimitEvent).where(RateLimitEvent.id.in_(list(event_ids))))


def _purge(db: Session, now: datetime) -> None:
    """Drop events and buckets older than the longest window. Best effort and never waiting: rows another
    transaction holds (a bucket being reserved right now) are skipped (PostgreSQL's SKIP LOCKED; SQLite has a
    single writer), so a purge cannot deadlock with a reservation or another purge."""
    expired = now - timedelta(seconds=_LONGEST_WINDOW)
    old_events = (select(RateLimitEvent.id).where(RateLimitEvent.created_at <= expired)
                  .with_for_update(skip_locked=True).scalar_subquery())
    old_buckets = (select(RateLimitBucket.bucket).where(RateLimitBucket.touched_at <= expired)
                   .with_for_update(skip_locked=True).scalar_subquery())
    try:
        with committed_apart(db) as side:
            side.execute(delete(RateLimitEvent).where(RateLimitEvent.id.in_(old_events)))
            side.execute(delete(RateLimitBucket).where(RateLimitBucket.bucket.in_(old_buckets)))
    except DBAPIError:
        pass
