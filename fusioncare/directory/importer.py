"""NPPES importer: streams a monthly or weekly file (CSV or the CMS .zip) into the directory.

A reading thread cuts the file into newline-aligned chunks of 8 MB, has pyarrow parse each (only the used
columns converted), drops rows out of scope with a vectorised taxonomy filter and builds the records column
by column (``records.build_chunk``); the calling thread looks up which NPIs we already hold and writes.
Rows pyarrow refuses (wrong number of fields) come to its invalid-row handler with their row numbers, so
every row, good or bad, keeps its exact line number; a chunk pyarrow can't read at all (invalid UTF-8) is
read line by line with the csv module. Rows filed exactly as we hold them are recognised by digest and left
alone. See docs/directory.md, "How it stays fast and bounded".
"""

from __future__ import annotations

import csv
import json
import queue
import threading
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import errors as psycopg_errors
from sqlalchemy import Connection, Index, Table, select, update
from sqlalchemy.orm import Session

from fusioncare.directory import imports, nppes, records
from fusioncare.directory.errors import UnreadableImportFile
from fusioncare.directory.models import Provider, SearchIndexEntry
from fusioncare.directory.specialties import KEPT_TAXONOMIES

CHUNK_BYTES = 8 * 1024 * 1024
# One transaction per this much input: each commit may checkpoint SQLite's WAL or flush PostgreSQL's, and
# per-chunk commits measured slower on both.
COMMIT_BYTES = 64 * 1024 * 1024
MAX_REPORTED_ERRORS = 10_000  # the count in "rejected" stays exact beyond this

_EMPTY = pa.scalar("", pa.string())


@dataclass
class RowError:
    line: int
    npi: str | None
    reason: str


@dataclass
class ImportReport:
    """What an import did; ``as_dict`` is the documented JSON report (see docs/directory.md)."""

    rows: int = 0
    imported: int = 0
    updated: int = 0
    deactivated: int = 0
    skipped: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    unchanged: int = 0  # rows already in the directory exactly as filed; not part of the JSON report

    def reject(self, line: int, npi: str | None, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, npi or None, reason))

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "imported": self.imported, "updated": self.updated,
                "deactivated": self.deactivated, "skipped": self.skipped, "rejected": self.rejected,
                "unchanged": self.unchanged}

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "updated": self.updated,
                "deactivated": self.deactivated, "skipped": self.skipped, "rejected": self.rejected,
                "errors": [{"line": e.line, "npi": e.npi, "reason": e.reason} for e in self.errors]}


# -- opening the file ------------------------------------------------------------------------------------

@contextmanager
def open_nppes(path: Path) -> Iterator[tuple[IO[bytes], int, str]]:
    """(binary stream, size in bytes, file name) of the data file; for a .zip, its npidata_pfile_*.csv member."""
    if not path.is_file():
        raise UnreadableImportFile(f"{path} does not exist or is not a file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")
                       and "fileheader" not in m.filename.lower()]
            data = [m for m in members if Path(m.filename).name.lower().startswith("npidata_pfile")]
            chosen = data or members
            if len(chosen) != 1:
                names = ", ".join(m.filename for m in members) or "none"
                raise UnreadableImportFile(
                    f"{path.name}: expected one npidata_pfile_*.csv in the archive, found CSV files: {names}")
            with archive.open(chosen[0]) as stream:
                yield stream, chosen[0].file_size, f"{path.name}:{Path(chosen[0].filename).name}"
        return
    with path.open("rb") as stream:
        yield stream, path.stat().st_size, path.name


def _read_header(stream: IO[bytes], file_name: str) -> tuple[list[str], dict[str, str]]:
    """Column names in file order, and our logical name -> the file's name for every used column it has."""
    raw = stream.readline()
    try:
        names = next(csv.reader([raw.decode("utf-8-sig").rstrip("\r\n")]))
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        raise UnreadableImportFile(f"{file_name}: the first line is not a CSV header") from exc
    present = set(names)
    mapping: dict[str, str] = {}
    for column in nppes.USED_COLUMNS:
        if column in present:
            mapping[column] = column
        elif column == nppes.SEX and nppes.SEX_OLD in present:
            mapping[column] = nppes.SEX_OLD
    missing = [c for c in nppes.REQUIRED_COLUMNS if c not in mapping]
    if missing or not any(c in mapping for c in nppes.TAXONOMY_COLUMNS):
        need = ", ".join(repr(c) for c in (*missing, nppes.taxonomy_column(1)) if c not in mapping)
        raise UnreadableImportFile(f"{file_name}: not an NPPES data file; the header lacks {need}")
    return names, mapping


def _chunks(stream: IO[bytes], size: int) -> Iterator[memoryview]:
    """Newline-aligned pieces of the stream (after the header line).

    Each piece lives in a buffer of its own (pyarrow's parsed strings may point into it) and is read into
    it directly: slicing and concatenating bytes would copy every chunk three times, holding the GIL.
    """
    leftover = b""
    while True:
        buffer = bytearray(len(leftover) + size)
        buffer[:len(leftover)] = leftover
        view = memoryview(buffer)
        filled = len(leftover)
        # typing.IO has no readinto; open_nppes yields a file opened "rb" or a zip member, both io.BufferedIOBase.
        while filled < len(buffer) and (got := stream.readinto(view[filled:])):  # type: ignore[attr-defined]
            filled += got
        if filled == len(leftover):  # end of the stream
            if leftover.strip():
                yield memoryview(leftover if leftover.endswith(b"\n") else leftover + b"\n")
            return
        cut = buffer.rfind(b"\n", 0, filled)
        if cut < 0:
            leftover = bytes(view[:filled])
            continue
        leftover = bytes(view[cut + 1:filled])
        yield view[:cut + 1]


# -- parsing one chunk -------------------------------------------------------------------------------------

class _ChunkParser:
    def __init__(self, header: list[str], mapping: dict[str, str], *, all_taxonomies: bool) -> None:
        self.header = header
        self.mapping = mapping
        self.all_taxonomies = all_taxonomies
        self.file_columns = list(dict.fromkeys(mapping.values()))
        self.kept = pa.array(sorted(KEPT_TAXONOMIES), pa.string())
        self.positions = [header.index(mapping[c]) if c in mapping else None for c in nppes.USED_COLUMNS]

    def parse(self, chunk: memoryview, first_line: int,
              report: ImportReport) -> tuple[pa.Table, list[int], int]:
        """The chunk's rows to build (columns named as nppes.USED_COLUMNS), the file line of each, and the
        number of lines in the chunk; bad rows and rows out of scope go into the report, bad ones with their
        line numbers."""
        if not _is_utf8(chunk):
            # pyarrow can't even hand such a row to the invalid-row handler; go line by line.
            return self.slow(bytes(chunk), first_line, report)
        invalid: list[tuple[int | None, str]] = []

        def on_invalid(row) -> str:
            invalid.append((row.number, row.text))
            return "skip"

        try:
            # One block per chunk and no threads: the chunk is small, the other core is writing, and row
            # numbers of refused rows are only known when one thread reads the block in order.
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(chunk)),
                read_options=pacsv.ReadOptions(column_names=self.header, block_size=len(chunk) + 1,
                                               use_threads=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    include_columns=self.file_columns,
                    column_types={c: pa.string() for c in self.file_columns},
                    strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return self.slow(bytes(chunk), first_line, report)
        n = table.num_rows
        line_count = _buffer_of(chunk).count(b"\n", 0, len(chunk))
        if invalid or n != line_count:
            # pyarrow refused rows or passed over empty lines: find which lines they were, so line numbers
            # stay exact.
            lines = self._line_numbers(chunk, first_line, line_count, invalid, n, report)
            if lines is None:
                return self.slow(bytes(chunk), first_line, report)
        else:
            lines = list(range(first_line, first_line + n))
        report.rows += n
        if not self.all_taxonomies:
            mask = None
            for column in nppes.TAXONOMY_COLUMNS:
                if column in self.mapping:
                    hit = pc.is_in(table[self.mapping[column]], value_set=self.kept)
                    mask = hit if mask is None else pc.or_(mask, hit)
            if nppes.DEACTIVATION_DATE in self.mapping:
                # Deactivations carry no taxonomy, but they may hide a provider we hold.
                mask = pc.or_(mask, pc.not_equal(table[self.mapping[nppes.DEACTIVATION_DATE]], _EMPTY))
            keep = pc.indices_nonzero(mask)
            report.skipped += n - len(keep)
            table = table.take(keep)
            lines = records.pick(lines, keep.to_pylist())
        empty = pa.repeat(_EMPTY, table.num_rows)
        named = pa.table([table[self.mapping[c]] if c in self.mapping else empty for c in nppes.USED_COLUMNS],
                         names=list(nppes.USED_COLUMNS))
        return named, lines, line_count

    def _line_numbers(self, chunk: memoryview, first_line: int, line_count: int,
                      invalid: list[tuple[int | None, str]], parsed: int, report: ImportReport) -> list[int] | None:
        """Line numbers of the rows pyarrow kept; the rows it refused are reported. None when they can't be
        placed (the caller then reads the chunk line by line)."""
        # pyarrow numbers the rows it reads, good or refused, passing over empty lines without a number; a
        # lone carriage return also ends a row for it, and then its rows and our lines disagree.
        buffer, end = _buffer_of(chunk), len(chunk)
        lone_cr = buffer.find(b"\r", 0, end) >= 0 and buffer.count(b"\r", 0, end) != buffer.count(b"\r\n", 0, end)
        numbered = [(number, text) for number, text in invalid if number is not None]
        if len(numbered) < len(invalid) or lone_cr:
            return self._line_numbers_by_text(bytes(chunk), first_line, [text for _, text in invalid], parsed,
                                              report)
        if parsed + len(invalid) == line_count:
            rows = list(range(first_line, first_line + line_count))
        else:
            data = bytes(chunk)
            rows = [first_line + offset for offset, text in enumerate(data.split(b"\n")[:-1])
                    if text not in (b"", b"\r")]
            if len(rows) != parsed + len(invalid):
                return None
        if any(not 0 < number <= len(rows) for number, _ in numbered):
            return None
        refused = {rows[number - 1]: text for number, text in numbered}
        for line, text in refused.items():
            self._refuse(line, text, report)
        return [line for line in rows if line not in refused]

    def _refuse(self, line: int, text: str, report: ImportReport) -> None:
        report.rows += 1
        try:
            found = f"found {len(next(csv.reader([text])))}"
        except (csv.Error, StopIteration):
            found = "the row is not valid CSV"
        report.reject(line, _npi_guess(text.encode()), f"expected {len(self.header)} fields, {found}")

    def _line_numbers_by_text(self, chunk: bytes, first_line: int, invalid: list[str], parsed: int,
                              report: ImportReport) -> list[int] | None:
        """Line numbers of the rows pyarrow kept, given the texts of the rows it refused (in file order)."""
        pending = iter(invalid)
        expected = next(pending, None)
        kept: list[int] = []
        refused: list[tuple[int, str]] = []
        for offset, raw in enumerate(chunk.split(b"\n")[:-1]):
            text = raw.decode("utf-8", "replace").rstrip("\r")
            if not text:
                continue
            if expected is not None and text == expected:
                refused.append((first_line + offset, text))
                expected = next(pending, None)
            else:
                kept.append(first_line + offset)
        if expected is not None or len(kept) != parsed:
            return None
        for line, text in refused:
            self._refuse(line, text, report)
        return kept

    def slow(self, chunk: bytes, first_line: int, report: ImportReport) -> tuple[pa.Table, list[int], int]:
        """Line-by-line fallback for a chunk pyarrow can't parse at all (e.g. invalid UTF-8)."""
        lines: list[int] = []
        rows: list[tuple] = []
        width = len(self.header)
        for offset, raw in enumerate(chunk.split(b"\n")[:-1]):
            line = first_line + offset
            if not raw.strip():
                continue
            report.rows += 1
            try:
                text = raw.decode("utf-8").rstrip("\r")
                fields = next(csv.reader([text]))
            except UnicodeDecodeError:
                report.reject(line, _npi_guess(raw), "the row is not valid UTF-8")
                continue
            except (csv.Error, StopIteration):
                report.reject(line, _npi_guess(raw), "the row is not valid CSV")
                continue
            if len(fields) != width:
                report.reject(line, _npi_guess(raw), f"expected {width} fields, found {len(fields)}")
                continue
            values = tuple(fields[p] if p is not None else "" for p in self.positions)
            if not self.all_taxonomies and not records.in_default_scope(values):
                report.skipped += 1
                continue
            lines.append(line)
            rows.append(values)
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(nppes.USED_COLUMNS)
        table = pa.table([pa.array(c, pa.string()) for c in columns], names=list(nppes.USED_COLUMNS))
        return table, lines, chunk.count(b"\n")


def _is_utf8(chunk: memoryview) -> bool:
    """Checked by Arrow on the bytes in place: decoding a chunk to a str would briefly hold up to four times
    its size."""
    offsets = pa.py_buffer(array("i", [0, len(chunk)]).tobytes())
    try:
        pa.StringArray.from_buffers(1, offsets, pa.py_buffer(chunk)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _buffer_of(chunk: memoryview) -> bytes | bytearray:
    """The buffer a chunk starts at the beginning of (searched up to len(chunk)), without a copy."""
    return chunk.obj if isinstance(chunk.obj, (bytes, bytearray)) else bytes(chunk)


def _npi_guess(raw: bytes) -> str | None:
    head = raw[:14].decode("ascii", "replace").strip('"').split('"')[0]
    return head if head.isdigit() else None


# -- writing -------------------------------------------------------------------------------------------------

# Registry columns an import writes; provider-managed fields are never touched by one.
_REGISTRY_COLUMNS = (*records.RECORD_COLUMNS, "source_file", "imported_at", "is_demo")
# Provider-managed fields of a new provider, as SQL literals both databases read.
_NEW_PROVIDER_DEFAULTS = {"insurance_plans": "'[]'", "languages": "'[]'", "services": "'[]'",
                          "profile_confirmed": "false"}
# The same, as the values COPY writes.
_NEW_PROVIDER_VALUES: dict[str, str | bool] = {"insurance_plans": "[]", "languages": "[]", "services": "[]",
                                               "profile_confirmed": False}
_INDEX_COLUMNS = ("specialty", "npi", "lat_band", "lat", "lon")
_SQLITE_ROWS_PER_INSERT = 100  # x 34 values; larger statements measured no faster


class _BulkWriter:
    """Bulk upserts below the ORM: multi-row INSERTs on SQLite, COPY into a temporary table on PostgreSQL.

    Going through the ORM or Core costs more than the whole pyarrow parse at this volume, so records arrive
    already in the forms SQLAlchemy itself stores (ISO dates, JSON text). ``INSERT ... ON CONFLICT (npi) DO
    UPDATE`` reads the same on both databases. On SQLite, binding values is the writer's main cost in Python,
    so the values every row shares (active, provenance) are bound once per statement; on PostgreSQL the rows
    arrive by COPY first, because executemany pays a round trip per row.
    """

    _BATCH_TABLE = "directory_import_batch"

    def __init__(self, db: Session, *, source_file: str, imported_at: datetime, is_demo: bool) -> None:
        self.db = db
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        self.postgresql = dialect.name == "postgresql"
        managed, defaults = ", ".join(_NEW_PROVIDER_DEFAULTS), ", ".join(_NEW_PROVIDER_DEFAULTS.values())
        updates = ", ".join(f"{c} = excluded.{c}" for c in _REGISTRY_COLUMNS if c != "npi")
        self.conflict = f" ON CONFLICT (npi) DO UPDATE SET {updates}"
        registry = ", ".join(_REGISTRY_COLUMNS)
        self.copy_upsert_sql = (f"INSERT INTO {Provider.__tablename__} ({registry}, {managed}) "
                                f"SELECT {registry}, {defaults} FROM {self._BATCH_TABLE}{self.conflict}")
        # Provenance, the same for every row of the file.
        self.extra = (source_file, _sqlite_datetime(imported_at) if self.sqlite else imported_at, is_demo)
        # SQLite: the record columns that vary, then the shared ones as ?1-?3 and literals.
        self.varying = [i for i, c in enumerate(records.RECORD_COLUMNS) if c != "is_active"]
        columns = [records.RECORD_COLUMNS[i] for i in self.varying]
        self.sqlite_head = (f"INSERT INTO {Provider.__tablename__} ({', '.join(columns)}, is_active, source_file, "
                            f"imported_at, is_demo, {managed}) ")
        self.sqlite_shared = f"true, ?1, ?2, ?3, {defaults}"

    @lru_cache(maxsize=8)  # noqa: B019 - a handful of statement sizes per writer, the writer lives for one import
    def _insert_sql(self, rows: int) -> str:
        width = len(self.varying)
        marks = (f"({', '.join(f'?{4 + r * width + j}' for j in range(width))}, {self.sqlite_shared})"
                 for r in range(rows))
        return f"{self.sqlite_head}VALUES {', '.join(marks)}{self.conflict}"

    @lru_cache(maxsize=8)  # noqa: B019
    def _index_sql(self, rows: int) -> str:
        marks = f"({', '.join(['?'] * len(_INDEX_COLUMNS))})"
        return (f"INSERT INTO {SearchIndexEntry.__tablename__} ({', '.join(_INDEX_COLUMNS)}) "
                f"VALUES {', '.join([marks] * rows)}")

    def _driver_cursor(self) -> Any:
        """A cursor on the driver's own connection: psycopg's COPY, sqlite3's many-row statements."""
        driver = self.db.connection().connection.driver_connection
        if driver is None:  # the pooled connection was invalidated under us
            raise RuntimeError("the database connection was lost during the import")
        return driver.cursor()

    def upsert(self, columns: list[list], *, all_new: bool = False) -> None:
        """Insert or update records given column by column (records.ChunkRecords.columns).

        ``all_new``: none of these NPIs was stored when the chunk was classified. On PostgreSQL they are then
        COPYed straight into the directory, without the staging table and the upsert (most of an
        --all-taxonomies import's time), under a savepoint: if another import stored one of them meanwhile,
        the COPY is undone and the chunk takes the upsert like any other.
        """
        n = len(columns[0])
        if not n:
            return
        if self.postgresql:
            columns = [*columns, *([value] * n for value in self.extra)]
            cursor = self._driver_cursor()
            if all_new and self._copied_as_new(cursor, columns, n):
                return
            # Same column types, none of the constraints: the upsert below applies those.
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._BATCH_TABLE} ON COMMIT DELETE ROWS AS "
                           f"SELECT {', '.join(_REGISTRY_COLUMNS)} FROM {Provider.__tablename__} WITH NO DATA")
            with cursor.copy(f"COPY {self._BATCH_TABLE} ({', '.join(_REGISTRY_COLUMNS)}) FROM STDIN") as copy:
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
            cursor.execute(self.copy_upsert_sql)
            cursor.execute(f"DELETE FROM {self._BATCH_TABLE}")  # in case a transaction spans several chunks
            return
        self._sqlite_many(self._insert_sql, _row_major([columns[i] for i in self.varying]), len(self.varying),
                          _SQLITE_ROWS_PER_INSERT, shared=list(self.extra))

    def _copied_as_new(self, cursor: Any, columns: list[list], n: int) -> bool:
        managed = [[value] * n for value in _NEW_PROVIDER_VALUES.values()]
        cursor.execute("SAVEPOINT directory_new_rows")
        try:
            with cursor.copy(f"COPY {Provider.__tablename__} ({', '.join(_REGISTRY_COLUMNS)}, "
                             f"{', '.join(_NEW_PROVIDER_VALUES)}) FROM STDIN") as copy:
                for row in zip(*columns, *managed, strict=True):
                    copy.write_row(row)
        except psycopg_errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT directory_new_rows")
            return False
        cursor.execute("RELEASE SAVEPOINT directory_new_rows")
        return True

    def index(self, flat: list) -> None:
        """Insert search-index rows given one after another in a flat list (specialty, npi, lat_band, lat, lon)."""
        if not flat:
            return
        width = len(_INDEX_COLUMNS)
        if self.postgresql:
            cursor = self._driver_cursor()
            with cursor.copy(f"COPY {SearchIndexEntry.__tablename__} ({', '.join(_INDEX_COLUMNS)}) FROM STDIN") as copy:
                for start in range(0, len(flat), width):
                    copy.write_row(flat[start:start + width])
            return
        self._sqlite_many(self._index_sql, flat, width, 4 * _SQLITE_ROWS_PER_INSERT)

    def _sqlite_many(self, statement: Callable[[int], str], flat: list, width: int, per_statement: int,
                     shared: list | None = None) -> None:
        cursor = self._driver_cursor()
        try:
            sqlite_many(cursor, statement, flat, width, per_statement, shared)
        finally:
            cursor.close()


def sqlite_many(cursor: Any, statement: Callable[[int], str], flat: list, width: int, per_statement: int,
                shared: list | None = None) -> None:
    """Many rows per statement (``shared`` first, then ``width`` values per row): sqlite3 releases the GIL
    around every step, and with the reading thread busy in Python each re-acquisition can wait a whole
    switch interval, so executemany's step per row costs far more inside the import than alone. Only a
    few statement shapes (per_statement, a tenth of it, ..., 1), since sqlite3 keeps every distinct
    statement it has compiled. Each statement is atomic: one that fails leaves none of its rows."""
    rows = len(flat) // width
    shared = shared or []
    start, size = 0, per_statement
    while start < rows:
        while rows - start < size:
            size = max(1, size // 10)
        cursor.execute(statement(size), shared + flat[start * width:(start + size) * width])
        start += size


def _row_major(columns: list[list]) -> list:
    """One flat list, row after row, built by slice assignment (no tuple per row)."""
    width, n = len(columns), len(columns[0])
    flat: list = [None] * (width * n)
    for j, column in enumerate(columns):
        flat[j::width] = column
    return flat


def _sqlite_datetime(value: datetime) -> str:
    """UTC, in the text form SQLAlchemy's SQLite DateTime type reads back."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


@contextmanager
def _bulk_session_settings(db: Session) -> Iterator[None]:
    """On SQLite, a fixed page cache and rarer WAL checkpoints while importing; restored afterwards."""
    if db.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = db.connection()
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    checkpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    # 8 MiB: a bigger cache measured no faster and counts against the import's resident memory.
    connection.exec_driver_sql("PRAGMA cache_size = -8192")
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 16384")  # pages, about 64 MiB of WAL
    try:
        yield
    finally:
        connection = db.connection()
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


def _cell_index() -> Index:
    table = SearchIndexEntry.__table__
    assert isinstance(table, Table)  # a declarative model's table (typed as any FromClause)
    return next(i for i in table.indexes if i.name == "ix_directory_search_index_cell")


@contextmanager
def _search_index_built_afterwards(db: Session) -> Iterator[None]:
    """Into an empty directory, fill the search index without its cell index and build that once at the end:
    one sort instead of a B-tree insert per row. The index is first (re)created if missing, which repairs an
    import killed while it was dropped."""
    cell = _cell_index()
    cell.create(db.connection(), checkfirst=True)
    if db.execute(select(Provider.npi).limit(1)).first() is not None:
        db.commit()
        yield
        return
    cell.drop(db.connection(), checkfirst=True)
    db.commit()
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    finally:
        cell.create(db.connection(), checkfirst=True)
        db.commit()


def _among(db: Session, column: str, npis: list[str]) -> tuple[str, tuple]:
    """A ``column`` condition matching ``npis`` and its parameters: one JSON array read by json_each on SQLite
    (no bound-parameter limit), one ``= ANY(array)`` on PostgreSQL (an IN list prepared while the table was
    small gets a plan that turns into a sequential scan as the import grows it; ``= ANY`` keeps the index)."""
    if db.get_bind().dialect.name == "postgresql":
        return f"{column} = ANY(%s)", (npis,)
    return f"{column} IN (SELECT value FROM json_each(?))", (json.dumps(npis),)


def _existing(db: Session, npis: list[str]) -> dict[str, tuple[str, bool, date | None]]:
    """npi -> (digest, active, deactivation date) of those we hold."""
    if not npis:
        return {}
    condition, params = _among(db, "npi", npis)
    rows = db.connection().exec_driver_sql(
        f"SELECT npi, source_digest, is_active, deactivation_date FROM {Provider.__tablename__} WHERE {condition}",
        params)
    return {npi: (digest, bool(active), date.fromisoformat(day) if isinstance(day, str) else day)
            for npi, digest, active, day in rows}


def _drop_index_rows(db: Session, npis: list[str]) -> None:
    condition, params = _among(db, "npi", npis)
    db.connection().exec_driver_sql(f"DELETE FROM {SearchIndexEntry.__tablename__} WHERE {condition}", params)


@dataclass
class _ImportContext:
    db: Session
    writer: _BulkWriter
    report: ImportReport
    source_file: str
    imported_at: datetime


def _in_file_order(chunk: records.ChunkRecords) -> tuple[dict[str, int], dict[str, records.Deactivation]]:
    """The last word on each NPI in the chunk: npi -> index of its record, npi -> deactivation (a later row
    for the same NPI wins, whichever kind it is)."""
    npis = chunk.columns[records.R_NPI]
    if not chunk.deactivations:
        return {npi: i for i, npi in enumerate(npis)}, {}
    built: dict[str, int] = {}
    deactivations: dict[str, records.Deactivation] = {}
    events = sorted([(line, 1, i) for i, line in enumerate(chunk.lines)]
                    + [(line, 0, i) for i, (line, _) in enumerate(chunk.deactivations)])
    for _, is_record, i in events:
        if is_record:
            deactivations.pop(npis[i], None)
            built[npis[i]] = i
        else:
            d = chunk.deactivations[i][1]
            built.pop(d.npi, None)
            deactivations[d.npi] = d
    return built, deactivations


def _write(ctx: _ImportContext, chunk: records.ChunkRecords) -> None:
    """Classify and store one chunk's records (the caller commits)."""
    report = ctx.report
    for line, npi, reason in chunk.rejected:
        report.reject(line, npi, reason)
    built, deactivations = _in_file_order(chunk)
    existing = _existing(ctx.db, [*built, *deactivations, *(npi for npi, _ in chunk.skipped)])
    for npi, row_digest in chunk.skipped:
        before = existing.get(npi)
        if before is not None and before[1] and before[0] == row_digest:
            report.unchanged += 1  # held exactly as filed (e.g. by an --all-taxonomies import)
        else:
            report.skipped += 1
    new, changed = [], []
    npis, digests = chunk.columns[records.R_NPI], chunk.columns[records.R_DIGEST]
    for npi, i in built.items():
        before = existing.get(npi)
        if before is None:
            new.append(i)
        elif before[0] != digests[i] or not before[1]:
            changed.append(i)
        else:
            report.unchanged += 1
    report.imported += len(new)
    report.updated += len(changed)
    to_deactivate = []
    for npi, d in deactivations.items():
        before = existing.get(npi)
        if before is None:
            report.skipped += 1  # nothing of ours to hide; a reactivation row later brings the full record
        elif before[1] or before[2] != d.deactivation_date:
            to_deactivate.append(d)
        else:
            report.unchanged += 1
    report.deactivated += len(to_deactivate)
    if changed or to_deactivate:
        _drop_index_rows(ctx.db, [npis[i] for i in changed] + [d.npi for d in to_deactivate])
    if new or changed:
        written = new + changed
        rows: Sequence[int] = written
        if len(written) == len(npis):  # every record (a fresh import): no need to pick them out
            columns, rows = chunk.columns, range(len(npis))
        else:
            columns = [records.pick(column, written) for column in chunk.columns]
        ctx.writer.upsert(columns, all_new=not changed)
        lats, lons = chunk.columns[records.R_LAT], chunk.columns[records.R_LON]
        bands, specialties = chunk.lat_bands, chunk.specialties
        ctx.writer.index([value for i in rows if lats[i] is not None for code in specialties[i]
                          for value in (code, npis[i], bands[i], lats[i], lons[i])])
    if to_deactivate:
        ctx.db.execute(update(Provider), [
            {"npi": d.npi, "is_active": False, "deactivation_date": d.deactivation_date,
             "reactivation_date": d.reactivation_date, "source_file": ctx.source_file,
             "imported_at": ctx.imported_at} for d in to_deactivate])


T = TypeVar("T")


_END = object()  # read_ahead's end of the items: an item may be None


def read_ahead(items: Iterator[T], *, name: str, file_name: str, damaged_note: str = "") -> Iterator[T]:
    """``items``, produced one step ahead in a thread named ``name``.

    pyarrow's kernels and the database drivers release the GIL in their C code, so producing the next chunk
    overlaps with writing this one on a second core. At most two produced items wait, so memory stays bounded. A
    damaged zip member met while reading becomes UnreadableImportFile (``damaged_note`` added to its message);
    any other exception is re-raised here. When the consumer stops early the producer stops too, and the thread
    has ended before this generator returns or raises.
    """
    prepared: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                prepared.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            put(UnreadableImportFile(f"{file_name}: the file is damaged and can't be read to the end ({exc})"
                                     f"{damaged_note}"))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while (item := prepared.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _prepared_in_background(
        stream: IO[bytes], file_name: str, parser: _ChunkParser, report: ImportReport, *, all_taxonomies: bool,
        chunk_bytes: int, cache_dir: Path | None) -> Iterator[tuple[records.ChunkRecords, int]]:
    """(built chunk, chunk size) per chunk, parsed and built one chunk ahead in a reading thread (read_ahead)."""

    def built() -> Iterator[tuple[records.ChunkRecords, int]]:
        line = 2
        for chunk in _chunks(stream, chunk_bytes):
            table, row_lines, lines = parser.parse(chunk, line, report)
            yield records.build_chunk(table, row_lines, all_taxonomies=all_taxonomies), len(chunk)
            line += lines

    records.zip_columns(cache_dir)  # before the reader needs it, so the cache is used and kept
    return read_ahead(built(), name="nppes-reader", file_name=file_name)


def import_nppes(*, db: Session, path: Path, all_taxonomies: bool = False, is_demo: bool = False,
                 on_progress: Callable[[int, int], None] | None = None,
                 chunk_bytes: int = CHUNK_BYTES, cache_dir: Path | None = None) -> ImportReport:
    """Import one NPPES file and return the report.

    Commits every 64 MB of input, so an interrupted import keeps what it finished
    and a re-run completes the rest (re-importing is idempotent). ``is_demo`` marks every provider it writes as
    demo data. ``cache_dir`` keeps the ZIP table between imports (see records.zip_columns).
    """
    report = ImportReport()
    parse_report = ImportReport()  # filled by the reading thread; merged at the end
    with imports.recorded(db, "nppes", source_file=path.name, all_taxonomies=all_taxonomies,
                          counts=lambda: _merged(report, parse_report).counts()):
        _import(db=db, path=path, all_taxonomies=all_taxonomies, is_demo=is_demo, on_progress=on_progress,
                chunk_bytes=chunk_bytes, cache_dir=cache_dir, report=report, parse_report=parse_report)
    _refresh_planner_facts(db)  # the rows are committed and the run recorded: only the planner's facts are left
    return _merged(report, parse_report)


def _refresh_planner_facts(db: Session) -> None:
    """On PostgreSQL, VACUUM (ANALYZE) the two tables search reads, right after the import that rewrote them.

    Search reads only the covering index, but PostgreSQL can skip the table only for pages its visibility map
    marks all-visible, which only VACUUM sets; and without fresh statistics the planner misjudges the box scan.
    Measured at 3 million providers: the count went from a bitmap scan of 24,494 entries (15 ms) to an
    index-only scan that stops at the cap (1-5 ms). Autovacuum gets there too, but 25 minutes after such an
    import it had not (docs/operations.md). VACUUM cannot run in a transaction: its own autocommit connection.
    """
    bind = db.get_bind()
    if bind.dialect.name != "postgresql" or isinstance(bind, Connection):
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {Provider.__tablename__}, {SearchIndexEntry.__tablename__}")


def _merged(report: ImportReport, parse_report: ImportReport) -> ImportReport:
    """The writer's report with the reading thread's counts and errors added (errors in line order)."""
    merged = replace(report, rows=report.rows + parse_report.rows, skipped=report.skipped + parse_report.skipped,
                     rejected=report.rejected + parse_report.rejected)
    merged.errors = sorted(parse_report.errors + report.errors, key=lambda e: e.line)[:MAX_REPORTED_ERRORS]
    return merged


def _import(*, db: Session, path: Path, all_taxonomies: bool, is_demo: bool,
            on_progress: Callable[[int, int], None] | None, chunk_bytes: int, cache_dir: Path | None,
            report: ImportReport, parse_report: ImportReport) -> None:
    commit_bytes = COMMIT_BYTES
    with open_nppes(path) as (stream, size, source_file):
        header, mapping = _read_header(stream, source_file)
        parser = _ChunkParser(header, mapping, all_taxonomies=all_taxonomies)
        imported_at = datetime.now(UTC)
        writer = _BulkWriter(db, source_file=source_file, imported_at=imported_at, is_demo=is_demo)
        ctx = _ImportContext(db=db, writer=writer, report=report, source_file=source_file, imported_at=imported_at)
        done = uncommitted = 0
        with _bulk_session_settings(db), _search_index_built_afterwards(db):
            for chunk, chunk_size in _prepared_in_background(stream, source_file, parser, parse_report,
                                                             all_taxonomies=all_taxonomies, chunk_bytes=chunk_bytes,
                                                             cache_dir=cache_dir):
                _write(ctx, chunk)
                done += chunk_size
                uncommitted += chunk_size
                if uncommitted >= commit_bytes:
                    db.commit()
                    uncommitted = 0
                if on_progress is not None:
                    on_progress(done, size)
            db.commit()
