"""The national-directory benchmark run end to end at a tiny size: its children's arguments and its report must stay
in step with bench_directory's. A floor child that gained a COLUMNS argument once broke it without any test
noticing; the figures it writes are the evidence for issue 17's targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_a_benchmark_child_reports_its_own_peak_memory_not_its_parents():
    """Linux carries ru_maxrss across fork and exec: a 400-row import child of the full test suite's 1.3 GB process
    reported 1,310 MB. peak_rss_mb reads the running program's own high-water mark."""
    ballast = bytearray(400 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):  # touched, so it is resident
        ballast[i] = 1
    child = subprocess.run([sys.executable, "-c", "from benchmarks import peak_rss_mb; print(peak_rss_mb())"],
                           capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    del ballast
    assert 0 < float(child.stdout) < 200, child.stdout
