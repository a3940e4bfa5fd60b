"""Shared fixtures: real databases (SQLite always, PostgreSQL when FUSIONCARE_TEST_DATABASE_URL is set),
the real app in-process and over real HTTP, and real headless Chromium."""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from fusioncare import migrate
from fusioncare.db import Base, make_engine, make_session_factory
from fusioncare.main import create_app
from fusioncare.settings import Settings, normalise_database_url
from tests.support import SENTINEL, SERVER_LOGS, LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# ---- log sentinel: no marker the tests plant in health fields or secrets may ever reach a log line -------------------

# Client-side libraries log the URLs the tests request; they are the test's own lines, not the server's.
_CLIENT_LOGGERS = ("httpx", "httpcore", "hpack", "playwright", "hypothesis", "schemathesis", "urllib3", "asyncio")


class SentinelHandler(logging.Handler):
    """On the root logger for the whole run: every record is formatted (traceback included) and searched."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.hits: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in _CLIENT_LOGGERS:
            return
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted cannot leak a marker either
            return
        if SENTINEL in line:
            self.hits.append(line)


SENTINEL_HANDLER = SentinelHandler()
logging.getLogger().addHandler(SENTINEL_HANDLER)
# Everything FusionCare logs, down to DEBUG (access lines included); uvicorn's loggers are set by the servers.
logging.getLogger("fusioncare").setLevel(logging.DEBUG)


def _server_log_hits() -> list[str]:
    hits = []
    for path in SERVER_LOGS:
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                hits += [f"{path}: {line.rstrip()}" for line in log if SENTINEL in line]
        except FileNotFoundError:
            continue
    return hits


@pytest.fixture(autouse=True)
def no_planted_marker_in_the_logs():
    """Fail the test during whose run a planted marker reached a log record or a server's output."""
    before_records, before_servers = len(SENTINEL_HANDLER.hits), len(_server_log_hits())
    yield
    leaked = SENTINEL_HANDLER.hits[before_records:] + _server_log_hits()[before_servers:]
    assert not leaked, "a planted health value or secret reached the logs:\n" + "\n".join(leaked[:5])


def pytest_sessionfinish(session, exitstatus):
    """The whole run fails if any marker reached any log line, also outside a test (server shutdown, teardown)."""
    leaked = SENTINEL_HANDLER.hits + _server_log_hits()
    if leaked:
        print("\n\nLOG SENTINEL: planted health values or secrets reached the logs:\n" + "\n".join(leaked[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    for path in SERVER_LOGS:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("FUSIONCARE_TEST_DATABASE_URL"):
        backends.append("postgresql")
    return backends


# A fresh seed per run for the schema-driven fuzzing (tests/accounts/test_openapi_conformance.py): new examples each
# run; FUSIONCARE_FUZZ_SEED=<seed> replays a run's.
FUZZ_SEED = int(os.environ.get("FUSIONCARE_FUZZ_SEED") or secrets.randbelow(2**32))


# ---- no silent skips: a run without PostgreSQL says so, and in CI it is not a run at all ----------------------------

POSTGRES_UNTESTED = ("PostgreSQL was NOT tested: FUSIONCARE_TEST_DATABASE_URL is unset, so the database tests ran "
                     "on SQLite only")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config):
    """In CI (CI=true) the PostgreSQL half of the suite is required: no URL, or a server that does not answer,
    stops the run before any test instead of leaving the SQLite half to pass alone."""
    if not _in_ci():
        return
    url = os.environ.get("FUSIONCARE_TEST_DATABASE_URL")
    if not url:
        raise pytest.UsageError("CI=true but FUSIONCARE_TEST_DATABASE_URL is unset: CI must test PostgreSQL too "
                                "(set it, e.g. postgresql://postgres@127.0.0.1:5432/test)")
    url = normalise_database_url(url)
    timeout = {"connect_timeout": 10} if make_url(url).get_backend_name() == "postgresql" else {}
    engine = make_engine(url, connect_args=timeout)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach it is the same verdict; its type says which
        raise pytest.UsageError(f"CI=true but the PostgreSQL of FUSIONCARE_TEST_DATABASE_URL does not answer "
                                f"({type(exc).__name__}): the run stops rather than test SQLite alone") from None
    finally:
        engine.dispose()


def pytest_report_header(config):
    lines = [] if "postgresql" in _backends() else [POSTGRES_UNTESTED]
    return [*lines, f"OpenAPI fuzzing seed of this run: FUSIONCARE_FUZZ_SEED={FUZZ_SEED}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if "postgresql" not in _backends():
        terminalreporter.write_sep("!", POSTGRES_UNTESTED, yellow=True, bold=True)


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[Engine]:
    """A freshly migrated database of the backend: an SQLite file in ``directory``, or a private schema in
    FUSIONCARE_TEST_DATABASE_URL's PostgreSQL (so concurrent runs never collide), dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{directory / 'test.sqlite3'}")
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
        return
    base_url = normalise_database_url(os.environ["FUSIONCARE_TEST_DATABASE_URL"])
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=_backends())
def db_engine(request, tmp_path_factory) -> Iterator[Engine]:
    """A migrated database per backend for the whole run."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as engine:
        yield engine


def wipe(engine: Engine) -> None:
    """Empty every table, children first, so each test starts from a clean database."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if not tables:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def clean_engine(db_engine: Engine) -> Iterator[Engine]:
    wipe(db_engine)
    yield db_engine
    wipe(db_engine)


@pytest.fixture
def db(clean_engine: Engine) -> Iterator[Session]:
    session = make_session_factory(clean_engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def settings(clean_engine: Engine, tmp_path: Path) -> Settings:
    # The outbox worker thread stays off: tests that need e-mails sent run it (or send_due) themselves.
    return Settings(env="test", database_url=clean_engine.url.render_as_string(hide_password=False),
                    data_dir=tmp_path, secret_key="test-secret-key-" + "x" * 32, outbox_worker="off")


@pytest.fixture
def app(settings: Settings, clean_engine: Engine):
    return create_app(settings, engine=clean_engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; the Makefile installs it, nothing is downloaded."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def diary_entry(db: Session):
    """diary_entry(person) -> id of a diary entry that person saved (for the IDOR matrix)."""
    import datetime as dt

    from fusioncare.accounts.audit import Actor
    from fusioncare.recovery import service as recovery
    from fusioncare.recovery.schemas import DiaryEntryCreate

    def make(person) -> str:
        data = DiaryEntryCreate(date=dt.date(2026, 3, 2), leg_pain=6, back_pain=3)
        return recovery.save_entry(db, actor=Actor.of(person.user, "test"), data=data)[0].id

    return make


@pytest.fixture
def questionnaire_response(db: Session):
    """questionnaire_response(person) -> id of an ODI that person completed (for the IDOR matrix)."""
    from fusioncare.accounts.audit import Actor
    from fusioncare.recovery import service as recovery
    from fusioncare.recovery.schemas import QuestionnaireCreate

    def make(person) -> str:
        data = QuestionnaireCreate(instrument="odi", answers=[2, 1, 2, 1, 2, 1, 2, 1, 2, 2])
        return recovery.save_questionnaire(db, actor=Actor.of(person.user, "test"), data=data).id

    return make


SHARED_NPI_NINE = "170000025"  # the chosen provider of the recovery_share fixture (check digit added)


@pytest.fixture
def recovery_share(db: Session, tmp_path):
    """recovery_share(person) -> id of that person's share of their recovery record (diary entry and ODI
    included) with a verified directory provider, whose account is dr<NPI>@example.org (for the IDOR matrix)."""
    from fusioncare.accounts.audit import Actor
    from fusioncare.directory.npi import with_check_digit
    from fusioncare.recovery import sharing
    from tests.scheduling.builders import bookable_provider

    npi = with_check_digit(SHARED_NPI_NINE)
    bookable_provider(db, tmp_path, npi)

    def make(person) -> str:
        return sharing.share(db, actor=Actor.of(person.user, "test"), npi=npi)[0].id

    return make
