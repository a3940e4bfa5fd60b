"""A second session, committed at once, for records that must survive the caller's rollback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def committed_apart(db: Session) -> Iterator[Session]:
    """Audit events and rate-limit counts are written here, so a refused request still leaves its trace.

    On SQLite only one connection writes at a time: call this when the caller's session has no pending
    writes (check permissions before writing; audit a write after committing it).
    """
    side = Session(bind=db.get_bind())
    try:
        yield side
        side.commit()
    except BaseException:
        side.rollback()
        raise
    finally:
        side.close()
