"""Registry through which each domain contributes to "download my data" and "delete my account".

Accounts never reads another domain's tables. A domain's service module registers, at import time::

    personal_data.register("saved_assessments", export=export_for_owner, erase=erase_for_owner)

``export(db=..., user_id=...)`` returns JSON-ready data; ``erase(db=..., user_id=...)`` deletes every record
the person owns and returns how many it deleted, without committing (the account deletion commits once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

ExportFn = Callable[..., Any]
EraseFn = Callable[..., int]


@dataclass(frozen=True)
class PersonalDataSource:
    name: str
    export: ExportFn
    erase: EraseFn


_SOURCES: dict[str, PersonalDataSource] = {}


def register(name: str, *, export: ExportFn, erase: EraseFn) -> None:
    """Register (or re-register, e.g. on module reload) a domain's export and erase functions under ``name``."""
    _SOURCES[name] = PersonalDataSource(name=name, export=export, erase=erase)


def sources() -> list[PersonalDataSource]:
    return [_SOURCES[name] for name in sorted(_SOURCES)]


def export_all(db: Session, *, user_id: int) -> dict[str, Any]:
    return {source.name: source.export(db=db, user_id=user_id) for source in sources()}


def erase_all(db: Session, *, user_id: int) -> dict[str, int]:
    return {source.name: source.erase(db=db, user_id=user_id) for source in sources()}
