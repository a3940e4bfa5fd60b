"""Every state-changing page route refuses a missing or wrong CSRF token. The routes are discovered from the app,
so a new form is covered without anyone adding it here."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.route_catalog import STATE_CHANGING, all_routes

HTML = {"Accept": "text/html"}

# Form posts that change nothing anywhere, so a forged one does no harm. Remove an entry the day its route starts
# storing anything (e.g. server-side drafts of the assessment).
STATELESS_FORMS = {("POST", "/assess"): "the assessment questionnaire: its answers travel in the form; nothing "
                                        "is stored"}

FORM_ROUTES = [r for r in all_routes() if not r.is_api and r.method in STATE_CHANGING
               and (r.method, r.path) not in STATELESS_FORMS]


def _sample_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_catalogue_finds_the_forms_we_know():
    known = {("POST", "/account/sign-in"), ("POST", "/recovery/today"), ("POST", "/doctors/{npi}/book"),
             ("POST", "/provider/availability/exceptions/{exception_id}/remove")}
    assert known <= {(r.method, r.path) for r in FORM_ROUTES}


@pytest.mark.parametrize("route", FORM_ROUTES, ids=lambda r: r.id)
@pytest.mark.parametrize("token", ["missing", "wrong", "another browser's"])
def test_a_state_changing_form_without_this_browsers_csrf_token_is_refused(route, token, app, client, make_person,
                                                                            form_token):
    from fastapi.testclient import TestClient

    person = make_person("ann")
    page = client.get("/account/sign-in", headers=HTML)
    signed = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                         data={"csrf_token": form_token(page.text), "email": person.email,
                               "password": person.password})
    assert signed.status_code == 303
    data = {name: "1" for name in route.form_params}
    if token == "wrong":
        data["csrf_token"] = secrets.token_hex(32)
    elif token == "another browser's":
        with TestClient(app) as other:
            data["csrf_token"] = form_token(other.get("/account/sign-in", headers=HTML).text)

    response = client.request(route.method, _sample_path(route.path), headers=HTML, data=data,
                              follow_redirects=False)

    assert response.status_code == 403, (route.id, response.status_code)
    assert "Please try again" in response.text


@pytest.mark.parametrize(("cookie", "kept"), [
    ("a" * 19, False), ("a" * 20, True), ("A-b_9" * 20, True), ("a" * 101, False), ("a" * 99 + "!", False),
    ("a" * 30 + ".~", False),
])
def test_a_csrf_cookie_is_kept_only_when_it_is_20_to_100_url_safe_characters(cookie, kept, client):
    """fusioncare/accounts/csrf.py: the browser's cookie is kept when it is 20 to 100 characters of letters, digits,
    '-' and '_' (what secrets.token_urlsafe makes); anything else is replaced by a fresh one."""
    client.cookies.set("fc_csrf", cookie)
    response = client.get("/account/sign-in", headers=HTML)
    assert response.status_code == 200
    assert ("fc_csrf=" in response.headers.get("set-cookie", "")) is not kept
