"""A real PostgreSQL primary and streaming standby on this machine, for the replica test and the scale benchmark.

Made with initdb, pg_basebackup -R and pg_ctl in a temporary directory, on free loopback ports, run as the
``postgres`` OS user when we are root (PostgreSQL refuses to run as root); both servers log every statement to
their own file, so a test can see which server ran what. Stopped and removed on exit.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import _free_port


def server_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server programs (Debian's /usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_basebackup")
    if on_path and shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(on_path).parent
    return None


class ReplicatedCluster:
    """``with ReplicatedCluster() as cluster:`` -> cluster.primary_url, cluster.standby_url (SQLAlchemy URLs)."""

    def __init__(self, *, log_statements: bool = True, settings: dict[str, str] | None = None) -> None:
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed")
        self.bin = bin_dir
        self.log_statements = log_statements
        self.settings = settings or {}
        self.primary_port, self.standby_port = _free_port(), _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fusioncare-pg-"))
        self.primary_dir, self.standby_dir = self.root / "primary", self.root / "standby"
        self.primary_log, self.standby_log = self.root / "primary.log", self.root / "standby.log"
        self.started: list[Path] = []

    # -- running the server programs as postgres ------------------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def _configure(self, data_dir: Path, port: int) -> None:
        lines = {
            "port": str(port), "listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.root}'",
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",  # throwaway servers
            "max_connections": "200", "log_line_prefix": "'%m [%p] '",
            "log_statement": "'all'" if self.log_statements else "'none'", **self.settings,
        }
        with (data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in lines.items())

    def start(self) -> ReplicatedCluster:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self._configure(self.primary_dir, self.primary_port)
        self._run("pg_ctl", "-D", str(self.primary_dir), "-l", str(self.primary_log), "-w", "start")
        self.started.append(self.primary_dir)
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                  "-D", str(self.standby_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        with (self.standby_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
        self._run("pg_ctl", "-D", str(self.standby_dir), "-l", str(self.standby_log), "-w", "start")
        self.started.append(self.standby_dir)
        return self

    def stop(self) -> None:
        for data_dir in reversed(self.started):
            try:
                self._run("pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop", timeout=60)
        self.started.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ReplicatedCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what happened ---------------------------------------------------------------------------------------------

    def wait_for_replay(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        import psycopg

        with psycopg.connect(self.primary_url.replace("+psycopg", ""), autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.standby_url.replace("+psycopg", ""), autocommit=True) as standby:
            while time.monotonic() < deadline:
                behind = standby.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())",
                                         (target,)).fetchone()[0]
                if behind is not None and behind <= 0:
                    return
                time.sleep(0.05)
        raise TimeoutError("the standby did not catch up")

    def log_marks(self) -> tuple[int, int]:
        return self.primary_log.stat().st_size, self.standby_log.stat().st_size

    def statements_since(self, marks: tuple[int, int]) -> tuple[str, str]:
        """(primary's log, standby's log) written since ``marks``."""
        texts = []
        for path, mark in zip((self.primary_log, self.standby_log), marks, strict=True):
            with path.open("rb") as f:
                f.seek(mark)
                texts.append(f.read().decode("utf-8", "replace"))
        return texts[0], texts[1]
