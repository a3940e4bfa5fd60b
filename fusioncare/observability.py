"""Logs that cannot carry health data or secrets: the access log and the record of unexpected errors.

The access log has the method, the route template (``/api/v1/diary/entries/{entry_id}``, never the path with the
id in it), the status and the duration; never a query string, a header or a body. An unexpected error is logged
as its exception types and code locations; never its message, which for a database error holds the statement's
values (a PostgreSQL DETAIL repeats the failing row), nor the request.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("fusioncare.access")
# The probes (GET /healthz, /readyz): asked every few seconds by every load balancer; a line each would drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
error_log = logging.getLogger("fusioncare.errors")


class DropUvicornAccessLines(logging.Filter):
    """uvicorn's access line prints the raw path with its query string (a reset token, search words): ours
    replaces it, whoever starts the server."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


def route_template(scope: Scope) -> str:
    """The template of the route this request matches (any method), or "unmatched"."""
    app = scope.get("app")
    if app is None:
        return "unmatched"
    table = _templates(app)
    for regex, path in table:
        if regex.match(scope.get("path", "")):
            return path
    return "unmatched"


def _templates(app: Any) -> list[tuple[Any, str]]:
    # Built on first use and whenever routes were added since (tests add some after start-up).
    cached = getattr(app.state, "route_templates", None)
    if cached is None or cached[0] != len(app.routes):
        table = [(c.path_regex, c.path) for c in iter_route_contexts(app.routes)
                 if getattr(c, "path_regex", None) is not None and c.path]
        cached = (len(app.routes), table)
        app.state.route_templates = cached
    return cached[1]


class AccessLogMiddleware:
    """Pure ASGI: one line per response, when its status is known: ``GET /recovery/today 200 12.3 ms``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                route = route_template(scope)
                # The same facts as fields, for the JSON log format (fusioncare/operations/logs.py).
                access_log.info("%s %s %d %.1f ms", scope["method"], route, message["status"], elapsed,
                                extra={"route": route, "method": scope["method"], "status": message["status"],
                                       "duration_ms": round(elapsed, 1)})
            await send(message)

        await self.app(scope, receive, logging_send)


def exception_summary(exc: BaseException) -> str:
    """The chain of exception types with the code locations they passed through; no messages, no values."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        frames = "; ".join(f"{frame.filename}:{frame.lineno} in {frame.name}"
                           for frame in traceback.extract_tb(current.__traceback__))
        parts.append(f"{kind.__module__}.{kind.__qualname__}" + (f" at {frames}" if frames else ""))
        current = current.__cause__ or current.__context__
    return "\n  caused by ".join(parts)


def log_unexpected(exc: BaseException, *, method: str, route: str) -> None:
    error_log.error("unhandled %s on %s %s\n  %s", type(exc).__name__, method, route, exception_summary(exc))


def log_busy(why: str, *, method: str, route: str) -> None:
    """A request that could not have the database in time (api/errors.database_busy): answered 503. Not a fault
    of ours, so a warning; the operator sees how often it happens (an import running while people use the site)."""
    error_log.warning("database busy on %s %s: %s; answered 503", method, route, why)


def install() -> None:
    uvicorn_access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropUvicornAccessLines) for f in uvicorn_access.filters):
        uvicorn_access.addFilter(DropUvicornAccessLines())
