"""The one place that maps domain exceptions and validation errors to HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusioncare import errors
from fusioncare.db import is_sqlite_busy
from fusioncare.observability import log_busy, log_unexpected, route_template
from fusioncare.validation import FieldProblem, problems
from fusioncare.web.templating import templates

STATUS = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PermissionDenied: 403,
    errors.RateLimited: 429,
}


# OpenAPI documentation of our error bodies, for routes' `responses=` (schemathesis checks every status is documented).
ERROR_BODY: dict[str, Any] = {"content": {"application/json": {"schema": {"type": "object"}}}}

# What a route's `responses=` takes (FastAPI's own annotation): status code -> OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]


def documented(status_code: int, description: str) -> Responses:
    """`responses=documented(404, "...")` on a route documents an error status it can answer."""
    return {status_code: {"description": description, **ERROR_BODY}}


def problem_response(found: list[FieldProblem], status_code: int = 422) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"detail": [p.as_dict() for p in found], "message": "; ".join(str(p) for p in found)},
    )


def _body_model(request: Request) -> type[BaseModel] | None:
    """The Pydantic model of the matched route's JSON body, so messages can list allowed fields and values."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


BUSY_RETRY_AFTER_SECONDS = 60
# A write may have been stored before the wait that failed (a service commits, then writes its audit line), so the
# words for a POST ask the person to check before sending again rather than promise that nothing was stored.
_BUSY_READ = "could not open this just now. Please try again in a minute."
_BUSY_WRITE = "could not finish this just now. In a minute, check whether it went through, and send it again if not."


def busy_words(method: str, *, page: bool = False) -> str:
    """What a busy answer says: under the page's heading "FusionCare is busy for a moment", or whole in JSON."""
    words = _BUSY_READ if method in ("GET", "HEAD") else _BUSY_WRITE
    return f"We {words}" if page else f"FusionCare is busy for a moment and {words}"


# What a person sees on an error page; the API answers the same errors in JSON.
_PAGES = {
    404: ("Page not found", "We could not find that page. It may have moved, or the address may be mistyped."),
    422: ("Please check what you sent", "Something was missing or not in the form we can take, so nothing was "
                                        "stored. Go back, check it and send it again."),
    500: ("Something went wrong on our side", "Please try again in a moment. Nothing you entered was stored."),
    503: ("FusionCare is busy for a moment", busy_words("GET", page=True)),
}


def error_page(request: Request, status_code: int, headers: dict[str, str] | None = None,
               problems: list[str] | None = None, message: str | None = None) -> HTMLResponse:
    """The error page in the site's design, for browsers; the status code stays the real one. ``problems``: what
    was wrong, field by field; ``message``: instead of the status code's usual words."""
    title, usual = _PAGES.get(status_code, ("That did not work",
                                            "We could not handle that request. Please go back and try again."))
    message = message or usual
    return templates.TemplateResponse(request, "error.html",
                                      {"title": title, "message": message, "problems": problems or []},
                                      status_code=status_code, headers=headers)


def _location(request: Request, exc: errors.InvalidInput) -> str:
    """Where the field of a domain error was sent: as the error says (a header), else the query string when the
    field is one of its parameters, else the body. Services name fields, not where a request carried them."""
    if exc.location != "body":
        return exc.location
    return "query" if exc.field in request.query_params else "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse | HTMLResponse:
        found = problems(list(exc.errors()), _body_model(request))
        if wants_html(request):  # a form the browser's own checks did not stop: a page naming the fields, not JSON
            return error_page(request, 422, problems=[str(p) for p in found])
        return problem_response(found)

    @app.exception_handler(errors.InvalidInput)
    async def _invalid(request: Request, exc: errors.InvalidInput) -> JSONResponse | HTMLResponse:
        if wants_html(request):  # page routes answer their own forms' problems; this is the last resort
            return error_page(request, 422, problems=[f"{exc.field}: {exc.field_message}" if exc.field
                                                      else exc.field_message])
        return problem_response([FieldProblem(field=exc.field, message=exc.field_message, type=exc.code,
                                              loc=(_location(request, exc), exc.field))])

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> JSONResponse | HTMLResponse:
        status_code = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        headers = {}
        if isinstance(exc, errors.RateLimited):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if wants_html(request):
            return error_page(request, status_code, headers)
        return JSONResponse(status_code=status_code, headers=headers,
                            content={"detail": exc.message, "code": exc.code, **exc.extra})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse | HTMLResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers 400 for a JSON body that is not UTF-8; it is bad input like any other non-JSON body.
            return problem_response([FieldProblem(field="", type="json_invalid", loc=("body",),
                                                  message="the body is not valid JSON (it is not UTF-8 text)")])
        if wants_html(request):
            return error_page(request, exc.status_code, getattr(exc, "headers", None))
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                            headers=getattr(exc, "headers", None))


UNEXPECTED = {"detail": "Something went wrong on our side. Please try again."}
def database_busy(exc: BaseException) -> str | None:
    """Why the database could not be had in time, or None for any other error: SQLite's one write lock held by
    another writer past the busy timeout (an import holds it for its whole run, docs/operations.md; health-record
    reads wait too, as they write an audit line), or no pooled connection free within the pool's timeout (the
    requests holding them are waiting). Sending the request again later works."""
    if isinstance(exc, SqlTimeoutError):
        return "no database connection came free within the pool timeout"
    if is_sqlite_busy(exc):
        return "the write lock was held by another writer past the busy timeout (an import?)"
    return None


class UnexpectedErrorMiddleware:
    """Pure ASGI, inside the security-headers and access-log middleware: an exception nothing else handled becomes
    the 500 page (or JSON under the API) here, so the 500 carries the security headers and is logged like every
    other response. The exception is logged by type and place only (fusioncare.observability), never its message.

    A request that could not have the database in time (database_busy: SQLite's write lock, or the connection
    pool) is 503 with Retry-After instead: FusionCare was busy, and sending it again later works.

    Starlette's own last-resort handler sits outside every middleware: a 500 made there had no headers, and it
    logged the exception's message (with a database error's parameters) twice.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            busy = database_busy(exc)
            if busy:
                log_busy(busy, method=scope["method"], route=route_template(scope))
            else:
                log_unexpected(exc, method=scope["method"], route=route_template(scope))
            if started:  # the answer is already on its way: all we can do is stop (the client sees a cut-off)
                return
            request = Request(scope)
            status, headers = (503, {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}) if busy else (500, None)
            body = {"detail": busy_words(scope["method"]), "code": "busy"} if busy else UNEXPECTED
            response: HTMLResponse | JSONResponse = JSONResponse(body, status_code=status, headers=headers)
            if wants_html(request):
                try:
                    response = error_page(request, status, headers,
                                          message=busy_words(scope["method"], page=True) if busy else None)
                except Exception as page_exc:  # the page itself failed: the JSON answer still goes out
                    log_unexpected(page_exc, method=scope["method"], route=route_template(scope))
            await response(scope, receive, send)
