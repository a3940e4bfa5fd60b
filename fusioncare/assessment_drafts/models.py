"""The draft table: answers in progress under an opaque random id, owned by one browser, short-lived."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fusioncare.accounts.models import UtcDateTime, utcnow
from fusioncare.db import Base


def new_draft_id() -> str:
    """Random and URL-safe (128 bits): the id may sit in a URL because it says nothing about the answers."""
    return secrets.token_urlsafe(16)


class AssessmentDraft(Base):
    __tablename__ = "assessment_drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_draft_id)
    # SHA-256 of the owner browser's cookie secret: a copied URL is useless without that browser's cookie, and
    # the table alone does not give anyone the cookie.
    owner_key: Mapped[str] = mapped_column(String(64))
    answers: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[name, value], ...] as the forms sent them
    steps_done: Mapped[list[Any]] = mapped_column(JSON, default=list)  # keys of steps answered with "Continue"
    problems: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"step": key, "messages": {field: text}}
    place: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # ZIP and filters for "Find doctors"
    alerted_urgency: Mapped[str | None] = mapped_column(String(16), default=None)  # highest urgency already shown
    saved_assessment_id: Mapped[str | None] = mapped_column(
        ForeignKey("saved_assessments.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
