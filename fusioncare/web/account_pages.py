"""Account pages: sign up, sign in and out, password change and reset, my account, admin pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from fusioncare.accounts import audit, service
from fusioncare.accounts.csrf import csrf_protect, install_template_globals
from fusioncare.accounts.deps import (
    SESSION_COOKIE,
    AppNotifier,
    ClientAddress,
    CurrentAdmin,
    CurrentUser,
    OptionalUser,
    clear_session_cookie,
    is_https,
    session_lifetime,
    set_session_cookie,
)
from fusioncare.accounts.errors import InvalidCredentials, InvalidResetToken
from fusioncare.accounts.models import TokenKind, User
from fusioncare.deps import AppSettings, DbSession
from fusioncare.errors import Conflict, DomainError, InvalidInput, NotFound, RateLimited
from fusioncare.inputs import RowId, Text, parse_day, parse_row_id
from fusioncare.settings import Settings
from fusioncare.web.templating import templates

install_template_globals(templates)

# Every state-changing form post on these pages must carry the CSRF token (see fusioncare/accounts/csrf.py).
router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

FormText = Annotated[Text, Form(max_length=256)]
# The e-mailed reset link carries the token; the landing page moves it into this cookie (see reset_confirm_form).
RESET_COOKIE = "fc_reset"
RESET_COOKIE_PATH = "/account/reset"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,200}")  # what tokens.new_secret makes (URL-safe base64)


def _page(request: Request, name: str, *, status_code: int = 200, **context) -> Response:
    return templates.TemplateResponse(request, f"accounts/{name}", context, status_code=status_code)


def _problem(exc: DomainError) -> tuple[int, dict[str, str], str]:
    """(status, messages by field, general message) for showing a domain error beside the form."""
    if isinstance(exc, InvalidInput):
        return 400, {exc.field: exc.field_message}, ""
    if isinstance(exc, RateLimited):
        return 429, {}, exc.message
    if isinstance(exc, InvalidCredentials | InvalidResetToken):
        return 400, {}, exc.message
    return 409, {}, exc.message


MAX_NEXT_LENGTH = 500


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a same-site relative path (so the sign-in and sign-up forms cannot bounce people to
    another site), else None."""
    # Browsers drop tabs and newlines inside URLs ("/\t/evil.example" becomes "//evil.example"), and read "\" as "/".
    if (target and len(target) <= MAX_NEXT_LENGTH and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)):
        return target
    return None


def landing(user: User) -> str:
    """Where a sign-in without a ``next`` goes: a verified provider's dashboard, everyone else's account."""
    return "/provider" if user.verified_npi else "/account"


def _signed_in(request: Request, settings: Settings, db: Session, user: User, target: str) -> Response:
    """Redirect to ``target`` with a fresh session cookie for ``user``."""
    issued = service.issue_token(db, user=user, kind=TokenKind.session, lifetime=session_lifetime(settings))
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request=request, settings=settings, secret=issued.secret,
                       max_age_seconds=issued.lifetime_seconds)
    return response


NextPath = Annotated[str | None, Query(max_length=MAX_NEXT_LENGTH)]
NextField = Annotated[str, Form(max_length=MAX_NEXT_LENGTH)]


@router.get("/account/sign-up")
def sign_up_form(request: Request, user: OptionalUser, next: NextPath = None) -> Response:
    return _page(request, "sign_up.html", user=user, errors={}, email="", next=safe_next(next))


@router.post("/account/sign-up")
def sign_up(request: Request, db: DbSession, settings: AppSettings, notifier: AppNotifier, address: ClientAddress,
            email: FormText, password: FormText, next: NextField = "") -> Response:
    """A new account is signed in at once and goes on to ``next`` (the booking it came from). For an e-mail that
    already has an account nothing changes and its owner is told by e-mail; the page says to sign in."""
    target = safe_next(next)
    try:
        created = service.sign_up(db, email=email, password=password, client_address=address, notifier=notifier,
                                  base_url=settings.base_url)
    except (InvalidInput, RateLimited) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "sign_up.html", status_code=status, user=None, errors=errors, message=message,
                     email=email, next=target)
    if created is not None:
        return _signed_in(request, settings, db, created, target or "/account?notice=welcome")
    return _page(request, "sign_up_done.html", user=None, email=email.strip().lower(), next=target)


@router.get("/account/sign-in")
def sign_in_form(request: Request, user: OptionalUser, next: NextPath = None,
                 notice: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    return _page(request, "sign_in.html", user=user, errors={}, email="", next=safe_next(next), notice=notice)


@router.post("/account/sign-in")
def sign_in(request: Request, db: DbSession, settings: AppSettings, address: ClientAddress, email: FormText,
            password: FormText, next: NextField = "") -> Response:
    try:
        issued = service.sign_in(db, email=email, password=password, client_address=address, kind=TokenKind.session,
                                 lifetime=session_lifetime(settings),
                                 previous_secret=request.cookies.get(SESSION_COOKIE))
    except (InvalidCredentials, RateLimited) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "sign_in.html", status_code=status, user=None, errors=errors, message=message,
                     email=email, next=safe_next(next), notice=None)
    target = safe_next(next)
    if target is None:
        found = service.resolve_token(db, secret=issued.secret, kind=TokenKind.session)
        target = landing(found[0]) if found else "/account"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request=request, settings=settings, secret=issued.secret,
                       max_age_seconds=issued.lifetime_seconds)
    return response


@router.post("/account/sign-out")
def sign_out(request: Request, db: DbSession, settings: AppSettings, user: OptionalUser,
             address: ClientAddress) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if user is not None and secret:
        service.sign_out(db, secret=secret, actor=audit.Actor.of(user, address))
    response = RedirectResponse("/account/sign-in?notice=signed_out", status_code=303)
    clear_session_cookie(response, request=request, settings=settings)
    return response


@router.get("/account")
def my_account(request: Request, user: CurrentUser) -> Response:
    return _page(request, "account.html", user=user, errors={}, notice=request.query_params.get("notice"))


@router.get("/account/export.json")
def download_my_data(user: CurrentUser, db: DbSession, address: ClientAddress) -> Response:
    export = service.export_personal_data(db, user=user, client_address=address)
    return JSONResponse(export.model_dump(mode="json"),
                        headers={"Content-Disposition": 'attachment; filename="fusioncare-my-data.json"'})


@router.post("/account/delete")
def delete_my_account(request: Request, db: DbSession, settings: AppSettings, user: CurrentUser,
                      address: ClientAddress, password: FormText) -> Response:
    try:
        service.delete_account(db, user=user, password=password, client_address=address)
    except (InvalidInput, RateLimited) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "account.html", status_code=status, user=user, errors=errors, notice=None,
                     message=message)
    response = _page(request, "deleted.html", user=None)
    clear_session_cookie(response, request=request, settings=settings)
    return response


@router.get("/account/password")
def change_password_form(request: Request, user: CurrentUser) -> Response:
    return _page(request, "password.html", user=user, errors={})


@router.post("/account/password")
def change_password(request: Request, db: DbSession, settings: AppSettings, user: CurrentUser,
                    address: ClientAddress, current_password: FormText, new_password: FormText) -> Response:
    try:
        service.change_password(db, user=user, current_password=current_password, new_password=new_password,
                                client_address=address)
    except (InvalidInput, RateLimited) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "password.html", status_code=status, user=user, errors=errors, message=message)
    # Every token was revoked, this browser's too: give it a fresh session so the person stays signed in here.
    return _signed_in(request, settings, db, user, "/account?notice=password_changed")


@router.get("/account/reset")
def reset_request_form(request: Request, user: OptionalUser) -> Response:
    return _page(request, "reset_request.html", user=user, errors={}, email="")


@router.post("/account/reset")
def reset_request(request: Request, db: DbSession, settings: AppSettings, notifier: AppNotifier,
                  address: ClientAddress, email: FormText) -> Response:
    try:
        service.request_password_reset(db, email=email, client_address=address, notifier=notifier,
                                       base_url=settings.base_url,
                                       lifetime=timedelta(minutes=settings.reset_token_ttl_minutes))
    except (InvalidInput, RateLimited) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "reset_request.html", status_code=status, user=None, errors=errors, message=message,
                     email=email)
    return _page(request, "reset_sent.html", user=None, minutes=settings.reset_token_ttl_minutes)


@router.get("/account/reset/confirm")
def reset_confirm_form(request: Request, settings: AppSettings,
                       token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The e-mailed link lands here with ?token=: it goes into a short-lived HttpOnly cookie for the reset pages
    only, and the browser is sent on to this address without it, so the token is not left in the address bar,
    the history, or anything that records addresses."""
    if token and _TOKEN.fullmatch(token):
        response = RedirectResponse("/account/reset/confirm", status_code=303)
        response.set_cookie(RESET_COOKIE, token, max_age=settings.reset_token_ttl_minutes * 60, httponly=True,
                            samesite="lax", secure=is_https(request, settings), path=RESET_COOKIE_PATH)
        return response
    if token or not request.cookies.get(RESET_COOKIE):  # a token we never make is not a link of ours
        return _page(request, "reset_confirm.html", status_code=400, user=None, errors={}, has_link=False,
                     message=InvalidResetToken().message)
    return _page(request, "reset_confirm.html", user=None, errors={}, has_link=True)


@router.post("/account/reset/confirm")
def reset_confirm(request: Request, db: DbSession, settings: AppSettings, address: ClientAddress,
                  new_password: FormText) -> Response:
    try:
        service.reset_password(db, secret=request.cookies.get(RESET_COOKIE, "")[:200], new_password=new_password,
                               client_address=address)
    except InvalidInput as exc:
        status, errors, _ = _problem(exc)
        errors = {"new_password": errors.get("password", "")}
        return _page(request, "reset_confirm.html", status_code=status, user=None, errors=errors, has_link=True)
    except InvalidResetToken as exc:
        response = _page(request, "reset_confirm.html", status_code=400, user=None, errors={}, message=exc.message,
                         has_link=False)
        _forget_reset_link(response, request, settings)
        return response
    response = RedirectResponse("/account/sign-in?notice=password_reset", status_code=303)
    _forget_reset_link(response, request, settings)
    return response


def _forget_reset_link(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(RESET_COOKIE, path=RESET_COOKIE_PATH, httponly=True, samesite="lax",
                           secure=is_https(request, settings))


@router.get("/account/provider")
def provider_claim_form(request: Request, user: CurrentUser) -> Response:
    return _page(request, "provider_claim.html", user=user, errors={}, npi=user.provider_npi or "")


@router.post("/account/provider")
def provider_claim(request: Request, db: DbSession, user: CurrentUser, address: ClientAddress,
                   npi: Annotated[str, Form(max_length=20)]) -> Response:
    try:
        service.claim_provider(db, user=user, npi=npi, client_address=address)
    except (InvalidInput, Conflict) as exc:
        status, errors, message = _problem(exc)
        return _page(request, "provider_claim.html", status_code=status, user=user, errors=errors, message=message,
                     npi=npi)
    return RedirectResponse("/account?notice=provider_claimed", status_code=303)


@router.get("/admin/providers")
def admin_providers(request: Request, admin: CurrentAdmin, db: DbSession) -> Response:
    return _page(request, "admin_providers.html", user=admin,
                 providers=service.providers_awaiting_verification(db), notice=request.query_params.get("notice"))


@router.post("/admin/providers/{user_id}/verify")
def admin_verify_provider(user_id: Annotated[RowId, Path()], admin: CurrentAdmin, db: DbSession,
                          address: ClientAddress) -> Response:
    try:
        service.verify_provider(db, admin=admin, user_id=user_id, client_address=address)
    except (NotFound, Conflict):
        return RedirectResponse("/admin/providers?notice=not_verified", status_code=303)
    return RedirectResponse("/admin/providers?notice=verified", status_code=303)


@router.get("/admin/audit")
def admin_audit(request: Request, admin: CurrentAdmin, db: DbSession, address: ClientAddress,
                actor_user_id: Annotated[str, Query(max_length=12)] = "",
                action: Annotated[str, Query(max_length=40)] = "",
                record_type: Annotated[str, Query(max_length=40)] = "",
                outcome: Annotated[str, Query(max_length=16)] = "",
                since: Annotated[str, Query(max_length=10)] = "",
                until: Annotated[str, Query(max_length=10)] = "") -> Response:
    """Filters come from a plain GET form; empty or unparsable values are ignored rather than refused."""
    filters = audit.AuditFilter(actor_user_id=_user_id(actor_user_id),
                                action=_text(action), record_type=_text(record_type), outcome=_text(outcome),
                                since=_date(since), until=_date(until, next_day=True))
    events = audit.review(db, actor=audit.Actor.of(admin, address), filters=filters, limit=500)
    query = urlencode({k: v for k, v in request.query_params.items() if v})
    return _page(request, "admin_audit.html", user=admin, events=events, filters=request.query_params,
                 outcomes=[o.value for o in audit.Outcome], export_query=query)


def _text(value: str) -> str | None:
    return value if value and "\x00" not in value else None


def _user_id(value: str) -> int | None:
    return parse_row_id(value)


def _date(value: str, *, next_day: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter (1900 to 2200) as a UTC midnight; ``next_day`` makes an "until" date inclusive."""
    day = parse_day(value) if value else None
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time.min, tzinfo=UTC)
