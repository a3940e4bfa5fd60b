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

# ---- the log sentinel -----------------------------------------------------------------------------------------------
# Tests plant these markers in health fields and secrets they submit (diary notes, medications, passwords, tokens);
# tests/conftest.py captures every log record (and the output of every ServerProcess) and fails the run if a marker
# ever shows up there. Lower-case letters, digits and hyphens only, so URL-encoding or lower-casing keeps it intact.
SENTINEL = "zq-sentinel-"


def sentinel(label: str) -> str:
    """A unique marker naming what it was planted in, e.g. sentinel('note') -> 'zq-sentinel-note-3f9a1c2b'."""
    import uuid

    return f"{SENTINEL}{label}-{uuid.uuid4().hex[:8]}"


SERVER_LOGS: list[str] = []  # paths of ServerProcess output files, scanned at the end of the run


# ---- screenshots ----------------------------------------------------------------------------------------------------
# For people to look at, never compared by a test, so they are kept out of the repository: every run writes them to
# FUSIONCARE_SCREENSHOT_DIR, or to tests/.screenshots/ (ignored by git).
def screenshot_dir() -> str:
    return os.environ.get("FUSIONCARE_SCREENSHOT_DIR") or os.path.join(os.path.dirname(__file__), ".screenshots")


def page_screenshot(page, area: str, name: str) -> None:
    """AREA/NAME-WIDTH.png of the whole page under screenshot_dir()."""
    folder = os.path.join(screenshot_dir(), area)
    os.makedirs(folder, exist_ok=True)
    page.screenshot(path=os.path.join(folder, f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def fire_together(count: int, attempt) -> list:
    """Run ``attempt(index)`` in ``count`` threads released at the same instant; the results in index order."""
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count)

    def run(index: int):
        barrier.wait()
        return attempt(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


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
        # log_config=None: uvicorn's records (its access log included) reach the root logger, where the suite's log
        # sentinel sees them; proxy headers off, as `fusioncare serve` runs it (the app trusts only configured proxies).
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                    log_level="info", proxy_headers=False))
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
    """`fusioncare serve --workers N` (the production entry point) on a database URL, in its own process group.

    Its own process group lets ``kill9`` take the whole server (supervisor and workers) down at once, the way a
    crash or an OOM kill would; ``start`` again serves the same database on the same port. Used by the crash test
    (tests/scheduling/test_crash.py), the cross-process security tests and the booking benchmark. Its output (the
    access log included, at INFO) goes to a file that the log sentinel in tests/conftest.py scans.
    """

    def __init__(self, database_url: str, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        import tempfile

        self.database_url, self.workers, self.port = database_url, workers, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = tempfile.NamedTemporaryFile(prefix="fusioncare-server-", suffix=".log", delete=False).name
        SERVER_LOGS.append(self.log_path)

    def start(self, timeout: float = 60) -> ServerProcess:
        env = {**os.environ, "FUSIONCARE_DATABASE_URL": self.database_url, "FUSIONCARE_ENV": "test",
               "FUSIONCARE_SECRET_KEY": "server-process-" + "k" * 40, "FUSIONCARE_LOG_LEVEL": "INFO",
               **self.extra_env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "fusioncare.cli", "serve", "--host", "127.0.0.1",
                                          "--port", str(self.port), "--workers", str(self.workers)],
                                         env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
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

    def output(self) -> str:
        """Everything the server printed so far (access log, errors)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

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

