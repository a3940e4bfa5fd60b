"""Readiness of the databases, and backup and restore of a SQLite database."""

from __future__ import annotations

import os
import secrets
import shlex
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from fusioncare.migrate import alembic_config


class OperationRefused(Exception):
    """An operation that must not run as asked (the message says why and what to do instead)."""


# -- readiness ----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def expected_heads() -> frozenset[str]:
    """The newest migration(s) this code ships (Alembic's script module is imported here, on the first readiness
    check, not when the app starts: importing it logs a line per plugin)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str  # "ready", or what is wrong in words an operator can act on
    replica: str | None = None  # "ready" or what is wrong with the read replica; None without one


def _database_problem(engine: Engine, *, check_schema: bool) -> str | None:
    """None when the database answers (and, if asked, its schema is at the newest migration)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if not check_schema:
                return None
            current = _current_heads(connection)
    except Exception as exc:  # noqa: BLE001 - the exception's message may hold a host name or a statement
        return f"the database does not answer ({type(exc).__name__})"
    expected = expected_heads()
    if current != expected:
        have = ", ".join(sorted(current)) or "no schema"
        return (f"the database schema is at {have}, this version needs {', '.join(sorted(expected))}: "
                "run `fusioncare init`")
    return None


def _current_heads(connection: Connection) -> frozenset[str]:
    """The revisions in alembic_version, read directly (Alembic's MigrationContext logs two lines per call, and
    probes call every few seconds); none when the table is missing."""
    try:
        with connection.begin_nested():
            return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except DBAPIError:
        return frozenset()


def readiness(*, engine: Engine, read_engine: Engine | None = None) -> Readiness:
    """Ready when the primary answers with its schema at the newest migration.

    A read replica's state is reported but does not make the process unready: taking every app process out of
    the load balancer because searches fail would also stop bookings and sign-ins.
    """
    problem = _database_problem(engine, check_schema=True)
    replica = None
    if read_engine is not None:
        replica = _database_problem(read_engine, check_schema=False) or "ready"
    return Readiness(ready=problem is None, reason=problem or "ready", replica=replica)


# -- backup and restore -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackupDone:
    path: Path
    size_bytes: int
    pages: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise OperationRefused("an in-memory SQLite database has nothing to back up or restore")
    return Path(parsed.database)


def _libpq_url(url: str) -> str:
    """The URL as libpq tools take it: plain postgresql://, no password (they read PGPASSWORD or ~/.pgpass)."""
    return make_url(url).set(drivername="postgresql")._replace(password=None).render_as_string(hide_password=False)


def pg_dump_command(url: str, target: Path) -> str:
    """The pg_dump command for a PostgreSQL URL, without its password (pg_dump reads PGPASSWORD or ~/.pgpass)."""
    conninfo = _libpq_url(url)
    return f"pg_dump --format=custom --no-owner --file {shlex.quote(str(target))} {shlex.quote(conninfo)}"


def pg_restore_command(url: str, source: Path) -> str:
    conninfo = _libpq_url(url)
    return (f"pg_restore --no-owner --exit-on-error --single-transaction --dbname {shlex.quote(conninfo)} "
            f"{shlex.quote(str(source))}")


def _fresh_target(target: Path) -> Path:
    """A temporary name beside the target, so the finished copy appears at once under its name (rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")


def _copy(source: sqlite3.Connection, target: Path) -> int:
    """Copy a whole database with SQLite's online backup API, in one step.

    One step reads every page inside a single read transaction: in WAL mode writers go on meanwhile, and the
    copy is the database as of the moment the step began (several smaller steps would restart from the first
    page whenever another connection writes, and could chase a busy database for ever).
    """
    partial = _fresh_target(target)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            pages = destination.execute("PRAGMA page_count").fetchone()[0]
        finally:
            destination.close()
        os.chmod(partial, 0o600)
        try:
            os.link(partial, target)  # never replaces an existing file, even one that appeared meanwhile
        except FileExistsError:
            raise OperationRefused(f"{target} already exists; choose a new file name") from None
        return pages
    finally:
        partial.unlink(missing_ok=True)


def backup_sqlite(*, database: Path, target: Path) -> BackupDone:
    """Copy a live SQLite database to ``target`` (a new file), safe while the app serves and writes."""
    if not database.is_file():
        raise OperationRefused(f"there is no database at {database}")
    if target.exists():
        raise OperationRefused(f"{target} already exists; choose a new file name")
    source = sqlite3.connect(database, timeout=30)
    try:
        pages = _copy(source, target)
    finally:
        source.close()
    return BackupDone(path=target, size_bytes=target.stat().st_size, pages=pages)


def _check_backup(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise OperationRefused(f"there is no backup at {path}")
    with path.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise OperationRefused(f"{path} is not a SQLite database")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise OperationRefused(f"{path} is damaged (integrity check: {verdict})")
        has_schema = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()[0]
        if not has_schema:
            raise OperationRefused(f"{path} is not a FusionCare database (it has no migration version)")
    except Exception:
        connection.close()
        raise
    return connection


def restore_sqlite(*, backup: Path, database: Path) -> BackupDone:
    """Restore a backup into an empty place: refuses when a database (or its WAL) is already there."""
    for existing in (database, database.with_name(database.name + "-wal")):
        if existing.exists() and existing.stat().st_size > 0:
            raise OperationRefused(
                f"{existing} already exists: restore never overwrites a database (it may be live). Stop the "
                "service, move the old database files aside, and run the restore again.")
    database.with_name(database.name + "-shm").unlink(missing_ok=True)
    database.unlink(missing_ok=True)  # an empty file, as a first open leaves behind
    source = _check_backup(backup)
    try:
        pages = _copy(source, database)
    finally:
        source.close()
    return BackupDone(path=database, size_bytes=database.stat().st_size, pages=pages)
