"""A second session, committed at once, for records that must survive the caller's rollback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from fusioncare.db import holds_only_reads


@contextmanager
def committed_apart(db: Session) -> Iterator[Session]:
    """Audit events and rate-limit counts are written here, so a refused request still leaves its trace.

    On SQLite only one connection writes at a time: call this when the caller's session has no pending
    writes (check permissions before writing; audit a write after committing it).

    A caller that has only read is committed first, which hands its pooled connection back: a request must never
    hold one connection while waiting for a second, or as many concurrent requests as the pool has connections
    can each hold one and all wait for ever (the pool times out after 30 s and they fail). Loaded objects stay
    usable (sessions do not expire on commit). A caller with writes keeps its transaction, and its connection.
    """
    if db.in_transaction() and holds_only_reads(db):
        db.commit()
    side = Session(bind=db.get_bind())
    try:
        yield side
        side.commit()
    except BaseException:
        side.rollback()
        raise
    finally:
        side.close()
