"""Accounts tables: users, sessions and bearer tokens, reset tokens, rate limits and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from fusioncare.db import Base


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; FusionCare stores timezone-aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    patient = "patient"
    provider = "provider"
    admin = "admin"


class TokenKind(StrEnum):
    session = "session"  # browser session, carried in the HttpOnly cookie
    bearer = "bearer"  # API client token, carried in the Authorization header


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('patient', 'provider', 'admin')", name="role_known"),
        CheckConstraint("provider_npi IS NULL OR length(provider_npi) = 10", name="npi_ten_digits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.patient)
    # A provider account claims an NPI; it acts as that provider only once an admin has verified the claim.
    provider_npi: Mapped[str | None] = mapped_column(String(10), index=True)
    provider_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def verified_npi(self) -> str | None:
        """The NPI this account may act as, or None while unverified (or not a provider)."""
        if self.role == Role.provider and self.provider_verified_at is not None:
            return self.provider_npi
        return None


class AccessToken(Base):
    """A browser session or an API bearer token; only the SHA-256 of the secret is stored."""

    __tablename__ = "access_tokens"
    __table_args__ = (CheckConstraint("kind IN ('session', 'bearer')", name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PasswordResetToken(Base):
    """Single-use, short-lived; only the SHA-256 of the secret is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RateLimitEvent(Base):
    """One counted attempt in a rate-limit bucket; kept in the database so every app process sees it."""

    __tablename__ = "rate_limit_events"
    __table_args__ = (Index("ix_rate_limit_events_bucket_created_at", "bucket", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(120))  # e.g. "sign_in:account:<sha256 of e-mail>"
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class RateLimitBucket(Base):
    """One row per rate-limit bucket in use: reserving an attempt locks it, so counting and adding are atomic."""

    __tablename__ = "rate_limit_buckets"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class AuditEvent(Base):
    """Append-only: who did what to which record, when, from where, with what outcome. Never health content.

    ``actor_user_id`` deliberately has no foreign key: the row outlives a deleted account as its tombstone.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed / denied / not_found / failed / refused
    detail: Mapped[str] = mapped_column(String(200), default="")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target) -> None:
    raise RuntimeError("the audit log is append-only: audit events are never updated or deleted")
