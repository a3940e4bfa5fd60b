"""Log lines that tie together: a request id per request (from X-Request-ID or generated), carried into every
record logged while serving it, and an optional JSON format (one object per line).

Nothing here adds request content to a log: the id is validated (short, safe characters) before it is trusted,
the route is the template (``/api/v1/providers/{npi}``), never the path with its values or the query string.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusioncare import observability
from fusioncare.observability import route_template
from fusioncare.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
# Short and inert: no spaces, quotes, newlines or separators a log parser could trip on.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
UNMATCHED = "unmatched"


@dataclass
class RequestContext:
    """What every log record of one request may say about it."""

    request_id: str
    method: str
    route: str = UNMATCHED
    status: int | None = None
    started: float = field(default_factory=time.perf_counter)


current_request: ContextVar[RequestContext | None] = ContextVar("fusioncare_request", default=None)


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is short and safe, else a fresh random one."""
    for key, value in headers:
        if key == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if REQUEST_ID_PATTERN.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Pure ASGI, outermost: sets the request's context (so every line logged while serving it, the access line of
    fusioncare.observability included, carries its id), answers with its X-Request-ID, and at the end hands the
    route template, status and duration to the observers (the metrics)."""

    def __init__(self, app: ASGIApp, *, observers: list | None = None) -> None:
        self.app = app
        self.observers = observers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id=request_id_from(scope["headers"]), method=scope["method"])
        token = current_request.set(context)
        context.route = route_template(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER.encode(), context.request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            context.status = context.status or 500
            raise
        finally:
            duration = time.perf_counter() - context.started
            status = context.status or 500  # the client went away before any answer
            for observe in self.observers:
                observe(context, status, duration)
            current_request.reset(token)


# -- records and formats ------------------------------------------------------------------------------------------

_factory_installed = False


def _install_record_factory() -> None:
    """Every record gets ``request_id`` and ``request_route`` (None outside a request) when it is made, in
    whichever thread (sync routes run in worker threads that carry the request's context)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = current_request.get()
        record.request_id = context.request_id if context else None
        record.request_route = context.route if context else None
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def exception_summary(exc_info: Any) -> dict[str, str]:
    """Exception types and code locations only: an exception's message can hold a statement's values."""
    _, exc, tb = exc_info
    frames = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)[-8:])
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}", "where": frames}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and route, status, duration_ms when the
    record is about a request."""

    EXTRA_FIELDS = ("method", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        route = getattr(record, "route", None) or getattr(record, "request_route", None)
        if route is not None:
            entry["route"] = route
        for name in self.EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = exception_summary(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class TextFormatter(logging.Formatter):
    """The text format; an exception is its type and code locations on the next line, like the JSON format's,
    never its message or traceback text (a failed statement's message can repeat the row it was writing)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging.Formatter's name
        summary = exception_summary(ei)
        return f"  {summary['type']} at {summary['where']}"


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else TextFormatter()


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """For ``uvicorn.run(log_config=...)``: uvicorn's own loggers go through the root handler, in our format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {name: {"handlers": [], "propagate": True, "level": settings.log_level.upper()}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure(settings: Settings) -> None:
    """Once per process: the record factory, a root handler in the configured format (unless something, such as
    a test's log capture, already configured one), and uvicorn's access lines dropped."""
    _install_record_factory()
    root = logging.getLogger()
    ours: list[logging.Handler] = [h for h in root.handlers if getattr(h, "fusioncare", False)]
    if not ours and not root.handlers:
        stream = logging.StreamHandler()
        stream.fusioncare = True  # type: ignore[attr-defined]
        root.addHandler(stream)
        ours = [stream]
    # Like logging.basicConfig: logging that someone else set up (a test's capture) keeps its handlers and level.
    for handler in ours:
        handler.setFormatter(formatter_for(settings))
    if ours:
        root.setLevel(settings.log_level.upper())
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin on import
    observability.install()  # uvicorn's access lines (raw paths, query strings) dropped
