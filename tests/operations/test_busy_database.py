"""SQLite has one write lock, and an import holds it for its whole run (BEGIN IMMEDIATE, cms_import and the NPPES
importer). A person who signs up or saves something meanwhile waits for the busy timeout; when the lock is still
held then, they get a plain 503 "busy" answer with Retry-After, nothing half-stored, and the same request works
once the lock is free. Served over real HTTP by the real app on a real SQLite file; the lock is taken the way an
import takes it, from another connection."""

from __future__ import annotations

import logging
import re
import sqlite3
import time

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from fusioncare import migrate
from fusioncare.accounts.models import User
from fusioncare.db import make_engine, make_session_factory
from fusioncare.main import create_app
from fusioncare.settings import Settings
from tests.accounts.conftest import cheap_password_hashing  # noqa: F401  (fixture re-used)
from tests.support import LiveServer, sentinel
from tests.web.pagescan import scan

BUSY_TIMEOUT = 0.5  # seconds a write waits for the lock here (30 s in the app: db.SQLITE_BUSY_TIMEOUT_SECONDS)


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "busy.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url, connect_args={"timeout": BUSY_TIMEOUT})
    migrate.upgrade(engine)
    settings = Settings(env="test", data_dir=tmp_path, database_url=url)
    with LiveServer(create_app(settings, engine=engine)) as server:
        yield server, path, engine
    engine.dispose()


def _accounts(engine) -> int:
    with make_session_factory(engine)() as db:
        return db.scalar(select(func.count()).select_from(User)) or 0


def _held_write_lock(path) -> sqlite3.Connection:
    """The write lock, taken as an import takes it and kept until the connection rolls back."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_write_while_an_import_holds_the_lock_is_a_plain_503_and_works_once_it_is_free(site, caplog):
    server, path, engine = site
    email = "busy-evening@example.org"  # the console notifier logs the welcome e-mail: not a planted marker
    password = sentinel("password")
    with httpx.Client(base_url=server.url, headers={"accept": "text/html"}) as browser:
        form = browser.get("/account/sign-up")
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text).group(1)
        holder = _held_write_lock(path)
        try:
            with caplog.at_level(logging.INFO):
                started = time.monotonic()
                page = browser.post("/account/sign-up", follow_redirects=False,
                                    data={"email": email, "password": password, "csrf_token": token})
                waited = time.monotonic() - started
                api = httpx.post(f"{server.url}/api/v1/accounts",
                                 json={"email": "api-" + email, "password": password})
        finally:
            holder.rollback()
            holder.close()

        # The browser: the site's busy page, in plain words: check in a minute, and send it again if need be.
        assert page.status_code == 503 and page.headers["retry-after"] == "60"
        assert page.headers["content-type"].startswith("text/html")
        words = scan(page.text).text
        assert "FusionCare is busy for a moment" in words
        assert "We could not finish this just now. In a minute, check whether it went through" in words
        assert "Something went wrong" not in words
        assert waited >= BUSY_TIMEOUT, "it waited for the lock before giving up"
        # An API client: JSON with a code it can act on.
        assert api.status_code == 503 and api.headers["retry-after"] == "60"
        assert api.json()["code"] == "busy" and "check whether it went through" in api.json()["detail"]
        assert _accounts(engine) == 0, "nothing half-stored"

        # The operator's log: a warning naming the route template and the cause, never the address or an
        # exception's text.
        busy_lines = [r for r in caplog.records if r.name == "fusioncare.errors"]
        assert [r.levelname for r in busy_lines] == ["WARNING", "WARNING"]
        assert "POST /account/sign-up" in busy_lines[0].getMessage()
        assert "POST /api/v1/accounts" in busy_lines[1].getMessage()
        assert all("database busy" in r.getMessage() and "write lock" in r.getMessage()
                   and "locked" not in r.getMessage() for r in busy_lines)

        # The same form sent again once the lock is free: signed up.
        again = browser.post("/account/sign-up", follow_redirects=False,
                             data={"email": email, "password": password, "csrf_token": token})
        assert again.status_code == 303
        assert _accounts(engine) == 1

        # Signed in, opening a health record writes its audit line, so it waits too; its page says to try again.
        holder = _held_write_lock(path)
        try:
            record = browser.get("/recovery")
        finally:
            holder.rollback()
            holder.close()
        assert record.status_code == 503 and record.headers["retry-after"] == "60"
        words = scan(record.text).text
        assert "We could not open this just now. Please try again in a minute." in words
        assert "went through" not in words
        assert browser.get("/recovery").status_code == 200


def test_no_free_database_connection_is_the_same_503(tmp_path, caplog):
    """Requests waiting on the lock hold their pooled connections; the next ones find none free within the pool's
    timeout. That is the same "busy", not a 500."""
    path = tmp_path / "pool.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(make_engine(url))
    engine = make_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=0.3)
    settings = Settings(env="test", data_dir=tmp_path, database_url=url)
    with LiveServer(create_app(settings, engine=engine)) as server, engine.connect():  # the pool's one connection
        with caplog.at_level(logging.INFO):
            api = httpx.post(f"{server.url}/api/v1/accounts",
                             json={"email": "pool@example.org", "password": "a long enough password"})
    engine.dispose()
    assert api.status_code == 503 and api.headers["retry-after"] == "60" and api.json()["code"] == "busy"
    assert any("database busy on POST /api/v1/accounts: no database connection came free" in r.getMessage()
               for r in caplog.records if r.name == "fusioncare.errors")


def test_any_other_database_error_is_still_the_500_page(site):
    """Only the busy lock is 503: a broken database is not "try again in a minute"."""
    server, path, engine = site
    with sqlite3.connect(path) as broken:
        broken.execute("DROP TABLE users")
    response = httpx.post(f"{server.url}/api/v1/accounts",
                          json={"email": "someone@example.org", "password": "a long enough password"})
    assert response.status_code == 500 and "retry-after" not in response.headers
    assert response.json() == {"detail": "Something went wrong on our side. Please try again."}
