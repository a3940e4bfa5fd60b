"""Engine and session set-up shared by the app, the CLI and the tests."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine, Result, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` is typed as returning a ``Result``; for those
    statements it is a ``CursorResult``, which has the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} has no row count: not the result of an UPDATE or DELETE")
    return result.rowcount


# How long a write waits for SQLite's one write lock (an import holds it for its whole run) before it fails with
# "database is locked", which the app answers with 503 "busy" (api/errors.py). ``connect_args={"timeout": s}``
# sets another.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def is_sqlite_busy(exc: BaseException) -> bool:
    """Whether a database error is SQLite's busy lock: another writer held the write lock past the busy timeout."""
    orig = exc.orig if isinstance(exc, OperationalError) else None
    code = getattr(orig, "sqlite_errorcode", None) if isinstance(orig, sqlite3.OperationalError) else None
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout so several processes can share it.

    Every engine hides bound parameters from its error messages and logs (they hold diary notes, medications and
    e-mail addresses). SQLite files are readable by their owner only and overwrite deleted content.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _owner_only_database_file(Path(parsed.database))
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
        busy_timeout_ms = round(float(connect_args["timeout"]) * 1000)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            # Deleted rows are overwritten with zeros, in the database file and the pages the WAL carries to it.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _owner_only_database_file(path: Path) -> None:
    """Create the database file 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.

    An existing file (and its -wal and -shm) made before this rule is narrowed to 0600 too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if existing.stat().st_mode & 0o077:
                existing.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue


def scrub_erased(session: Session) -> None:
    """After erasing someone's data: on SQLite, copy the WAL into the database and truncate it to zero bytes, so
    no earlier version of the erased rows stays in the -wal file (secure_delete has zeroed them in the pages).
    Nothing to do on PostgreSQL, whose own storage and backups are the operator's to manage."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    session.commit()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with engine.connect() as connection:
        for _ in range(5):
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            if busy is None or busy[0] == 0:
                break


WROTE = "fusioncare.wrote"  # Session.info key: this transaction has written (flushed or executed DML)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "after_flush", _mark_written)
    event.listen(factory, "do_orm_execute", _mark_dml)
    event.listen(factory, "after_commit", _clear_written)
    event.listen(factory, "after_rollback", _clear_written)
    return factory


def _mark_written(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _mark_dml(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def _clear_written(session: Session) -> None:
    session.info.pop(WROTE, None)


def holds_only_reads(session: Session) -> bool:
    """True when ending the session's transaction now would lose no write: nothing flushed, executed or pending."""
    return not (session.info.get(WROTE) or session.new or session.dirty or session.deleted)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for the CLI and workers: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
