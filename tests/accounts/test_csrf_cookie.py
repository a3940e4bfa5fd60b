"""The CSRF cookie as a browser sees it (fusioncare/accounts/csrf.py): what Set-Cookie gives a new browser, who gets
none, what a browser keeps, and how the token may travel back. Every check is on real responses of the real app.

Set-Cookie attributes are read the way RFC 6265 section 5.2 tells a browser to read them: split on ';', attribute
names compared without regard to case."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fusioncare.main import create_app

HTML = {"Accept": "text/html"}
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def _csrf_set_cookies(response) -> list[tuple[str, dict[str, str]]]:
    """Each Set-Cookie header of the response that sets fc_csrf: (value, {attribute name in lower case: value})."""
    found = []
    for header in response.headers.get_list("set-cookie"):
        pair, *attributes = header.split(";")
        name, _, value = pair.partition("=")
        if name.strip() != "fc_csrf":
            continue
        parsed = {}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            parsed[key.strip().lower()] = val.strip()
        found.append((value.strip(), parsed))
    return found


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the form should carry a CSRF token"
    return match.group(1)


def _sign_in(client, person, *, token: str | None = None, headers: dict[str, str] | None = None):
    data = {"email": person.email, "password": person.password}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/account/sign-in", headers={**HTML, **(headers or {})}, follow_redirects=False, data=data)


def test_a_new_browser_gets_one_random_httponly_samesite_lax_cookie_for_the_whole_site(client, app):
    response = client.get("/account/sign-in", headers=HTML)

    assert response.status_code == 200
    [(value, attributes)] = _csrf_set_cookies(response)
    assert URL_SAFE.fullmatch(value) and len(value) >= 22, "at least 128 random bits, URL-safe"
    assert attributes.get("path") == "/", "every page's form needs it"
    assert "httponly" in attributes, "page scripts must not read it"
    assert attributes.get("samesite", "").lower() == "lax"
    assert "secure" not in attributes, "plain http here: a Secure cookie would never come back"
    with TestClient(app) as other:
        [(other_value, _)] = _csrf_set_cookies(other.get("/account/sign-in", headers=HTML))
    assert other_value != value, "each browser its own"


def test_under_https_the_csrf_cookie_is_secure(settings, clean_engine):
    https_app = create_app(settings.model_copy(update={"base_url": "https://care.example.org"}), engine=clean_engine)
    with TestClient(https_app, base_url="https://testserver") as client:
        response = client.get("/account/sign-in", headers=HTML)

    [(_, attributes)] = _csrf_set_cookies(response)
    assert "secure" in attributes
    assert "httponly" in attributes and attributes.get("samesite", "").lower() == "lax"


@pytest.mark.parametrize("path", ["/api/v1/appointments", "/api/v1/tokens", "/static/app.css"])
def test_json_api_and_static_files_get_no_csrf_cookie(client, path):
    response = client.get(path)
    assert response.status_code != 500
    assert _csrf_set_cookies(response) == [], path


def test_a_browser_keeps_its_cookie_and_every_page_carries_the_token_for_it(client, make_person):
    person = make_person("ann")
    first = client.get("/account/sign-in", headers=HTML)
    [(cookie, _)] = _csrf_set_cookies(first)

    again = client.get("/account/sign-in", headers=HTML)

    assert again.status_code == 200
    assert _csrf_set_cookies(again) == [], "a browser holding a good cookie keeps it"
    assert client.cookies.get("fc_csrf") == cookie
    assert _token(again.text) == _token(first.text), "the token is the cookie's, not the page view's"
    assert _sign_in(client, person, token=_token(again.text)).status_code == 303


def test_another_sites_cookie_with_an_unusual_name_does_not_cost_the_browser_its_csrf_cookie(client, make_person):
    """Browsers send every cookie of the domain; names with '/', '@' or '(' are legal for them (RFC 6265 leaves the
    name to the server). Python's SimpleCookie refuses such a header whole; the CSRF cookie must survive it, or
    each page view would replace the cookie and a form opened in another tab would fail."""
    person = make_person("ann")
    first = client.get("/account/sign-in", headers=HTML)
    cookie = client.cookies.get("fc_csrf")
    token = _token(first.text)
    client.cookies.clear()

    for other_cookie in ("ui/theme=dark", "a@b=1", "consent(v2)=yes"):
        header = {"Cookie": f"{other_cookie}; fc_csrf={cookie}", **HTML}
        page = client.get("/account/sign-in", headers=header)
        assert page.status_code == 200
        assert _csrf_set_cookies(page) == [], other_cookie
        assert _token(page.text) == token, other_cookie

    signed = client.post("/account/sign-in", follow_redirects=False,
                         headers={"Cookie": f"ui/theme=dark; fc_csrf={cookie}", **HTML},
                         data={"email": person.email, "password": person.password, "csrf_token": token})
    assert signed.status_code == 303


@pytest.mark.parametrize("header", [b'fc_csrf="unterminated', b"fc_csrf", b"=;;=;", b"fc_csrf=a b c d e f g h i j k l",
                                    b"fc_csrf=\x7f\x80\xff" + b"a" * 30, b"fc_csrf=" + b"a" * 101])
def test_a_malformed_cookie_header_gets_a_fresh_cookie_not_an_error(client, header):
    response = client.get("/account/sign-in", headers={"Cookie": header, "Accept": b"text/html"})

    assert response.status_code == 200
    [(value, _)] = _csrf_set_cookies(response)
    assert URL_SAFE.fullmatch(value)
    assert _token(response.text)


def test_a_form_posted_by_a_browser_without_any_cookie_is_refused_and_given_a_cookie(client, make_person):
    person = make_person("ann")

    response = _sign_in(client, person)

    assert response.status_code == 403 and "Please try again" in response.text
    assert len(_csrf_set_cookies(response)) == 1, "so that the next attempt can succeed"


def test_the_token_may_travel_in_the_x_csrf_token_header_instead_of_the_form(client, make_person):
    person = make_person("ann")
    token = _token(client.get("/account/sign-in", headers=HTML).text)

    assert _sign_in(client, person, headers={"X-CSRF-Token": token}).status_code == 303
    assert _sign_in(client, person, headers={"X-CSRF-Token": "0" * 64}).status_code == 403


def test_a_multipart_form_carries_its_token_like_any_form(client, make_person):
    person = make_person("ann")
    token = _token(client.get("/account/sign-in", headers=HTML).text)
    fields = {"email": (None, person.email), "password": (None, person.password)}

    refused = client.post("/account/sign-in", headers=HTML, follow_redirects=False, files=fields)
    signed = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                         files={**fields, "csrf_token": (None, token)})

    assert refused.status_code == 403
    assert signed.status_code == 303


def test_a_file_sent_in_place_of_the_token_is_refused(client, make_person):
    person = make_person("ann")
    token = _token(client.get("/account/sign-in", headers=HTML).text)

    response = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                           files={"email": (None, person.email), "password": (None, person.password),
                                  "csrf_token": ("token.txt", token.encode(), "text/plain")})

    assert response.status_code == 403 and "Please try again" in response.text
