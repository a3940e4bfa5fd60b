"""Recovery tracker pages: the tracker with its safety message and charts, the quick daily entry, questionnaires,
the management plan, the printable visit summary and sharing it with a provider; and, for a provider the patient
chose, the shared patients and their summary. Signed-in users only; forms carry the CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from fusioncare.accounts.audit import Actor
from fusioncare.accounts.csrf import csrf_protect, install_template_globals
from fusioncare.accounts.deps import CurrentProvider, CurrentUser, RequestActor
from fusioncare.deps import DbSession
from fusioncare.errors import InvalidInput
from fusioncare.inputs import RecordKey, form_number, parse_day
from fusioncare.knowledge.loader import get_pack
from fusioncare.recovery import charts, plan, service, sharing
from fusioncare.recovery.schemas import DiaryEntryCreate, QuestionnaireCreate
from fusioncare.validation import problems_from
from fusioncare.web.templating import templates

install_template_globals(templates)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

_LIST_FIELDS = ("symptoms", "treatments_started", "treatments_stopped")
_NUMBER_FIELDS = ("leg_pain", "back_pain", "exercise_minutes", "sleep_quality")
SLEEP_WORDS = {1: "Very poor", 2: "Poor", 3: "Fair", 4: "Good", 5: "Very good"}


def _page(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(request, f"recovery/{name}", context, status_code=status_code)


def _diary_form_data(form: Any) -> dict[str, Any]:
    """Form fields -> the DiaryEntryCreate shape; numbers stay strings when they are not numbers (so the
    schema names the field), empty optional fields are left out."""
    data: dict[str, Any] = {"date": form.get("date", "")}
    for name in _NUMBER_FIELDS:
        raw = (form.get(name) or "").strip()
        if raw:
            data[name] = form_number(raw)
        elif name in ("leg_pain", "back_pain"):
            data[name] = None
    for name in _LIST_FIELDS:
        data[name] = form.getlist(name)
    medications = [m.strip() for m in (form.get("medications") or "").split(",") if m.strip()]
    data["medications"] = medications
    data["note"] = form.get("note") or ""
    return data


def _entry_context(form_values: dict[str, Any] | None = None, problems: dict[str, str] | None = None) -> dict[str, Any]:
    pack = get_pack()
    return {"symptoms": pack.symptoms, "red_flag_codes": set(pack.red_flag_symptoms), "treatments": pack.treatments,
            "sleep_words": SLEEP_WORDS, "values": form_values or {}, "problems": problems or {},
            "today": datetime.now(UTC).date().isoformat()}


@router.get("/recovery")
def tracker_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession, saved: str = "",
                 baseline_from: str = "") -> Response:
    picked = parse_day(baseline_from) if baseline_from else None
    trends = service.trends_for(db, actor=actor, baseline_from=picked)
    chart_list = [(t, charts.render(t, trends.treatments, chart_id=f"chart-{t.measure}"))
                  for t in trends.measures if t.weekly]
    return _page(request, "tracker.html", saved=saved, safety=service.latest_safety(db, owner_id=user.id),
                 trends=trends, charts=chart_list, latest=service.latest_responses_for(db, actor=actor),
                 baseline_from=picked.isoformat() if picked else "")


@router.get("/recovery/today")
def entry_page(request: Request, user: CurrentUser) -> Response:
    return _page(request, "entry.html", **_entry_context())


@router.post("/recovery/today")
async def save_entry_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    form = await request.form()
    data = _diary_form_data(form)
    try:
        entry_data = DiaryEntryCreate.model_validate(data)
    except ValidationError as exc:
        found = {p.field.split("[")[0]: p.message for p in problems_from(exc, DiaryEntryCreate)}
        values = {**data, "medications": form.get("medications") or ""}
        return _page(request, "entry.html", status_code=400, **_entry_context(values, found))
    _, updated = service.save_entry(db, actor=actor, data=entry_data)
    return RedirectResponse(f"/recovery?saved={'updated' if updated else 'created'}", status_code=303)


@router.get("/recovery/questionnaires")
def questionnaires_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    return _page(request, "questionnaires.html", latest=service.latest_responses_for(db, actor=actor),
                 problems={}, values={}, pgic=service.pgic_points())


@router.post("/recovery/questionnaires")
async def save_questionnaire_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}  # an uploaded file is no answer
    instrument = form.get("instrument", "")
    count = {"peg": 3, "pgic": 1, "odi": 10}.get(instrument, 0)
    raw = [form.get(f"{instrument}_{i}", "").strip() for i in range(count)]
    answers = [number if isinstance(number := form_number(a), int) else None for a in raw]
    try:
        data = QuestionnaireCreate.model_validate({"instrument": instrument, "answers": answers})
        service.save_questionnaire(db, actor=actor, data=data)
    except (ValidationError, InvalidInput) as exc:
        message = (exc.message if isinstance(exc, InvalidInput)
                   else "; ".join(str(p) for p in problems_from(exc, QuestionnaireCreate)))
        return _page(request, "questionnaires.html", status_code=400,
                     latest=service.latest_responses(db, owner_id=user.id),
                     problems={instrument: message}, values={instrument: raw}, pgic=service.pgic_points())
    return RedirectResponse("/recovery?saved=questionnaire", status_code=303)


@router.get("/recovery/plan")
def plan_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession, saved: str = "") -> Response:
    return _page(request, "plan.html", items=plan.checklist_for(db, actor=actor), saved=saved,
                 this_week=plan.current_week().isoformat(), check_in_words=plan.CHECK_IN_WORDS)


@router.post("/recovery/plan")
async def save_plan_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    form = await request.form()
    adopted = [value for value in form.getlist("adopted") if isinstance(value, str)]
    check_ins = {key.removeprefix("check_in_"): value for key, value in form.items()
                 if key.startswith("check_in_") and isinstance(value, str) and value}
    try:
        plan.update(db, actor=actor, adopted=adopted, check_ins=check_ins)
    except InvalidInput as exc:
        return _page(request, "plan.html", status_code=400, items=plan.checklist(db, owner_id=user.id), saved="",
                     this_week=plan.current_week().isoformat(), check_in_words=plan.CHECK_IN_WORDS,
                     message=exc.message)
    return RedirectResponse("/recovery/plan?saved=1", status_code=303)


@router.get("/recovery/summary")
def summary_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    return _summary(request, service.visit_summary_for(db, actor=actor), heading="Recovery summary for my doctor",
                    pdf_url="/api/v1/recovery/summary.pdf")


def _summary(request: Request, summary: service.VisitSummary, *, heading: str, pdf_url: str) -> Response:
    chart_list = [(t, charts.render(t, summary.trends.treatments, chart_id=f"summary-{t.measure}"))
                  for t in summary.trends.measures if t.weekly][:2]
    return _page(request, "summary.html", summary=summary, charts=chart_list, heading=heading, pdf_url=pdf_url)


# --- sharing with a provider the patient chose ---------------------------------------------------


def _sharing_page(request: Request, db: Session, actor: Actor, *, done: str = "", npi: str = "",
                  problems: dict[str, str] | None = None, status_code: int = 200) -> Response:
    shares = [{"id": s.id, "npi": s.npi, "name": sharing.provider_name(db, npi=s.npi), "since": s.created_at,
               "assessments": s.share_assessments}
              for s in sharing.list_shares(db, actor=actor)]
    return _page(request, "sharing.html", status_code=status_code, shares=shares, done=done, npi=npi,
                 suggestions=sharing.suggestions(db, actor=actor), problems=problems or {})


@router.get("/recovery/sharing")
def sharing_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession, done: str = "") -> Response:
    return _sharing_page(request, db, actor, done=done)


@router.post("/recovery/sharing")
async def share_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    form = await request.form()
    npi = str(form.get("npi") or "").strip()[:20] or str(form.get("choice") or "")[:20]
    if not npi:
        return _sharing_page(request, db, actor, status_code=400,
                             problems={"npi": "choose a provider or enter their 10-digit NPI"})
    try:
        _, created = sharing.share(db, actor=actor, npi=npi, share_assessments=form.get("share_assessments") == "yes")
    except InvalidInput as exc:
        return _sharing_page(request, db, actor, npi=npi, problems={"npi": exc.field_message}, status_code=400)
    return RedirectResponse(f"/recovery/sharing?done={'shared' if created else 'already'}", status_code=303)


@router.post("/recovery/sharing/{share_id}/revoke")
def revoke_form(share_id: Annotated[RecordKey, Path()], user: CurrentUser, actor: RequestActor,
                db: DbSession) -> Response:
    sharing.revoke(db, actor=actor, share_id=share_id)
    return RedirectResponse("/recovery/sharing?done=revoked", status_code=303)


@router.get("/provider/shared")
def shared_with_me_page(request: Request, provider: CurrentProvider, actor: RequestActor, db: DbSession) -> Response:
    return _page(request, "shared_with_me.html", patients=sharing.shared_with_me(db, actor=actor))


@router.get("/provider/shared/{share_id}")
def shared_summary_page(request: Request, share_id: Annotated[RecordKey, Path()], user: CurrentUser,
                        actor: RequestActor, db: DbSession) -> Response:
    summary = sharing.shared_summary(db, actor=actor, share_id=share_id)
    return _summary(request, summary, heading="Recovery summary shared by your patient",
                    pdf_url=f"/api/v1/provider/shared/{share_id}/summary.pdf")
