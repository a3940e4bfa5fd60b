"""The record of data imports: one row per run, and the last successful run of each source."""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import URL, Connection, func, select, text
from sqlalchemy.orm import Session

from fusioncare.directory.errors import ImportInProgress
from fusioncare.directory.models import ImportRun

COMMANDS = {"nppes": "fusioncare import-nppes", "cms_utilization": "fusioncare import-cms-utilization",
            "cms_clinicians": "fusioncare import-cms-clinicians"}


@contextmanager
def one_at_a_time(db: Session, source: str) -> Iterator[None]:
    """Hold the import lock while the block runs, or refuse at once (ImportInProgress) when another import holds
    it: two imports of the same rows at once would each delete and insert them, and one would fail part-way on
    the other's keys. The lock outlives the NPPES import's commits and goes with the process if it dies.

    PostgreSQL: one lock per kind of import and schema, a transaction-level advisory lock in a transaction held
    open on a connection of its own for the import's length (it works through PgBouncer in transaction mode too,
    which pins a server connection to an open transaction); it ends with that transaction: rolled back when the
    block ends (it wrote nothing), by the pool if the block raised, or by the server when the connection goes.
    SQLite: one lock for every import, since SQLite takes one writer at a time (a second import of any kind
    would wait on the first one's write lock and fail part-way): an exclusive ``flock`` of a file beside the
    database. An in-memory database needs none."""
    bind = db.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name == "postgresql":
        kind = zlib.crc32(f"fusioncare import {source}".encode()) - 2**31  # the lock's second key, an int4
        with engine.connect() as connection:
            if not connection.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), :kind)"),
                                      {"kind": kind}).scalar_one():
                raise refused(source, f"Another {COMMANDS[source]} is running on this database")
            yield
            try:
                connection.rollback()  # ends the transaction (it wrote nothing), and the lock with it
            except Exception:  # noqa: BLE001 - a broken connection: the server ends its transaction, and the lock
                connection.invalidate()
        return
    path = _sqlite_file(engine.url)
    if path is None:
        yield
        return
    lock = os.open(f"{path}.import.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused(source, "Another import is running on this database (SQLite takes one writer at a "
                                  "time)") from None
        yield
    finally:
        os.close(lock)  # releases the flock


def refused(source: str, why: str) -> ImportInProgress:
    """The refusal of an import that could not start: ``why``, then that nothing was imported and what to do."""
    return ImportInProgress(f"{why}; nothing was imported. Run `{COMMANDS[source]}` again when it has finished.")


def _sqlite_file(url: URL) -> str | None:
    """The real path of a SQLite database file (a ``file:`` URI's too; the URL holds its query apart), None for an
    in-memory database."""
    database = url.database or ""
    if database.startswith("file:"):
        database = database[len("file:"):]
        if url.query.get("mode") == "memory":
            return None
    if not database or database == ":memory:":
        return None
    return os.path.realpath(database)


@contextmanager
def recorded(db: Session, source: str, *, source_file: str, all_taxonomies: bool,
             counts: Callable[[], dict[str, int]]) -> Iterator[None]:
    """Run an import (the block) one of its kind at a time (one_at_a_time) and record the run: a failed one after
    its rollback, with what ``counts()`` says it had done. An import refused before it began (ImportInProgress)
    is not a run and is not recorded."""
    started_at = datetime.now(UTC)
    with one_at_a_time(db, source):
        try:
            yield
        except ImportInProgress:
            db.rollback()
            raise
        except Exception as exc:
            db.rollback()
            try:
                record_run(db=db, source=source, source_file=source_file, all_taxonomies=all_taxonomies,
                           started_at=started_at, counts=counts(), error=exc)
            except Exception:  # noqa: BLE001 - the database may be what failed; the import's own error is the news
                db.rollback()
            raise
        record_run(db=db, source=source, source_file=source_file, all_taxonomies=all_taxonomies,
                   started_at=started_at, counts=counts())


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
