"""Sharing the recovery record with a provider the patient chose: share, list, revoke, and the provider's reads.

A share names a provider by NPI; only an account an admin verified for that NPI acts as them. Provider reads are
keyed by the share's opaque id (never the patient's user id) and go through ``authorize()``, so each is audited
and a revoked share (the row is deleted) answers 404 at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fusioncare.accounts import audit
from fusioncare.accounts import service as accounts
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.permissions import Action, authorize
from fusioncare.directory import service as directory
from fusioncare.directory.names import display_case
from fusioncare.directory.npi import is_valid_npi
from fusioncare.errors import Conflict, InvalidInput, NotFound
from fusioncare.recovery import service
from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse, RecoveryShare
from fusioncare.recovery.schemas import TrendsRead
from fusioncare.scheduling import service as scheduling

SHARE = "recovery_share"


@dataclass(frozen=True)
class ProviderChoice:
    npi: str
    name: str


@dataclass(frozen=True)
class SharedPatient:
    share_id: str
    patient_email: str
    shared_since: datetime


def _owner(actor: Actor) -> int:
    if actor.user_id is None:
        raise ValueError("sharing needs a signed-in patient")
    return actor.user_id


def provider_name(db: Session, *, npi: str) -> str:
    try:
        return display_case(directory.get_provider(db=db, npi=npi).display_name)
    except NotFound:
        return f"NPI {npi}"


def _shares_of(db: Session, *, owner_id: int) -> list[RecoveryShare]:
    return list(db.scalars(select(RecoveryShare).where(RecoveryShare.owner_id == owner_id)
                           .order_by(RecoveryShare.created_at)))


def list_shares(db: Session, *, actor: Actor) -> list[RecoveryShare]:
    """The providers the signed-in patient shares with now, oldest first (audited, like the other list reads)."""
    found = _shares_of(db, owner_id=_owner(actor))
    audit.record(db, actor=actor, action=f"{SHARE}.list", record_type=SHARE, outcome=Outcome.allowed,
                 detail=f"{len(found)} records")
    return found


def suggestions(db: Session, *, actor: Actor) -> list[ProviderChoice]:
    """Providers the patient has appointments with, verified and not yet shared with, in booking order."""
    shared = {s.npi for s in _shares_of(db, owner_id=_owner(actor))}
    npis = dict.fromkeys(a.npi for a in scheduling.list_for_patient(db=db, actor=actor))
    return [ProviderChoice(npi=npi, name=provider_name(db, npi=npi)) for npi in npis
            if npi not in shared and accounts.has_verified_provider(db, npi=npi)]


def share(db: Session, *, actor: Actor, npi: str, share_assessments: bool = False) -> tuple[RecoveryShare, bool]:
    """Share with the provider of this NPI; returns (share, created). Sharing again returns the existing share,
    with ``share_assessments`` (the consent to show them the patient's assessments) as given this time."""
    owner_id = _owner(actor)
    npi = npi.strip()
    if not is_valid_npi(npi):
        raise InvalidInput("npi", "Enter the provider's 10-digit National Provider Identifier (NPI); "
                                 "this one is not a valid NPI, so check the digits")
    try:
        directory.get_provider(db=db, npi=npi)
    except NotFound:
        raise InvalidInput("npi", "We found no active provider with this NPI: check the number, or "
                                     "choose one of your providers") from None
    if not accounts.has_verified_provider(db, npi=npi):
        raise InvalidInput("npi", "This provider has no verified FusionCare account yet, so they could not see "
                                  "your record; ask them to join, or choose another provider")
    existing = _find(db, owner_id=owner_id, npi=npi)
    if existing is not None:
        return _with_consent(db, actor=actor, found=existing, share_assessments=share_assessments), False
    found = RecoveryShare(owner_id=owner_id, npi=npi, share_assessments=share_assessments)
    db.add(found)
    try:
        db.commit()
    except IntegrityError:  # the same share made by a parallel request
        db.rollback()
        existing = _find(db, owner_id=owner_id, npi=npi)
        if existing is None:  # ... and revoked again since
            raise Conflict("This share changed while it was being made; please try again.") from None
        return _with_consent(db, actor=actor, found=existing, share_assessments=share_assessments), False
    audit.record(db, actor=actor, action=f"{SHARE}.create", record_type=SHARE, record_id=found.id,
                 outcome=Outcome.allowed, detail=f"npi {npi}; assessments {'shared' if share_assessments else 'not'}")
    return found, True


def _with_consent(db: Session, *, actor: Actor, found: RecoveryShare, share_assessments: bool) -> RecoveryShare:
    if found.share_assessments != share_assessments:
        found.share_assessments = share_assessments
        db.commit()
        audit.record(db, actor=actor, action=f"{SHARE}.update", record_type=SHARE, record_id=found.id,
                     outcome=Outcome.allowed, detail=f"assessments {'shared' if share_assessments else 'not'}")
    return found


def _find(db: Session, *, owner_id: int, npi: str) -> RecoveryShare | None:
    return db.scalar(select(RecoveryShare).where(RecoveryShare.owner_id == owner_id, RecoveryShare.npi == npi))


def _get(db: Session, share_id: str) -> RecoveryShare | None:
    return db.get(RecoveryShare, share_id) if len(share_id) <= 32 else None


def revoke(db: Session, *, actor: Actor, share_id: str) -> None:
    """Only the patient may revoke; from the next request on, the provider gets 404 everywhere."""
    found = _get(db, share_id)
    authorize(db, actor=actor, action=Action.delete, record_type=SHARE, record_id=share_id,
              owner_id=found.owner_id if found else None)
    assert found is not None  # authorize raised NotFound for a missing one
    db.delete(found)
    db.commit()


# ---- the provider's side ------------------------------------------------------------------------------------

def shared_with_me(db: Session, *, actor: Actor) -> list[SharedPatient]:
    """The patients who share their recovery record with the signed-in verified provider, newest share first."""
    if actor.verified_npi is None:
        raise NotFound("Not Found")
    found = list(db.scalars(select(RecoveryShare).where(RecoveryShare.npi == actor.verified_npi)
                            .order_by(RecoveryShare.created_at.desc())))
    audit.record(db, actor=actor, action=f"{SHARE}.list", record_type=SHARE, outcome=Outcome.allowed,
                 detail=f"{len(found)} records")
    patients = []
    for s in found:
        user = accounts.get_user(db, user_id=s.owner_id)
        patients.append(SharedPatient(share_id=s.id, patient_email=user.email if user else "",
                                      shared_since=s.created_at))
    return patients


def _readable(db: Session, *, actor: Actor, share_id: str) -> RecoveryShare:
    """The share when the actor may read through it (the chosen provider, or the owner)."""
    found = _get(db, share_id)
    authorize(db, actor=actor, action=Action.read, record_type=SHARE, record_id=share_id,
              owner_id=found.owner_id if found else None, shared_with_npis=(found.npi,) if found else ())
    assert found is not None  # authorize raised NotFound for a missing one
    return found


def _assessments_visible(actor: Actor, found: RecoveryShare) -> bool:
    return actor.user_id == found.owner_id or found.share_assessments


def may_see_assessments(db: Session, *, actor: Actor, owner_id: int) -> bool:
    """Whether the actor, already allowed to read one of this owner's recovery records, may also see the
    assessments in it: the owner always; a provider only when a share with them carries the owner's consent."""
    if actor.user_id == owner_id:
        return True
    if actor.verified_npi is None:
        return False
    found = _find(db, owner_id=owner_id, npi=actor.verified_npi)
    return found is not None and found.share_assessments


def shared_trends(db: Session, *, actor: Actor, share_id: str, baseline_from: date | None = None) -> TrendsRead:
    return service.trends(db, owner_id=_readable(db, actor=actor, share_id=share_id).owner_id,
                          baseline_from=baseline_from, to_owner=False)


def shared_summary(db: Session, *, actor: Actor, share_id: str) -> service.VisitSummary:
    """The visit summary for the provider; the latest assessment only with the patient's consent."""
    found = _readable(db, actor=actor, share_id=share_id)
    return service.visit_summary(db, owner_id=found.owner_id, to_owner=False,
                                 with_assessments=_assessments_visible(actor, found))


def shared_entries(db: Session, *, actor: Actor, share_id: str) -> tuple[list[DiaryEntry], bool]:
    """The diary, and whether its safety re-checks (assessments) may be shown with it."""
    found = _readable(db, actor=actor, share_id=share_id)
    return service.entries_newest_first(db, owner_id=found.owner_id), _assessments_visible(actor, found)


def shared_questionnaires(db: Session, *, actor: Actor, share_id: str) -> list[QuestionnaireResponse]:
    return service.list_questionnaires(db, owner_id=_readable(db, actor=actor, share_id=share_id).owner_id)
