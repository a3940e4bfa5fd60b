"""Fixtures for recovery tests: a signed-in patient (bearer headers) and a diary poster."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.accounts.conftest import bearer, make_person  # noqa: F401  (fixtures re-used from accounts)


@pytest.fixture
def patient(make_person, bearer):  # noqa: F811
    """(person, headers) of a signed-in patient."""
    person = make_person("pat")
    return person, bearer(person)


@pytest.fixture
def post_entry(client, patient):
    """post_entry(date, leg, back, **more) -> the response of POST /api/v1/diary/entries as the patient."""

    def post(day: dt.date, leg: int, back: int, **more):
        body = {"date": day.isoformat(), "leg_pain": leg, "back_pain": back, **more}
        return client.post("/api/v1/diary/entries", json=body, headers=patient[1])

    return post


HTML = {"Accept": "text/html"}


@pytest.fixture
def signed_in_client(client, patient):
    """The TestClient holding the patient's session cookie; returns (client, form_token_reader)."""
    import re

    def token(html: str) -> str:
        match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
        assert match, "the form should carry a CSRF token"
        return match.group(1)

    person = patient[0]
    page = client.get("/account/sign-in", headers=HTML)
    signed = client.post("/account/sign-in", headers=HTML, follow_redirects=False,
                         data={"csrf_token": token(page.text), "email": person.email, "password": person.password,
                               "next": "/recovery"})
    assert signed.status_code == 303, signed.text
    return client, token
