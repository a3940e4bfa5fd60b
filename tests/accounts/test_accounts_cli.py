"""`fusioncare create-admin` and the demo accounts, through the real CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fusioncare.accounts.models import User
from fusioncare.cli import app as cli_app


@pytest.fixture
def cli_env(clean_engine, monkeypatch, tmp_path):
    from fusioncare.settings import get_settings

    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", clean_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("FUSIONCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FUSIONCARE_ENV", "development")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_create_admin_reads_the_password_from_stdin(cli_env, db, client):
    result = CliRunner().invoke(cli_app, ["create-admin", "Boss@Example.org"], input="a long admin password\n")
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User.role).where(User.email == "boss@example.org")) == "admin"
    token = client.post("/api/v1/tokens", json={"email": "boss@example.org", "password": "a long admin password"})
    assert client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
                      ).status_code == 200


def test_create_admin_refuses_a_weak_password_with_exit_2(cli_env, db):
    result = CliRunner().invoke(cli_app, ["create-admin", "boss@example.org"], input="password1\n")
    assert result.exit_code == 2
    assert "password: must be at least 10 characters long" in result.output
    assert db.scalars(select(User)).all() == []


def test_create_admin_for_an_existing_account_exits_1(cli_env):
    runner = CliRunner()
    assert runner.invoke(cli_app, ["create-admin", "boss@example.org"], input="a long admin password\n").exit_code == 0
    again = runner.invoke(cli_app, ["create-admin", "boss@example.org"], input="a long admin password\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_demo_loader_creates_a_patient_and_an_admin_once_and_prints_their_credentials(cli_env, db):
    runner = CliRunner()
    first = runner.invoke(cli_app, ["demo"])
    second = runner.invoke(cli_app, ["demo"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "patient@demo.fusioncare.test / demo-patient-sciatica-2026" in first.output
    roles = sorted(db.scalars(select(User.role).where(User.role != "provider")).all())
    assert roles == ["admin", "patient"]
    # Scheduling's demo gives each demo provider a verified account (dr.<NPI>@demo.fusioncare.test).
    assert all(email.startswith("dr.") and email.endswith("@demo.fusioncare.test")
               for email in db.scalars(select(User.email).where(User.role == "provider")))


def test_demo_accounts_are_not_created_outside_development(cli_env, db, monkeypatch):
    from fusioncare.settings import get_settings

    monkeypatch.setenv("FUSIONCARE_ENV", "test")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["demo"])
    assert result.exit_code == 0 and "only created when FUSIONCARE_ENV=development" in result.output
    assert db.scalars(select(User)).all() == []


def test_demo_while_an_import_runs_says_so_in_one_line_and_loads_afterwards(cli_env, db):
    from fusioncare.directory import imports

    with imports.one_at_a_time(db, "nppes"):  # an import-nppes is running
        refused = CliRunner().invoke(cli_app, ["demo"])
    after = CliRunner().invoke(cli_app, ["demo"])

    assert refused.exit_code == 1, refused.output
    last = refused.stderr.strip().splitlines()[-1]  # after what the demo had loaded before its first import
    assert last.startswith("error Another ") and "nothing was imported" in last, refused.stderr
    assert "Traceback" not in refused.output
    assert after.exit_code == 0, after.output
    assert "patient@demo.fusioncare.test" in after.output
