"""Every page's HTML keeps the Content-Security-Policy's promise (no inline script or style, no style=
attributes, no event-handler attributes) and every form control has a label."""

from __future__ import annotations

import re
from collections import Counter

from fusioncare.knowledge.articles import get_library

from .pagescan import scan, unlabelled_controls
from .walker import HTML, ROUTINE, is_result, submit, walk


def every_page(client) -> dict[str, str]:
    """Each distinct page: home, every questionnaire step (and one with problems), both results, /learn,
    every article, and the 404 page."""
    pages = {"/": client.get("/", headers=HTML).text, "/learn": client.get("/learn", headers=HTML).text,
             "/learn/about-this-content": client.get("/learn/about-this-content", headers=HTML).text,
             "404": client.get("/nope", headers=HTML).text}
    for article in get_library().articles:
        pages[f"/learn/{article.slug}"] = client.get(f"/learn/{article.slug}", headers=HTML).text
    response = client.get("/assess", headers=HTML)
    pages["step with problems"] = submit(client, response).text
    answers = {**ROUTINE, "fusion_region": "cervical", "fusion_approach": "unknown", "symptoms": ["foot_drop"]}
    for number in range(1, 40):
        pages[f"step {number}"] = response.text
        response = submit(client, response, answers)
        if is_result(response):
            break
    pages["urgent result"] = response.text
    response = client.get("/assess", headers=HTML)
    for _ in range(3):
        response = submit(client, response, {**ROUTINE, "symptoms": ["saddle_numbness"]})
    pages["emergency result"] = response.text
    follow = re.search(r'href="(/assess/d/[\w-]+/step/[0-9a-f]{16})">Answer the rest', response.text).group(1)
    pages["step after an emergency"] = client.get(follow, headers=HTML).text
    pages["routine result"] = walk(client, ROUTINE).text
    pages["cookies needed"] = client.get("/assess?restart=1", headers={**HTML, "cookie": ""}).text
    pages["matches without answers"] = client.get("/matches", headers=HTML).text
    return pages


def test_no_page_has_inline_script_or_style(client):
    pages = every_page(client)
    assert len(pages) > 20
    problems = {name: scan(html).inline_problems for name, html in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_every_form_control_on_every_page_has_a_label_and_ids_are_unique(client):
    for name, html in every_page(client).items():
        page = scan(html)
        assert unlabelled_controls(page) == [], name
        duplicates = [i for i, n in Counter(page.ids).items() if n > 1]
        assert duplicates == [], name
        assert page.label_for <= set(page.ids), f"{name}: a label points at a missing id"


def test_the_questionnaire_has_fieldsets_with_legends_for_every_group_of_choices(client):
    response = client.get("/assess", headers=HTML)
    for _ in range(3):
        html = response.text
        assert html.count("<fieldset") == html.count("<legend") > 0
        response = submit(client, response, ROUTINE)
