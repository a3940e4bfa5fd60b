"""The suite never drops PostgreSQL silently: a run without it says so in its summary, and in CI (CI=true) a
PostgreSQL that is not configured or does not answer fails the run, in pytest and in .ci/run alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# One quick test that needs a database: enough for the suite's start and its summary.
ONE_TEST = "tests/foundation/test_foundation.py::test_unknown_api_path_is_a_json_404"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"  # port 1: nothing listens there


def _pytest(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "FUSIONCARE_TEST_DATABASE_URL")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST],
                          cwd=ROOT, env={**clean, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True,
                          timeout=300)


def test_a_run_without_postgresql_says_in_its_summary_that_postgresql_was_not_tested():
    run = _pytest()
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()
    assert "PostgreSQL was NOT tested: FUSIONCARE_TEST_DATABASE_URL is unset" in "\n".join(summary[-3:])
    assert summary[-1].startswith("1 passed"), summary[-1]


def test_in_ci_a_run_without_a_postgresql_url_fails_before_any_test():
    run = _pytest(CI="true")
    assert run.returncode == 4, run.stdout + run.stderr  # pytest's usage error: nothing ran
    assert "CI=true but FUSIONCARE_TEST_DATABASE_URL is unset" in run.stderr
    assert "passed" not in run.stdout


def test_in_ci_a_postgresql_that_does_not_answer_fails_the_run():
    run = _pytest(CI="true", FUSIONCARE_TEST_DATABASE_URL=UNREACHABLE)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "CI=true but the PostgreSQL of FUSIONCARE_TEST_DATABASE_URL does not answer" in run.stderr
    assert "passed" not in run.stdout


def test_ci_run_fails_when_postgresql_does_not_answer_instead_of_testing_sqlite_alone():
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "FUSIONCARE_TEST_DATABASE_URL")}
    env = {**clean, "CI": "true", "FUSIONCARE_CI_PG_PORT": "1", "FUSIONCARE_CI_PG_WAIT_SECONDS": "0"}
    run = subprocess.run(["bash", str(ROOT / ".ci" / "run")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "CI=true but no PostgreSQL answers on 127.0.0.1:1" in run.stderr
    assert "make" not in run.stdout, "the suite must not start"
