"""The one object-level permission check every health-data route calls; it also writes the audit record.

Usage from any domain (route or service)::

    record = records.get(db=db, assessment_id=assessment_id)
    authorize(db, actor=actor, action=Action.read, record_type="saved_assessment", record_id=assessment_id,
              owner_id=record.owner_id if record else None,
              shared_with_npis=record.shared_with_npis if record else ())

It returns when allowed and raises NotFound (404) otherwise, so nobody learns whether a record they may not
see exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy.orm import Session

from fusioncare.accounts import audit
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.errors import NotFound


class Action(StrEnum):
    read = "read"
    create = "create"
    update = "update"
    delete = "delete"


def is_allowed(*, actor: Actor, action: Action, owner_id: int, shared_with_npis: Iterable[str] = ()) -> bool:
    """The rule itself. The owner may do anything with their record; a verified provider the owner shared it
    with (e.g. by booking them) may read it; nobody else may, admins included."""
    if actor.user_id is not None and actor.user_id == owner_id:
        return True
    return action == Action.read and actor.verified_npi is not None and actor.verified_npi in set(shared_with_npis)


def authorize(db: Session, *, actor: Actor, action: Action, record_type: str, record_id: str | int,
              owner_id: int | None, shared_with_npis: Iterable[str] = ()) -> None:
    """Allow, or raise NotFound; either way append an audit event. ``owner_id=None`` means no such record.

    Call it before writing anything in ``db`` (the audit event is committed on its own connection).
    """
    if owner_id is None:
        outcome = Outcome.not_found
    elif is_allowed(actor=actor, action=action, owner_id=owner_id, shared_with_npis=shared_with_npis):
        outcome = Outcome.allowed
    else:
        outcome = Outcome.denied
    audit.record(db, actor=actor, action=f"{record_type}.{action}", record_type=record_type,
                 record_id=record_id, outcome=outcome)
    if outcome != Outcome.allowed:
        raise NotFound(f"There is no {record_type.replace('_', ' ')} with this id.")
