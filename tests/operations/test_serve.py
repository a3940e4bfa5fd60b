"""The real `fusioncare serve` process: a SIGTERM lets the request in flight finish and then exits 0; JSON logs are
one object per line; with several workers /metrics adds up every worker's requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fusioncare import migrate
from fusioncare.db import make_engine
from tests.operations.test_metrics import value
from tests.support import _free_port

ASSESSMENT = {"months_since_surgery": 4.0, "fusion_region": "lumbar", "sciatica_before_surgery": True,
              "leg_pain": 6, "back_pain": 3, "trend": "improving", "constant_pain": False,
              "symptoms": [], "treatments_tried": ["physical_therapy"]}


class Serve:
    """`fusioncare serve` on a migrated SQLite file in a temporary data directory; stderr collected."""

    def __init__(self, data_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        database = data_dir / "fusioncare.sqlite3"
        engine = make_engine(f"sqlite:///{database}")
        migrate.upgrade(engine)
        engine.dispose()
        self.env = {**os.environ, "FUSIONCARE_DATA_DIR": str(data_dir), "FUSIONCARE_ENV": "test",
                    "FUSIONCARE_SECRET_KEY": "serve-test-" + "s" * 40, "FUSIONCARE_LOG_LEVEL": "INFO",
                    **(env or {})}
        self.env.pop("FUSIONCARE_DATABASE_URL", None)
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self) -> Serve:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fusioncare.cli", "serve", "--port", str(self.port), "--workers",
             str(self.workers)], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("serve did not answer /healthz")

    def stop(self, *, signalled: bool = False) -> tuple[int, str]:
        """SIGTERM (once: a second one during the shutdown would be a different test) and the exit status."""
        assert self.proc is not None
        if not signalled:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


@pytest.fixture
def serve(tmp_path) -> Iterator:
    started: list[Serve] = []

    def start(**kwargs) -> Serve:
        server = Serve(tmp_path, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.communicate()


def _slow_body(payload: bytes, *, seconds: float, sent_some: threading.Event) -> Iterator[bytes]:
    """The body in small pieces over ``seconds``: a phone on a poor connection."""
    pieces = [payload[i:i + 16] for i in range(0, len(payload), 16)]
    for index, piece in enumerate(pieces):
        yield piece
        if index == 0:
            sent_some.set()
        time.sleep(seconds / len(pieces))


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_then_exits_0_with_json_logs(serve):
    server = serve(env={"FUSIONCARE_LOG_FORMAT": "json"})
    payload = json.dumps(ASSESSMENT).encode()
    sent_some = threading.Event()
    outcome: dict = {}

    def slow_request() -> None:
        with httpx.Client(timeout=30) as client:
            response = client.post(f"{server.url}/api/v1/assessments", headers={
                "content-type": "application/json", "content-length": str(len(payload)),
                "x-request-id": "slow-upload-1"}, content=_slow_body(payload, seconds=2.5, sent_some=sent_some))
            outcome["status"], outcome["body"], outcome["finished"] = (response.status_code, response.json(),
                                                                       time.monotonic())

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert sent_some.wait(10)
    time.sleep(0.3)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    code, stderr = server.stop(signalled=True)

    assert outcome["status"] == 200, outcome
    assert outcome["body"]["urgency"] in {"routine", "soon", "urgent", "emergency", "self_care"}
    assert outcome["finished"] - signalled > 1.0, "the request was still uploading when the signal came"
    assert code == 0, stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/healthz", timeout=2)
    lines = [line for line in stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "fusioncare.access"]
    assert {"request_id": "slow-upload-1", "route": "/api/v1/assessments", "status": 200}.items() <= \
        next(e for e in access if e["request_id"] == "slow-upload-1").items()
    assert any(e["logger"].startswith("uvicorn") for e in entries), "uvicorn's own lines are JSON too"
    assert not any("/healthz" in e["message"] for e in entries)


@pytest.mark.slow
def test_with_two_workers_metrics_add_up_every_workers_requests_and_the_process_exits_0(serve):
    server = serve(workers=2)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(40):
            assert client.get("/api/v1/providers/1234567893", headers={"connection": "close"}).status_code == 404
        scrapes = [client.get("/metrics", headers={"connection": "close"}).text for _ in range(6)]
    counts = {value(text, "fusioncare_http_requests_total", method="GET", route="/api/v1/providers/{npi}",
                    status_class="4xx") for text in scrapes}
    assert counts == {40.0}, "whichever worker answers, it reports the sum of both"
    code, stderr = server.stop()
    assert code == 0, stderr
