"""The foundation: migrations, health over real HTTP, error shapes, the CLI's init."""

import httpx
from sqlalchemy import inspect
from typer.testing import CliRunner

from fusioncare import migrate
from fusioncare.cli import app as cli_app


def test_init_is_idempotent_and_reaches_the_newest_revision(db_engine):
    before = migrate.current_revisions(db_engine)
    migrate.upgrade(db_engine)
    assert migrate.current_revisions(db_engine) == before
    assert before, "the test database should be migrated"
    assert "alembic_version" in inspect(db_engine).get_table_names()


def test_health_answers_over_real_http(live_server):
    response = httpx.get(f"{live_server.url}/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_cli_init_creates_a_sqlite_database_from_the_environment(tmp_path, monkeypatch):
    from fusioncare.settings import get_settings

    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli_app, ["init"])
        second = runner.invoke(cli_app, ["init"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert (tmp_path / "fresh.sqlite3").exists()
    assert "Database ready" in first.output
