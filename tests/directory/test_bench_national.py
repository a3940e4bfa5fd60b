"""The national-directory benchmark run end to end at a tiny size: its children's arguments and its report must stay
in step with bench_directory's. A floor child that gained a COLUMNS argument once broke it without any test
noticing; the figures it writes are the evidence for issue 17's targets."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import text

from benchmarks import bench_national
from benchmarks.bench_directory import _postgres_schema_url
from fusioncare.db import make_engine
from fusioncare.settings import normalise_database_url


def _schemas(url: str) -> set[str]:
    engine = make_engine(normalise_database_url(url))
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT schema_name FROM information_schema.schemata")).scalars())
    finally:
        engine.dispose()


def test_bench_national_reports_both_floors_both_scopes_and_search_and_leaves_no_schema(tmp_path, monkeypatch):
    url = os.environ.get("FUSIONCARE_TEST_DATABASE_URL")
    if not url:
        pytest.skip("bench_national imports into PostgreSQL: FUSIONCARE_TEST_DATABASE_URL is unset")
    monkeypatch.setattr(bench_national, "OUT", tmp_path)
    created: list[str] = []  # the benchmark's own schemas (others' benchmarks may share this PostgreSQL)

    def schema_url(base: str) -> tuple[str, str]:
        url_and_schema = _postgres_schema_url(base)
        created.append(url_and_schema[1])
        return url_and_schema

    monkeypatch.setattr(bench_national, "_postgres_schema_url", schema_url)

    bench_national.main(["--rows", "400", "--queries", "5", "--postgres-url", url])

    result = json.loads((tmp_path / "bench_national_400.json").read_text())
    default, everyone = result["imports"]["default"], result["imports"]["all"]
    for scope in (default, everyone):
        assert scope["report"]["rows"] == 400
        assert scope["import_s"] > 0 and scope["import_vs_floor"] > 0 and scope["import_vs_all_columns_floor"] > 0
        assert 0 < scope["peak_rss_mb"] < 1000
    # Every taxonomy keeps more providers than the default scope, and the default scope keeps some.
    assert 0 < default["report"]["imported"] < everyone["report"]["imported"]
    assert result["search_http"]["n"] == 5 and result["search_http"]["p95_ms"] > 0
    assert len(created) == 2 and not set(created) & _schemas(url)
