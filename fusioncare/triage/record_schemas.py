"""Shapes of saved assessments at the API edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult


class SavedAssessmentRead(BaseModel):
    id: str
    created_at: datetime
    request: AssessmentRequest
    result: AssessmentResult


class SavedAssessmentSummary(BaseModel):
    id: str
    created_at: datetime
    urgency: str


class SavedAssessmentResult(AssessmentResult):
    """The answer to ``POST /api/v1/assessments?save=true``: the result plus the saved record's id."""

    id: str
