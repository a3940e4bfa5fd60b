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


def _status_probes(app, settings):
    """(expected status, request) pairs covering every status the app answers, a crash (500) included."""

    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/boom", boom)
    html = {"Accept": "text/html"}
    return {
        200: ("GET", "/api/v1/health", {}),
        303: ("GET", "/account", {"headers": html, "follow_redirects": False}),
        401: ("GET", "/api/v1/me", {}),
        403: ("POST", "/account/sign-in", {"headers": html, "data": {"email": "a@example.org", "password": "x"}}),
        404: ("GET", "/api/v1/no-such-thing", {}),
        405: ("GET", "/api/v1/tokens", {}),
        413: ("POST", "/api/v1/accounts", {"content": b"x" * (settings.max_request_bytes + 1),
                                           "headers": {"Content-Type": "application/json"}}),
        422: ("POST", "/api/v1/accounts", {"json": {}}),
        500: ("GET", "/api/v1/boom", {}),
        "500 page": ("GET", "/boom", {"headers": html}),
    }


def test_security_headers_are_on_every_status_code_500_included(app, settings):
    from fastapi.testclient import TestClient

    probes = _status_probes(app, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        for _ in range(5):
            client.post("/api/v1/tokens", json={"email": "ghost@example.org", "password": "guess guess guess"})
        answers = {key: client.request(method, path, **kwargs) for key, (method, path, kwargs) in probes.items()}
        answers[429] = client.post("/api/v1/tokens", json={"email": "ghost@example.org", "password": "guess"})
    for key, response in answers.items():
        assert response.status_code == int(str(key).split()[0]), (key, response.status_code)
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), key
        assert response.headers.get("x-content-type-options") == "nosniff", key
        assert response.headers.get("referrer-policy") == "no-referrer", key
        assert response.headers.get("x-frame-options") == "DENY", key
        assert response.headers.get("cache-control") == "no-store", key


def _sign_in_page(client, person) -> None:
    import re

    page = client.get("/account/sign-in", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    signed = client.post("/account/sign-in", headers={"Accept": "text/html"}, follow_redirects=False,
                         data={"csrf_token": token, "email": person.email, "password": person.password})
    assert signed.status_code == 303


def test_a_cookie_signed_in_api_request_from_another_origin_changes_nothing(client, make_person, appointment, db):
    from fusioncare.accounts import service
    from tests.accounts.conftest import PASSWORD, Person

    appointment_id = appointment(make_person("ann"))
    doctor = service.get_user_by_email(db, email="dr1700000098@example.org")
    doctor = Person(user=doctor, email=doctor.email, password=PASSWORD)
    _sign_in_page(client, doctor)
    confirm = f"/api/v1/appointments/{appointment_id}/confirm"
    for foreign in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "same-site"},
                    {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
                    {"Origin": "null"}):
        refused = client.post(confirm, headers=foreign)
        assert refused.status_code == 403, (foreign, refused.text)
    assert client.get(f"/api/v1/appointments/{appointment_id}").json()["status"] == "requested"
    same_origin = client.post(confirm, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert same_origin.status_code == 200 and same_origin.json()["status"] == "confirmed"


def test_a_bearer_token_client_is_not_bound_by_the_origin_check(client, make_person, bearer, appointment, db):
    from fusioncare.accounts import service
    from tests.accounts.conftest import PASSWORD, Person

    appointment_id = appointment(make_person("ann"))
    doctor = service.get_user_by_email(db, email="dr1700000098@example.org")
    headers = {**bearer(Person(user=doctor, email=doctor.email, password=PASSWORD)), "Origin": "http://evil.example"}
    client.cookies.clear()
    assert client.post(f"/api/v1/appointments/{appointment_id}/confirm", headers=headers).status_code == 200


def test_admin_verification_by_cookie_from_another_origin_is_refused(client, make_person):
    from fusioncare.accounts.models import Role

    doc = make_person("doc", npi="1234567893")
    _sign_in_page(client, make_person("boss", role=Role.admin))
    refused = client.post(f"/api/v1/admin/providers/{doc.id}/verify", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert client.get("/api/v1/admin/providers").json()[0]["provider_verified"] is False


def test_the_real_server_trusts_x_forwarded_for_only_from_configured_proxies_and_logs_no_query(clean_engine, db):
    """`fusioncare serve` as operators run it: by default the peer address is the client, whatever the header
    says; with FUSIONCARE_TRUSTED_PROXIES naming the proxy, the header names the client. Its access log has
    routes, never query strings."""
    from sqlalchemy import select

    from fusioncare.accounts.models import AuditEvent
    from tests.support import ServerProcess, sentinel

    url = clean_engine.url.render_as_string(hide_password=False)
    token = sentinel("token")
    guess = {"email": "ghost@example.org", "password": "guess guess guess"}
    with ServerProcess(url) as server:
        httpx.post(f"{server.url}/api/v1/tokens", json=guess, headers={"X-Forwarded-For": "203.0.113.9"})
        httpx.get(f"{server.url}/account/reset/confirm", params={"token": token})
    default_output = server.output()
    with ServerProcess(url, env={"FUSIONCARE_TRUSTED_PROXIES": "127.0.0.1, ::1"}) as proxied:
        httpx.post(f"{proxied.url}/api/v1/tokens", json=guess, headers={"X-Forwarded-For": "203.0.113.9"})
    db.expire_all()
    addresses = db.scalars(select(AuditEvent.client_address).where(AuditEvent.action == "sign_in")
                           .order_by(AuditEvent.id)).all()
    assert addresses == ["127.0.0.1", "203.0.113.9"]
    assert "GET /account/reset/confirm 303" in default_output and "POST /api/v1/tokens 401" in default_output
    assert "?" not in "".join(line for line in default_output.splitlines() if " /account/reset" in line)


def test_sqlite_files_are_readable_by_their_owner_only(tmp_path):
    from sqlalchemy import text

    from fusioncare.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'fusioncare.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('x')"))
    with engine.connect() as connection:
        connection.execute(text("SELECT * FROM notes")).all()
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in (tmp_path / "data").iterdir()}
    engine.dispose()
    assert modes == {name: "0o600" for name in ("fusioncare.sqlite3", "fusioncare.sqlite3-wal",
                                                "fusioncare.sqlite3-shm")}


def test_deleting_an_account_leaves_no_copy_of_its_health_data_in_the_sqlite_files(clean_engine, tmp_path):
    """On a database of its own: reading a database file from the process that has it open and closing it again
    would drop SQLite's POSIX locks on it (the shared test database must never be read that way). The -wal file
    carries no lock, so it is read while the app still has the database open; the database file itself only
    after every connection is closed (which, without secure_delete, still holds the erased rows' bytes)."""
    import datetime as dt
    import uuid

    from fastapi.testclient import TestClient

    from fusioncare import migrate
    from fusioncare.db import make_engine
    from fusioncare.main import create_app
    from fusioncare.settings import Settings
    from tests.support import sentinel

    if clean_engine.dialect.name != "sqlite":
        pytest.skip("the write-ahead log and free pages checked here are SQLite's files")
    database = tmp_path / "erasure.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    settings = Settings(env="test", database_url=f"sqlite:///{database}", data_dir=tmp_path,
                        secret_key="erasure-test-" + "e" * 32)
    email, password = f"erase-{uuid.uuid4().hex}@example.org", "sciatic nerve recovers slowly"
    note, medication = sentinel("note"), sentinel("medication")
    with TestClient(create_app(settings, engine=engine)) as client:
        assert client.post("/api/v1/accounts", json={"email": email, "password": password}).status_code == 201
        token = client.post("/api/v1/tokens", json={"email": email, "password": password}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for days in range(1, 4):
            saved = client.post("/api/v1/diary/entries", headers=headers, json={
                "date": (dt.date.today() - dt.timedelta(days=days)).isoformat(), "leg_pain": 6, "back_pain": 3,
                "note": note, "medications": [medication]})
            assert saved.status_code == 201
        assert client.request("DELETE", "/api/v1/me", headers=headers, json={"password": password}).status_code == 200
        wal = database.with_name(database.name + "-wal")
        in_the_log = wal.read_bytes() if wal.exists() else b""
    engine.dispose()
    in_the_database = database.read_bytes()
    for erased in (note, medication, email):
        assert erased.encode() not in in_the_log, f"{erased} is still in the write-ahead log"
        assert erased.encode() not in in_the_database, f"{erased} is still in the database file"
