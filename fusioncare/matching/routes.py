"""Matching JSON API: POST /api/v1/matches."""

from __future__ import annotations

from fastapi import APIRouter

from fusioncare.api.errors import documented
from fusioncare.deps import ReadDbSession
from fusioncare.matching import service
from fusioncare.matching.schemas import MatchRequest, MatchResponse
from fusioncare.triage.routes import KnowledgePack

router = APIRouter(prefix="/matches", tags=["matching"])


@router.post("", response_model=MatchResponse,
             responses=documented(422, "Bad input, naming the field: an assessment that fails the contract, an "
                                       "unknown ZIP, a radius out of range, an unknown plan or language."))
def create_match(body: MatchRequest, db: ReadDbSession, pack: KnowledgePack) -> MatchResponse:
    """Doctors for an assessment near a place, grouped by the recommended specialties, ranked, with reasons.

    For an emergency there is no doctor list: the emergency guidance and the nearest emergency departments.
    Nothing is stored.
    """
    return service.match(db=db, request=body, pack=pack)
