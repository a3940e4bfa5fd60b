"""CMS importers: Medicare procedure volumes ("by Provider and Service") and the Doctors and Clinicians file.

Both stream the file (CSV, tab-separated text, or the .zip CMS ships) in newline-aligned 8 MB chunks that pyarrow
parses with only the used columns converted, map columns by name (stripped of spaces and tabs, any case), and
report each bad row with its line number and reason while the import goes on. A chunk that is not UTF-8 is read as
Windows-1252 and the report says so. Each import is one transaction: it replaces what it replaces (a data year of
volumes, or the whole clinicians file) only if it reaches the end, so nothing half-written is ever seen.
See docs/directory.md, "CMS public data".
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fusioncare.db import is_sqlite_busy
from fusioncare.directory import cms, imports
from fusioncare.directory.errors import UnreadableImportFile
from fusioncare.directory.importer import (
    CHUNK_BYTES,
    _buffer_of,
    _bulk_session_settings,
    _chunks,
    _is_utf8,
    _row_major,
    read_ahead,
    sqlite_many,
)
from fusioncare.directory.models import (
    PRACTICE_FIELDS,
    ClinicianFacts,
    ClinicianFile,
    ProcedureVolume,
    Provider,
)
from fusioncare.directory.npi import PREFIX_SUM, is_valid_npi
from fusioncare.knowledge.loader import Pack, get_pack

MAX_REPORTED_ERRORS = 10_000  # "rejected" stays exact beyond this
FIRST_DATA_YEAR = 2012
MAX_COUNT = 2**31 - 1  # the largest patients or services figure stored (PostgreSQL's integer)


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class CmsImportReport:
    """What a CMS import did; ``as_dict`` is the documented JSON report. ``errors`` lists the refused rows and the
    values repaired or left out of kept rows (say so in ``reason``); ``rejected`` counts the refused rows only."""

    year: int | None = None
    rows: int = 0
    kept: int = 0
    matched_providers: int = 0
    unmatched_npis: int = 0
    rejected: int = 0
    repaired: int = 0
    errors: list[RowError] = field(default_factory=list)
    directory_providers: int | None = None  # clinicians: the directory's active providers when the import began
    encoding: str = "utf-8"  # "cp1252" once any part of the file had to be read as Windows-1252

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        self._add(line, reason)

    def repair(self, line: int, reason: str) -> None:
        self.repaired += 1
        self._add(line, reason)

    def _add(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "kept": self.kept, "matched_providers": self.matched_providers,
                "unmatched_npis": self.unmatched_npis, "rejected": self.rejected,
                "errors": [{"line": e.line, "reason": e.reason} for e in sorted(self.errors, key=lambda e: e.line)],
                "year": self.year}

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "imported": self.kept, "rejected": self.rejected,
                "skipped": self.rows - self.kept - self.rejected}


# -- reading ---------------------------------------------------------------------------------------------------

@contextmanager
def open_cms_file(path: Path) -> Iterator[tuple[IO[bytes], str]]:
    """(binary stream, name for messages) of the data file; for a .zip, its largest .csv or .txt member."""
    if not path.is_file():
        raise UnreadableImportFile(f"{path} does not exist or is not a file")
    if not zipfile.is_zipfile(path):
        try:
            plain = path.open("rb")
        except OSError as exc:
            raise UnreadableImportFile(f"{path.name}: can't be read ({exc.strerror})") from None
        with plain:
            yield plain, path.name
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableImportFile(f"{path.name}: the zip file is damaged and can't be opened ({exc})") from None
    with archive:
        members = [m for m in archive.infolist() if m.filename.lower().endswith((".csv", ".txt"))]
        if not members:
            raise UnreadableImportFile(f"{path.name}: the zip file holds no .csv or .txt data file")
        chosen = max(members, key=lambda m: m.file_size)
        try:
            with archive.open(chosen) as stream:
                yield stream, f"{path.name}:{Path(chosen.filename).name}"
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise UnreadableImportFile(f"{path.name}: the zip file is damaged and can't be read to the end "
                                       f"({exc}); nothing was imported") from None


@dataclass
class _Header:
    names: list[str]  # stripped, in file order
    delimiter: str
    positions: dict[str, int]  # our column name -> its position
    file_names: dict[str, str]  # our column name -> the file's name for it (for messages)


def _read_header(stream: IO[bytes], file_name: str, report: CmsImportReport, columns: dict[str, tuple[str, ...]],
                 optional: frozenset[str], expected: str, command: str) -> _Header:
    raw = stream.readline()
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        line = raw.decode("cp1252", errors="replace")
        report.encoding = "cp1252"
    line = line.rstrip("\r\n")
    delimiter = "\t" if line.count("\t") > line.count(",") else ","
    try:
        names = [n.strip() for n in next(csv.reader([line], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        names = []
    by_lower = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    positions: dict[str, int] = {}
    file_names: dict[str, str] = {}
    for ours, candidates in columns.items():
        for candidate in candidates:
            if candidate.lower() in by_lower:
                positions[ours] = by_lower[candidate.lower()]
                file_names[ours] = names[positions[ours]]
                break
    missing = [columns[c][0] for c in columns if c not in positions and c not in optional]
    if missing:
        known = cms.identify(names)
        if known is not None and known[1] != command:
            what, other = known
            use = f"; import it with `{other}`" if other else ""
            raise UnreadableImportFile(f"{file_name}: this is {what}, not {expected}{use}. Nothing was imported.")
        raise UnreadableImportFile(f"{file_name}: not {expected}: the first line lacks the column(s) "
                                   f"{', '.join(missing)}. Nothing was imported.")
    return _Header(names=names, delimiter=delimiter, positions=positions, file_names=file_names)


def _parse(chunk: memoryview, first_line: int, header: _Header, wanted: list[str],
           report: CmsImportReport) -> tuple[list[pa.Array], list[int] | None, int]:
    """The wanted columns of the chunk's good rows as string arrays, the file line of each row (None: one row per
    line from ``first_line``), and the number of lines in the chunk. Rows with the wrong number of fields are
    reported."""
    data: bytes | memoryview = chunk
    if not _is_utf8(chunk):
        data = bytes(chunk).decode("cp1252", errors="replace").encode("utf-8")
        report.encoding = "cp1252"
    width = len(header.names)
    invalid: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    include = [f"c{header.positions[c]}" for c in wanted if c in header.positions]

    def read(threads: bool) -> pa.Table:
        # Two blocks on two threads when the chunk is clean; a refused row is only numbered exactly when one
        # thread reads one block in order, so a chunk with one is read again that way.
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)],
                                           block_size=len(data) // 2 + 1 if threads else len(data) + 1,
                                           use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=header.delimiter, invalid_row_handler=on_invalid,
                                             quote_char='"' if header.delimiter == "," else False),
            convert_options=pacsv.ConvertOptions(include_columns=include,
                                                 column_types={c: pa.string() for c in include},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))

    try:
        table = read(threads=True)
        if invalid:
            invalid.clear()
            table = read(threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _parse_slowly(bytes(data), first_line, header, wanted, report)
    line_count = _buffer_of(data).count(b"\n", 0, len(data)) if isinstance(data, memoryview) else data.count(b"\n")
    lines: list[int] | None = None
    if invalid or table.num_rows != line_count:
        buffer = bytes(data)
        rows = [first_line + i for i, text_ in enumerate(buffer.split(b"\n")[:-1]) if text_.strip(b"\r")]
        if len(rows) != table.num_rows + len(invalid) or any(n is None or not 0 < n <= len(rows) for n, _ in invalid):
            return _parse_slowly(buffer, first_line, header, wanted, report)
        refused = set()
        for number, row_text in invalid:
            assert number is not None
            refused.add(rows[number - 1])
            report.rows += 1
            report.reject(rows[number - 1], _field_count_reason(row_text, header))
        lines = [line for line in rows if line not in refused]
    report.rows += table.num_rows
    empty = pa.array([""] * table.num_rows, pa.string())
    columns = [table.column(f"c{header.positions[c]}").combine_chunks() if c in header.positions else empty
               for c in wanted]
    return columns, lines, line_count


def _field_count_reason(row_text: str, header: _Header) -> str:
    try:
        found = f"found {len(next(csv.reader([row_text], delimiter=header.delimiter)))}"
    except (csv.Error, StopIteration):
        found = "the row is not valid CSV"
    return f"expected {len(header.names)} fields, {found}"


def _parse_slowly(data: bytes, first_line: int, header: _Header, wanted: list[str],
                  report: CmsImportReport) -> tuple[list[pa.Array], list[int] | None, int]:
    """Line by line with the csv module, for a chunk pyarrow refuses as a whole."""
    width = len(header.names)
    positions = [header.positions.get(c) for c in wanted]
    values: list[list[str]] = [[] for _ in wanted]
    lines: list[int] = []
    raw_lines = data.split(b"\n")[:-1]
    for offset, raw in enumerate(raw_lines):
        line = first_line + offset
        if not raw.strip(b"\r"):
            continue
        report.rows += 1
        text_ = raw.decode("utf-8", errors="replace").rstrip("\r")
        try:
            fields = next(csv.reader(io.StringIO(text_), delimiter=header.delimiter,
                                     quoting=csv.QUOTE_MINIMAL if header.delimiter == "," else csv.QUOTE_NONE))
        except (csv.Error, StopIteration):
            report.reject(line, "the row is not valid CSV")
            continue
        if len(fields) != width:
            report.reject(line, f"expected {width} fields, found {len(fields)}")
            continue
        lines.append(line)
        for column, position in zip(values, positions, strict=True):
            column.append(fields[position] if position is not None else "")
    return [pa.array(v, pa.string()) for v in values], lines, len(raw_lines)


T = TypeVar("T")


def _stream_chunks(stream: IO[bytes], file_name: str, header: _Header, wanted: list[str], report: CmsImportReport,
                   chunk_bytes: int, prepare: Callable[[list[pa.Array], list[int] | None, int, CmsImportReport], T],
                   ) -> Iterator[T]:
    """Per chunk, ``prepare(columns, lines or None, first line, report)``: parsed and prepared one chunk ahead in a
    reading thread (read_ahead), so that the checks column by column overlap with the writing of the chunk before.
    What the parse and ``prepare`` find goes into ``report`` when the stream ends. A damaged zip member is refused
    as a whole."""
    parsed = CmsImportReport()  # written by the reading thread only

    def parsed_chunks() -> Iterator[T]:
        line = 2
        for chunk in _chunks(stream, chunk_bytes):
            columns, lines, count = _parse(chunk, line, header, wanted, parsed)
            yield prepare(columns, lines, line, parsed)
            line += count

    try:
        yield from read_ahead(parsed_chunks(), name="cms-reader", file_name=file_name,
                              damaged_note="; nothing was imported")
    finally:  # the reading thread has ended: read_ahead joined it
        report.rows += parsed.rows
        report.rejected += parsed.rejected
        report.repaired += parsed.repaired
        report.errors.extend(parsed.errors[:MAX_REPORTED_ERRORS - len(report.errors)])
        if parsed.encoding != "utf-8":
            report.encoding = parsed.encoding


def _as_parsed(columns: list[pa.Array], lines: list[int] | None, first: int,
               report: CmsImportReport) -> tuple[list[pa.Array], list[int] | None, int]:
    return columns, lines, first


def _line_at(lines: list[int] | None, first: int, index: int) -> int:
    return first + index if lines is None else lines[index]


def _lines_at(lines: list[int] | None, first: int, indices: pa.Array) -> pa.Array:
    """_line_at for many rows of the chunk at once."""
    return pc.add(pc.cast(indices, pa.int64()), first) if lines is None else pa.array(lines, pa.int64()).take(indices)


# -- writing ---------------------------------------------------------------------------------------------------

def _driver_cursor(db: Session) -> Any:
    driver = db.connection().connection.driver_connection
    if driver is None:
        raise RuntimeError("the database connection was lost during the import")
    return driver.cursor()


def _matched(db: Session, npis_sql: str, params: dict[str, Any]) -> tuple[int, int]:
    """(NPIs of active providers in the directory, the others) among the distinct NPIs ``npis_sql`` selects."""
    row = db.execute(text(
        f"SELECT count(*), count(p.npi) FROM ({npis_sql}) AS v "
        f"LEFT JOIN {Provider.__tablename__} p ON p.npi = v.npi AND p.is_active = :active"),
        {**params, "active": True}).one()
    total, matched = int(row[0]), int(row[1])
    return matched, total - matched


def _write_lock_up_front(db: Session, source: str) -> None:
    """SQLite has one writer at a time: take the write lock before the import's first write (BEGIN IMMEDIATE),
    once the file's header is known good, and refuse clearly when another write (not an import: those exclude
    each other, imports.one_at_a_time) keeps it past the busy timeout, rather than fail on the first DELETE."""
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is None or getattr(driver, "in_transaction", True):
        return  # the caller's transaction has written already, so it holds the write lock
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if not is_sqlite_busy(exc):
            raise
        raise imports.refused(source, "The database is busy with another write that did not end in time") from None


def _recorded(source: str, db: Session, path: Path, run: Callable[[CmsImportReport], None],
              report: CmsImportReport) -> CmsImportReport:
    """Run an import in one transaction, recorded and one of its kind at a time (imports.recorded)."""
    with imports.recorded(db, source, source_file=path.name, all_taxonomies=False, counts=report.counts):
        with _bulk_session_settings(db):
            run(report)
            db.commit()
    return report


def _check_year(year: int, *, latest: int) -> int:
    if not FIRST_DATA_YEAR <= year <= latest:
        raise UnreadableImportFile(f"year: must be between {FIRST_DATA_YEAR} and {latest}, not {year}")
    return year


# -- Medicare procedure volumes ----------------------------------------------------------------------------------

_WANTED_UTILIZATION = ["npi", "code", "place", "patients", "services"]


def _count(value: str) -> float | None:
    """A count as CMS writes it ('212', '12419.0'; a thousands comma is tolerated); None if not a number."""
    try:
        number = float(value.strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def import_utilization(*, db: Session, path: Path, year: int | None = None, is_demo: bool = False,
                       pack: Pack | None = None, chunk_bytes: int = CHUNK_BYTES) -> CmsImportReport:
    """Import one year of the "by Provider and Service" file: only the rows of procedure codes the knowledge pack
    names, per NPI, code, place of service and year. Replaces that year's figures (other years stay); the year
    comes from ``year`` or the CMS file name (``..._D23_...`` is 2023, ``..._CY2013...`` is 2013)."""
    pack = pack or get_pack()
    report = CmsImportReport()
    codes = pa.array(sorted(pack.procedure_codes), pa.string())
    if year is None:
        year = cms.data_year_from_name(path.name)
        if year is None and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                year = next((y for m in archive.namelist() if (y := cms.data_year_from_name(m))), None)
    if year is None:
        raise UnreadableImportFile(f"{path.name}: the data year is not in the file name (CMS names these files "
                                   f"like MUP_PHY_R25_P05_V20_D23_Prov_Svc.csv, data year 2023); give it with --year")
    report.year = _check_year(year, latest=datetime.now(UTC).year)

    def run(report: CmsImportReport) -> None:
        with open_cms_file(path) as (stream, file_name):
            header = _read_header(stream, file_name, report, cms.UTILIZATION_COLUMNS, frozenset(),
                                  "a Medicare Physician & Other Practitioners by Provider and Service file",
                                  "fusioncare import-cms-utilization")
            _write_lock_up_front(db, "cms_utilization")
            names = header.file_names
            db.execute(delete(ProcedureVolume).where(ProcedureVolume.data_year == year))
            earlier: dict[int, int] = {}  # key -> line of each row kept so far
            shared = {"data_year": year, "source_file": file_name[:255], "is_demo": is_demo}

            # Checked in this thread while the reading thread parses the next chunk; the rows wait unindexed
            # (_volumes_in_key_order), so writing them costs less than the checks.
            with _volumes_in_key_order(db, shared) as store:
                for columns, lines, first in _stream_chunks(stream, file_name, header, _WANTED_UTILIZATION, report,
                                                            chunk_bytes, _as_parsed):
                    rows = _utilization_rows(columns, lines, first, report, names=names, codes=codes)
                    if rows is None:
                        continue
                    table = _without_repeats(*rows, earlier, report)
                    store(table)
                    report.kept += table.num_rows
            report.matched_providers, report.unmatched_npis = _matched(
                db, f"SELECT DISTINCT npi FROM {ProcedureVolume.__tablename__} WHERE data_year = :year",
                {"year": year})

    return _recorded("cms_utilization", db, path, run, report)


def _utilization_rows(columns: list[pa.Array], lines: list[int] | None, first: int, report: CmsImportReport, *,
                      names: dict[str, str], codes: pa.Array) -> tuple[pa.Table, pa.Array, pa.Array] | None:
    """The chunk's rows to store (cms_procedure_volumes columns but the shared ones), each row's key
    (_volume_keys) and line; None if it has none. Column-wise: rows whose values are all in the plain form CMS
    writes pass in bulk; only the others are looked at one by one (to say why, or to read '1,234' or '12.0')."""
    npi, code, place, patients, services = columns
    odd = pc.indices_nonzero(pc.invert(pc.match_substring_regex(code, cms.HCPCS_PATTERN)))
    if len(odd):
        # Only the few codes out of the plain form are trimmed and looked at (a code padded with spaces is fine).
        trimmed = code.to_pylist()
        for i in odd.to_pylist():
            trimmed[i] = trimmed[i].strip()
            if not re.match(cms.HCPCS_PATTERN, trimmed[i]):
                report.reject(_line_at(lines, first, i), f"{names['code']} {trimmed[i]!r} is not a procedure code "
                                                         f"(5 letters or digits)")
        code = pa.array(trimmed, pa.string())
    keep = pc.indices_nonzero(pc.is_in(code, value_set=codes))
    if not len(keep):
        return None
    npi, code = pc.utf8_trim_whitespace(npi.take(keep)), code.take(keep)
    place = pc.utf8_upper(pc.utf8_trim_whitespace(place.take(keep)))
    patients, services = patients.take(keep), services.take(keep)
    plain = pc.and_(pc.and_(_valid_npis(npi), pc.is_in(place, value_set=_PLACES)),
                    pc.and_(pc.match_substring_regex(patients, r"^[0-9]{1,9}$"),
                            pc.match_substring_regex(services, r"^[0-9]{1,9}(\.[0-9]+)?$")))
    counts = pc.cast(pc.if_else(plain, patients, "0"), pa.int64())
    plain = pc.and_(plain, pc.greater_equal(counts, 11))
    # Rows out of the plain form: a reason, or (rarely) a value in another form we can still read.
    extra: list[tuple] = []
    for j in pc.indices_nonzero(pc.invert(plain)).to_pylist():
        n, p, b, v = npi[j].as_py(), place[j].as_py(), patients[j].as_py(), services[j].as_py()
        reason = _utilization_problem(n, p, b, v, names)
        if reason is not None:
            report.reject(_line_at(lines, first, keep[j].as_py()), reason)
        else:
            extra.append((j, n, code[j].as_py(), p, int(_count(b) or 0), float(_count(v) or 0.0)))
    chosen = pc.indices_nonzero(plain)
    table = pa.table({"index": pc.cast(chosen, pa.int64()), "npi": npi.take(chosen), "hcpcs_code": code.take(chosen),
                      "place_of_service": place.take(chosen), "patients": counts.take(chosen),
                      "services": pc.cast(services.take(chosen), pa.float64())})
    if extra:
        table = pa.concat_tables([table, pa.table({
            "index": pa.array([e[0] for e in extra], pa.int64()), "npi": [e[1] for e in extra],
            "hcpcs_code": [e[2] for e in extra], "place_of_service": [e[3] for e in extra],
            "patients": pa.array([e[4] for e in extra], pa.int64()),
            "services": pa.array([e[5] for e in extra], pa.float64())})]).sort_by("index")
    at = keep.take(table["index"])  # each row's place in the chunk
    row_lines = _lines_at(lines, first, at)
    return table.drop_columns(["index"]), _volume_keys(table, codes), row_lines


def _volume_keys(table: pa.Table, codes: pa.Array) -> pa.Array:
    """One integer per NPI, procedure code and place of service (the kept codes are the pack's few dozen)."""
    npi = pc.cast(table["npi"], pa.int64())
    code = pc.cast(pc.index_in(table["hcpcs_code"], value_set=codes), pa.int64())
    office = pc.cast(pc.equal(table["place_of_service"], "O"), pa.int64())
    return pc.add(pc.multiply(npi, 2 * len(codes)), pc.add(pc.multiply(code, 2), office))


_STAGED_VOLUMES = "cms_volumes_import"


@contextmanager
def _volumes_in_key_order(db: Session, shared: dict[str, Any]) -> Iterator[Callable[[pa.Table], None]]:
    """A function that stores a chunk's volumes (with the ``shared`` values). On SQLite the rows wait in an
    unindexed temporary table and go into cms_procedure_volumes in primary-key order when the block ends: a file in
    any other order would otherwise insert each row at a random place of the key's B-tree, which with the import's
    page cache cost six times the rest of the insert (a real CMS file is in NPI order; a generated one is not).
    PostgreSQL COPYs each chunk straight in."""
    if db.get_bind().dialect.name != "sqlite":
        yield partial(_insert_rows, db, ProcedureVolume.__tablename__, shared=shared)
        return
    columns = "npi, hcpcs_code, place_of_service, patients, services"
    with _temporary_table(db, _STAGED_VOLUMES, ProcedureVolume.__tablename__, columns) as staged:
        yield partial(_insert_rows, db, staged)
        db.connection().exec_driver_sql(
            f"INSERT INTO {ProcedureVolume.__tablename__} ({columns}, {', '.join(shared)}) "
            f"SELECT {columns}, {', '.join(['?'] * len(shared))} FROM {staged} "
            f"ORDER BY npi, hcpcs_code, place_of_service", tuple(shared.values()))


@contextmanager
def _temporary_table(db: Session, name: str, like: str, columns: str) -> Iterator[str]:
    """A temporary table with ``columns`` of table ``like`` (their types too) while the block runs; yields its
    qualified name. In the import's transaction: a failed import rolls it back with the rest, and the next one
    drops any left over."""
    qualified = ("temp." if db.get_bind().dialect.name == "sqlite" else "pg_temp.") + name
    db.connection().exec_driver_sql(f"DROP TABLE IF EXISTS {qualified}")
    db.connection().exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS SELECT {columns} FROM {like} WHERE 1 = 0")
    yield qualified
    db.connection().exec_driver_sql(f"DROP TABLE {qualified}")


def _without_repeats(table: pa.Table, keys: pa.Array, lines: pa.Array, earlier: dict[int, int],
                     report: CmsImportReport) -> pa.Table:
    """The chunk's rows (in file order) but those repeating the NPI, procedure code and place of service of an
    earlier row, in this chunk or an earlier one (``earlier``: the key and line of every row kept so far, about 100
    bytes a row): each is rejected naming the first row's line, and the first stays. Found here, before the insert,
    the database never refuses a chunk for a repeated key."""
    key_list, line_list = keys.to_pylist(), lines.to_pylist()
    if len(set(key_list)) == len(key_list) and earlier.keys().isdisjoint(key_list):  # nearly every chunk
        earlier.update(zip(key_list, line_list, strict=True))
        return table
    fresh = []
    for key, line in zip(key_list, line_list, strict=True):
        first_line = earlier.setdefault(key, line)
        fresh.append(first_line == line)
        if first_line != line:
            report.reject(line, f"repeats the NPI, procedure code and place of service of line {first_line}")
    return table.filter(pa.array(fresh, pa.bool_()))


_PLACES = pa.array(["F", "O"], pa.string())


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], np.int64)  # a digit doubled, its digits summed (npi.py)


def _valid_npis(npi: pa.Array) -> pa.Array:
    """Column-wise NPI check: ten ASCII digits whose last is the Luhn check digit over the 80840 prefix (npi.py),
    computed on the digits' bytes in place (numpy reads the Arrow buffers without copying them)."""
    n = len(npi)
    if n == 0:
        return pa.array([], pa.bool_())
    npi = npi.fill_null("") if npi.null_count else npi
    offsets = np.frombuffer(npi.buffers()[1], np.int32)[npi.offset:npi.offset + n + 1]
    data = np.frombuffer(npi.buffers()[2], np.uint8) if npi.buffers()[2] is not None else np.zeros(0, np.uint8)
    shaped = np.diff(offsets) == 10
    starts = offsets[:-1][shaped]
    digits = data[starts[:, None] + np.arange(10)].astype(np.int64) - 48  # one row of ten per NPI of ten bytes
    ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    digits = np.where(ok[:, None], digits, 0)
    total = PREFIX_SUM + _DOUBLED[digits[:, 0:9:2]].sum(axis=1) + digits[:, 1:9:2].sum(axis=1)
    valid = np.zeros(n, np.bool_)
    valid[shaped] = ok & ((10 - total % 10) % 10 == digits[:, 9])
    return pa.array(valid)


def _in_sorted(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Per integer of ``values``, whether it is in ``ordered`` (both sorted): a binary search each, where a hash
    set of a large ``ordered`` would be built again for every chunk."""
    if not len(ordered):
        return np.zeros(len(values), np.bool_)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def _copy_table(db: Session, table_name: str, table: pa.Table) -> None:
    """PostgreSQL: COPY the table's rows in CSV written by pyarrow (a null is an empty unquoted field)."""
    if not table.num_rows:
        return
    sink = pa.BufferOutputStream()
    # One chunk per column: pyarrow 26's write_csv writes garbage for a column whose first chunk is empty.
    pacsv.write_csv(table.combine_chunks(), sink, write_options=pacsv.WriteOptions(include_header=False))
    cursor = _driver_cursor(db)
    try:
        with cursor.copy(f"COPY {table_name} ({', '.join(table.column_names)}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(sink.getvalue().to_pybytes())
    finally:
        cursor.close()


_SQLITE_ROWS_PER_INSERT = 100
_ROWS_PER_BATCH = 50_000


@lru_cache(maxsize=32)
def _sqlite_insert_sql(table_name: str, varying: tuple[str, ...], shared: tuple[str, ...], rows: int) -> str:
    """INSERT of ``rows`` rows: the shared values bound once as ?1..?k, then each row's own values."""
    k, width = len(shared), len(varying)
    marks = ", ".join("(" + ", ".join([f"?{k + 1 + r * width + j}" for j in range(width)]
                                      + [f"?{i + 1}" for i in range(k)]) + ")" for r in range(rows))
    return f"INSERT INTO {table_name} ({', '.join(varying + shared)}) VALUES {marks}"


def _insert_rows(db: Session, table_name: str, table: pa.Table, shared: dict[str, Any] | None = None) -> None:
    """Insert the table's rows, each with the ``shared`` column values: COPY on PostgreSQL, multi-row INSERTs on
    SQLite (importer.sqlite_many)."""
    if table.num_rows > _ROWS_PER_BATCH:  # bounded memory: one slice's values at a time
        for start in range(0, table.num_rows, _ROWS_PER_BATCH):
            _insert_rows(db, table_name, table.slice(start, _ROWS_PER_BATCH), shared)
        return
    if not table.num_rows:
        return
    shared = shared or {}
    if db.get_bind().dialect.name == "postgresql":
        for name, value in shared.items():
            table = table.append_column(name, pa.repeat(value, table.num_rows))
        _copy_table(db, table_name, table)
        return
    statement = partial(_sqlite_insert_sql, table_name, tuple(table.column_names), tuple(shared))
    cursor = _driver_cursor(db)
    try:
        sqlite_many(cursor, statement, _row_major([column.to_pylist() for column in table.columns]),
                    table.num_columns, _SQLITE_ROWS_PER_INSERT, shared=list(shared.values()))
    finally:
        cursor.close()


def _utilization_problem(npi: str, place: str, patients: str, services: str, names: dict[str, str]) -> str | None:
    """Why a row of a kept procedure code can't be stored, in plain words naming the column; None if it can."""
    if not is_valid_npi(npi):
        if len(npi) == 10 and npi.isascii() and npi.isdigit():
            return f"{names['npi']} {npi} fails the NPI check digit"
        return f"{names['npi']} {npi!r} is not an NPI (10 digits)"
    if place.upper() not in ("F", "O"):
        return f"{names['place']} must be F (facility) or O (office), not {place!r}"
    count = _count(patients)
    if count is None or count != int(count):
        return f"{names['patients']} {patients!r} is not a whole number"
    if count < 11:
        return (f"{names['patients']} is {int(count)}: CMS publishes only counts of 11 or more, so this row is not as "
                f"CMS published it")
    if count > MAX_COUNT:
        return f"{names['patients']} {patients.strip()} is more than {MAX_COUNT}, beyond any real count"
    served = _count(services)
    if served is None or served < 0:
        return f"{names['services']} {services!r} is not a number of services"
    if served > MAX_COUNT:
        return f"{names['services']} {services.strip()} is more than {MAX_COUNT}, beyond any real count"
    return None


# -- Doctors and Clinicians -------------------------------------------------------------------------------------

_WANTED_CLINICIANS = list(cms.CLINICIAN_COLUMNS)
_DIGITS = re.compile(r"^\d+$")


def import_clinicians(*, db: Session, path: Path, year: int | None = None, is_demo: bool = False,
                      chunk_bytes: int = CHUNK_BYTES) -> CmsImportReport:
    """Import the Doctors and Clinicians file for the clinicians the directory holds (active providers; import
    NPPES first): one row per clinician, with each of their rows in the file as a practice and the facts across
    those rows. Rows of other NPIs are read, checked and counted (``unmatched_npis``) but not stored. Replaces the
    previous file's data (it is a monthly snapshot). ``year`` is the release's year (default: this year)."""
    this_year = datetime.now(UTC).year
    report = CmsImportReport(year=_check_year(year if year is not None else this_year, latest=this_year))

    def run(report: CmsImportReport) -> None:
        with open_cms_file(path) as (stream, file_name):
            header = _read_header(stream, file_name, report, cms.CLINICIAN_COLUMNS, cms.CLINICIAN_OPTIONAL,
                                  "the Doctors and Clinicians National Downloadable File",
                                  "fusioncare import-cms-clinicians")
            _write_lock_up_front(db, "cms_clinicians")
            has_telehealth = "telehealth" in header.positions
            db.execute(delete(ClinicianFacts))
            db.execute(delete(ClinicianFile))
            directory = _directory_npis(db)
            report.directory_providers = len(directory)
            # Per NPI of the directory, whether an earlier chunk wrote its row; the distinct valid NPIs of each
            # chunk (both kept by the reading thread).
            written = np.zeros(len(directory), np.bool_)
            file_npis: list[pa.Array] = []
            schools, specialties = _Vocabulary(), _Vocabulary()

            def prepare(columns: list[pa.Array], lines: list[int] | None, first: int,
                        parsed: CmsImportReport) -> tuple[int, pa.Table, pa.Table] | None:
                checked = _clinician_table(columns, lines, first, header.file_names, parsed, has_telehealth,
                                           this_year, directory, file_npis)
                if checked is None:
                    return None
                rows = _clinician_rows(*checked, schools, specialties)
                at = np.searchsorted(directory, rows["npi_number"].to_numpy())
                again = pa.array(written[at])
                written[at] = True
                rows = rows.drop_columns(["npi_number"])
                return checked[0].num_rows, rows.filter(pc.invert(again)), rows.filter(again)

            with _merging_clinicians(db) as merge:
                for prepared in _stream_chunks(stream, file_name, header, _WANTED_CLINICIANS, report, chunk_bytes,
                                               prepare):
                    if prepared is None:
                        continue
                    kept, fresh, again = prepared
                    report.kept += kept
                    _insert_rows(db, ClinicianFacts.__tablename__, fresh)
                    merge(again)
            db.add(ClinicianFile(source_file=file_name[:255], data_year=report.year, is_demo=is_demo))
            db.flush()
            report.matched_providers = int(np.count_nonzero(written))
            report.unmatched_npis = _distinct_count(file_npis) - report.matched_providers

    return _recorded("cms_clinicians", db, path, run, report)


_STAGED_CLINICIANS = "cms_clinicians_again"
# A clinician's row met again in a later chunk, merged into the row written before (_clinician_rows says what each
# fact means; the earlier chunk's school and specialty come first, its practices too).
_MERGE_CLINICIANS = """UPDATE cms_clinicians SET
    accepts_assignment = CASE
        WHEN cms_clinicians.accepts_assignment = 'always' AND s.accepts_assignment = 'always' THEN 'always'
        WHEN cms_clinicians.accepts_assignment IS NULL AND s.accepts_assignment IS NULL THEN NULL
        ELSE 'sometimes' END,
    telehealth = CASE WHEN cms_clinicians.telehealth IS NULL THEN s.telehealth
        WHEN s.telehealth IS NULL THEN cms_clinicians.telehealth ELSE (cms_clinicians.telehealth OR s.telehealth) END,
    medical_school = coalesce(cms_clinicians.medical_school, s.medical_school),
    graduation_year = CASE WHEN s.graduation_year > cms_clinicians.graduation_year THEN s.graduation_year
        ELSE coalesce(cms_clinicians.graduation_year, s.graduation_year) END,
    specialty = coalesce(cms_clinicians.specialty, s.specialty),
    practices = substr(cms_clinicians.practices, 1, length(cms_clinicians.practices) - 1) || ',' ||
        substr(s.practices, 2)
FROM {staged} AS s WHERE cms_clinicians.npi = s.npi"""


@contextmanager
def _merging_clinicians(db: Session) -> Iterator[Callable[[pa.Table], None]]:
    """A function that merges rows of clinicians already written (a file that does not keep a clinician's rows
    together, or a clinician whose rows straddle two chunks) into their rows: through a temporary table in the
    import's transaction, one UPDATE per chunk that has any."""
    columns = "npi, accepts_assignment, telehealth, medical_school, graduation_year, specialty, practices"
    with _temporary_table(db, _STAGED_CLINICIANS, ClinicianFacts.__tablename__, columns) as staged:

        def merge(rows: pa.Table) -> None:
            if not rows.num_rows:
                return
            _insert_rows(db, staged, rows)
            db.connection().exec_driver_sql(_MERGE_CLINICIANS.format(staged=staged))
            db.connection().exec_driver_sql(f"DELETE FROM {staged}")

        yield merge


def _directory_npis(db: Session) -> np.ndarray:
    """The NPIs of the directory's active providers, as sorted integers, in one query (one text value)."""
    concat = "string_agg(npi, chr(10))" if db.get_bind().dialect.name == "postgresql" else "group_concat(npi, char(10))"
    joined = db.execute(text(f"SELECT {concat} FROM {Provider.__tablename__} WHERE is_active = :active"),
                        {"active": True}).scalar_one()
    if not joined:
        return np.zeros(0, np.int64)
    npis = pc.cast(pc.split_pattern(pa.array([joined], pa.large_string()), "\n").flatten(), pa.int64())
    return np.sort(npis.to_numpy())


def _distinct_count(arrays: list[pa.Array]) -> int:
    """How many distinct integers in all of these arrays: by sorting (a hash of millions took six times the
    memory)."""
    if not arrays:
        return 0
    values = pa.chunked_array(arrays, pa.int64())
    ordered = values.take(pc.sort_indices(values)).combine_chunks()
    if len(ordered) < 2:
        return len(ordered)
    return int(pc.sum(pc.not_equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))).as_py()) + 1


_ANY = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)  # null when every value is null
# Per NPI: whether every row says Y, whether any says Y or M, telehealth when any row says so (null when the layout
# has no such column), the latest graduation year, and the school and specialty of the first row that names one.
_FACT_AGGREGATES = [("always", "all", _ANY), ("may", "any", _ANY), ("telehealth", "any", _ANY),
                    ("medical_school", "min", None), ("graduation_year", "max", None), ("specialty", "min", None)]
_CODE_BITS = 24  # a value's code in the low bits, its row's line above them: min() is the first row naming one


class _Vocabulary:
    """The distinct values of a text column seen so far (a few hundred schools or specialties), each with a code:
    facts are aggregated over integers, which takes a fraction of the time and memory of aggregating text."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.values = pa.array([], pa.string())

    def first_named(self, values: pa.Array, lines: pa.Array) -> pa.Array:
        """Per row, its line and its value's code in one integer (null where the value is)."""
        new = [v for v in pc.unique(values).to_pylist() if v is not None and v not in self.codes]
        if new:
            self.codes.update((v, len(self.codes) + i) for i, v in enumerate(new))
            self.values = pa.concat_arrays([self.values, pa.array(new, pa.string())])
            if len(self.codes) >= 2**_CODE_BITS:
                raise UnreadableImportFile(f"more than {2**_CODE_BITS} distinct values in one column; nothing was "
                                           f"imported")
        codes = pc.cast(pc.index_in(values, value_set=self.values), pa.int64())
        return pc.add(pc.multiply(pc.cast(lines, pa.int64()), 2**_CODE_BITS), codes)

    def decode(self, first_named: pa.Array) -> pa.Array:
        return self.values.take(pc.bit_wise_and(first_named, 2**_CODE_BITS - 1))


def _partial_facts(practices: pa.Table, lines: pa.Array, schools: _Vocabulary,
                   specialties: _Vocabulary) -> pa.Table:
    """The facts per NPI (as an integer) over these practice rows (_FACT_AGGREGATES). Accepting the
    Medicare-approved amount as payment in full is Y, may accept is M; CMS writes OTHER for a school not on its
    list."""
    assignment = practices["individual_assignment"]
    school = practices["medical_school"]
    return _facts_by_npi(pa.table({
        "npi": practices["npi_number"], "always": pc.fill_null(pc.equal(assignment, "Y"), False),
        "may": pc.is_in(assignment, value_set=pa.array(["Y", "M"])), "telehealth": practices["telehealth"],
        "medical_school": schools.first_named(
            pc.if_else(pc.equal(school, "OTHER"), pa.scalar(None, pa.string()), school), lines),
        "graduation_year": practices["graduation_year"],
        "specialty": specialties.first_named(practices["specialty"], lines)}))


def _facts_by_npi(table: pa.Table) -> pa.Table:
    grouped = table.group_by("npi", use_threads=False).aggregate(_FACT_AGGREGATES)
    return pa.table({"npi": grouped["npi"], **{name: grouped[f"{name}_{how}"] for name, how, _ in _FACT_AGGREGATES}})


def _clinician_rows(rows: pa.Table, lines: pa.Array, schools: _Vocabulary, specialties: _Vocabulary) -> pa.Table:
    """cms_clinicians rows (and ``npi_number``) from a chunk's checked rows (_clinician_table): one per NPI, in NPI
    order, with its practices (_practice_lists) and its facts over these rows: "always" when every row says Y,
    "sometimes" when any says Y or M. Rows of the same NPI in another chunk are merged into it (_MERGE_CLINICIANS)."""
    facts = _partial_facts(rows, lines, schools, specialties)
    facts = facts.take(pc.sort_indices(facts["npi"]))
    practices = _practice_lists(rows)
    accepts = pc.if_else(facts["always"], pa.scalar("always"),
                         pc.if_else(facts["may"], pa.scalar("sometimes"), pa.scalar(None, pa.string())))
    return pa.table({"npi": practices["npi"], "accepts_assignment": accepts, "telehealth": facts["telehealth"],
                     "medical_school": _text(schools.decode(facts["medical_school"]), 200),
                     "graduation_year": facts["graduation_year"],
                     "specialty": _text(specialties.decode(facts["specialty"]), 100),
                     "practices": practices["practices"], "npi_number": facts["npi"]})


def _clinician_table(columns: list[pa.Array], lines: list[int] | None, first: int, names: dict[str, str],
                     report: CmsImportReport, has_telehealth: bool, this_year: int, directory: np.ndarray,
                     file_npis: list[pa.Array]) -> tuple[pa.Table, pa.Array] | None:
    """The chunk's rows of the directory's NPIs, checked (the NPI also as ``npi_number``, the practice's
    PRACTICE_FIELDS and the clinician's facts as filed on the row), and their lines; None if it has none.
    The chunk's distinct valid NPIs go into ``file_npis``. Column-wise;
    only values out of the form CMS writes are looked at one by one (refused with their reason, or repaired or
    left out, and reported)."""
    all_npis = pc.utf8_trim_whitespace(columns[0])
    valid = _valid_npis(all_npis)
    for i in pc.indices_nonzero(pc.invert(valid)).to_pylist():
        npi = all_npis[i].as_py()
        report.reject(_line_at(lines, first, i), f"{names['npi']} {npi} fails the NPI check digit"
                      if len(npi) == 10 and npi.isascii() and npi.isdigit()
                      else f"{names['npi']} {npi!r} is not an NPI (10 digits)")
    valid_at = pc.indices_nonzero(valid)
    npis = pc.cast(all_npis.take(valid_at), pa.int64())
    distinct = np.unique(npis.to_numpy())  # sorted, so the directory is searched front to back
    file_npis.append(pa.array(distinct))
    found = pa.array(distinct[_in_sorted(distinct, directory)])
    if not len(found):
        return None
    chosen = pc.is_in(npis, value_set=found)
    keep = valid_at.filter(chosen)
    col = {name: pc.utf8_trim_whitespace(c.take(keep)) for name, c in zip(_WANTED_CLINICIANS, columns, strict=True)}

    def line_of(j: int) -> int:
        return _line_at(lines, first, keep[j].as_py())

    def digits(name: str, pattern: str, lengths: tuple[int, ...], what: str, *, pad: bool = True) -> pa.Array:
        values = col[name]
        good = pc.match_substring_regex(values, pattern)
        out = pc.if_else(good, values, pa.scalar(None, pa.string()))
        bad = pc.indices_nonzero(pc.invert(good)).to_pylist()
        if not bad:
            return _blank_is_null(out)
        fixed = out.to_pylist()
        for j in bad:
            fixed[j] = _repaired_digits(values[j].as_py(), lengths, names.get(name, name), line_of(j), report, what,
                                        pad=pad)
        return _blank_is_null(pa.array(fixed, pa.string()))

    zip_code = digits("zip", r"^([0-9]{5}|[0-9]{9})?$", (5, 9), "ZIP code")
    phone = digits("phone", r"^([0-9]{10})?$", (10,), "phone number", pad=False)
    graduated = col["graduation_year"]
    year_ok = pc.match_substring_regex(graduated, r"^((19|20)[0-9]{2})?$")
    years = pc.cast(_blank_is_null(pc.if_else(year_ok, graduated, pa.scalar(None, pa.string()))), pa.int16())
    too_late = pc.fill_null(pc.greater(years, this_year), False)
    years = pc.if_else(too_late, pa.scalar(None, pa.int16()), years)
    for j in pc.indices_nonzero(pc.or_(pc.invert(year_ok), too_late)).to_pylist():
        report.repair(line_of(j), f"{names['graduation_year']} {graduated[j].as_py()!r} is not a year; left out")
    assignment = pc.utf8_upper(col["assignment"])
    assignment_ok = pc.is_in(assignment, value_set=pa.array(["Y", "M", ""]))
    for j in pc.indices_nonzero(pc.invert(assignment_ok)).to_pylist():
        report.repair(line_of(j), f"{names['assignment']} must be Y or M, not {col['assignment'][j].as_py()!r}; "
                                  f"left out")
    assignment = _blank_is_null(pc.if_else(assignment_ok, assignment, pa.scalar(None, pa.string())))
    state = pc.utf8_upper(col["state"])
    state = pc.if_else(pc.match_substring_regex(state, r"^[A-Z]{2}$"), state, pa.scalar(None, pa.string()))
    n = len(keep)
    telehealth = (pc.equal(pc.utf8_upper(col["telehealth"]), "Y") if has_telehealth
                  else pa.nulls(n, pa.bool_()))
    row_lines = _lines_at(lines, first, keep)
    return pa.table({
        "npi": col["npi"], "npi_number": npis.filter(chosen), "name": _blank_is_null(col["name"]),
        "address_line1": _blank_is_null(col["address_line1"]), "address_line2": _blank_is_null(col["address_line2"]),
        "city": _blank_is_null(col["city"]), "state": state, "zip_code": zip_code, "phone": phone,
        "telehealth": telehealth, "individual_assignment": assignment, "medical_school": _blank_is_null(col["school"]),
        "graduation_year": years, "specialty": _blank_is_null(col["specialty"])}), row_lines


_NOT_CONTROL = bytes(range(0x20, 0x100))


def _json_text(values: pa.Array) -> pa.Array:
    """Each value as the inside of a JSON string: backslashes and quotes escaped, control characters (a tab or line
    break inside an address) read as spaces. Most columns have none of these: scans of the bytes say so."""
    data = values.buffers()[2]
    if data is None:
        return values
    text_ = data.to_pybytes()
    if b"\\" in text_:
        values = pc.replace_substring(values, "\\", "\\\\")
    if b'"' in text_:
        values = pc.replace_substring(values, '"', '\\"')
    if text_.translate(None, _NOT_CONTROL):
        values = pc.replace_substring_regex(values, r"[\x00-\x1f]", " ")
    return values


def _practice_lists(rows: pa.Table) -> pa.Table:
    """(npi, practices) from a chunk's checked rows (_clinician_table), in NPI order: per NPI, its
    practices as a JSON list in file order, each the list of its PRACTICE_FIELDS (null where blank). Built
    column-wise: one text value per clinician is what the database then has to take."""
    fields = [pc.fill_null(pc.binary_join_element_wise('"', _json_text(rows[name].combine_chunks()), '"', ""), "null")
              for name in PRACTICE_FIELDS]
    practices = pc.binary_join_element_wise("[", pc.binary_join_element_wise(*fields, ","), "]", "")
    order = pc.sort_indices(rows["npi_number"])  # a stable sort: each clinician's practices stay in file order
    npis = rows["npi"].take(order).combine_chunks()
    numbers = rows["npi_number"].take(order).combine_chunks()
    starts = pc.indices_nonzero(pc.not_equal(numbers.slice(1), numbers.slice(0, len(numbers) - 1)))
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cast(pc.add(starts, 1), pa.int32()),
                                pa.array([len(numbers)], pa.int32())])
    lists = pa.ListArray.from_arrays(offsets, practices.take(order))
    return pa.table({"npi": npis.take(offsets.slice(0, len(offsets) - 1)),
                     "practices": pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")})


def _blank_is_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _text(values: pa.Array, length: int) -> pa.Array:
    return _blank_is_null(pc.utf8_slice_codeunits(values, 0, length))


def _repaired_digits(value: str, lengths: tuple[int, ...], column: str, line: int, report: CmsImportReport,
                     what: str, *, pad: bool = True) -> str | None:
    """A code of digits as CMS writes it; one that lost its leading zeros in a spreadsheet gets them back (and the
    repair is reported); anything else is left out with its reason."""
    if not value:
        return None
    if _DIGITS.match(value):
        if len(value) in lengths:
            return value
        target = next((n for n in lengths if n > len(value)), None)
        if pad and target is not None and target - len(value) <= 2:
            repaired = value.zfill(target)
            report.repair(line, f"repaired: {column} {value} lost its leading zero (spreadsheet damage); "
                                f"read as {repaired}")
            return repaired
    report.repair(line, f"{column} {value!r} is not a {what} as CMS writes it "
                        f"({' or '.join(str(n) for n in lengths)} digits; spreadsheet damage?); left out")
    return None

