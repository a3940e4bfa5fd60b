"""Saved assessments API: read, list and delete (saving is ``POST /api/v1/assessments?save=true``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from fusioncare.accounts.deps import CurrentUser, RequestActor
from fusioncare.api.errors import ERROR_BODY as _ERROR
from fusioncare.api.errors import Responses
from fusioncare.deps import DbSession
from fusioncare.inputs import RecordKey
from fusioncare.triage import records
from fusioncare.triage.record_schemas import SavedAssessmentRead, SavedAssessmentSummary

_401: Responses = {401: {"description": "The bearer token is invalid, expired or revoked.", **_ERROR}}
router = APIRouter(tags=["assessments"])

AssessmentId = Annotated[RecordKey, Path(description="A saved assessment's id.")]


@router.get("/assessments", response_model=list[SavedAssessmentSummary],
            responses={401: {"description": "Not signed in.", **_ERROR}})
def list_saved_assessments(user: CurrentUser, actor: RequestActor, db: DbSession) -> list[SavedAssessmentSummary]:
    """My saved assessments, newest first."""
    return [SavedAssessmentSummary(id=r.id, created_at=r.created_at, urgency=r.result.get("urgency", ""))
            for r in records.list_for_owner(db, actor=actor)]


@router.get("/assessments/{assessment_id}", response_model=SavedAssessmentRead,
            responses={404: {"description": "No such saved assessment, or not yours.", **_ERROR}, **_401})
def read_saved_assessment(assessment_id: AssessmentId, actor: RequestActor, db: DbSession) -> SavedAssessmentRead:
    record = records.read(db, actor=actor, assessment_id=assessment_id)
    return SavedAssessmentRead(id=record.id, created_at=record.created_at, request=record.request,
                               result=record.result)


@router.delete("/assessments/{assessment_id}", status_code=204,
               responses={404: {"description": "No such saved assessment, or not yours.", **_ERROR}, **_401})
def delete_saved_assessment(assessment_id: AssessmentId, actor: RequestActor, db: DbSession) -> Response:
    records.remove(db, actor=actor, assessment_id=assessment_id)
    return Response(status_code=204)
