"""Test support: the real app served over real HTTP, in a background thread or in its own killable process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ServerProcess:
    """`uvicorn fusioncare.main:create_app --workers N` on a database URL, in its own process group.

    Its own process group lets ``kill9`` take the whole server (supervisor and workers) down at once, the way a
    crash or an OOM kill would; ``start`` again serves the same database on the same port. Used by the crash test
    (tests/scheduling/test_crash.py) and the booking benchmark.
    """

    def __init__(self, database_url: str, *, workers: int = 1) -> None:
        self.database_url, self.workers, self.port = database_url, workers, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ServerProcess:
        env = {**os.environ, "FUSIONCARE_DATABASE_URL": self.database_url, "FUSIONCARE_ENV": "test",
               "FUSIONCARE_SECRET_KEY": "server-process-" + "k" * 40, "FUSIONCARE_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "fusioncare.main:create_app", "--factory",
                                      "--host", "127.0.0.1", "--port", str(self.port), "--workers",
                                      str(self.workers), "--log-level", "warning"], env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.proc.returncode} while starting")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /api/v1/health within {timeout} s")

    def kill9(self) -> None:
        """SIGKILL to the whole process group: no shutdown handlers, no rollbacks, open connections just drop."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def browser_sign_in(page, base: str, email: str, password: str, next_path: str) -> None:
    """Sign in through the real sign-in page in Chromium and land on ``next_path``."""
    page.goto(f"{base}/account/sign-in?next={next_path}")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
