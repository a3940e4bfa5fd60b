"""Saved assessments: save, read (through the central permission check), list, export and erase.

Registered with accounts' personal-data registry, so "download my data" and "delete my account" include them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from fusioncare.accounts import audit, personal_data
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.permissions import Action, authorize
from fusioncare.triage.models import SavedAssessment

RECORD_TYPE = "saved_assessment"


def save(db: Session, *, actor: Actor, request: dict[str, Any], result: dict[str, Any]) -> SavedAssessment:
    """Store an assessment for the signed-in actor (request and result as JSON-ready dicts)."""
    if actor.user_id is None:
        raise ValueError("saving an assessment needs a signed-in owner")
    record = SavedAssessment(owner_id=actor.user_id, request=request, result=result)
    db.add(record)
    db.commit()
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.create", record_type=RECORD_TYPE, record_id=record.id,
                 outcome=Outcome.allowed)
    return record


def get(db: Session, *, assessment_id: str) -> SavedAssessment | None:
    """Unchecked lookup; routes use ``read`` instead."""
    return db.get(SavedAssessment, assessment_id) if len(assessment_id) <= 32 else None


def read(db: Session, *, actor: Actor, assessment_id: str) -> SavedAssessment:
    """The record if the actor may read it; NotFound otherwise (audited either way)."""
    record = get(db, assessment_id=assessment_id)
    authorize(db, actor=actor, action=Action.read, record_type=RECORD_TYPE, record_id=assessment_id,
              owner_id=record.owner_id if record else None)
    assert record is not None  # authorize() raised NotFound for a missing record
    return record


def remove(db: Session, *, actor: Actor, assessment_id: str) -> None:
    record = get(db, assessment_id=assessment_id)
    authorize(db, actor=actor, action=Action.delete, record_type=RECORD_TYPE, record_id=assessment_id,
              owner_id=record.owner_id if record else None)
    db.delete(record)
    db.commit()


def list_for_owner(db: Session, *, actor: Actor) -> list[SavedAssessment]:
    """The actor's own saved assessments, newest first."""
    query = (select(SavedAssessment).where(SavedAssessment.owner_id == actor.user_id)
             .order_by(SavedAssessment.created_at.desc()))
    records = list(db.scalars(query))
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.list", record_type=RECORD_TYPE, outcome=Outcome.allowed,
                 detail=f"{len(records)} records")
    return records


def latest_id_for_owner(db: Session, *, owner_id: int) -> str | None:
    """The id of the owner's newest saved assessment (what a booking shares with consent), or None."""
    return db.scalar(select(SavedAssessment.id).where(SavedAssessment.owner_id == owner_id)
                     .order_by(SavedAssessment.created_at.desc()).limit(1))


def summary(db: Session, *, assessment_id: str) -> dict[str, str] | None:
    """Urgency and headline of a saved assessment, for a provider the owner shared it with; None if erased.

    Unchecked: the caller has already authorized the read of the record that carries the share.
    """
    record = get(db, assessment_id=assessment_id)
    if record is None:
        return None
    return {"urgency": str(record.result.get("urgency", "")), "headline": str(record.result.get("headline", ""))}


def export_for_owner(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    records = db.scalars(select(SavedAssessment).where(SavedAssessment.owner_id == user_id)
                         .order_by(SavedAssessment.created_at))
    return [{"id": r.id, "created_at": r.created_at.isoformat(), "request": r.request, "result": r.result}
            for r in records]


def erase_for_owner(*, db: Session, user_id: int) -> int:
    result: CursorResult[Any] = db.execute(delete(SavedAssessment).where(SavedAssessment.owner_id == user_id))  # type: ignore[assignment]  # a DML statement's result is a CursorResult
    return result.rowcount


personal_data.register("saved_assessments", export=export_for_owner, erase=erase_for_owner)
