"""Education articles: Markdown files with YAML front matter, validated on load and rendered to safe HTML."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from fusioncare.knowledge.loader import get_pack
from fusioncare.knowledge.schemas import Code, Source
from fusioncare.validation import problems_from

ARTICLES_DIR = Path(__file__).parent / "articles"
GET_HELP_NOW_FILE = "_get-help-now.md"
ABOUT_FILE = "_about-this-content.md"

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]

# Raw HTML in an article is shown as text, never passed through: articles are data, not markup we trust.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["replacements", "smartquotes"])
_FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)


class ArticleFileError(ValueError):
    """An article file that cannot be loaded; the message names the file and the field."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path.name}: {problem}")
        self.path = path
        self.problem = problem


class ArticleFrontMatter(BaseModel):
    """The YAML block at the top of an article file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    title: Text
    summary: Text
    position: int = Field(ge=1, le=100, description="Place in the /learn index, smallest first.")
    reviewed_on: date = Field(description="When the wording was last checked against its sources.")
    sources: list[Code] = Field(min_length=1, description="Ids of the pack's sources.yaml entries it rests on.")


class Article(BaseModel):
    """A loaded article: its front matter plus the body rendered to HTML (raw HTML escaped)."""

    model_config = ConfigDict(frozen=True)

    slug: str
    title: str
    summary: str
    position: int
    reviewed_on: date
    sources: list[Source]
    body_html: str


class ArticleLibrary(BaseModel):
    """Every article, in index order, and the shared 'when to get help now' block."""

    model_config = ConfigDict(frozen=True)

    articles: list[Article]
    get_help_now_html: str
    about_html: str | None = Field(default=None, description="'How we write and check this content', if present.")

    def get(self, slug: str) -> Article | None:
        return next((a for a in self.articles if a.slug == slug), None)


def render_markdown(text: str) -> str:
    return _markdown.render(text)


def _split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ArticleFileError(path, "must start with a YAML front matter block between two '---' lines")
    try:
        data = yaml.safe_load(match["yaml"])
    except yaml.YAMLError as exc:
        raise ArticleFileError(path, f"the front matter is not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ArticleFileError(path, "the front matter must be a mapping of field: value")
    body = match["body"].strip()
    if not body:
        raise ArticleFileError(path, "the article has no text after its front matter")
    return data, body


def load_article(path: Path, sources: dict[str, Source] | None = None) -> Article:
    """Load one file; a bad file raises ArticleFileError naming the file and the field.

    Its sources are ids of the knowledge pack's sources.yaml (the built-in pack unless ``sources`` is given).
    """
    data, body = _split(path)
    try:
        front = ArticleFrontMatter.model_validate(data)
    except ValidationError as exc:
        raise ArticleFileError(path, "; ".join(str(p) for p in problems_from(exc, ArticleFrontMatter))) from exc
    if front.slug != path.stem:
        raise ArticleFileError(path, f"slug: {front.slug!r} must match the file name {path.stem!r}")
    if re.search(r"^# ", body, re.MULTILINE):
        raise ArticleFileError(path, "body: use '##' headings; the page title comes from the front matter")
    known = get_pack().sources if sources is None else sources
    for index, code in enumerate(front.sources):
        if code not in known:
            raise ArticleFileError(path, f"sources[{index}]: unknown source {code!r}; use an id from sources.yaml")
    return Article(**front.model_dump(exclude={"sources"}), sources=[known[c] for c in front.sources],
                   body_html=render_markdown(body))


def load_library(directory: Path = ARTICLES_DIR, sources: dict[str, Source] | None = None) -> ArticleLibrary:
    """Load and check every article in a folder: unique slugs and positions, plus the shared red-flag block."""
    articles = [load_article(p, sources) for p in sorted(directory.glob("*.md")) if not p.name.startswith("_")]
    for attribute in ("slug", "position"):
        seen: dict[object, str] = {}
        for article in articles:
            value = getattr(article, attribute)
            if value in seen:
                raise ArticleFileError(directory / f"{article.slug}.md",
                                       f"{attribute}: {value!r} is already used by {seen[value]}.md")
            seen[value] = article.slug
    help_path = directory / GET_HELP_NOW_FILE
    if not help_path.exists():
        raise ArticleFileError(help_path, "is missing: every article shows this 'when to get help now' block")
    about_path = directory / ABOUT_FILE
    about = render_markdown(about_path.read_text(encoding="utf-8")) if about_path.exists() else None
    return ArticleLibrary(articles=sorted(articles, key=lambda a: a.position),
                          get_help_now_html=render_markdown(help_path.read_text(encoding="utf-8")), about_html=about)


@lru_cache(maxsize=1)
def get_library() -> ArticleLibrary:
    """The shipped articles, loaded once per process (files are part of the release)."""
    return load_library()
