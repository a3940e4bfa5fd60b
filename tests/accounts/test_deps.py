"""The dependency aliases other domains use: CurrentUser, OptionalUser, CurrentAdmin, CurrentProvider."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from fusioncare.accounts.deps import CurrentAdmin, CurrentProvider, CurrentUser, OptionalUser, RequestActor
from fusioncare.accounts.models import Role

probe = APIRouter()


@probe.get("/api/v1/probe/user")
def _user(user: CurrentUser) -> dict:
    return {"id": user.id}


@probe.get("/api/v1/probe/optional")
def _optional(user: OptionalUser, actor: RequestActor) -> dict:
    return {"id": user.id if user else None, "address": actor.client_address}


@probe.get("/api/v1/probe/admin")
def _admin(admin: CurrentAdmin) -> dict:
    return {"id": admin.id}


@probe.get("/api/v1/probe/provider")
def _provider(provider: CurrentProvider) -> dict:
    return {"npi": provider.verified_npi}


@probe.get("/probe/page")
def _page(user: CurrentUser) -> dict:
    return {"id": user.id}


@pytest.fixture
def probe_client(app):
    app.include_router(probe)
    with TestClient(app) as client:
        yield client


def test_current_user_accepts_a_bearer_token_or_the_session_cookie(probe_client, make_person, bearer, form_token):
    ann = make_person("ann")
    assert probe_client.get("/api/v1/probe/user", headers=bearer(ann)).json() == {"id": ann.id}
    page = probe_client.get("/account/sign-in", headers={"Accept": "text/html"})
    probe_client.post("/account/sign-in", data={"csrf_token": form_token(page.text), "email": ann.email,
                                                "password": ann.password})
    assert probe_client.get("/api/v1/probe/user").json() == {"id": ann.id}


def test_missing_user_is_401_for_the_api_and_a_sign_in_redirect_for_pages(probe_client):
    assert probe_client.get("/api/v1/probe/user").status_code == 401
    page = probe_client.get("/probe/page", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/account/sign-in?next=/probe/page"


def test_optional_user_is_none_for_anonymous_callers_and_carries_the_client_address(probe_client, make_person,
                                                                                   bearer):
    assert probe_client.get("/api/v1/probe/optional").json() == {"id": None, "address": "testclient"}
    ann = make_person("ann")
    assert probe_client.get("/api/v1/probe/optional", headers=bearer(ann)).json()["id"] == ann.id


def test_current_admin_is_404_for_everyone_else(probe_client, make_person, bearer):
    assert probe_client.get("/api/v1/probe/admin", headers=bearer(make_person("ann"))).status_code == 404
    boss = make_person("boss", role=Role.admin)
    assert probe_client.get("/api/v1/probe/admin", headers=bearer(boss)).json() == {"id": boss.id}


def test_current_provider_needs_a_verified_npi(probe_client, make_person, bearer):
    unverified = make_person("new-doc", npi="1245319599")
    verified = make_person("doc", npi="1234567893", verified=True)
    assert probe_client.get("/api/v1/probe/provider", headers=bearer(make_person("ann"))).status_code == 404
    assert probe_client.get("/api/v1/probe/provider", headers=bearer(unverified)).status_code == 404
    assert probe_client.get("/api/v1/probe/provider", headers=bearer(verified)).json() == {"npi": "1234567893"}
