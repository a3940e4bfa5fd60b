"""CSRF protection for HTML forms: a signed double-submit token.

Every response gives the browser a random HttpOnly ``fc_csrf`` cookie if it has none. A form carries
``HMAC(secret key, cookie)`` in a hidden field; a cross-site page can neither read the cookie nor compute the
HMAC, so it cannot forge the field. For page routers::

    router = APIRouter(dependencies=[Depends(csrf_protect)])    # checks every POST/PUT/PATCH/DELETE
    <form method="post">{{ csrf_input() }} ...</form>              # in the template

JavaScript that posts a form may send the same value (its hidden field's) in an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TypeGuard

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusioncare.accounts.errors import CsrfFailed

CSRF_COOKIE = "fc_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _sign(key: bytes, cookie_value: str) -> str:
    return hmac.new(key, cookie_value.encode(), hashlib.sha256).hexdigest()


def _valid_cookie(value: str | None) -> TypeGuard[str]:
    return value is not None and 20 <= len(value) <= 100 and value.replace("-", "").replace("_", "").isalnum()


class CsrfCookieMiddleware:
    """Pure ASGI: makes sure the browser holds a CSRF cookie; its value is exposed as scope['state']['csrf_cookie']."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # JSON API clients and static files never post forms: no cookie for them.
        if scope["type"] != "http" or scope["path"].startswith(("/api/", "/static/")):
            await self.app(scope, receive, send)
            return
        # Read as csrf_protect reads it (Starlette's request.cookies), leniently as browsers write it: SimpleCookie
        # refuses a whole header for one cookie name it dislikes (another app's "ui/theme=dark"), which replaced
        # this browser's cookie on every page view and broke the forms open in its other tabs.
        cookie_header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie"), "")
        existing = cookie_parser(cookie_header).get(CSRF_COOKIE)
        state = scope.setdefault("state", {})
        if _valid_cookie(existing):
            state["csrf_cookie"] = existing
            await self.app(scope, receive, send)
            return
        fresh = secrets.token_urlsafe(32)
        state["csrf_cookie"] = fresh
        attributes = f"{CSRF_COOKIE}={fresh}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", attributes.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def csrf_token(request: Request) -> str:
    """The token forms must send back for this browser."""
    return _sign(request.app.state.signing_key, request.state.csrf_cookie)


@pass_context
def csrf_input_global(context) -> Markup:
    token = csrf_token(context["request"])
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


async def csrf_protect(request: Request) -> None:
    """Dependency: refuse a state-changing request whose token does not match the browser's cookie."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not (_valid_cookie(cookie) and sent
            and hmac.compare_digest(sent.encode(), _sign(request.app.state.signing_key, cookie).encode())):
        raise CsrfFailed()


def install_template_globals(templates) -> None:
    templates.env.globals["csrf_input"] = csrf_input_global
