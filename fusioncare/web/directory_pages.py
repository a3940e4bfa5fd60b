"""Directory pages: search for doctors by specialty and ZIP, and one provider's profile."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from fusioncare.deps import ReadDbSession
from fusioncare.directory import service
from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.directory.errors import InvalidSearch, ProviderNotFound
from fusioncare.directory.schemas import ProviderRead, ProviderSearch
from fusioncare.directory.specialties import SEARCHABLE_CODES, specialty_name
from fusioncare.display import when_short, zone_words
from fusioncare.inputs import is_record_key
from fusioncare.scheduling import service as scheduling
from fusioncare.triage.routes import KnowledgePack
from fusioncare.validation import problems_from
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False)


RADIUS_CHOICES = (5, 10, 25, 50, 100)
FORM_FIELDS = ("specialty", "near", "radius_miles", "q", "insurance", "language", "telehealth", "accepting_new",
               "accepts_medicare_assignment", "cursor")
# The same filters as /matches, and accepting new patients.
FILTER_FIELDS = ("insurance", "language", "telehealth", "accepting_new", "accepts_medicare_assignment")
CHECKBOXES = ("telehealth", "accepting_new", "accepts_medicare_assignment")


def book_path(opening: scheduling.Opening) -> str:
    """The booking page with this opening's kind of visit and time already chosen."""
    start = opening.slot.start.astimezone(ZoneInfo(opening.time_zone)).isoformat()
    return f"/doctors/{opening.npi}/book?" + urlencode({"type": opening.slot.type_code, "start": start})


def _openings(db, npis: list[str]) -> dict[str, dict[str, str]]:
    """Each bookable provider's soonest opening (a new-patient visit where offered), as the cards show it."""
    out = {}
    for npi, opening in scheduling.soonest_openings(db=db, npis=npis).items():
        start = opening.slot.start.astimezone(ZoneInfo(opening.time_zone))
        out[npi] = {"label": when_short(start), "zone": zone_words(opening.time_zone, start),
                    "book_path": book_path(opening)}
    return out


def _vocabulary() -> dict:
    return {"specialties": [(code, specialty_name(code)) for code in SEARCHABLE_CODES],
            "radius_choices": RADIUS_CHOICES, "plan_names": INSURANCE_PLANS, "language_names": LANGUAGES,
            "specialty_name": specialty_name}


@router.get("/doctors", response_class=HTMLResponse)
def search_page(request: Request, db: ReadDbSession) -> HTMLResponse:
    """The form; with specialty and near filled in, the results below it (plain GET, works without JS)."""
    form = {k: v.strip() for k, v in request.query_params.items() if k in FORM_FIELDS}
    # A checkbox that is not ticked filters nothing (never "only those who said no").
    query = {k: v for k, v in form.items() if v != "" and not (k in CHECKBOXES and v != "true")}
    context: dict = {"form": form, "errors": {}, "result": None, **_vocabulary(),
                     "filters_set": any(form.get(k) for k in FILTER_FIELDS)}
    if form.get("specialty") or form.get("near"):
        try:
            params = ProviderSearch(**query)
            result = service.search_providers(db=db, params=params)
            providers = [ProviderRead.from_provider(h.provider, h.distance_miles) for h in result.hits]
            context["result"] = {"total": result.total, "total_is_exact": result.total_is_exact,
                                 "next_cursor": result.next_cursor,
                                 "place": result.place, "radius_miles": params.radius_miles,
                                 "providers": providers, "openings": _openings(db, [p.npi for p in providers]),
                                 "more_query": urlencode({k: v for k, v in query.items() if k != "cursor"})}
        except ValidationError as exc:
            context["errors"] = {p.field: p.message for p in problems_from(exc, ProviderSearch)}
        except InvalidSearch as exc:
            context["errors"] = {exc.field: exc.field_message}
    status = 422 if context["errors"] else 200
    return templates.TemplateResponse(request, "directory/search.html", context, status_code=status)


@router.get("/doctors/{npi}", response_class=HTMLResponse)
def profile_page(request: Request, db: ReadDbSession, pack: KnowledgePack,
                 npi: Annotated[str, Path(max_length=20)]) -> HTMLResponse:
    try:
        service.get_provider(db=db, npi=npi)
    except ProviderNotFound:
        return templates.TemplateResponse(request, "directory/not_found.html", {"npi": npi}, status_code=404)
    near = request.query_params.get("near", "")
    # Opened from a match list: the way back is that list (its address holds only the draft's id), not a search.
    from_matches = request.query_params.get("matches", "")
    back = f"/matches/{from_matches}" if is_record_key(from_matches) else None
    place = None
    if near:
        try:
            place = service.resolve_place(near=near)
        except InvalidSearch:
            near = ""
    profile = service.get_profile(db=db, npi=npi, pack=pack, place=place)
    booking = {"bookable": scheduling.provider_is_bookable(db=db, npi=npi)
               and bool(scheduling.appointment_types(db=db, npi=npi)),
               "opening": _openings(db, [npi]).get(npi)}
    return templates.TemplateResponse(request, "directory/profile.html",
                                      {"p": profile, "near": near, "booking": booking, "back": back, **_vocabulary(),
                                       "treatment_names": {t.code.value: t.name for t in pack.treatments}})
