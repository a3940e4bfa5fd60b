"""Page routes (server-rendered HTML): home and the /learn articles. The assessment is in assess_pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fusioncare.errors import NotFound
from fusioncare.knowledge.articles import get_library
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"articles": get_library().articles})


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
