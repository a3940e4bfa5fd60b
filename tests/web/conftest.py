"""Browser-test server for the pages: the questionnaire and articles never touch the database, so Chromium
runs once against one real server per module instead of once per database backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fusioncare import migrate
from fusioncare.db import make_engine
from fusioncare.main import create_app
from fusioncare.settings import Settings
from tests.support import LiveServer


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("pages")
    settings = Settings(env="test", data_dir=folder, database_url=f"sqlite:///{folder / 'pages.sqlite3'}")
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    with LiveServer(create_app(settings, engine=engine)) as server:
        yield server
    engine.dispose()
