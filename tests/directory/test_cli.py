"""The search-providers and generate-nppes commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fusioncare.cli import app as cli_app
from fusioncare.settings import get_settings
from tests.directory.nppes_files import make_npi, provider_row


@pytest.fixture
def cli(clean_engine, monkeypatch):
    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", clean_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_search_providers_prints_the_api_shape_as_json(cli, nppes_file, run_import):
    run_import(nppes_file([provider_row(make_npi(1), postal="10011"), provider_row(make_npi(2), postal="10001")]))

    result = cli("search-providers", "--specialty", "primary_care", "--near", "10001", "--radius-miles", "5",
                 "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["total"] == 2 and [r["npi"] for r in body["results"]] == [make_npi(2), make_npi(1)]


@pytest.mark.parametrize(("args", "message"), [
    (["--specialty", "surgeon", "--near", "10001"], "specialty"),
    (["--specialty", "pain_medicine", "--near", "00000"], "near: 00000 is not a US ZIP code we know"),
    (["--specialty", "pain_medicine", "--near", "10001", "--radius-miles", "250"], "radius_miles"),
    (["--specialty", "pain_medicine", "--near", "north"], "near"),
])
def test_bad_search_input_exits_2_naming_the_field(cli, args, message):
    result = cli("search-providers", *args, "--json")
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_generate_then_import_with_demo_marks_everything_as_demo(cli, tmp_path, db):
    out = tmp_path / "npidata_pfile_demo.csv"
    assert cli("generate-nppes", "--rows", "500", "--seed", "4", "--out", str(out)).exit_code == 0
    result = cli("import-nppes", str(out), "--demo", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 500 and report["imported"] > 100

    from sqlalchemy import func, select

    from fusioncare.directory.models import Provider

    assert db.scalar(select(func.count()).where(Provider.is_demo.is_(False))) == 0
