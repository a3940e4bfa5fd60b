"""Accounts' logic: sign-up, sign-in, tokens, password change and reset, providers, export and deletion.

No HTTP here: routes, pages, the CLI and tests all call these functions with a session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fusioncare.accounts import audit, personal_data, ratelimit
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.errors import InvalidCredentials, InvalidResetToken
from fusioncare.accounts.models import AccessToken, PasswordResetToken, Role, TokenKind, User, utcnow
from fusioncare.accounts.passwords import burn_verification_time, hash_password, password_problem, verify_password
from fusioncare.accounts.schemas import AccountRead, PersonalDataExport, normalise_email
from fusioncare.accounts.tokens import digest, new_secret
from fusioncare.db import rowcount, scrub_erased
from fusioncare.directory.npi import is_valid_npi
from fusioncare.errors import Conflict, InvalidInput, NotFound
from fusioncare.notifications import Notifier

log = logging.getLogger("fusioncare.accounts")


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued session or bearer token; ``secret`` is shown once and never stored."""

    secret: str
    expires_at: datetime
    lifetime_seconds: int


def _checked_email(email: str) -> str:
    try:
        return normalise_email(email)
    except ValueError as exc:
        raise InvalidInput("email", str(exc)) from None


def _check_password(password: str, *, email: str, field: str = "password") -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise InvalidInput(field, problem)


def _notify(notifier: Notifier, *, user_id: int | None, to: str, subject: str, body: str) -> None:
    # A failed e-mail must not change the answer the person sees (that could reveal whether an account exists).
    try:
        notifier.send(to=to, subject=subject, body=body)
    except Exception:
        log.exception("sending an e-mail failed (user id %s)", user_id)


def get_user(db: Session, *, user_id: int) -> User | None:
    return db.get(User, user_id)


def get_user_by_email(db: Session, *, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.strip().lower()))


def sign_up(db: Session, *, email: str, password: str, client_address: str | None, notifier: Notifier,
            base_url: str) -> User | None:
    """Create a patient account. For an e-mail that already has one, change nothing, tell its owner by e-mail
    and return None; callers must answer both cases identically."""
    email = _checked_email(email)
    ratelimit.reserve(db, attempts=[(ratelimit.SIGN_UP_PER_ADDRESS, client_address or "unknown"),
                                    (ratelimit.SIGN_UP_PER_ACCOUNT, email)])
    _check_password(password, email=email)
    anonymous = Actor.of(None, client_address)
    existing = get_user_by_email(db, email=email)
    if existing is None:
        user = User(email=email, password_hash=hash_password(password), role=Role.patient)
        db.add(user)
        try:
            db.commit()
        except IntegrityError:  # a parallel sign-up with the same e-mail won: answer as for an existing account
            db.rollback()
            existing = get_user_by_email(db, email=email)
    else:
        burn_verification_time(password)
    if existing is not None:
        audit.record(db, actor=anonymous, action="sign_up", record_type="user", record_id=existing.id,
                     outcome=Outcome.refused, detail="e-mail already registered; owner notified")
        _notify(notifier, user_id=existing.id, to=existing.email, subject="Someone tried to sign up with your e-mail",
                body=("Someone tried to create a FusionCare account with this e-mail address, which already has one.\n"
                      f"If it was you, sign in at {base_url}/account/sign-in or reset your password at "
                      f"{base_url}/account/reset.\nIf it was not you, you need not do anything."))
        return None
    audit.record(db, actor=Actor.of(user, client_address), action="sign_up", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed)
    _notify(notifier, user_id=user.id, to=user.email, subject="Welcome to FusionCare",
            body=f"Your FusionCare account is ready. Sign in at {base_url}/account/sign-in.")
    return user


def _password_matches(db: Session, *, user: User | None, email: str, password: str,
                      client_address: str | None) -> tuple[bool, str | None]:
    """Every password check goes through here, under one pair of limits on failures (per account, per client
    address): an attempt is reserved before the password is evaluated (ratelimit.reserve), so parallel guesses
    evaluate at most the limit, and given back when the password is right. (matches, new_hash) as
    passwords.verify_password; an unknown account costs the same time and counts the same."""
    reserved = ratelimit.reserve(db, attempts=[(ratelimit.SIGN_IN_FAILURES_PER_ACCOUNT, email),
                                               (ratelimit.SIGN_IN_FAILURES_PER_ADDRESS, client_address or "unknown")])
    if user is None:
        burn_verification_time(password)
        return False, None
    matches, new_hash = verify_password(user.password_hash, password)
    if matches:
        ratelimit.release(db, event_ids=reserved)
    return matches, new_hash


def authenticate(db: Session, *, email: str, password: str, client_address: str | None) -> User:
    """Check the password under the per-account and per-address limits on failures.

    Unknown accounts count and answer exactly like wrong passwords, so neither message nor timing tells them apart.
    """
    email = email.strip().lower()
    user = get_user_by_email(db, email=email)
    matches, new_hash = _password_matches(db, user=user, email=email, password=password,
                                          client_address=client_address)
    if user is None or not matches:  # (matches is False whenever there is no account)
        audit.record(db, actor=Actor.of(None, client_address), action="sign_in", record_type="user",
                     record_id=user.id if user else None, outcome=Outcome.failed)
        raise InvalidCredentials()
    if new_hash:
        user.password_hash = new_hash
        db.commit()
    return user


def issue_token(db: Session, *, user: User, kind: TokenKind, lifetime: timedelta) -> IssuedToken:
    secret = new_secret()
    now = utcnow()
    db.add(AccessToken(token_hash=digest(secret), user_id=user.id, kind=kind, created_at=now,
                       expires_at=now + lifetime))
    db.commit()
    return IssuedToken(secret=secret, expires_at=now + lifetime, lifetime_seconds=int(lifetime.total_seconds()))


def sign_in(db: Session, *, email: str, password: str, client_address: str | None, kind: TokenKind,
            lifetime: timedelta, previous_secret: str | None = None) -> IssuedToken:
    """Authenticate and issue a new token; a browser's previous session token is revoked (rotation)."""
    user = authenticate(db, email=email, password=password, client_address=client_address)
    if previous_secret:
        revoke_token(db, secret=previous_secret)
    issued = issue_token(db, user=user, kind=kind, lifetime=lifetime)
    audit.record(db, actor=Actor.of(user, client_address), action=f"sign_in.{kind}", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed)
    return issued


def resolve_token(db: Session, *, secret: str, kind: TokenKind) -> tuple[User, AccessToken] | None:
    """The user behind a live (unexpired, unrevoked) token of this kind, or None."""
    if not secret or len(secret) > 200:
        return None
    token = db.scalar(select(AccessToken).where(AccessToken.token_hash == digest(secret),
                                                AccessToken.kind == kind))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    user = db.get(User, token.user_id)
    return (user, token) if user is not None else None


def revoke_token(db: Session, *, secret: str) -> None:
    db.execute(update(AccessToken).where(AccessToken.token_hash == digest(secret), AccessToken.revoked_at.is_(None))
               .values(revoked_at=utcnow()))
    db.commit()


def sign_out(db: Session, *, secret: str, actor: Actor) -> None:
    revoke_token(db, secret=secret)
    audit.record(db, actor=actor, action="sign_out", record_type="user", record_id=actor.user_id,
                 outcome=Outcome.allowed)


def _revoke_all_tokens(db: Session, *, user_id: int) -> None:
    db.execute(update(AccessToken).where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
               .values(revoked_at=utcnow()))


def change_password(db: Session, *, user: User, current_password: str, new_password: str,
                    client_address: str | None) -> None:
    """Replace the password and revoke every session and bearer token of the account (the caller signs the
    browser in again if it wants to). The current password is checked under the sign-in limits."""
    matches, _ = _password_matches(db, user=user, email=user.email, password=current_password,
                                   client_address=client_address)
    actor = Actor.of(user, client_address)
    if not matches:
        audit.record(db, actor=actor, action="password_change", record_type="user", record_id=user.id,
                     outcome=Outcome.failed)
        raise InvalidInput("current_password", "is not your current password")
    _check_password(new_password, email=user.email, field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    _revoke_all_tokens(db, user_id=user.id)
    db.commit()
    audit.record(db, actor=actor, action="password_change", record_type="user", record_id=user.id,
                 outcome=Outcome.allowed)


def request_password_reset(db: Session, *, email: str, client_address: str | None, notifier: Notifier,
                           base_url: str, lifetime: timedelta) -> None:
    """E-mail a single-use reset link if the account exists; behave the same way if it does not."""
    email = _checked_email(email)
    ratelimit.reserve(db, attempts=[(ratelimit.RESET_PER_ADDRESS, client_address or "unknown"),
                                    (ratelimit.RESET_PER_ACCOUNT, email)])
    user = get_user_by_email(db, email=email)
    audit.record(db, actor=Actor.of(None, client_address), action="password_reset.request", record_type="user",
                 record_id=user.id if user else None, outcome=Outcome.allowed if user else Outcome.not_found)
    if user is None:
        return
    secret = new_secret()
    now = utcnow()
    db.add(PasswordResetToken(token_hash=digest(secret), user_id=user.id, created_at=now, expires_at=now + lifetime))
    db.commit()
    minutes = int(lifetime.total_seconds() // 60)
    _notify(notifier, user_id=user.id, to=user.email, subject="Reset your FusionCare password",
            body=(f"To choose a new password, open this link within {minutes} minutes:\n"
                  f"{base_url}/account/reset/confirm?token={secret}\n\n"
                  "If you did not ask for this, ignore this message: your password stays as it is."))


def reset_password(db: Session, *, secret: str, new_password: str, client_address: str | None) -> User:
    """Use a reset token once: set the password, spend every outstanding reset token, revoke all sessions.

    The token is spent by a conditional UPDATE (... WHERE used_at IS NULL) whose row count says whether this
    request is the one that spent it, so parallel requests with the same link succeed exactly once.
    """
    now = utcnow()
    token = db.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == digest(secret)))
    user = db.get(User, token.user_id) if token is not None else None
    if token is None or user is None or token.used_at is not None or token.expires_at <= now:
        _refuse_reset(db, token=token, client_address=client_address)
    _check_password(new_password, email=user.email)  # a weak new password does not spend the link
    new_hash = hash_password(new_password)
    db.commit()  # end the read phase: the write transaction starts with the claiming UPDATE
    claimed = rowcount(db.execute(update(PasswordResetToken)
                                  .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None),
                                         PasswordResetToken.expires_at > now)
                                  .values(used_at=now)))
    if claimed != 1:
        db.rollback()
        _refuse_reset(db, token=token, client_address=client_address)
    db.execute(update(User).where(User.id == user.id).values(password_hash=new_hash, password_changed_at=now))
    db.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                PasswordResetToken.used_at.is_(None)).values(used_at=now))
    _revoke_all_tokens(db, user_id=user.id)
    db.commit()
    db.refresh(user)
    audit.record(db, actor=Actor.of(user, client_address), action="password_reset.use", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed)
    return user


def _refuse_reset(db: Session, *, token: PasswordResetToken | None, client_address: str | None) -> NoReturn:
    audit.record(db, actor=Actor.of(None, client_address), action="password_reset.use", record_type="user",
                 record_id=token.user_id if token else None, outcome=Outcome.refused)
    raise InvalidResetToken()


def account_read(user: User) -> AccountRead:
    return AccountRead(id=user.id, email=user.email, role=user.role, provider_npi=user.provider_npi,
                       provider_verified=user.provider_verified_at is not None, created_at=user.created_at)


def export_personal_data(db: Session, *, user: User, client_address: str | None) -> PersonalDataExport:
    audit.record(db, actor=Actor.of(user, client_address), action="personal_data.export", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed)
    activity = [{k: v for k, v in audit.as_dict(e).items() if k not in ("actor_user_id", "actor_role")}
                for e in audit.search(db, filters=audit.AuditFilter(actor_user_id=user.id), limit=10_000)]
    return PersonalDataExport(exported_at=utcnow(), account=account_read(user),
                              data=personal_data.export_all(db, user_id=user.id), account_activity=activity)


def delete_account(db: Session, *, user: User, password: str, client_address: str | None) -> dict[str, int]:
    """Erase every domain's records of this person and the account itself, in one transaction, once the person
    has given their current password again (checked under the sign-in limits).

    The audit log keeps its events (they hold no health content) plus a tombstone saying the account was erased.
    On SQLite the write-ahead log is then checkpointed and truncated, so no copy of the erased rows stays in it.
    """
    confirm_password(db, user=user, password=password, client_address=client_address)
    actor = Actor.of(user, client_address)
    user_id = user.id
    erased = personal_data.erase_all(db, user_id=user_id)
    db.delete(user)  # sessions, bearer and reset tokens go with it (ON DELETE CASCADE)
    db.commit()
    counts = ", ".join(f"{name}={count}" for name, count in sorted(erased.items()))
    audit.record(db, actor=actor, action="account.delete", record_type="user", record_id=user_id,
                 outcome=Outcome.allowed, detail=f"tombstone; erased {counts}" if counts else "tombstone")
    scrub_erased(db)
    return erased


def claim_provider(db: Session, *, user: User, npi: str, client_address: str | None) -> User:
    """Link the account to an NPI; it becomes a provider account awaiting an admin's verification."""
    npi = npi.strip()
    if not is_valid_npi(npi):
        raise InvalidInput("npi", "must be a 10-digit National Provider Identifier with a valid check digit")
    if user.role == Role.admin:
        raise Conflict("An admin account cannot also be a provider account.")
    taken = db.scalar(select(User.id).where(User.provider_npi == npi, User.provider_verified_at.is_not(None),
                                            User.id != user.id))
    if taken is not None:
        raise Conflict("Another account is already verified for this NPI.")
    user.role = Role.provider
    user.provider_npi = npi
    user.provider_verified_at = None
    db.commit()
    audit.record(db, actor=Actor.of(user, client_address), action="provider.claim", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed, detail=f"npi {npi}")
    return user


def has_verified_provider(db: Session, *, npi: str) -> bool:
    """Whether an admin has verified an account for this NPI (so someone can act as that provider)."""
    return npi in verified_provider_npis(db, npis=[npi])


def providers_awaiting_verification(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.provider, User.provider_verified_at.is_(None))
                           .order_by(User.created_at)))


def verify_provider(db: Session, *, admin: User, user_id: int, client_address: str | None) -> User:
    user = db.get(User, user_id)
    if user is None or user.role != Role.provider or user.provider_npi is None:
        raise NotFound("There is no provider account awaiting verification with this id.")
    taken = db.scalar(select(User.id).where(User.provider_npi == user.provider_npi,
                                            User.provider_verified_at.is_not(None), User.id != user.id))
    if taken is not None:
        raise Conflict("Another account is already verified for this NPI.")
    user.provider_verified_at = utcnow()
    db.commit()
    audit.record(db, actor=Actor.of(admin, client_address), action="provider.verify", record_type="user",
                 record_id=user.id, outcome=Outcome.allowed, detail=f"npi {user.provider_npi}")
    return user


def verified_provider_npis(db: Session, *, npis: Iterable[str]) -> set[str]:
    """Which of these NPIs have an account an admin has verified (one query, however many NPIs)."""
    wanted = set(npis)
    if not wanted:
        return set()
    return set(db.scalars(select(User.provider_npi).where(User.provider_npi.in_(wanted),
                                                          User.provider_verified_at.is_not(None))))


def contact_email(db: Session, *, user_id: int) -> str | None:
    """Where to write to the person (reminders); None if the account is gone."""
    return db.scalar(select(User.email).where(User.id == user_id))


def ensure_demo_provider_accounts(db: Session, *, emails_by_npi: dict[str, str], password: str) -> int:
    """Verified provider accounts for demo NPIs that have none, in one bulk insert with one shared password hash
    (hashing per account would take minutes for the demo directory). Development demo data only; returns how
    many accounts were made. NPIs already verified and e-mails already taken are left as they are."""
    verified = verified_provider_npis(db, npis=emails_by_npi)
    taken = set(db.scalars(select(User.email).where(User.email.in_(set(emails_by_npi.values())))))
    wanted = {npi: email for npi, email in emails_by_npi.items() if npi not in verified and email not in taken}
    if wanted:
        now = utcnow()
        password_hash = hash_password(password)
        db.execute(insert(User), [{"email": email, "password_hash": password_hash, "role": Role.provider,
                                   "provider_npi": npi, "provider_verified_at": now, "created_at": now,
                                   "password_changed_at": now} for npi, email in wanted.items()])
    db.commit()
    return len(wanted)


def create_admin(db: Session, *, email: str, password: str) -> User:
    email = _checked_email(email)
    _check_password(password, email=email)
    if get_user_by_email(db, email=email) is not None:
        raise Conflict(f"An account for {email} already exists.")
    user = User(email=email, password_hash=hash_password(password), role=Role.admin)
    db.add(user)
    db.commit()
    audit.record(db, actor=Actor.of(None, "cli"), action="admin.create", record_type="user", record_id=user.id,
                 outcome=Outcome.allowed)
    return user


def confirm_password(db: Session, *, user: User, password: str, client_address: str | None) -> None:
    """Re-check the signed-in person's password before a drastic step (deleting the account), under the sign-in
    limits."""
    matches, _ = _password_matches(db, user=user, email=user.email, password=password, client_address=client_address)
    if not matches:
        audit.record(db, actor=Actor.of(user, client_address), action="password_confirm", record_type="user",
                     record_id=user.id, outcome=Outcome.failed)
        raise InvalidInput("password", "is not your current password")


def ensure_account(db: Session, *, email: str, password: str, role: Role) -> User:
    """Create the account unless the e-mail already has one (for demo data; existing accounts are left as they are)."""
    email = _checked_email(email)
    user = get_user_by_email(db, email=email)
    if user is None:
        _check_password(password, email=email)
        user = User(email=email, password_hash=hash_password(password), role=role)
        db.add(user)
        db.commit()
    return user


def provider_contact_email(db: Session, *, npi: str) -> str | None:
    """Where to write to the provider of this NPI: their verified account's e-mail, or None."""
    return db.scalar(select(User.email).where(User.provider_npi == npi, User.provider_verified_at.is_not(None))
                     .order_by(User.id).limit(1))


def contact_emails(db: Session, *, user_ids: Iterable[int]) -> dict[int, str]:
    """Each account's e-mail address, for a batch (one query)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {user_id: email for user_id, email in db.execute(select(User.id, User.email).where(User.id.in_(wanted)))}
