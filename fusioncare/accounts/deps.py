"""Who is asking: FastAPI dependencies for the signed-in user, by session cookie or bearer token.

Route signatures read like sentences::

    def my_route(user: CurrentUser, db: DbSession): ...       # 401 for the API, sign-in redirect for pages
    def admin_page(admin: CurrentAdmin): ...                  # 404 for everyone but admins
    def provider_view(provider: CurrentProvider): ...         # verified providers only, 404 otherwise
    def record(actor: RequestActor, db: DbSession): ...       # anyone; pass to permissions.authorize
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.responses import Response

from fusioncare.accounts import service
from fusioncare.accounts.audit import Actor
from fusioncare.accounts.errors import AuthenticationRequired, CrossOriginRefused, CsrfFailed, InvalidCredentials
from fusioncare.accounts.models import TokenKind, User
from fusioncare.deps import AppSettings, DbSession
from fusioncare.errors import NotFound
from fusioncare.notifications import AfterResponseNotifier, Notifier
from fusioncare.settings import Settings

SESSION_COOKIE = "fc_session"

# Declared so the OpenAPI schema documents both ways in; auto_error=False leaves the decisions to us.
_bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /api/v1/tokens.")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The browser session cookie.")


def get_notifier(request: Request, background_tasks: BackgroundTasks) -> Notifier:
    """The configured notifier, sending after the response (see AfterResponseNotifier)."""
    return AfterResponseNotifier(request.app.state.notifier, background_tasks)


AppNotifier = Annotated[Notifier, Depends(get_notifier)]


def client_address(request: Request) -> str | None:
    """The peer address; X-Forwarded-For counts only from FUSIONCARE_TRUSTED_PROXIES (accounts.hardening)."""
    return request.client.host if request.client else None


def optional_user(request: Request, db: DbSession,
                  bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
                  cookie: Annotated[str | None, Depends(_cookie_scheme)]) -> User | None:
    """A bearer token wins over the cookie; a bad bearer token is a 401, a stale cookie is just anonymous."""
    try:
        return _resolve_user(request, db, bearer, cookie)
    finally:
        # Hand the connection back to the pool before the endpoint waits for a worker thread: otherwise, with
        # more concurrent requests than pooled connections, every thread can end up waiting for a connection
        # held by a request that is waiting for a thread (a 30-second pool timeout, then 500s).
        db.commit()


def _resolve_user(request: Request, db: Session,
                  bearer: HTTPAuthorizationCredentials | None, cookie: str | None) -> User | None:
    if bearer is not None:
        found = service.resolve_token(db, secret=bearer.credentials, kind=TokenKind.bearer)
        if found is None:
            raise AuthenticationRequired("The bearer token is invalid, expired or revoked.")
        request.state.access_secret = bearer.credentials
        return found[0]
    if cookie:
        found = service.resolve_token(db, secret=cookie, kind=TokenKind.session)
        if found is not None:
            if request.url.path.startswith("/api/") and request.method not in _SAFE_METHODS and \
                    not _from_our_own_pages(request):
                raise CrossOriginRefused()
            request.state.access_secret = cookie
            return found[0]
    return None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def _from_our_own_pages(request: Request) -> bool:
    """SameSite=Lax keeps the cookie off cross-site posts, but not off same-site ones (a sibling subdomain or
    another port). Browsers say where a request comes from: Sec-Fetch-Site, and Origin on every POST; both, where
    present, must name us. A client sending neither is not a browser led by another site's page."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    ours = {_origin_of(str(request.base_url)), _origin_of(request.app.state.settings.base_url)}
    return origin.lower() in ours


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    if user is None:
        raise AuthenticationRequired("Please sign in (session cookie or bearer token).")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def current_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise NotFound("Not Found")
    return user


CurrentAdmin = Annotated[User, Depends(current_admin)]


def current_provider(user: CurrentUser) -> User:
    """A provider account whose NPI an admin has verified; anyone else gets 404."""
    provider_npi(user)
    return user


CurrentProvider = Annotated[User, Depends(current_provider)]


def provider_npi(provider: User) -> str:
    """The NPI a ``CurrentProvider`` acts as (its verified NPI); 404, as in current_provider, for anyone else."""
    npi = provider.verified_npi
    if npi is None:
        raise NotFound("Not Found")
    return npi


def request_actor(request: Request, user: OptionalUser) -> Actor:
    return Actor.of(user, client_address(request))


RequestActor = Annotated[Actor, Depends(request_actor)]
ClientAddress = Annotated[str | None, Depends(client_address)]


def access_secret(request: Request) -> str:
    """The session or bearer secret the current request authenticated with (after a user dependency ran)."""
    secret: str | None = getattr(request.state, "access_secret", None)
    if secret is None:  # no user dependency resolved a token on this request
        raise AuthenticationRequired("Please sign in (session cookie or bearer token).")
    return secret


def session_lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.session_ttl_hours)


def bearer_lifetime(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.bearer_token_ttl_minutes)


def is_https(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.base_url.startswith("https://")


def set_session_cookie(response: Response, *, request: Request, settings: AppSettings, secret: str,
                       max_age_seconds: int) -> None:
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age_seconds, httponly=True, samesite="lax",
                        secure=is_https(request, settings), path="/")


def clear_session_cookie(response: Response, *, request: Request, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=is_https(request, settings),
                           path="/")


def install(app: FastAPI) -> None:
    """Map AuthenticationRequired: 401 JSON for the API and for non-HTML clients, a sign-in redirect for pages."""

    @app.exception_handler(AuthenticationRequired)
    async def _authentication_required(request: Request, exc: AuthenticationRequired) -> Response:
        if not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
            from urllib.parse import quote

            # A page asked for by address comes back whole after signing in (a booking keeps its chosen time).
            query = request.url.query if request.method == "GET" else ""
            target = request.url.path + (f"?{query}" if query else "")
            return RedirectResponse(f"/account/sign-in?next={quote(target, safe='/')}", status_code=303)
        return JSONResponse(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                            content={"detail": exc.message, "code": exc.code})

    @app.exception_handler(InvalidCredentials)
    async def _invalid_credentials(request: Request, exc: InvalidCredentials) -> Response:
        return JSONResponse(status_code=401, content={"detail": exc.message, "code": exc.code})

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            from fusioncare.web.templating import templates

            return templates.TemplateResponse(request, "accounts/csrf_failed.html",
                                              {"user": None, "message": exc.message}, status_code=403)
        return JSONResponse(status_code=403, content={"detail": exc.message, "code": exc.code})
