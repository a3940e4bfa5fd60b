"""NPPES importer: streams a monthly or weekly file (CSV or the CMS .zip) into the directory.

The file is cut into newline-aligned chunks of a few MB; pyarrow parses each chunk (all columns as
strings, only the used ones converted) and the taxonomy filter runs vectorised, so Python only touches
rows the directory keeps. Rows pyarrow refuses (wrong number of fields) are recorded by its invalid-row
handler and located by their text, so every row, good or bad, keeps its exact line number; a chunk
pyarrow can't read at all (invalid UTF-8) is read line by line with the csv module. Rows filed exactly as
we hold them are recognised by digest and left alone. Each chunk is one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import json
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import String, any_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from fusioncare.directory import nppes
from fusioncare.directory.errors import UnreadableImportFile
from fusioncare.directory.geo import ZipPlace, lat_band, zip_table
from fusioncare.directory.models import Provider, SearchIndexEntry
from fusioncare.directory.names import normalise
from fusioncare.directory.npi import is_valid_npi
from fusioncare.directory.specialties import KEPT_TAXONOMIES, codes_for_taxonomies

CHUNK_BYTES = 4 * 1024 * 1024
# One transaction per this much input on SQLite, where each commit may checkpoint the WAL; PostgreSQL
# commits every chunk, which costs it little.
SQLITE_COMMIT_BYTES = 64 * 1024 * 1024
MAX_REPORTED_ERRORS = 10_000  # the count in "rejected" stays exact beyond this
_LOOKUP_CHUNK = 900  # NPIs per IN (...) lookup, under every SQLite build's bound-parameter limit

# Positions in the tuple each row is reduced to (the order of nppes.USED_COLUMNS).
_POS = {name: i for i, name in enumerate(nppes.USED_COLUMNS)}
_TAX_POS = [(_POS[t], _POS[s]) for t, s in zip(nppes.TAXONOMY_COLUMNS, nppes.PRIMARY_SWITCH_COLUMNS, strict=True)]


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

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "updated": self.updated,
                "deactivated": self.deactivated, "skipped": self.skipped, "rejected": self.rejected,
                "errors": [{"line": e.line, "npi": e.npi, "reason": e.reason} for e in self.errors]}


class _Rejected(Exception):
    pass


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


def _chunks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """Newline-aligned pieces of the stream (after the header line)."""
    leftover = b""
    while True:
        data = stream.read(size)
        if not data:
            if leftover.strip():
                yield leftover if leftover.endswith(b"\n") else leftover + b"\n"
            return
        data = leftover + data
        cut = data.rfind(b"\n")
        if cut < 0:
            leftover = data
            continue
        leftover = data[cut + 1:]
        yield data[:cut + 1]


# -- parsing one chunk -------------------------------------------------------------------------------------

class _ChunkParser:
    def __init__(self, header: list[str], mapping: dict[str, str], *, all_taxonomies: bool) -> None:
        self.header = header
        self.mapping = mapping
        self.all_taxonomies = all_taxonomies
        self.file_columns = list(dict.fromkeys(mapping.values()))
        self.kept = pa.array(sorted(KEPT_TAXONOMIES), pa.string())
        self.positions = [header.index(mapping[c]) if c in mapping else None for c in nppes.USED_COLUMNS]

    def parse(self, chunk: bytes, first_line: int, line_count: int, report: ImportReport) -> list[tuple[int, tuple]]:
        """Rows to process as (line, values); bad rows go into the report with their line numbers."""
        if not chunk.isascii():
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                # pyarrow can't even hand such a row to the invalid-row handler; go line by line.
                return self.slow(chunk, first_line, report)
        invalid: list[str] = []

        def on_invalid(row) -> str:
            invalid.append(row.text)
            return "skip"

        try:
            table = pacsv.read_csv(
                pa.BufferReader(chunk),
                read_options=pacsv.ReadOptions(column_names=self.header, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    include_columns=self.file_columns,
                    column_types={c: pa.string() for c in self.file_columns},
                    strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return self.slow(chunk, first_line, report)
        n = table.num_rows
        if invalid or n != line_count:
            # pyarrow skipped rows (or blank lines): find which lines they were, so line numbers stay exact.
            lines = self._line_numbers(chunk, first_line, invalid, n, report)
            if lines is None:
                return self.slow(chunk, first_line, report)
        else:
            lines = range(first_line, first_line + n)
        report.rows += n
        if not self.all_taxonomies:
            mask = None
            for column in nppes.TAXONOMY_COLUMNS:
                if column in self.mapping:
                    hit = pc.is_in(table[self.mapping[column]], value_set=self.kept)
                    mask = hit if mask is None else pc.or_(mask, hit)
            if nppes.DEACTIVATION_DATE in self.mapping:
                # Deactivations carry no taxonomy, but they may hide a provider we hold.
                mask = pc.or_(mask, pc.not_equal(table[self.mapping[nppes.DEACTIVATION_DATE]], ""))
            keep = pc.indices_nonzero(mask)
            report.skipped += n - len(keep)
            table = table.take(keep)
            lines = [lines[i] for i in keep.to_pylist()]
        blank = [""] * table.num_rows
        columns = [table[self.mapping[c]].to_pylist() if c in self.mapping else blank for c in nppes.USED_COLUMNS]
        return list(zip(lines, zip(*columns, strict=True), strict=True))

    def _line_numbers(self, chunk: bytes, first_line: int, invalid: list[str], parsed: int,
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
        width = len(self.header)
        for line, text in refused:
            report.rows += 1
            try:
                found = f"found {len(next(csv.reader([text])))}"
            except (csv.Error, StopIteration):
                found = "the row is not valid CSV"
            report.reject(line, _npi_guess(text.encode()), f"expected {width} fields, {found}")
        return kept

    def slow(self, chunk: bytes, first_line: int, report: ImportReport) -> list[tuple[int, tuple]]:
        """Line-by-line fallback for a chunk pyarrow can't parse at all (e.g. invalid UTF-8)."""
        out: list[tuple[int, tuple]] = []
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
            if not self.all_taxonomies and not values[_POS[nppes.DEACTIVATION_DATE]] and not any(
                    values[t] in KEPT_TAXONOMIES for t, _ in _TAX_POS):
                report.skipped += 1
                continue
            out.append((line, values))
        return out


def _npi_guess(raw: bytes) -> str | None:
    head = raw[:14].decode("ascii", "replace").strip('"').split('"')[0]
    return head if head.isdigit() else None


# -- turning a row into a record ---------------------------------------------------------------------------

def _date(value: str, column: str) -> date | None:
    if not value:
        return None
    # Sliced by hand: strptime costs ten times more and this runs for every kept row.
    try:
        if len(value) != 10 or value[2] != "/" or value[5] != "/":
            raise ValueError
        return date(int(value[6:]), int(value[:2]), int(value[3:5]))
    except ValueError:
        raise _Rejected(f"{column} {value!r} is not a date in MM/DD/YYYY form") from None


@dataclass(slots=True)
class _Deactivation:
    npi: str
    deactivation_date: date
    reactivation_date: date | None


def build_record(values: tuple, *, all_taxonomies: bool,
                 zips: dict[str, ZipPlace]) -> tuple | _Deactivation | None:
    """The registry fields of one provider from one file row (a tuple in ``_RECORD_COLUMNS`` order); a
    _Deactivation; None when out of scope.

    Raises _Rejected with the reason for a row that can't be trusted. Names and addresses are stored as
    filed (the registry uses capitals); pages and the API present them in display case.
    """
    v = values
    npi = v[_NPI]
    if not is_valid_npi(npi):
        raise _Rejected(f"NPI {npi!r} is not 10 digits with a valid check digit")
    deactivated_on = _date(v[_DEACTIVATION], nppes.DEACTIVATION_DATE)
    reactivated_on = _date(v[_REACTIVATION], nppes.REACTIVATION_DATE)
    if deactivated_on and not (reactivated_on and reactivated_on > deactivated_on):
        return _Deactivation(npi, deactivated_on, reactivated_on)
    taxonomies = tuple((v[t], v[s] == "Y") for t, s in _TAX_POS if v[t])
    specialties = _specialties_of(tuple(code for code, _ in taxonomies))
    if not specialties and not all_taxonomies:
        return None
    entity = v[_ENTITY]
    if entity not in ("1", "2"):
        raise _Rejected(f"{nppes.ENTITY_TYPE} {entity!r} is not 1 (individual) or 2 (organization)")
    organization = v[_ORG]
    if entity == "1":
        if not v[_LAST]:
            raise _Rejected(f"{nppes.LAST_NAME} is empty")
        display = " ".join(p for p in (v[_FIRST], v[_MIDDLE], v[_LAST], v[_SUFFIX]) if p)
        searchable = f"{display} {organization}" if organization else display
    else:
        if not organization:
            raise _Rejected(f"{nppes.ORGANIZATION_NAME} is empty")
        display = searchable = organization
    postal = v[_POSTAL]
    country = v[_COUNTRY] or "US"
    zip5 = lat = lon = tz = None
    if country == "US":
        if not (len(postal) in (5, 9) and postal.isascii() and postal.isdigit()):
            raise _Rejected(f"practice ZIP {postal!r} is not 5 or 9 digits")
        zip5 = postal[:5]
        place = zips.get(zip5)
        if place is not None:  # a ZIP the offline table lacks is kept, just not placed on the map
            lat, lon, tz = place.lat, place.lon, place.time_zone
    # A tuple in _RECORD_COLUMNS order: a dict per row costs more than the parse at registry scale.
    return (
        npi, int(entity), display[:200], normalise(searchable)[:300], organization or None, v[_LAST] or None,
        v[_FIRST] or None, v[_MIDDLE] or None, v[_PREFIX] or None, v[_SUFFIX] or None, v[_CREDENTIAL] or None,
        v[_SEX][:1] or None, taxonomies, specialties, v[_ADDRESS1] or None, v[_ADDRESS2] or None,
        v[_CITY] or None, v[_STATE] or None, postal or None, zip5, country[:2], v[_PHONE] or None, lat, lon, tz,
        _date(v[_ENUMERATED], nppes.ENUMERATION_DATE), _date(v[_UPDATED], nppes.LAST_UPDATE_DATE),
        deactivated_on, reactivated_on, True, _digest(v),
    )


@lru_cache(maxsize=65536)
def _specialties_of(taxonomy_codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(codes_for_taxonomies(taxonomy_codes))


@lru_cache(maxsize=65536)
def _taxonomies_json(taxonomies: tuple[tuple[str, bool], ...]) -> str:
    # Few distinct combinations recur across millions of rows, so each is serialised once.
    return json.dumps([{"code": code, "primary": primary} for code, primary in taxonomies])


@lru_cache(maxsize=4096)
def _list_json(items: tuple[str, ...]) -> str:
    return json.dumps(list(items))


def _digest(values: tuple) -> str:
    """The filed values decide every registry field, so their digest tells "unchanged" on a re-import."""
    return hashlib.md5("\x1f".join(values).encode(), usedforsecurity=False).hexdigest()


(_NPI, _ENTITY, _ORG, _LAST, _FIRST, _MIDDLE, _PREFIX, _SUFFIX, _CREDENTIAL, _ADDRESS1, _ADDRESS2, _CITY, _STATE,
 _POSTAL, _COUNTRY, _PHONE, _ENUMERATED, _UPDATED, _DEACTIVATION, _REACTIVATION, _SEX) = (
    _POS[c] for c in (nppes.NPI, nppes.ENTITY_TYPE, nppes.ORGANIZATION_NAME, nppes.LAST_NAME, nppes.FIRST_NAME,
                      nppes.MIDDLE_NAME, nppes.NAME_PREFIX, nppes.NAME_SUFFIX, nppes.CREDENTIAL, nppes.ADDRESS_LINE1,
                      nppes.ADDRESS_LINE2, nppes.CITY, nppes.STATE, nppes.POSTAL_CODE, nppes.COUNTRY_CODE,
                      nppes.PHONE, nppes.ENUMERATION_DATE, nppes.LAST_UPDATE_DATE, nppes.DEACTIVATION_DATE,
                      nppes.REACTIVATION_DATE, nppes.SEX))


# -- writing -------------------------------------------------------------------------------------------------

# Registry columns an import writes; provider-managed fields are never touched by one.
_REGISTRY_COLUMNS = ("npi", "entity_type", "display_name", "name_search", "organization_name", "last_name",
                     "first_name", "middle_name", "name_prefix", "name_suffix", "credential", "sex", "taxonomies",
                     "specialties", "address_line1", "address_line2", "city", "state", "postal_code", "zip_code",
                     "country_code", "phone", "lat", "lon", "time_zone", "enumeration_date", "last_update_date",
                     "deactivation_date", "reactivation_date", "is_active", "source_digest", "source_file",
                     "imported_at", "is_demo")
# What build_record returns; the import adds source_file, imported_at and is_demo.
_RECORD_COLUMNS = _REGISTRY_COLUMNS[:_REGISTRY_COLUMNS.index("source_digest") + 1]
_R_NPI, _R_SPECIALTIES, _R_LAT, _R_LON, _R_DIGEST = (
    _RECORD_COLUMNS.index(c) for c in ("npi", "specialties", "lat", "lon", "source_digest"))
_DATE_COLUMNS = {"enumeration_date", "last_update_date", "deactivation_date", "reactivation_date"}
_NEW_PROVIDER_DEFAULTS = {"insurance_plans": "[]", "languages": "[]", "services": "[]", "profile_confirmed": False}
_INDEX_COLUMNS = ("specialty", "npi", "lat_band", "lat", "lon")


class _BulkWriter:
    """Bulk upserts below the ORM: executemany on SQLite, COPY into a temporary table on PostgreSQL.

    Going through the ORM or Core costs more than the whole pyarrow parse at this volume, so values are
    adapted once here into the forms SQLAlchemy itself stores (ISO dates and JSON text on SQLite; native
    values on PostgreSQL). ``INSERT ... ON CONFLICT (npi) DO UPDATE`` reads the same on both databases; on
    PostgreSQL the rows arrive by COPY first, because executemany pays a round trip per row.
    """

    _BATCH_TABLE = "directory_import_batch"

    def __init__(self, db: Session, *, source_file: str, imported_at: datetime, is_demo: bool) -> None:
        self.db = db
        dialect = db.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        self.postgresql = dialect.name == "postgresql"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        registry = ", ".join(_REGISTRY_COLUMNS)
        managed = ", ".join(_NEW_PROVIDER_DEFAULTS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _REGISTRY_COLUMNS if c != "npi")
        conflict = f"ON CONFLICT (npi) DO UPDATE SET {updates}"
        self.upsert_sql = (f"INSERT INTO {Provider.__tablename__} ({registry}, {managed}) "
                           f"VALUES ({', '.join([mark] * (len(_REGISTRY_COLUMNS) + len(_NEW_PROVIDER_DEFAULTS)))}) "
                           f"{conflict}")
        self.index_sql = (f"INSERT INTO {SearchIndexEntry.__tablename__} ({', '.join(_INDEX_COLUMNS)}) "
                          f"VALUES ({', '.join([mark] * len(_INDEX_COLUMNS))})")
        defaults_sql = "'[]', '[]', '[]', false"
        self.copy_upsert_sql = (f"INSERT INTO {Provider.__tablename__} ({registry}, {managed}) "
                                f"SELECT {registry}, {defaults_sql} FROM {self._BATCH_TABLE} {conflict}")
        self.defaults = tuple(_NEW_PROVIDER_DEFAULTS.values())
        # Provenance, the same for every row of the file.
        self.extra = (source_file, _sqlite_datetime(imported_at) if self.sqlite else imported_at, is_demo)
        # (position, converter) for the values the driver should receive in another form.
        self.converters: list[tuple[int, Callable[[Any], Any]]] = [
            (_RECORD_COLUMNS.index("taxonomies"), _taxonomies_json),
            (_RECORD_COLUMNS.index("specialties"), _list_json)]
        if self.sqlite:
            self.converters += [(i, date.isoformat) for i, c in enumerate(_RECORD_COLUMNS) if c in _DATE_COLUMNS]

    def _rows(self, records: list[tuple]) -> Iterator[tuple]:
        for record in records:
            values = list(record)
            for i, convert in self.converters:
                if values[i] is not None:
                    values[i] = convert(values[i])
            yield (*values, *self.extra)

    def upsert(self, records: list[tuple]) -> None:
        if self.postgresql:
            cursor = self.db.connection().connection.driver_connection.cursor()
            # Same column types, none of the constraints: the upsert below applies those.
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._BATCH_TABLE} ON COMMIT DELETE ROWS AS "
                           f"SELECT {', '.join(_REGISTRY_COLUMNS)} FROM {Provider.__tablename__} WITH NO DATA")
            with cursor.copy(f"COPY {self._BATCH_TABLE} ({', '.join(_REGISTRY_COLUMNS)}) FROM STDIN") as copy:
                for row in self._rows(records):
                    copy.write_row(row)
            cursor.execute(self.copy_upsert_sql)
            cursor.execute(f"DELETE FROM {self._BATCH_TABLE}")  # in case a transaction spans several chunks
            return
        self.db.connection().exec_driver_sql(self.upsert_sql, [row + self.defaults for row in self._rows(records)])

    def index(self, records: list[tuple]) -> None:
        rows = [(code, r[_R_NPI], lat_band(r[_R_LAT]), r[_R_LAT], r[_R_LON])
                for r in records if r[_R_LAT] is not None for code in r[_R_SPECIALTIES]]
        if not rows:
            return
        if self.postgresql:
            cursor = self.db.connection().connection.driver_connection.cursor()
            with cursor.copy(f"COPY {SearchIndexEntry.__tablename__} ({', '.join(_INDEX_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        self.db.connection().exec_driver_sql(self.index_sql, rows)


def _sqlite_datetime(value: datetime) -> str:
    """UTC, in the text form SQLAlchemy's SQLite DateTime type reads back."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


@contextmanager
def _bulk_session_settings(db: Session) -> Iterator[None]:
    """On SQLite, a bigger page cache and rarer WAL checkpoints while importing; restored afterwards."""
    if db.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = db.connection()
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    checkpoint = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    connection.exec_driver_sql("PRAGMA cache_size = -32768")  # 32 MiB
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 16384")  # pages, about 64 MiB of WAL
    try:
        yield
    finally:
        connection = db.connection()
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


def _npi_batches(db: Session, column, npis: list[str]) -> Iterator[Any]:
    """``column IN npis`` conditions. On PostgreSQL one ``= ANY(array)``: psycopg prepares a statement run
    often, and a generic plan for a long IN list, made while the table was small, turns into a sequential
    scan as the import grows it; ``= ANY`` keeps the index. SQLite gets IN lists under its parameter limit."""
    if db.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam("npis", npis, type_=postgresql.ARRAY(String(10))))
        return
    for i in range(0, len(npis), _LOOKUP_CHUNK):
        yield column.in_(npis[i:i + _LOOKUP_CHUNK])


def _existing(db: Session, npis: list[str]) -> dict[str, tuple[str, bool, date | None]]:
    found: dict[str, tuple[str, bool, date | None]] = {}
    for condition in _npi_batches(db, Provider.npi, npis):
        rows = db.execute(select(Provider.npi, Provider.source_digest, Provider.is_active, Provider.deactivation_date)
                          .where(condition))
        for npi, digest, active, deactivated_on in rows:
            found[npi] = (digest, active, deactivated_on)
    return found


def _drop_index_rows(db: Session, npis: list[str]) -> None:
    for condition in _npi_batches(db, SearchIndexEntry.npi, npis):
        db.execute(delete(SearchIndexEntry).where(condition))


@dataclass
class _ImportContext:
    db: Session
    writer: _BulkWriter
    report: ImportReport
    all_taxonomies: bool
    source_file: str
    imported_at: datetime
    is_demo: bool
    zips: dict[str, ZipPlace]


def _write(ctx: _ImportContext, rows: list[tuple[int, tuple]]) -> None:
    """Build, classify and store one chunk's rows (the caller commits)."""
    report = ctx.report
    records: dict[str, tuple] = {}
    deactivations: dict[str, _Deactivation] = {}
    existing = _existing(ctx.db, list({values[_NPI] for _, values in rows}))
    for line, values in rows:
        before = existing.get(values[_NPI])
        if before is not None and before[1] and before[0] == _digest(values):
            report.unchanged += 1  # filed exactly as we hold it: nothing to build or write
            continue
        try:
            built = build_record(values, all_taxonomies=ctx.all_taxonomies, zips=ctx.zips)
        except _Rejected as exc:
            report.reject(line, values[_NPI], str(exc))
            continue
        if built is None:
            report.skipped += 1
        elif isinstance(built, _Deactivation):
            records.pop(built.npi, None)
            deactivations[built.npi] = built
        else:
            deactivations.pop(built[_R_NPI], None)
            records[built[_R_NPI]] = built  # a later row for the same NPI wins
    new, changed = [], []
    for npi, record in records.items():
        before = existing.get(npi)
        if before is None:
            new.append(record)
        elif before[0] != record[_R_DIGEST] or not before[1]:
            changed.append(record)
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
        _drop_index_rows(ctx.db, [r[_R_NPI] for r in changed] + [d.npi for d in to_deactivate])
    if new or changed:
        written = new + changed
        ctx.writer.upsert(written)
        ctx.writer.index(written)
    for d in to_deactivate:
        ctx.db.execute(update(Provider).where(Provider.npi == d.npi).values(
            is_active=False, deactivation_date=d.deactivation_date, reactivation_date=d.reactivation_date,
            source_file=ctx.source_file, imported_at=ctx.imported_at))


def _parsed_in_background(stream: IO[bytes], parser: _ChunkParser, report: ImportReport,
                          chunk_bytes: int) -> Iterator[tuple[list[tuple[int, tuple]], int]]:
    """(rows, chunk size) per chunk, parsed one chunk ahead in a thread.

    pyarrow and SQLite both release the GIL in their C code, so parsing the next chunk overlaps with
    writing this one on a second core. At most two parsed chunks wait, so memory stays bounded.
    """
    parsed: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                parsed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            line = 2
            for chunk in _chunks(stream, chunk_bytes):
                lines = chunk.count(b"\n")
                if not put((parser.parse(chunk, line, lines, report), len(chunk))):
                    return
                line += lines
            put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)

    thread = threading.Thread(target=work, name="nppes-parser", daemon=True)
    thread.start()
    try:
        while (item := parsed.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def import_nppes(*, db: Session, path: Path, all_taxonomies: bool = False, is_demo: bool = False,
                 on_progress: Callable[[int, int], None] | None = None,
                 chunk_bytes: int = CHUNK_BYTES) -> ImportReport:
    """Import one NPPES file and return the report.

    Commits every chunk (every 64 MB of input on SQLite), so an interrupted import keeps what it finished
    and a re-run completes the rest (re-importing is idempotent). ``is_demo`` marks every provider it writes as
    demo data.
    """
    commit_bytes = SQLITE_COMMIT_BYTES if db.get_bind().dialect.name == "sqlite" else 0
    report = ImportReport()
    parse_report = ImportReport()  # filled by the parsing thread; merged at the end
    with open_nppes(path) as (stream, size, source_file):
        header, mapping = _read_header(stream, source_file)
        parser = _ChunkParser(header, mapping, all_taxonomies=all_taxonomies)
        imported_at = datetime.now(UTC)
        writer = _BulkWriter(db, source_file=source_file, imported_at=imported_at, is_demo=is_demo)
        ctx = _ImportContext(db=db, writer=writer, report=report, all_taxonomies=all_taxonomies,
                             source_file=source_file, imported_at=imported_at, is_demo=is_demo,
                             zips=zip_table())
        done = uncommitted = 0
        with _bulk_session_settings(db):
            for rows, chunk_size in _parsed_in_background(stream, parser, parse_report, chunk_bytes):
                _write(ctx, rows)
                done += chunk_size
                uncommitted += chunk_size
                if uncommitted >= commit_bytes:
                    db.commit()
                    uncommitted = 0
                if on_progress is not None:
                    on_progress(done, size)
            db.commit()
    report.rows += parse_report.rows
    report.skipped += parse_report.skipped
    report.rejected += parse_report.rejected
    report.errors = sorted(parse_report.errors + report.errors, key=lambda e: e.line)[:MAX_REPORTED_ERRORS]
    return report
