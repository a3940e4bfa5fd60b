"""Assessment pages: the questionnaire step by step, its result, saving it to an account.

Post/redirect/get throughout: every POST stores the answers in the browser's server-side draft and answers with a
303 to a GET page, so Back, Forward and refresh show pages, never "Confirm Form Resubmission". URLs hold only
the draft's random id and an opaque token per step (docs/web.md, "Where the answers are kept").
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from fusioncare.accounts.audit import Actor
from fusioncare.accounts.csrf import csrf_protect
from fusioncare.accounts.deps import ClientAddress, OptionalUser, is_https
from fusioncare.assessment_drafts import service as drafts
from fusioncare.assessment_drafts.models import AssessmentDraft
from fusioncare.deps import DbSession
from fusioncare.knowledge.loader import Pack
from fusioncare.triage import records
from fusioncare.triage.schemas import Urgency
from fusioncare.triage.service import assess
from fusioncare.web import questionnaire as q
from fusioncare.web import result_view
from fusioncare.web.templating import templates

# A questionnaire page posts at most every answer once; anything bigger is not from our pages (400 page).
MAX_FORM_FIELDS = 200
OWNER_COOKIE = "fc_assess"
NOTICES = {"restarted": "We could not find earlier answers in this browser, so this is a fresh start. Answers "
                        "are kept only in the browser that gave them, and only for 2 hours."}
CHOICES = {"region": q.REGION_CHOICES, "approach": q.APPROACH_CHOICES, "trend": q.TREND_CHOICES,
           "onset": q.ONSET_CHOICES, "yes_no": q.YES_NO_CHOICES, "unit": q.UNIT_CHOICES}
ALERT_LEVELS = (Urgency.urgent, Urgency.emergency)


async def bounded_form(request: Request) -> None:
    """Parse a posted form once, with our limits, before anything else reads it (a 400 page when exceeded)."""
    if request.method == "POST":
        await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


router = APIRouter(include_in_schema=False, dependencies=[Depends(bounded_form), Depends(csrf_protect)])
Notice = Annotated[str | None, Query(max_length=20)]


def pack_of(request: Request) -> Pack:
    """The knowledge pack the app loaded at start-up (settings may point it at another folder)."""
    return request.app.state.knowledge_pack


# ---- the draft, its owner cookie and its URLs ------------------------------------------------------------------


def owner_secret(request: Request) -> str | None:
    value = request.cookies.get(OWNER_COOKIE)
    return value if value and 20 <= len(value) <= 100 else None


def with_owner_cookie(response: Response, request: Request, secret: str) -> Response:
    """(Re)sets the cookie that makes this browser the owner of its drafts, for as long as a draft lives."""
    response.set_cookie(OWNER_COOKIE, secret, max_age=int(drafts.LIFETIME.total_seconds()), httponly=True,
                        samesite="lax", secure=is_https(request, request.app.state.settings), path="/")
    return response


def owned_draft(request: Request, db: Session, draft_id: str) -> AssessmentDraft | None:
    return drafts.get_owned(db, draft_id=draft_id, owner_secret=owner_secret(request))


def restart(request: Request) -> Response:
    """A draft this browser does not own (another browser's URL, or expired): a fresh start, not the answers."""
    response = RedirectResponse("/assess?restart=1", status_code=303)
    secret = owner_secret(request)
    return with_owner_cookie(response, request, secret or drafts.new_owner_secret())


def step_token(request: Request, draft_id: str, key: str) -> str:
    """An opaque name for a step in the URL: which steps someone sees (neck questions only after a neck
    fusion...) says something about their answers, so step names never appear in a URL or a log."""
    message = f"{draft_id}/{key}".encode()
    return hmac.new(request.app.state.signing_key, message, hashlib.sha256).hexdigest()[:16]


def step_url(request: Request, draft_id: str, step: q.Step) -> str:
    return f"/assess/d/{draft_id}/step/{step_token(request, draft_id, step.key)}"


def result_url(draft_id: str) -> str:
    return f"/assess/d/{draft_id}/result"


def step_from_token(request: Request, pack: Pack, draft_id: str, token: str) -> q.Step | None:
    return next((s for s in q.all_steps(pack)
                 if hmac.compare_digest(step_token(request, draft_id, s.key), token)), None)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def answers_of(draft: AssessmentDraft) -> q.Answers:
    return q.Answers.from_stored(draft.answers)


# ---- the questionnaire ------------------------------------------------------------------------------------------


@router.get("/assess", response_class=HTMLResponse)
def assess_start(request: Request, db: DbSession, restart: Notice = None) -> Response:
    """A new draft for this browser, then step 1. After a restart with still no cookie, the browser refuses
    cookies: say so instead of going round in circles."""
    secret = owner_secret(request)
    if secret is None and restart:
        return templates.TemplateResponse(request, "assess_cookies.html", {})
    secret = secret or drafts.new_owner_secret()
    draft = drafts.start(db, owner_secret=secret)
    url = step_url(request, draft.id, q.SURGERY) + ("?notice=restarted" if restart else "")
    return with_owner_cookie(see_other(url), request, secret)


@router.post("/assess")
def old_form_post() -> Response:
    """A questionnaire page from before drafts (a tab left open): start again."""
    return see_other("/assess")


@router.get("/assess/d/{draft_id}/step/{token}", response_class=HTMLResponse)
def step_page(request: Request, db: DbSession, draft_id: str, token: str, notice: Notice = None) -> Response:
    draft = owned_draft(request, db, draft_id)
    if draft is None:
        return restart(request)
    pack = pack_of(request)
    answers = answers_of(draft)
    step = step_from_token(request, pack, draft.id, token)
    if step is None:
        return see_other(step_url(request, draft.id, q.SURGERY))
    asked = q.asked_here_or_next(pack, answers, step)
    if asked != step:
        return see_other(step_url(request, draft.id, asked))
    steps = q.steps_for(pack, answers)
    previous = q.previous_step(pack, answers, step)
    problems = draft.problems.get("messages", {}) if draft.problems.get("step") == step.key else {}
    shown_choices = step.choices
    if step.kind == "long_standing":  # ask only about the symptoms that were ticked
        ticked = set(answers.getlist("symptoms"))
        shown_choices = tuple(c for c in step.choices if c.value in ticked)
    context = {
        "step": step, "number": steps.index(step) + 1, "total": len(steps), "answers": answers,
        "problems": problems, "choices": CHOICES, "shown_choices": shown_choices,
        "action": step_url(request, draft.id, step), "has_back": previous is not None,
        "is_last": q.next_step(pack, answers, step) is None, "notice": NOTICES.get(notice or ""),
        "alert": alert_context(pack, draft, answers), "result_url": result_url(draft.id),
    }
    return templates.TemplateResponse(request, "assess_step.html", context,
                                      status_code=422 if problems else 200)


def alert_context(pack: Pack, draft: AssessmentDraft, answers: q.Answers) -> dict[str, Any] | None:
    """On the steps after an urgent or emergency answer: the reminder of what to do now."""
    if draft.alerted_urgency not in {u.value for u in ALERT_LEVELS}:
        return None
    built = q.build_request(pack, answers)
    if isinstance(built, q.StepProblems):
        return None
    result = assess(request=built, pack=pack)
    if result.urgency not in ALERT_LEVELS:
        return None
    return {"urgency": result.urgency.value, "title": result_view.banner(result=result, pack=pack).title}


@router.post("/assess/d/{draft_id}/step/{token}")
async def step_submit(request: Request, db: DbSession, draft_id: str, token: str) -> Response:
    """Store this step's answers and move on: back (never checked), the same step with its problems, the
    result the moment the answers so far call for urgent or emergency care, the next step, or the result."""
    draft = owned_draft(request, db, draft_id)
    if draft is None:
        return restart(request)
    pack = pack_of(request)
    step = step_from_token(request, pack, draft.id, token)
    if step is None:
        return see_other(step_url(request, draft.id, q.SURGERY))
    form = await request.form()
    answers = answers_of(draft).replaced(step, q.Answers.from_form(form.multi_items()))
    if form.get("action") == "back":
        drafts.update(db, draft=draft, answers=answers.items, problems={})
        previous = q.previous_step(pack, answers, step) or step
        return see_other(step_url(request, draft.id, previous))
    order = [s.key for s in q.all_steps(pack)]
    so_far = [s for s in q.steps_for(pack, answers) if order.index(s.key) <= order.index(step.key)]
    if (found := q.first_problem(so_far, answers)) is not None:
        drafts.update(db, draft=draft, answers=answers.items,
                      problems={"step": found.step.key, "messages": found.messages})
        return see_other(step_url(request, draft.id, found.step))
    following = q.next_step(pack, answers, step)
    alert = newly_alarming(pack, answers, following, draft.alerted_urgency)
    done = list(dict.fromkeys([*draft.steps_done, step.key]))
    drafts.update(db, draft=draft, answers=answers.items, steps_done=done, problems={},
                  alerted_urgency=alert.value if alert else None)
    if alert is not None or following is None:
        return see_other(result_url(draft.id))
    return see_other(step_url(request, draft.id, following))


def newly_alarming(pack: Pack, answers: q.Answers, following: q.Step | None,
                   already_shown: str | None) -> Urgency | None:
    """The urgency to show now, when the answers so far call for urgent or emergency care and the person has
    not yet been shown that level. Before a "were these there before?" step, the symptoms it asks about count as
    long-standing (the most favourable reading): alert at once only if even that reading calls for it."""
    built = q.build_request(pack, answers, assume_long_standing=q.favourable_codes(following, answers))
    if isinstance(built, q.StepProblems):  # the pain step is not answered yet
        return None
    urgency = assess(request=built, pack=pack).urgency
    shown = Urgency(already_shown).rank if already_shown in {u.value for u in Urgency} else -1
    return urgency if urgency in ALERT_LEVELS and urgency.rank > shown else None


# ---- the result -------------------------------------------------------------------------------------------------


@router.get("/assess/d/{draft_id}/result", response_class=HTMLResponse)
def result_page(request: Request, db: DbSession, user: OptionalUser, draft_id: str) -> Response:
    draft = owned_draft(request, db, draft_id)
    if draft is None:
        return restart(request)
    pack = pack_of(request)
    answers = answers_of(draft)
    built = q.build_request(pack, answers)
    if isinstance(built, q.StepProblems):
        return see_other(step_url(request, draft.id, built.step))
    steps = q.steps_for(pack, answers)
    unanswered = next((s for s in steps if s.key not in draft.steps_done), None)
    context = result_view.page_context(
        result=assess(request=built, pack=pack), assessment_request=built, answers=answers, pack=pack)
    context.update({
        "draft_id": draft.id, "signed_in": user is not None, "saved": draft.saved_assessment_id is not None,
        "continue_url": step_url(request, draft.id, unanswered) if unanswered else None,
        "first_step_url": step_url(request, draft.id, steps[0]),
        "sign_in_url": "/account/sign-in?next=" + quote(result_url(draft.id) + "#save", safe=""),
    })
    return templates.TemplateResponse(request, "assess_result.html", context)


@router.post("/assess/d/{draft_id}/save")
def save_result(request: Request, db: DbSession, user: OptionalUser, address: ClientAddress,
                draft_id: str) -> Response:
    """Save the result to the signed-in person's account (then a booking can share it); sign in first
    otherwise, coming back to the result, where the draft is still this browser's."""
    draft = owned_draft(request, db, draft_id)
    if draft is None:
        return restart(request)
    if user is None:
        return see_other("/account/sign-in?next=" + quote(result_url(draft.id) + "#save", safe=""))
    pack = pack_of(request)
    built = q.build_request(pack, answers_of(draft))
    if isinstance(built, q.StepProblems):
        return see_other(step_url(request, draft.id, built.step))
    if draft.saved_assessment_id is None:
        record = records.save(db, actor=Actor.of(user, address), request=built.model_dump(mode="json"),
                              result=assess(request=built, pack=pack).model_dump(mode="json"))
        drafts.mark_saved(db, draft=draft, saved_assessment_id=record.id)
    return see_other(result_url(draft.id) + "#save")
