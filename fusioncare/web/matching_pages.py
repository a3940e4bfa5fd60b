"""Find My Doctor pages: doctors for the answers of this browser's symptom check (its server-side draft).

"Find doctors" posts the ZIP and filters to /matches/{draft_id}; they are kept with the draft and the page
answers with a 303 to the same address, so neither the answers nor the ZIP ever sit in a URL or an access log.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from fusioncare.accounts.csrf import csrf_protect
from fusioncare.assessment_drafts import service as drafts
from fusioncare.deps import DbSession, ReadDbSession
from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.matching import service
from fusioncare.matching.errors import InvalidMatch
from fusioncare.matching.schemas import MatchRequest, MatchResponse
from fusioncare.web import questionnaire as q
from fusioncare.web.assess_pages import bounded_form, owned_draft
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(bounded_form), Depends(csrf_protect)])

RADIUS_CHOICES = (5, 10, 25, 50, 100)
FILTER_FIELDS = ("near", "radius_miles", "insurance", "language", "telehealth", "accepts_medicare_assignment")
SKETCH_SIZE = 300  # the SVG sketch's viewBox is SKETCH_SIZE x SKETCH_SIZE, the search circle fills it
SKETCH_PLACES = 10
# What a person reads when a filter needs fixing (the ZIP's own problems come from the directory, see _near_message).
MESSAGES = {"near": "Enter your 5-digit ZIP code, for example 10001",
            "radius_miles": "Choose a distance from the list",
            "insurance": "Choose an insurance plan from the list, or Any",
            "language": "Choose a language from the list, or Any",
            "telehealth": "Tick the box for video visits only, or leave it empty",
            "accepts_medicare_assignment": "Tick the box for the Medicare-approved amount only, or leave it empty"}


def _context(**extra: Any) -> dict[str, Any]:
    return {"form": {}, "errors": {}, "match": None, "radius_choices": RADIUS_CHOICES, "plan_names": INSURANCE_PLANS,
            "language_names": LANGUAGES, "answers_missing": False, "sketch": None, "draft_id": None, **extra}


@router.get("/matches", response_class=HTMLResponse)
def matches_without_answers(request: Request) -> HTMLResponse:
    """The old address (answers in the query string): the query is ignored, the person is sent to the check."""
    return templates.TemplateResponse(request, "matching/results.html", _context(answers_missing=True))


@router.post("/matches/{draft_id}")
async def find_doctors(request: Request, db: DbSession, draft_id: str) -> Response:
    """Keep the ZIP and filters with the draft, then show the list at the same address (post/redirect/get)."""
    draft = owned_draft(request, db, draft_id)
    if draft is None:
        return RedirectResponse(f"/matches/{draft_id}", status_code=303)
    form = await request.form()
    place = {k: str(form.get(k, "")).strip()[:40] for k in FILTER_FIELDS if isinstance(form.get(k, ""), str)}
    drafts.update(db, draft=draft, place={**place, "submitted": True})
    return RedirectResponse(f"/matches/{draft.id}", status_code=303)


@router.get("/matches/{draft_id}", response_class=HTMLResponse)
def matches_page(request: Request, db: DbSession, read_db: ReadDbSession, draft_id: str) -> HTMLResponse:
    """Doctors for the draft's answers near its ZIP, with filters; problems come back beside the fields."""
    # The draft was written a moment ago (read it on the primary); the doctors may come from the read replica.
    pack = request.app.state.knowledge_pack
    draft = owned_draft(request, db, draft_id)
    built = q.build_request(pack, q.Answers.from_stored(draft.answers)) if draft is not None else None
    if draft is None or built is None or isinstance(built, q.StepProblems):
        return templates.TemplateResponse(request, "matching/results.html", _context(answers_missing=True))
    form = {k: v for k, v in draft.place.items() if k in FILTER_FIELDS and isinstance(v, str)}
    context = _context(form=form, draft_id=draft.id, result_url=f"/assess/d/{draft.id}/result")
    if not form.get("near"):
        if draft.place.get("submitted"):
            context["errors"] = {"near": MESSAGES["near"]}
        return templates.TemplateResponse(request, "matching/results.html", context,
                                          status_code=422 if context["errors"] else 200)
    try:
        body = MatchRequest(assessment=built, near=form["near"],
                            **{k: v for k, v in form.items() if k != "near" and v != ""})
        match = service.match(db=read_db, request=body, pack=pack)
        context["match"] = match
        context["sketch"] = _sketch(match)
    except ValidationError as exc:
        context["errors"] = {str(e["loc"][0]): MESSAGES.get(str(e["loc"][0]), MESSAGES["near"])
                             for e in exc.errors(include_url=False) if e["loc"]}
    except InvalidMatch as exc:
        context["errors"] = {exc.field: _near_message(form["near"]) if exc.field == "near"
                             else MESSAGES.get(exc.field, MESSAGES["near"])}
    return templates.TemplateResponse(request, "matching/results.html", context,
                                      status_code=422 if context["errors"] else 200)


def _near_message(near: str) -> str:
    if near.isdigit() and len(near) == 5:
        return f"We don't know the ZIP code {near}. Check it, or try a ZIP code nearby"
    return MESSAGES["near"]


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
