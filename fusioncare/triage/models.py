"""Saved assessments: stored only when the person chooses "save"; health data, owned by one account."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fusioncare.accounts.models import UtcDateTime, utcnow
from fusioncare.db import Base


def new_assessment_id() -> str:
    """Random, URL-safe and not guessable (128 bits), so ids say nothing about how many assessments exist."""
    return secrets.token_urlsafe(16)


class SavedAssessment(Base):
    __tablename__ = "saved_assessments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_assessment_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the AssessmentRequest as sent
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the AssessmentResult as answered
