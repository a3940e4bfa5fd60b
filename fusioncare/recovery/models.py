"""Recovery tracker tables: diary entries, questionnaire responses and management-plan items; all health data."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from fusioncare.accounts.models import UtcDateTime, utcnow
from fusioncare.db import Base


def new_record_id() -> str:
    """Random and URL-safe (128 bits), so ids say nothing about how many records exist."""
    return secrets.token_urlsafe(16)


class DiaryEntry(Base):
    """One day of the pain diary; a second entry for the same day updates this row."""

    __tablename__ = "diary_entries"
    __table_args__ = (
        UniqueConstraint("owner_id", "entry_date"),
        CheckConstraint("leg_pain BETWEEN 0 AND 10", name="leg_pain_0_10"),
        CheckConstraint("back_pain BETWEEN 0 AND 10", name="back_pain_0_10"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_record_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    entry_date: Mapped[date] = mapped_column(Date)
    leg_pain: Mapped[int] = mapped_column(Integer)
    back_pain: Mapped[int] = mapped_column(Integer)
    symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    medications: Mapped[list[str]] = mapped_column(JSON, default=list)
    treatments_started: Mapped[list[str]] = mapped_column(JSON, default=list)
    treatments_stopped: Mapped[list[str]] = mapped_column(JSON, default=list)
    exercise_minutes: Mapped[int | None] = mapped_column(Integer)
    sleep_quality: Mapped[int | None] = mapped_column(Integer)  # 1 (very poor) .. 5 (very good)
    note: Mapped[str] = mapped_column(Text, default="")
    # The assessment result of the last safety re-check this entry triggered (None when it did not fire).
    safety: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the patient said they had read that result; until then the tracker lists it. None: not seen yet.
    safety_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RecoveryProfile(Base):
    """What the patient records once: their operation and the symptoms they had before it (long-standing),
    and their name and date of birth as they want them on the visit summary. One row per patient."""

    __tablename__ = "recovery_profiles"
    __table_args__ = (
        CheckConstraint("fusion_approach IN ('posterior', 'anterior', 'lateral', 'unknown')",
                        name="fusion_approach_known"),
        CheckConstraint("fusion_region IN ('lumbar', 'thoracic', 'cervical')", name="fusion_region_known"),
    )

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    operation_date: Mapped[date | None] = mapped_column(Date)
    fusion_region: Mapped[str] = mapped_column(String(16), default="lumbar")
    fusion_levels: Mapped[str] = mapped_column(String(100), default="")
    fusion_approach: Mapped[str] = mapped_column(String(16), default="unknown")
    surgeon: Mapped[str] = mapped_column(String(200), default="")
    # Symptom codes (contract 1.1) already there before the operation and not worse since.
    long_standing_symptoms: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class QuestionnaireResponse(Base):
    """A completed PEG-3, PGIC or ODI with its score computed in code at the time it was answered."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (CheckConstraint("instrument IN ('peg', 'pgic', 'odi')", name="instrument_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_record_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instrument: Mapped[str] = mapped_column(String(8))
    answers: Mapped[list[int | None]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(40))
    interpretation: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PlanItem(Base):
    """A management strategy (knowledge pack code) the patient adopted, with weekly check-ins as JSON."""

    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("owner_id", "strategy_code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_record_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    strategy_code: Mapped[str] = mapped_column(String(64))
    adopted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # {"2026-11-23": "most_days", ...}: week start (Monday) -> how the week went
    check_ins: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class RecoveryShare(Base):
    """The patient lets one provider (by NPI) read their recovery record; revoking deletes the row, at once."""

    __tablename__ = "recovery_shares"
    __table_args__ = (
        UniqueConstraint("owner_id", "npi"),
        CheckConstraint("length(npi) = 10", name="npi_ten_digits"),
    )

    # Opaque and random: provider routes are keyed by it, never by the patient's user id.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_record_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    npi: Mapped[str] = mapped_column(String(10), index=True)
    # The patient's consent to show this provider their assessments (saved ones and the diary's safety re-checks).
    share_assessments: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
