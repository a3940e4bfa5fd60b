"""JSON API for the symptom assessment: POST /api/v1/assessments (nothing is stored unless ?save=true)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from fusioncare.accounts.deps import RequestActor
from fusioncare.accounts.errors import AuthenticationRequired
from fusioncare.deps import DbSession
from fusioncare.knowledge.loader import Pack
from fusioncare.triage import records, service
from fusioncare.triage.record_schemas import SavedAssessmentResult
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult

router = APIRouter(tags=["assessment"])


def get_knowledge_pack(request: Request) -> Pack:
    """The pack the app loaded (and validated) at start-up."""
    return request.app.state.knowledge_pack


KnowledgePack = Annotated[Pack, Depends(get_knowledge_pack)]


@router.post("/assessments", response_model=SavedAssessmentResult | AssessmentResult,
             responses={401: {"description": "save=true without a signed-in account (bearer token or session).",
                              "content": {"application/json": {"schema": {"type": "object"}}}}})
def create_assessment(assessment: AssessmentRequest, pack: KnowledgePack, actor: RequestActor, db: DbSession,
                      save: Annotated[bool, Query(description="Store it in my account and return its id; needs "
                                                              "sign-in. Without it nothing is stored.")] = False,
                      ) -> AssessmentResult:
    """Assess symptoms after spinal fusion: urgency, reasons, possible contributors, whom to see, options.

    Bad input (missing or unknown fields, out-of-range numbers, wrong types, unknown codes, a body that is
    not JSON) gets a 422 whose message names the field and what is allowed.
    """
    result = service.assess(request=assessment, pack=pack)
    if not save:
        return result
    if actor.is_anonymous:
        raise AuthenticationRequired("Saving an assessment needs an account: send a bearer token or sign in.")
    record = records.save(db, actor=actor, request=assessment.model_dump(mode="json"),
                          result=result.model_dump(mode="json"))
    return SavedAssessmentResult.model_validate({**result.model_dump(), "id": record.id})
