"""JSON API for the symptom assessment: POST /api/v1/assessments (pure, nothing is stored)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from fusioncare.knowledge.loader import Pack
from fusioncare.triage import service
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult

router = APIRouter(tags=["assessment"])


def get_knowledge_pack(request: Request) -> Pack:
    """The pack the app loaded (and validated) at start-up."""
    return request.app.state.knowledge_pack


KnowledgePack = Annotated[Pack, Depends(get_knowledge_pack)]


@router.post("/assessments", response_model=AssessmentResult)
def create_assessment(assessment: AssessmentRequest, pack: KnowledgePack) -> AssessmentResult:
    """Assess symptoms after spinal fusion: urgency, reasons, possible contributors, whom to see, options.

    Bad input (missing or unknown fields, out-of-range numbers, wrong types, unknown codes, a body that is
    not JSON) gets a 422 whose message names the field and what is allowed.
    """
    return service.assess(request=assessment, pack=pack)
