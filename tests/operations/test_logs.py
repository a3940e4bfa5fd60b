"""Request ids (from a safe X-Request-ID or generated) in the answer and in every log line of the request; the
JSON format is one object per line; neither query strings nor exception messages reach a line."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from fastapi.testclient import TestClient

from fusioncare.main import create_app
from fusioncare.operations.logs import JsonFormatter, RequestContext, TextFormatter, current_request

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def logging_app(settings, clean_engine):
    """The real app plus two routes that log, one sync (run in a worker thread) and one async."""
    app = create_app(settings.model_copy(update={"log_format": "json"}), engine=clean_engine)
    log = logging.getLogger("fusioncare.test")

    @app.get("/test-logs/sync/{item_id}")
    def sync_route(item_id: int) -> dict:
        log.info("sync work on one item")
        return {"ok": True}

    @app.get("/test-logs/async")
    async def async_route() -> dict:
        log.warning("async work")
        return {"ok": True}

    return app


def _ours(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("fusioncare")]


def test_a_safe_request_id_is_echoed_and_carried_into_every_line_of_the_request(logging_app, caplog):
    with TestClient(logging_app) as client, caplog.at_level(logging.INFO):
        sync = client.get("/test-logs/sync/42?token=do-not-log-me", headers={"X-Request-ID": "req-7.a_B"})
        asynchronous = client.get("/test-logs/async", headers={"X-Request-ID": "other-id"})
    assert sync.headers["x-request-id"] == "req-7.a_B"
    assert asynchronous.headers["x-request-id"] == "other-id"
    by_id: dict[str, list[str]] = {}
    for record in _ours(caplog):
        by_id.setdefault(record.request_id, []).append(record.getMessage())
    assert by_id["req-7.a_B"] == ["sync work on one item", by_id["req-7.a_B"][1]]
    assert by_id["req-7.a_B"][1].startswith("GET /test-logs/sync/{item_id} 200 ")
    assert by_id["other-id"][0] == "async work"
    formatted = "\n".join(JsonFormatter().format(r) for r in _ours(caplog))  # (httpx logs its own client URL)
    assert "do-not-log-me" not in formatted and "/42" not in formatted


@pytest.mark.parametrize("header", ["has space", "quote\"d", "x" * 65, "../etc", "", "new\nline", "é"])
def test_an_unsafe_or_long_request_id_is_replaced_by_a_generated_one(logging_app, header):
    with TestClient(logging_app) as client:
        response = client.get("/test-logs/async", headers={"X-Request-ID": header.encode("utf-8")})
    assert HEX32.fullmatch(response.headers["x-request-id"])


def test_without_a_header_every_request_gets_its_own_id(logging_app):
    with TestClient(logging_app) as client:
        ids = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(HEX32.fullmatch(i) for i in ids)


def test_even_an_answer_from_the_size_limit_carries_the_request_id(logging_app):
    with TestClient(logging_app) as client:
        response = client.post("/api/v1/assessments", content=b"x" * 2_000_000, headers={"X-Request-ID": "big-1"})
    assert response.status_code == 413 and response.headers["x-request-id"] == "big-1"


def test_the_json_format_is_one_object_per_line_with_the_request_fields(logging_app, caplog):
    with TestClient(logging_app) as client, caplog.at_level(logging.INFO):
        client.get("/test-logs/sync/7", headers={"X-Request-ID": "json-1"})
    access = next(r for r in caplog.records if r.name == "fusioncare.access")
    line = JsonFormatter().format(access)
    assert "\n" not in line
    entry = json.loads(line)
    assert set(entry) == {"time", "level", "logger", "message", "request_id", "route", "method", "status",
                          "duration_ms"}
    assert entry["request_id"] == "json-1" and entry["route"] == "/test-logs/sync/{item_id}"
    assert entry["status"] == 200 and entry["level"] == "INFO" and entry["logger"] == "fusioncare.access"
    assert entry["time"].endswith("+00:00") and isinstance(entry["duration_ms"], float)
    work = json.loads(JsonFormatter().format(next(r for r in caplog.records if r.name == "fusioncare.test")))
    assert work["route"] == "/test-logs/sync/{item_id}" and work["request_id"] == "json-1"


def test_an_exception_is_logged_as_its_type_and_places_never_its_message():
    token = current_request.set(RequestContext(request_id="err-1", method="GET", route="/x"))
    try:
        try:
            raise ValueError("diary note: numb saddle area, patient@example.org")
        except ValueError:
            record = logging.getLogger("fusioncare.test").makeRecord(
                "fusioncare.test", logging.ERROR, __file__, 1, "request failed", (), sys.exc_info())
    finally:
        current_request.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "numb" not in line and "example.org" not in line
    entry = json.loads(line)
    assert entry["exception"]["type"] == "builtins.ValueError" and "test_logs.py" in entry["exception"]["where"]
    assert entry["request_id"] == "err-1" and entry["route"] == "/x"


def test_the_text_format_gives_an_exception_as_its_type_and_places_never_its_message():
    """The default format, used by the outbox worker's and the e-mail sender's log.exception too."""
    try:
        try:
            raise ConnectionError("could not send the reminder to patient@example.org: numb saddle area")
        except ConnectionError as inner:
            raise RuntimeError("the outbox failed on message 7: numb saddle area") from inner
    except RuntimeError:
        record = logging.getLogger("fusioncare.test").makeRecord(
            "fusioncare.test", logging.ERROR, __file__, 1, "the outbox worker could not read the outbox", (),
            sys.exc_info())
    record.request_id = None

    text = TextFormatter().format(record)

    assert "numb" not in text and "example.org" not in text and "Traceback" not in text
    first, second = text.splitlines()
    assert first.endswith("ERROR fusioncare.test [None] the outbox worker could not read the outbox")
    assert second.startswith("  builtins.RuntimeError at ") and "test_logs.py" in second
