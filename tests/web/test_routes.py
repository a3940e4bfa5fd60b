"""The non-assessment pages over HTTP (TestClient): home, articles with sources, errors as pages, the CSP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fusioncare.knowledge.articles import get_library

from .pagescan import scan
from .walker import HTML


def test_home_page_says_what_this_is_and_links_to_the_assessment_and_every_article(client):
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    page = scan(response.text)
    assert "Check my symptoms" in page.text
    assert "call 911 or go to the emergency department now" in page.text
    for article in get_library().articles:
        assert f'href="/learn/{article.slug}"' in response.text
    assert 'href="/assess"' in response.text


def test_learn_index_lists_every_article_in_order(client):
    response = client.get("/learn", headers=HTML)
    assert response.status_code == 200
    html = response.text
    positions = [html.index(f'href="/learn/{a.slug}"') for a in get_library().articles]
    assert positions == sorted(positions) and len(positions) == 9


@pytest.mark.parametrize("slug", [a.slug for a in get_library().articles])
def test_each_article_renders_with_its_sources_the_red_flags_and_a_link_to_the_assessment(client, slug):
    article = get_library().get(slug)
    response = client.get(f"/learn/{slug}", headers=HTML)
    assert response.status_code == 200
    page = scan(response.text)
    assert article.title in page.text
    assert "When to get help now" in page.text and "Call 911 or go to the emergency department now" in page.text
    sources = page.text.split("Sources", 1)[1]
    for source in article.sources:
        assert source.title in sources and source.publisher in sources
    assert 'href="/assess"' in response.text


def test_the_about_this_content_page_says_how_content_is_checked_and_every_article_links_to_it(client):
    about = client.get("/learn/about-this-content", headers=HTML)
    assert about.status_code == 200
    text = scan(about.text).text
    assert "How we write and check this content" in text and "No outside doctor has signed off" in text
    article = client.get(f"/learn/{get_library().articles[0].slug}", headers=HTML)
    assert 'href="/learn/about-this-content"' in article.text and "pending" not in article.text.lower()


def test_an_unknown_article_is_a_404_page_for_browsers_and_json_for_api_clients(client):
    page = client.get("/learn/no-such-article", headers=HTML)
    assert page.status_code == 404
    assert "Page not found" in scan(page.text).text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/learn/no-such-article", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"


def test_an_unknown_path_is_the_404_page_in_the_site_design(client):
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert 'href="/static/app.css"' in response.text and "Page not found" in response.text


def test_a_form_the_browser_did_not_check_gets_a_page_naming_the_field_not_json(client):
    """A browser whose own required-field check did not run (an old one, or a form sent again) sent sign-in with
    no e-mail address: it showed raw JSON. Now the site's page says what was missing; API clients keep JSON."""
    form = client.get("/account/sign-in", headers=HTML).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)
    page = client.post("/account/sign-in", data={"password": "whatever it is", "csrf_token": token}, headers=HTML)
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    words = scan(page.text).text
    assert "Please check what you sent" in words and "email: this field is required" in words
    assert '"loc"' not in page.text
    api = client.post("/api/v1/tokens", json={"password": "whatever it is"})
    assert api.status_code == 422 and api.json()["detail"][0]["field"] == "email"


def test_an_unexpected_error_is_the_500_page_for_browsers_and_json_under_the_api(app):
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=HTML)
        api = client.get("/api/v1/boom", headers=HTML)
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.text and "secret internal detail" not in page.text
    assert api.status_code == 500
    assert api.json() == {"detail": "Something went wrong on our side. Please try again."}


def test_pages_carry_a_content_security_policy_without_inline_allowances(client):
    for path in ("/", "/assess", "/learn"):
        csp = client.get(path, headers=HTML).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
