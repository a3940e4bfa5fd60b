"""Security middleware (headers, request size limit, trusted proxies) and the production start-up check."""

from __future__ import annotations

import json
import logging
import os
import secrets

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fusioncare.settings import Settings

log = logging.getLogger("fusioncare.security")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

MIN_SECRET_KEY_LENGTH = 32


class InsecureConfiguration(RuntimeError):
    """Production settings that must be fixed before the service may start."""


def check_production_settings(settings: Settings) -> None:
    """In production, refuse to start without the secrets; the message says exactly what to set."""
    if not settings.is_production:
        return
    problems: list[str] = []
    if not settings.secret_key:
        problems.append("FUSIONCARE_SECRET_KEY is not set (use a random value of at least "
                        f"{MIN_SECRET_KEY_LENGTH} characters, e.g. `python -c 'import secrets; "
                        "print(secrets.token_urlsafe(48))'`)")
    elif len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"FUSIONCARE_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters")
    if settings.notifier == "smtp" and not settings.smtp_host:
        problems.append("FUSIONCARE_NOTIFIER=smtp needs FUSIONCARE_SMTP_HOST")
    if settings.notifier == "smtp" and settings.smtp_username and not settings.smtp_password:
        problems.append("FUSIONCARE_SMTP_USERNAME is set but FUSIONCARE_SMTP_PASSWORD is not")
    if problems:
        raise InsecureConfiguration("FusionCare refuses to start in production (FUSIONCARE_ENV=production): "
                                    + "; ".join(problems) + ".")


def signing_key(settings: Settings) -> bytes:
    """The key for CSRF tokens.

    Production requires FUSIONCARE_SECRET_KEY. Elsewhere a missing key is generated once and kept in the data
    directory, so every worker process of `fusioncare serve --workers N` signs with the same key.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "development-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
        candidate.write_text(secrets.token_urlsafe(48))
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)  # atomic and exclusive: concurrent workers all end up with the winner's key
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip().encode()


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the security headers to every response; health data is never cacheable."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self), payment=()"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if not is_static and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestSizeLimitMiddleware:
    """Pure ASGI: 413 for bodies over ``max_bytes``, whether announced by Content-Length or streamed chunked."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": f"The request body is larger than {self.max_bytes} bytes.",
                           "code": "request_too_large"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            try:
                too_large = int(length) > self.max_bytes
            except ValueError:
                too_large = True
            if too_large:
                await self._too_large(send)
                return
            await self.app(scope, receive, send)
            return
        if not any(k == b"transfer-encoding" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        # Chunked body of unknown size: read it here, up to the limit, then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install(app: FastAPI, settings: Settings) -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from fusioncare import observability
    from fusioncare.accounts.csrf import CsrfCookieMiddleware
    from fusioncare.api.errors import UnexpectedErrorMiddleware

    if settings.is_production and settings.notifier == "console":
        log.warning("FUSIONCARE_NOTIFIER=console in production: e-mails, password reset links included, go to the "
                    "log instead of to people; set FUSIONCARE_NOTIFIER=smtp and FUSIONCARE_SMTP_HOST")
    https = settings.base_url.startswith("https://")
    app.state.signing_key = signing_key(settings)
    # The middleware added last is the outermost: headers (so even a 413 or a 500 has them), the access log, the
    # last-resort error handler, proxy headers (only from FUSIONCARE_TRUSTED_PROXIES), size limit, CSRF cookie.
    app.add_middleware(CsrfCookieMiddleware, secure=https)
    app.add_middleware(RequestSizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(observability.AccessLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=https)
    observability.install()
