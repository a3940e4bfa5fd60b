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
from fusioncare.inputs import RecordKey, is_record_key, parse_day
from fusioncare.knowledge.loader import get_pack
from fusioncare.recovery import charts, plan, service, sharing
from fusioncare.recovery.measures import get_measures
from fusioncare.recovery.schemas import QuestionnaireCreate, RecoveryProfileRead
from fusioncare.triage.schemas import AssessmentResult
from fusioncare.web import recovery_forms
from fusioncare.web.questionnaire import APPROACH_CHOICES, REGION_CHOICES, Choice
from fusioncare.web.templating import templates

install_template_globals(templates)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

def _page(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(request, f"recovery/{name}", context, status_code=status_code)


def _entry_context(db: Session, user_id: int, form_values: dict[str, Any] | None = None,
                   problems: dict[str, str] | None = None) -> dict[str, Any]:
    pack = get_pack()
    today = datetime.now(UTC).date()
    earliest, _ = service.earliest_diary_date(db, owner_id=user_id, today=today)
    return {"symptoms": pack.symptoms, "red_flag_codes": set(pack.red_flag_symptoms), "treatments": pack.treatments,
            "sleep_words": recovery_forms.SLEEP_WORDS, "values": form_values or {}, "problems": problems or {},
            "today": today.isoformat(), "earliest": earliest.isoformat(),
            "editing_label": recovery_forms.day_label((form_values or {}).get("loaded_for"))}


@router.get("/recovery")
def tracker_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession, saved: str = "",
                 entry: str = "", baseline_from: str = "") -> Response:
    picked = parse_day(baseline_from) if baseline_from else None
    trends = service.trends_for(db, actor=actor, baseline_from=picked)
    chart_list = [(t, charts.render(t, trends.treatments, chart_id=f"chart-{t.measure}"))
                  for t in trends.measures if t.weekly]
    saved_entry = service.own_entry(db, actor=actor, entry_id=entry) if is_record_key(entry) else None
    just_saved = (saved_entry, AssessmentResult.model_validate(saved_entry.safety) if saved_entry.safety else None) \
        if saved_entry else None
    unseen = [pair for pair in service.unseen_safety(db, owner_id=user.id)
              if saved_entry is None or pair[0].id != saved_entry.id]
    return _page(request, "tracker.html", saved=saved, just_saved=just_saved, unseen=unseen,
                 trends=trends, charts=chart_list, latest=service.latest_responses_for(db, actor=actor),
                 recent=service.entries_newest_first(db, owner_id=user.id)[:7],
                 profile=service.get_profile(db, owner_id=user.id), baseline_from=picked.isoformat() if picked else "",
                 today=datetime.now(UTC).date().isoformat(), this_year=datetime.now(UTC).year)


@router.get("/recovery/today")
def entry_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession, day: str = "") -> Response:
    """Today's entry, or the day asked for; opens that day's entry filled in when there is one."""
    picked = parse_day(day) if day else datetime.now(UTC).date()
    existing = service.entry_on(db, actor=actor, day=picked) if picked else None
    values = recovery_forms.entry_values(existing) if existing else ({"date": day} if picked and day else {})
    return _page(request, "entry.html", **_entry_context(db, user.id, values))


@router.post("/recovery/today")
async def save_entry_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    entry_data, values, problems = recovery_forms.parse_diary(await request.form())
    if entry_data is not None:
        try:
            entry, updated = service.save_entry(db, actor=actor, data=entry_data)
        except InvalidInput as exc:
            problems = {exc.field: exc.field_message}
        else:
            return RedirectResponse(f"/recovery?saved={'updated' if updated else 'created'}&entry={entry.id}",
                                    status_code=303)
    return _page(request, "entry.html", status_code=400, **_entry_context(db, user.id, values, problems))


@router.post("/recovery/entries/{entry_id}/seen")
def safety_seen_form(entry_id: Annotated[RecordKey, Path()], user: CurrentUser, actor: RequestActor,
                     db: DbSession) -> Response:
    service.mark_safety_seen(db, actor=actor, entry_id=entry_id)
    return RedirectResponse("/recovery", status_code=303)


@router.get("/recovery/operation")
def operation_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession,
                   saved: str = "") -> Response:
    profile = service.profile_for(db, actor=actor)
    values = RecoveryProfileRead.model_validate(profile, from_attributes=True).model_dump(mode="json") \
        if profile else {}
    return _operation_page(request, values, {}, saved=saved)


def _operation_page(request: Request, values: dict[str, Any], problems: dict[str, str], *, saved: str = "",
                    status_code: int = 200) -> Response:
    pack = get_pack()
    return _page(request, "operation.html", status_code=status_code, values=values, problems=problems, saved=saved,
                 regions=REGION_CHOICES, approaches=APPROACH_CHOICES,
                 long_standing=[s for s in pack.symptoms if s.may_be_long_standing],
                 today=datetime.now(UTC).date().isoformat())


@router.post("/recovery/operation")
async def save_operation_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    data, values, problems = recovery_forms.parse_profile(await request.form())
    if data is not None:
        try:
            service.save_profile(db, actor=actor, data=data)
        except InvalidInput as exc:
            problems = {exc.field: exc.field_message}
        else:
            return RedirectResponse("/recovery/operation?saved=1", status_code=303)
    return _operation_page(request, values, problems, status_code=400)


@router.get("/recovery/questionnaires")
def questionnaires_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    return _questionnaires(request, service.latest_responses_for(db, actor=actor), problems={}, values={})


def _questionnaires(request: Request, latest: Any, *, problems: dict[str, str], values: dict[str, list[str]],
                    status_code: int = 200) -> Response:
    measures = get_measures()
    return _page(request, "questionnaires.html", status_code=status_code, latest=latest, problems=problems,
                 values=values, pgic_choices=[Choice(str(p.value), p.label) for p in measures.pgic_points],
                 odi_sections=measures.odi_sections,
                 odi_source=measures.source(measures.odi_source))


@router.post("/recovery/questionnaires")
async def save_questionnaire_form(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    form = await request.form()
    instrument = str(form.get("instrument")) if isinstance(form.get("instrument"), str) else ""
    answers, raw = recovery_forms.questionnaire_answers(form, instrument)
    try:
        data = QuestionnaireCreate.model_validate({"instrument": instrument, "answers": answers})
        service.save_questionnaire(db, actor=actor, data=data)
    except (ValidationError, InvalidInput):
        message = recovery_forms.QUESTIONNAIRE_MESSAGES.get(instrument, "Choose a questionnaire and answer it")
        return _questionnaires(request, service.latest_responses(db, owner_id=user.id), status_code=400,
                               problems={instrument: message}, values={instrument: raw})
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
                     message=recovery_forms.MESSAGES.get(exc.field, recovery_forms.FALLBACK))
    return RedirectResponse("/recovery/plan?saved=1", status_code=303)


@router.get("/recovery/summary")
def summary_page(request: Request, user: CurrentUser, actor: RequestActor, db: DbSession) -> Response:
    return _summary(request, service.visit_summary_for(db, actor=actor), heading="Recovery summary for the doctor",
                    pdf_url="/api/v1/recovery/summary.pdf")


def _summary(request: Request, summary: service.VisitSummary, *, heading: str, pdf_url: str) -> Response:
    chart_list = [(t, charts.render(t, summary.trends.treatments, chart_id=f"summary-{t.measure}"))
                  for t in summary.trends.measures if t.weekly]
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
                             problems={"npi": "Choose one of your providers, or enter their 10-digit NPI"})
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
