"""Find My Doctor pages: GET /matches carries the questionnaire answers and the place; nothing is stored."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from fusioncare.deps import DbSession
from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.matching import service
from fusioncare.matching.errors import InvalidMatch
from fusioncare.matching.schemas import MatchRequest, MatchResponse
from fusioncare.validation import problems_from
from fusioncare.web import questionnaire as q
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False)

RADIUS_CHOICES = (5, 10, 25, 50, 100)
FILTER_FIELDS = ("near", "radius_miles", "insurance", "language", "telehealth")
# The answers travel in the address, so neither browsers nor proxies may keep the page.
NO_STORE = {"Cache-Control": "no-store"}
SKETCH_SIZE = 300  # the SVG sketch's viewBox is SKETCH_SIZE x SKETCH_SIZE, the search circle fills it
SKETCH_PLACES = 10


@router.get("/matches", response_class=HTMLResponse)
def matches_page(request: Request, db: DbSession) -> HTMLResponse:
    """Doctors for the answers near the ZIP, with filters; the form comes back with messages beside fields."""
    pack = request.app.state.knowledge_pack
    items = list(request.query_params.multi_items())
    answers = q.Answers.from_form(items)
    form = {k: v.strip() for k, v in request.query_params.items() if k in FILTER_FIELDS}
    context: dict[str, Any] = {"form": form, "errors": {}, "match": None, "hidden": answers.items,
                               "radius_choices": RADIUS_CHOICES, "plan_names": INSURANCE_PLANS,
                               "language_names": LANGUAGES, "answers_missing": False, "sketch": None}
    built = q.build_request(q.build_steps(pack), answers)
    if isinstance(built, q.StepProblems):
        context["answers_missing"] = True
        return templates.TemplateResponse(request, "matching/results.html", context, status_code=422,
                                          headers=NO_STORE)
    if not form.get("near"):
        context["errors"] = {"near": "enter your 5-digit ZIP code, for example 10001"}
        return templates.TemplateResponse(request, "matching/results.html", context, status_code=422,
                                          headers=NO_STORE)
    try:
        body = MatchRequest(assessment=built, near=form.get("near", ""),
                            **{k: v for k, v in form.items() if k != "near" and v != ""})
        match = service.match(db=db, request=body, pack=pack)
        context["match"] = match
        context["sketch"] = _sketch(match)
    except ValidationError as exc:
        context["errors"] = {p.field: p.message for p in problems_from(exc, MatchRequest)}
    except InvalidMatch as exc:
        context["errors"] = {exc.field: exc.field_message}
    return templates.TemplateResponse(request, "matching/results.html", context,
                                      status_code=422 if context["errors"] else 200, headers=NO_STORE)


def _sketch(match: MatchResponse) -> list[dict[str, Any]] | None:
    """Where the first places on the page are relative to the searched place, in the SVG's coordinates.

    An equirectangular projection around the place (x = Δlon·cos φ₀, y = -Δlat), scaled so the search radius
    touches the edge: a sketch of directions and relative distances, not a map.
    """
    first = next((g for g in match.groups if g.results), None)
    if first is None:  # nobody found, or an emergency (the list of hospitals with distances is clearer)
        return None
    places = [(r.npi, r.name, r.location.lat, r.location.lon) for r in first.results[:SKETCH_PLACES]]
    radius = match.radius_miles
    half = SKETCH_SIZE / 2
    miles_per_degree = 69.055
    cos0 = math.cos(math.radians(match.place.lat))
    out = []
    for number, (npi, name, lat, lon) in enumerate(places, start=1):
        if lat is None or lon is None:
            continue
        dx = (lon - match.place.lon) * cos0 * miles_per_degree / radius
        dy = (lat - match.place.lat) * miles_per_degree / radius
        out.append({"number": number, "npi": npi, "name": name,
                    "x": round(half + dx * (half - 12), 1), "y": round(half - dy * (half - 12), 1)})
    return out
