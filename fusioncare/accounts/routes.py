"""Accounts' JSON API under /api/v1: accounts, tokens, me (export, delete), password reset, admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from fusioncare.accounts import audit, service
from fusioncare.accounts.deps import (
    AppNotifier,
    ClientAddress,
    CurrentAdmin,
    CurrentUser,
    access_secret,
    bearer_lifetime,
)
from fusioncare.accounts.models import TokenKind
from fusioncare.accounts.schemas import (
    AccountCreate,
    AccountCreated,
    AccountDelete,
    AccountDeleted,
    AccountRead,
    AuditEventRead,
    Credentials,
    Message,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PersonalDataExport,
    ProviderClaim,
    TokenRead,
)
from fusioncare.api.errors import ERROR_BODY as _ERROR
from fusioncare.api.errors import Responses
from fusioncare.deps import AppSettings, DbSession
from fusioncare.inputs import MAX_ROW_ID, FilterMoment, RowId, Text

_401: Responses = {401: {"description": "Not signed in, or the token is invalid, expired or revoked.", **_ERROR}}
_404: Responses = {404: {"description": "No such record, or not yours.", **_ERROR}}
_409: Responses = {409: {"description": "Conflicts with the current state.", **_ERROR}}
_422: Responses = {422: {"description": "Bad input; the message names the field.", **_ERROR}}
_429: Responses = {429: {"description": "Too many attempts; see Retry-After.", **_ERROR}}

UserId = Annotated[RowId, Path(description="An account's id.")]

router = APIRouter(tags=["accounts"], responses={413: {"description": "Request body too large.", **_ERROR}})

SIGN_UP_MESSAGE = ("If this e-mail address is new, your patient account is ready and you can sign in. "
                   "If it already has an account, we have sent its owner an e-mail instead.")


@router.post("/accounts", status_code=201, response_model=AccountCreated, responses={**_422, **_429})
def create_account(body: AccountCreate, db: DbSession, settings: AppSettings, notifier: AppNotifier,
                   address: ClientAddress) -> AccountCreated:
    """Create a patient account. The answer is the same for an e-mail that already has one."""
    service.sign_up(db, email=body.email, password=body.password, client_address=address, notifier=notifier,
                    base_url=settings.base_url)
    return AccountCreated(email=body.email, message=SIGN_UP_MESSAGE)


@router.post("/tokens", response_model=TokenRead, responses={**_401, **_422, **_429})
def create_token(body: Credentials, db: DbSession, settings: AppSettings, address: ClientAddress) -> TokenRead:
    """Exchange e-mail and password for a bearer token."""
    issued = service.sign_in(db, email=body.email, password=body.password, client_address=address,
                             kind=TokenKind.bearer, lifetime=bearer_lifetime(settings))
    return TokenRead(access_token=issued.secret, expires_in=issued.lifetime_seconds)


@router.delete("/tokens/current", status_code=204, responses=_401)
def revoke_current_token(request: Request, user: CurrentUser, db: DbSession, address: ClientAddress) -> Response:
    """Revoke the token this request carries (a bearer token, or the browser session)."""
    service.sign_out(db, secret=access_secret(request), actor=audit.Actor.of(user, address))
    return Response(status_code=204)


@router.get("/me", response_model=AccountRead, responses=_401)
def read_me(user: CurrentUser) -> AccountRead:
    return service.account_read(user)


@router.get("/me/export", response_model=PersonalDataExport, responses=_401)
def export_me(user: CurrentUser, db: DbSession, address: ClientAddress) -> PersonalDataExport:
    """Download my data: everything FusionCare holds about me, as JSON."""
    return service.export_personal_data(db, user=user, client_address=address)


@router.delete("/me", response_model=AccountDeleted, responses={**_401, **_422, **_429})
def delete_me(body: AccountDelete, user: CurrentUser, db: DbSession, address: ClientAddress) -> AccountDeleted:
    """Delete my account and erase my health data, confirmed with my current password; the audit log keeps a
    tombstone without health content."""
    erased = service.delete_account(db, user=user, password=body.password, client_address=address)
    return AccountDeleted(erased_records=erased)


@router.post("/me/password", status_code=204, responses={**_401, **_422, **_429})
def change_password(body: PasswordChange, user: CurrentUser, db: DbSession, address: ClientAddress) -> Response:
    """Change my password; every session and bearer token of the account is revoked, this one included."""
    service.change_password(db, user=user, current_password=body.current_password,
                            new_password=body.new_password, client_address=address)
    return Response(status_code=204)


@router.post("/me/provider-claim", response_model=AccountRead, responses={**_401, **_409, **_422})
def claim_provider(body: ProviderClaim, user: CurrentUser, db: DbSession, address: ClientAddress) -> AccountRead:
    """Link my account to an NPI; an admin verifies it before I can act as that provider."""
    return service.account_read(service.claim_provider(db, user=user, npi=body.npi, client_address=address))


@router.post("/password-resets", status_code=202, response_model=Message, responses={**_422, **_429})
def request_password_reset(body: PasswordResetRequest, db: DbSession, settings: AppSettings, notifier: AppNotifier,
                           address: ClientAddress) -> Message:
    """E-mail a single-use reset link if the account exists (the answer is the same either way)."""
    service.request_password_reset(db, email=body.email, client_address=address, notifier=notifier,
                                   base_url=settings.base_url,
                                   lifetime=timedelta(minutes=settings.reset_token_ttl_minutes))
    return Message(message="If an account uses this e-mail address, we have sent it a link to reset the password.")


@router.post("/password-resets/confirm", status_code=204, responses={400: {"description": "Invalid token", **_ERROR},
                                                                     **_422})
def confirm_password_reset(body: PasswordResetConfirm, db: DbSession, address: ClientAddress) -> Response:
    service.reset_password(db, secret=body.token, new_password=body.new_password, client_address=address)
    return Response(status_code=204)


@router.get("/admin/providers", response_model=list[AccountRead], responses={**_401, **_404})
def providers_awaiting_verification(admin: CurrentAdmin, db: DbSession) -> list[AccountRead]:
    return [service.account_read(u) for u in service.providers_awaiting_verification(db)]


@router.post("/admin/providers/{user_id}/verify", response_model=AccountRead, responses={**_401, **_404, **_409})
def verify_provider(user_id: UserId, admin: CurrentAdmin, db: DbSession, address: ClientAddress) -> AccountRead:
    return service.account_read(service.verify_provider(db, admin=admin, user_id=user_id, client_address=address))


@router.get("/admin/audit", response_model=list[AuditEventRead],
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **_401, **_404, **_422})
def audit_log(admin: CurrentAdmin, db: DbSession, address: ClientAddress,
              actor_user_id: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)] = None,
              action: Annotated[Text | None, Query(max_length=40)] = None,
              record_type: Annotated[Text | None, Query(max_length=40)] = None,
              outcome: Annotated[Text | None, Query(max_length=16)] = None,
              since: FilterMoment | None = None, until: FilterMoment | None = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
              offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
              format: Literal["json", "csv"] = "json") -> Any:
    """The audit log, newest first, with filters; ``format=csv`` downloads it as CSV."""
    filters = audit.AuditFilter(actor_user_id=actor_user_id, action=action, record_type=record_type, outcome=outcome,
                                since=since, until=until)
    events = audit.review(db, actor=audit.Actor.of(admin, address), filters=filters, limit=limit, offset=offset)
    if format == "csv":
        return Response(audit.to_csv(events), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
    return [audit.as_dict(e) for e in events]
