"""Page routes (server-rendered HTML): home, the questionnaire and its result, and the /learn articles."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fusioncare.errors import NotFound
from fusioncare.knowledge.articles import get_library
from fusioncare.knowledge.loader import Pack
from fusioncare.triage.service import assess
from fusioncare.web import questionnaire as q
from fusioncare.web import result_view
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False)

# A questionnaire submission carries at most every answer once; anything bigger is not from our pages.
MAX_FORM_FIELDS = 200

# Pages holding someone's health answers must not be kept by browsers or proxies.
NO_STORE = {"Cache-Control": "no-store"}

CHOICES = {"region": q.REGION_CHOICES, "trend": q.TREND_CHOICES, "yes_no": q.YES_NO_CHOICES, "unit": q.UNIT_CHOICES}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"articles": get_library().articles})


@router.get("/assess", response_class=HTMLResponse)
def assess_start(request: Request) -> HTMLResponse:
    steps = q.build_steps(_pack(request))
    return _step_page(request, steps=steps, outcome=q.Outcome(step=steps[0]), answers=q.Answers())


@router.post("/assess", response_class=HTMLResponse)
async def assess_submit(request: Request) -> HTMLResponse:
    """One round-trip of the questionnaire: the form holds every answer so far; nothing is stored."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    pack = _pack(request)
    steps = q.build_steps(pack)
    answers = q.Answers.from_form(form.multi_items())
    step_key, action = form.get("step"), form.get("action")  # text: max_files=0 refuses uploads
    outcome = q.advance(steps=steps, answers=answers, step_key=step_key if isinstance(step_key, str) else None,
                        action=action if isinstance(action, str) else None)
    if outcome.request is None:
        return _step_page(request, steps=steps, outcome=outcome, answers=answers)
    result = assess(request=outcome.request, pack=pack)
    context = result_view.page_context(result=result, assessment_request=outcome.request, answers=answers,
                                       pack=pack, last_step_key=steps[-1].key)
    return templates.TemplateResponse(request, "assess_result.html", context, headers=NO_STORE)


def _pack(request: Request) -> Pack:
    """The knowledge pack the app loaded at start-up (settings may point it at another folder)."""
    return request.app.state.knowledge_pack


def _step_page(request: Request, *, steps: tuple[q.Step, ...], outcome: q.Outcome,
               answers: q.Answers) -> HTMLResponse:
    step = outcome.step
    assert step is not None  # an outcome without a finished request names the step to show
    context = {
        "step": step,
        "number": steps.index(step) + 1,
        "total": len(steps),
        "answers": answers,
        "hidden": answers.hidden_for(step),
        "problems": outcome.problems,
        "choices": CHOICES,
    }
    return templates.TemplateResponse(request, "assess_step.html", context, headers=NO_STORE,
                                      status_code=422 if outcome.problems else 200)


@router.get("/learn", response_class=HTMLResponse)
def learn_index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "learn_index.html", {"articles": get_library().articles})


@router.get("/learn/about-this-content", response_class=HTMLResponse)
def learn_about(request: Request) -> HTMLResponse:
    """How the clinical content is written, sourced and checked, and its review status (docs/clinical-content.md)."""
    about = get_library().about_html
    if about is None:
        raise NotFound("There is no page about this content.")
    return templates.TemplateResponse(request, "learn_about.html", {"about_html": about})


@router.get("/learn/{slug}", response_class=HTMLResponse)
def learn_article(request: Request, slug: str) -> HTMLResponse:
    library = get_library()
    article = library.get(slug)
    if article is None:
        raise NotFound(f"There is no article called {slug!r}.")
    return templates.TemplateResponse(request, "learn_article.html", {
        "article": article, "get_help_now_html": library.get_help_now_html})
