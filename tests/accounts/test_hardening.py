"""Security headers, request size limits, and the production start-up refusal."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from fusioncare.accounts.hardening import InsecureConfiguration
from fusioncare.main import create_app
from fusioncare.settings import Settings


@pytest.mark.parametrize("path", ["/api/v1/health", "/account/sign-in", "/api/v1/no-such-thing"])
def test_security_headers_are_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_body_over_the_limit_is_refused_with_413(client, settings):
    too_big = b"x" * (settings.max_request_bytes + 1)
    response = client.post("/api/v1/accounts", content=too_big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_chunked_body_over_the_limit_is_refused_with_413(live_server, settings):
    def chunks():
        for _ in range(settings.max_request_bytes // 65536 + 2):
            yield b"x" * 65536

    response = httpx.post(f"{live_server.url}/api/v1/accounts", content=chunks(),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_chunked_body_under_the_limit_still_reaches_the_app(live_server):
    def chunks():
        yield b'{"email": "chunked@example.org", '
        yield b'"password": "a long enough password"}'

    response = httpx.post(f"{live_server.url}/api/v1/accounts", content=chunks(),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(InsecureConfiguration, match="FUSIONCARE_SECRET_KEY is not set"):
        create_app(Settings(env="production", data_dir=tmp_path, secret_key=None))
    with pytest.raises(InsecureConfiguration, match="shorter than 32"):
        create_app(Settings(env="production", data_dir=tmp_path, secret_key="short"))


def test_production_with_a_secret_key_starts(tmp_path):
    app = create_app(Settings(env="production", data_dir=tmp_path, secret_key="k" * 48))
    assert app.state.settings.is_production


def test_serve_in_production_without_a_secret_key_exits_2_with_a_clear_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "FUSIONCARE_ENV": "production", "FUSIONCARE_DATA_DIR": str(tmp_path),
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "fusioncare.cli", "serve"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "refuses to start in production" in done.stderr and "FUSIONCARE_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_health_content_never_reaches_the_logs(client, make_person, bearer, caplog):
    import logging

    headers = bearer(make_person("ann"))
    body = {"months_since_surgery": 30, "leg_pain": 9, "back_pain": 2, "trend": "worsening",
            "symptoms": ["saddle_numbness", "bladder_dysfunction"]}
    with caplog.at_level(logging.DEBUG):
        saved = client.post("/api/v1/assessments", params={"save": "true"}, json=body, headers=headers)
        client.get(f"/api/v1/assessments/{saved.json()['id']}", headers=headers)
        client.get("/api/v1/me/export", headers=headers)
        client.post("/api/v1/assessments", json={**body, "leg_pain": 99})
    assert saved.status_code == 200
    for word in ("saddle", "bladder", "leg_pain", "worsening"):
        assert word not in caplog.text


def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_problem(client):
    for path in ("/api/v1/accounts", "/api/v1/assessments"):
        response = client.post(path, content=b'{"email": "\xff"}', headers={"Content-Type": "application/json"})
        assert response.status_code == 422, path
        assert "not valid JSON" in response.json()["message"]


def test_without_a_secret_key_outside_production_workers_share_one_generated_key(tmp_path):
    from fusioncare.accounts.hardening import signing_key
    from fusioncare.settings import Settings

    first = signing_key(Settings(env="development", data_dir=tmp_path))
    second = signing_key(Settings(env="development", data_dir=tmp_path))
    assert first == second and len(first) >= 48
    assert (tmp_path / "development-secret-key").stat().st_mode & 0o077 == 0
    assert signing_key(Settings(env="development", data_dir=tmp_path, secret_key="k" * 40)) == b"k" * 40
