"""Logs never carry health data or secrets: the access log names the route template, never the path or query
string; an unexpected error is logged by its type and code location, never its message, bound parameters or
the request body."""

from __future__ import annotations

import datetime as dt
import logging
import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text

from fusioncare.recovery import service as recovery
from tests.support import sentinel

HTML = {"Accept": "text/html"}
ACCESS_LINE = r"{method} {route} {status} \d+\.\d ms"


def _access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fusioncare.access"]


def test_the_access_log_names_method_route_template_status_and_duration_never_the_query(live_server, caplog):
    token, record_id, words = sentinel("token"), sentinel("id"), sentinel("search")
    with caplog.at_level(logging.INFO):
        httpx.get(f"{live_server.url}/account/reset/confirm", params={"token": token}, headers=HTML)
        httpx.get(f"{live_server.url}/api/v1/diary/entries/{record_id}")
        httpx.get(f"{live_server.url}/api/v1/providers", params={"specialty": "no_such_specialty", "near": "10001",
                                                                 "q": words})
        httpx.get(f"{live_server.url}/static/app.css")
    lines = _access_lines(caplog)
    for method, route, status in [("GET", "/account/reset/confirm", "303"),
                                  ("GET", "/api/v1/diary/entries/{entry_id}", "404"),
                                  ("GET", "/api/v1/providers", "422"), ("GET", "/static", "200")]:
        pattern = ACCESS_LINE.format(method=method, route=re.escape(route), status=status)
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, lines)
    assert not any("?" in line or "10001" in line for line in lines)
    # and no other logger (uvicorn's access log included) printed the token, the id or the search words:
    # the log sentinel in tests/conftest.py fails this test if one did.


def test_a_database_error_is_logged_by_type_and_place_without_its_parameters(app, make_person, bearer, monkeypatch,
                                                                             caplog):
    """A constraint violation whose bound parameters (and, on PostgreSQL, the error's DETAIL) hold the diary note."""
    note, medication = sentinel("note"), sentinel("medication")

    def failing_check(db, *, owner_id, data, history):
        db.execute(text("INSERT INTO users (email, password_hash, role, created_at, password_changed_at) "
                        "VALUES (:email, :note, 'not-a-role', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                   {"email": data.medications[0], "note": data.note})

    monkeypatch.setattr(recovery, "safety_check", failing_check)
    body = {"date": (dt.date.today() - dt.timedelta(days=1)).isoformat(), "leg_pain": 6, "back_pain": 3,
            "note": note, "medications": [medication]}
    headers = bearer(make_person("ann"))
    with caplog.at_level(logging.DEBUG), TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/diary/entries", json=body, headers=headers)

    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side. Please try again."}
    assert response.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in response.headers
    logged = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records)
    assert "IntegrityError" in logged and "POST /api/v1/diary/entries" in logged
    assert "failing_check" in logged, "where it happened is kept for operators"
    assert note not in caplog.text and medication not in caplog.text
    assert "not-a-role" not in caplog.text and "parameters" not in caplog.text.lower()


def test_the_engine_never_puts_bound_parameters_in_its_error_messages(db):
    from sqlalchemy.exc import StatementError

    secret = sentinel("note")
    try:
        db.execute(text("INSERT INTO users (email, password_hash, role, created_at, password_changed_at) "
                        "VALUES (:email, 'x', 'not-a-role', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"email": secret})
    except StatementError as exc:
        db.rollback()
        assert "parameters hidden" in str(exc) and "[parameters:" not in str(exc)
    else:  # pragma: no cover - the CHECK constraint must refuse it
        raise AssertionError("the insert should have failed")
