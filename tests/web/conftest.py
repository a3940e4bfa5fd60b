"""Browser-test server for the pages: one real uvicorn server per module on SQLite (the TestClient tests cover
both databases), with its access log and every other log record captured so tests can look for leaks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from fusioncare import migrate
from fusioncare.db import make_engine
from fusioncare.main import create_app
from fusioncare.settings import Settings
from tests.accounts.conftest import cheap_password_hashing, make_person  # noqa: F401  (fixtures re-used)
from tests.support import LiveServer


class LogLines(logging.Handler):
    """Every record, formatted the way it would be written, access lines included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("pages")
    settings = Settings(env="test", data_dir=folder, database_url=f"sqlite:///{folder / 'pages.sqlite3'}")
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    server = LiveServer(create_app(settings, engine=engine))
    # uvicorn's own access log, as a deployment writes it (LiveServer keeps it quiet by default).
    server.server = uvicorn.Server(uvicorn.Config(server.server.config.app, host="127.0.0.1", port=server.port,
                                                  log_level="info", access_log=True))
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    with server:
        capture = LogLines()
        watched = [logging.getLogger(), logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")]
        for logger in watched:
            logger.addHandler(capture)
        server.log = capture  # type: ignore[attr-defined]
        server.engine = engine  # type: ignore[attr-defined]
        yield server
        for logger in watched:
            logger.removeHandler(capture)
    engine.dispose()
