"""Drafts: start, read (only by the owner browser, only while fresh), update, purge the expired.

Health answers stay here, server-side, instead of travelling in URLs or hidden fields; the web layer holds the
owner's secret in an HttpOnly cookie and passes it in. Every write purges expired drafts, so none outlives
``LIFETIME`` after its last change by more than the time until someone's next write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from fusioncare.accounts.models import utcnow
from fusioncare.assessment_drafts.models import AssessmentDraft

LIFETIME = timedelta(hours=2)
MAX_ID_LENGTH = 32
# The ids new_draft makes (secrets.token_urlsafe): anything else names no draft and never reaches the database.
_DRAFT_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")


def new_owner_secret() -> str:
    return secrets.token_urlsafe(32)


def owner_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def purge_expired(db: Session, *, now: datetime | None = None) -> int:
    """Delete every expired draft (not committed: the caller's write commits it)."""
    result = db.execute(delete(AssessmentDraft).where(AssessmentDraft.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


def start(db: Session, *, owner_secret: str, now: datetime | None = None) -> AssessmentDraft:
    now = now or utcnow()
    purge_expired(db, now=now)
    draft = AssessmentDraft(owner_key=owner_key(owner_secret), answers=[], steps_done=[], problems={}, place={},
                            created_at=now, expires_at=now + LIFETIME)
    db.add(draft)
    db.commit()
    return draft


def get_owned(db: Session, *, draft_id: str, owner_secret: str | None,
              now: datetime | None = None) -> AssessmentDraft | None:
    """The draft if this browser made it and it has not expired; None otherwise (never says which)."""
    if not owner_secret or not _DRAFT_ID.fullmatch(draft_id):
        return None
    draft = db.get(AssessmentDraft, draft_id)
    if draft is None or draft.expires_at <= (now or utcnow()):
        return None
    if not hmac.compare_digest(draft.owner_key, owner_key(owner_secret)):
        return None
    return draft


def update(db: Session, *, draft: AssessmentDraft, answers: Sequence[tuple[str, str]] | None = None,
           steps_done: Sequence[str] | None = None, problems: dict[str, Any] | None = None,
           place: dict[str, Any] | None = None, alerted_urgency: str | None = None,
           now: datetime | None = None) -> AssessmentDraft:
    """Change what is given; a change of answers forgets that the old answers were saved to an account."""
    now = now or utcnow()
    if answers is not None:
        new = [list(pair) for pair in answers]
        if new != draft.answers:
            draft.saved_assessment_id = None
        draft.answers = new
    if steps_done is not None:
        draft.steps_done = list(steps_done)
    if problems is not None:
        draft.problems = problems
    if place is not None:
        draft.place = place
    if alerted_urgency is not None:
        draft.alerted_urgency = alerted_urgency
    draft.expires_at = now + LIFETIME
    purge_expired(db, now=now)
    db.commit()
    return draft


def mark_saved(db: Session, *, draft: AssessmentDraft, saved_assessment_id: str) -> None:
    draft.saved_assessment_id = saved_assessment_id
    db.commit()
