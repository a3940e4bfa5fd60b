"""Directory JSON API: /api/v1/providers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fusioncare.api.errors import documented
from fusioncare.deps import ReadDbSession
from fusioncare.directory import service
from fusioncare.directory.schemas import (
    ProviderProfile,
    ProviderRead,
    ProviderSearch,
    ProviderSearchPage,
)
from fusioncare.triage.routes import KnowledgePack

router = APIRouter(prefix="/providers", tags=["directory"])


@router.get("", response_model=ProviderSearchPage)
def search_providers(db: ReadDbSession, params: Annotated[ProviderSearch, Query()]) -> ProviderSearchPage:
    """Providers of a specialty near a ZIP or point, nearest first; cursor-paginated."""
    result = service.search_providers(db=db, params=params)
    return ProviderSearchPage(total=result.total, total_is_exact=result.total_is_exact, next_cursor=result.next_cursor,
                              results=[ProviderRead.from_provider(h.provider, h.distance_miles) for h in result.hits])


@router.get("/{npi}", response_model=ProviderProfile,
            responses=documented(404, "No active provider with this NPI (unknown or deactivated)."))
def get_provider(db: ReadDbSession, pack: KnowledgePack,
                 npi: Annotated[str, Path(min_length=1, max_length=20)]) -> ProviderProfile:
    """One active provider's profile, with Medicare procedure volumes and Medicare facts from CMS's public files
    where they have any; 404 for an unknown or deactivated NPI."""
    return service.get_profile(db=db, npi=npi, pack=pack)
