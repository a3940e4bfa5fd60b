"""The education articles as data: every patient question is covered, front matter is checked on load with
errors that name the file and the field, and raw HTML in an article never reaches the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusioncare.knowledge.articles import GET_HELP_NOW_FILE, ArticleFileError, load_library

GOOD_FRONT_MATTER = """---
slug: {slug}
title: A test article
summary: A short summary of the test article.
position: {position}
reviewed_on: 2026-11-20
sources: [nice_ng59]
---
"""


def write_library(folder: Path, articles: dict[str, str]) -> Path:
    (folder / GET_HELP_NOW_FILE).write_text("**Call 911** if you have red flags.\n", encoding="utf-8")
    for name, content in articles.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def article(slug: str = "test-article", position: int = 1, body: str = "## Heading\n\nSome text.\n") -> str:
    return GOOD_FRONT_MATTER.format(slug=slug, position=position) + body


def test_the_shipped_articles_answer_each_patient_question():
    slugs = {a.slug for a in load_library().articles}
    assert slugs == {
        "does-fusion-relieve-sciatica", "causes-of-sciatica-after-fusion", "how-common-is-sciatica-after-fusion",
        "how-long-nerve-pain-lasts", "sciatica-years-after-fusion", "treatments-for-sciatica-after-fusion",
        "long-term-management", "new-symptoms-after-surgery", "back-pain-after-fusion",
    }


def test_the_treatments_article_is_honest_that_nice_advises_against_gabapentinoids_and_tens():
    html = load_library().get("treatments-for-sciatica-after-fusion").body_html
    gabapentinoids = html[html.index("Gabapentin and pregabalin"):][:400]
    tens = html[html.index("<h2>TENS</h2>"):][:500]
    assert "<strong>advises against</strong>" in gabapentinoids and "NICE" in gabapentinoids
    assert "<strong>advises against</strong>" in tens and "NICE" in tens


def test_every_shipped_article_links_to_the_assessment():
    for loaded in load_library().articles:
        assert 'href="/assess"' in loaded.body_html, loaded.slug


def test_a_loaded_library_renders_markdown_and_keeps_index_order(tmp_path):
    library = load_library(write_library(tmp_path, {"b.md": article("b", 2), "a.md": article("a", 1, "**bold**")}))
    assert [a.slug for a in library.articles] == ["a", "b"]
    assert library.get("a").body_html == "<p><strong>bold</strong></p>\n"
    assert "<strong>Call 911</strong>" in library.get_help_now_html


def test_raw_html_in_an_article_is_shown_as_text_not_run(tmp_path):
    body = '<script>alert("x")</script>\n\n<img src=x onerror="alert(1)">\n\n[link](javascript:alert(1))\n'
    html = load_library(write_library(tmp_path, {"a.md": article("a", body=body)})).get("a").body_html
    assert "<script>" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (article().replace("sources: [nice_ng59]\n", ""), "test-article.md: sources: this field is required"),
        (
            article().replace("[nice_ng59]", "[no_such_source]"),
            "test-article.md: sources[0]: unknown source 'no_such_source'",
        ),
        (
            article().replace("[nice_ng59]", "[nice_ng59]\nreviewed_by: clinical sign-off pending"),
            "test-article.md: reviewed_by: unknown field",
        ),
        (article().replace("reviewed_on: 2026-11-20", "reviewed_on: last week"), "test-article.md: reviewed_on: "),
        (article().replace("position: 1", "position: 1\nauthor: someone"), "test-article.md: author: unknown field"),
        (article(slug="other-slug"), "test-article.md: slug: 'other-slug' must match the file name 'test-article'"),
        ("## No front matter\n", "test-article.md: must start with a YAML front matter block"),
        (
            article().replace("title: A test article", "title: A: test"),
            "test-article.md: the front matter is not valid YAML",
        ),
        (article(body="# A second title\n"), "test-article.md: body: use '##' headings"),
    ],
)
def test_a_bad_article_file_names_itself_and_the_field(tmp_path, content, problem):
    write_library(tmp_path, {"test-article.md": content})
    with pytest.raises(ArticleFileError) as caught:
        load_library(tmp_path)
    assert str(caught.value).startswith(problem)


def test_two_articles_may_not_share_a_place_in_the_index(tmp_path):
    write_library(tmp_path, {"a.md": article("a", 1), "b.md": article("b", 1)})
    with pytest.raises(ArticleFileError, match=r"b\.md: position: 1 is already used by a\.md"):
        load_library(tmp_path)


def test_the_get_help_now_block_is_required(tmp_path):
    (tmp_path / "a.md").write_text(article("a"), encoding="utf-8")
    with pytest.raises(ArticleFileError, match=GET_HELP_NOW_FILE):
        load_library(tmp_path)
