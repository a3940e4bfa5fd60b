"""Directory pages: search for doctors by specialty and ZIP, and one provider's profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from fusioncare.deps import DbSession
from fusioncare.directory import service
from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.directory.errors import InvalidSearch, ProviderNotFound
from fusioncare.directory.schemas import ProviderProfile, ProviderRead, ProviderSearch
from fusioncare.directory.specialties import SEARCHABLE_CODES, specialty_name
from fusioncare.validation import problems_from
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False)


def format_phone(digits: str) -> str:
    """'2125550100' -> '(212) 555-0100'; anything else as filed."""
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 and digits.isdigit() else digits


templates.env.filters["phone"] = format_phone

RADIUS_CHOICES = (5, 10, 25, 50, 100)
FORM_FIELDS = ("specialty", "near", "radius_miles", "q", "cursor")


def _vocabulary() -> dict:
    return {"specialties": [(code, specialty_name(code)) for code in SEARCHABLE_CODES],
            "radius_choices": RADIUS_CHOICES, "plan_names": INSURANCE_PLANS, "language_names": LANGUAGES,
            "specialty_name": specialty_name}


@router.get("/doctors", response_class=HTMLResponse)
def search_page(request: Request, db: DbSession) -> HTMLResponse:
    """The form; with specialty and near filled in, the results below it (plain GET, works without JS)."""
    form = {k: v for k, v in request.query_params.items() if k in FORM_FIELDS}
    context: dict = {"form": form, "errors": {}, "result": None, **_vocabulary()}
    if form.get("specialty") or form.get("near"):
        try:
            params = ProviderSearch(**{k: v for k, v in form.items() if v != ""})
            result = service.search_providers(db=db, params=params)
            context["result"] = {"total": result.total, "next_cursor": result.next_cursor,
                                 "place": result.place, "radius_miles": params.radius_miles,
                                 "providers": [ProviderRead.from_provider(h.provider, h.distance_miles)
                                               for h in result.hits]}
        except ValidationError as exc:
            context["errors"] = {p.field: p.message for p in problems_from(exc, ProviderSearch)}
        except InvalidSearch as exc:
            context["errors"] = {exc.field: exc.field_message}
    status = 422 if context["errors"] else 200
    return templates.TemplateResponse(request, "directory/search.html", context, status_code=status)


@router.get("/doctors/{npi}", response_class=HTMLResponse)
def profile_page(request: Request, db: DbSession, npi: Annotated[str, Path(max_length=20)]) -> HTMLResponse:
    try:
        provider = service.get_provider(db=db, npi=npi)
    except ProviderNotFound:
        return templates.TemplateResponse(request, "directory/not_found.html", {"npi": npi}, status_code=404)
    near = request.query_params.get("near", "")
    distance = None
    if near:
        try:
            distance = service.distance_to(provider=provider, place=service.resolve_place(near=near))
        except InvalidSearch:
            near = ""
    profile = ProviderProfile.from_provider(provider, distance)
    return templates.TemplateResponse(request, "directory/profile.html",
                                      {"p": profile, "near": near, **_vocabulary()})
