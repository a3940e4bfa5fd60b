"""The `fusioncare` command run as an operator runs it (the installed console script, in its own process): a
database that does not answer or a path the system refuses is one line naming it, exit 1, never a traceback and
never the password."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

FUSIONCARE = Path(sys.executable).parent / "fusioncare"


def _run(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FUSIONCARE_DATABASE_URL": database_url, "COLUMNS": "80"}
    return subprocess.run([str(FUSIONCARE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [("init",), ("import-nppes", "npidata.csv"), ("demo",)])
def test_a_postgresql_that_does_not_answer_is_one_line_naming_it_without_the_password(tmp_path, command):
    (tmp_path / "npidata.csv").write_text("NPI\n", encoding="utf-8")
    port = _closed_port()
    done = _run(*command, database_url=f"postgresql://fusioncare:pw-zq-secret@127.0.0.1:{port}/nope", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"error the database postgresql+psycopg://fusioncare:***@127.0.0.1:{port}/nope did not answer or refused "
        f'the work (connection failed: connection to server at "127.0.0.1", port {port} failed: Connection '
        f"refused); check FUSIONCARE_DATABASE_URL and that the database server runs"]
    assert "pw-zq-secret" not in done.stdout + done.stderr


def test_an_sqlite_file_whose_directory_cannot_be_made_is_one_line_naming_it(tmp_path):
    (tmp_path / "plain-file").write_text("not a directory", encoding="utf-8")
    database = tmp_path / "plain-file" / "data" / "fusioncare.sqlite3"

    done = _run("init", database_url=f"sqlite:///{database}", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [f"error Not a directory: {tmp_path / 'plain-file' / 'data'}"]
