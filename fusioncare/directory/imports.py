"""The record of data imports: one row per run, and the last successful run of each source."""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from fusioncare.directory.errors import ImportInProgress
from fusioncare.directory.models import ImportRun

COMMANDS = {"nppes": "fusioncare import-nppes", "cms_utilization": "fusioncare import-cms-utilization",
            "cms_clinicians": "fusioncare import-cms-clinicians"}


@contextmanager
def one_at_a_time(db: Session, source: str) -> Iterator[None]:
    """Hold the import lock of ``source`` while the block runs, or refuse at once (ImportInProgress) when another
    import of the same source holds it: two at once would delete and insert the same rows, and one would fail
    part-way on the other's keys. The lock outlives the import's commits and goes with the process if it dies:
    on PostgreSQL a session-level advisory lock on a connection of its own; on SQLite an exclusive ``flock`` of a
    file beside the database (an in-memory database is one process's alone, so it needs none)."""
    refused = ImportInProgress(f"Another {COMMANDS[source]} is running on this database; nothing was imported. "
                               f"Run `{COMMANDS[source]}` again when it has finished.")
    bind = db.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(f"fusioncare import {source}".encode())
        with engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                raise refused
            connection.commit()
            try:
                yield
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                except Exception:  # noqa: BLE001 - a broken connection: closing it releases the lock
                    connection.invalidate()
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock = os.open(f"{database}.{source}-import.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused from None
        yield
    finally:
        os.close(lock)  # releases the flock


def record_run(*, db: Session, source: str, source_file: str, all_taxonomies: bool, started_at: datetime,
               counts: dict[str, int], error: BaseException | None = None) -> ImportRun:
    """Append a run and commit it (a failed run is recorded after its import's own rollback)."""
    run = ImportRun(source=source, source_file=source_file[:255], all_taxonomies=all_taxonomies,
                    started_at=started_at, finished_at=datetime.now(UTC),
                    status="failed" if error is not None else "succeeded",
                    error=type(error).__name__[:200] if error is not None else None,
                    **{name: counts.get(name, 0) for name in ImportRun.COUNTS})
    db.add(run)
    db.commit()
    return run


def last_successful_runs(*, db: Session) -> list[ImportRun]:
    """The latest succeeded run per source, by source name."""
    latest = (select(ImportRun.source, func.max(ImportRun.id).label("id"))
              .where(ImportRun.status == "succeeded").group_by(ImportRun.source).subquery())
    return list(db.scalars(select(ImportRun).join(latest, ImportRun.id == latest.c.id).order_by(ImportRun.source)))
