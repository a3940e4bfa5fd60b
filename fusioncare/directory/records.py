"""Turning NPPES rows into directory records: one row at a time (the rules), or a whole chunk at once.

``build_record`` states the rules for one row in plain Python. ``build_chunk`` applies the same rules to a
parsed chunk column by column with pyarrow compute kernels, so the importer spends no Python per row on
the rows that pass every check (nearly all of them): NPI check digits, dates, names, ZIPs and taxonomy
facts are computed for the whole chunk, and only the finished records become Python tuples (names with
accents are folded by ``names.normalise``). A row that fails any check, is deactivated or is out of scope
goes through ``build_record``, so its outcome and its reason are exactly the row rule's; a property test
holds the two paths to the same output.

Every literal handed to a kernel is a prebuilt Arrow scalar: pyarrow converts a Python literal on every
call, which costs more than the kernel itself on a small chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib.metadata import version
from operator import itemgetter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import String

from fusioncare.directory import nppes
from fusioncare.directory.geo import LAT_BAND_DEGREES, ZipPlace, lat_band, zip_table
from fusioncare.directory.models import Provider
from fusioncare.directory.names import normalise
from fusioncare.directory.npi import PREFIX_SUM, is_valid_npi
from fusioncare.directory.specialties import KEPT_TAXONOMIES, codes_for_taxonomies

# Registry columns of a record, in the order build_record and build_chunk produce them.
RECORD_COLUMNS = ("npi", "entity_type", "display_name", "name_search", "organization_name", "last_name",
                  "first_name", "middle_name", "name_prefix", "name_suffix", "credential", "sex", "taxonomies",
                  "specialties", "address_line1", "address_line2", "city", "state", "postal_code", "zip_code",
                  "country_code", "phone", "lat", "lon", "time_zone", "enumeration_date", "last_update_date",
                  "deactivation_date", "reactivation_date", "is_active", "source_digest")
R_NPI, R_SPECIALTIES, R_LAT, R_LON, R_DIGEST = (
    RECORD_COLUMNS.index(c) for c in ("npi", "specialties", "lat", "lon", "source_digest"))
_R_TAXONOMIES = RECORD_COLUMNS.index("taxonomies")
_R_DATES = tuple(RECORD_COLUMNS.index(c) for c in
                 ("enumeration_date", "last_update_date", "deactivation_date", "reactivation_date"))

# Positions in the tuple each file row is reduced to (the order of nppes.USED_COLUMNS).
_POS = {name: i for i, name in enumerate(nppes.USED_COLUMNS)}
_TAX_POS = [(_POS[t], _POS[s]) for t, s in zip(nppes.TAXONOMY_COLUMNS, nppes.PRIMARY_SWITCH_COLUMNS, strict=True)]
(_NPI, _ENTITY, _ORG, _LAST, _FIRST, _MIDDLE, _PREFIX, _SUFFIX, _CREDENTIAL, _ADDRESS1, _ADDRESS2, _CITY, _STATE,
 _POSTAL, _COUNTRY, _PHONE, _ENUMERATED, _UPDATED, _DEACTIVATION, _REACTIVATION, _SEX) = (
    _POS[c] for c in (nppes.NPI, nppes.ENTITY_TYPE, nppes.ORGANIZATION_NAME, nppes.LAST_NAME, nppes.FIRST_NAME,
                      nppes.MIDDLE_NAME, nppes.NAME_PREFIX, nppes.NAME_SUFFIX, nppes.CREDENTIAL, nppes.ADDRESS_LINE1,
                      nppes.ADDRESS_LINE2, nppes.CITY, nppes.STATE, nppes.POSTAL_CODE, nppes.COUNTRY_CODE,
                      nppes.PHONE, nppes.ENUMERATION_DATE, nppes.LAST_UPDATE_DATE, nppes.DEACTIVATION_DATE,
                      nppes.REACTIVATION_DATE, nppes.SEX))


# Filed text stored as is, and the length its column holds (NPPES's own limits are shorter; a longer value
# means a damaged row, refused instead of failing the whole chunk on PostgreSQL).
_STORED_AS_FILED = {
    nppes.ORGANIZATION_NAME: "organization_name", nppes.LAST_NAME: "last_name", nppes.FIRST_NAME: "first_name",
    nppes.MIDDLE_NAME: "middle_name", nppes.NAME_PREFIX: "name_prefix", nppes.NAME_SUFFIX: "name_suffix",
    nppes.CREDENTIAL: "credential", nppes.ADDRESS_LINE1: "address_line1", nppes.ADDRESS_LINE2: "address_line2",
    nppes.CITY: "city", nppes.STATE: "state", nppes.POSTAL_CODE: "postal_code", nppes.PHONE: "phone",
}


def _column_length(name: str) -> int:
    column_type = Provider.__table__.c[name].type
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"providers.{name} is not a String column of bounded length")
    return column_type.length


LENGTH_LIMITS = {column: _column_length(name) for column, name in _STORED_AS_FILED.items()}
_LIMITED = [(_POS[column], column, limit) for column, limit in LENGTH_LIMITS.items()]


class Rejected(Exception):
    """A row that can't be trusted; the message is the reason the report gives."""


@dataclass(slots=True)
class Deactivation:
    npi: str
    deactivation_date: date
    reactivation_date: date | None


# -- the rules, one row at a time ---------------------------------------------------------------------------

def in_default_scope(values: tuple) -> bool:
    """What an import keeps without --all-taxonomies: a taxonomy code of the specialty map (any slot), or a
    deactivation date (it may hide a provider we hold). The importer applies the same test column-wise."""
    return bool(values[_DEACTIVATION]) or any(values[t] in KEPT_TAXONOMIES for t, _ in _TAX_POS)


def parse_date(value: str, column: str) -> date | None:
    if not value:
        return None
    # Sliced by hand: strptime costs ten times more.
    try:
        if len(value) != 10 or value[2] != "/" or value[5] != "/":
            raise ValueError
        return date(int(value[6:]), int(value[:2]), int(value[3:5]))
    except ValueError:
        raise Rejected(f"{column} {value!r} is not a date in MM/DD/YYYY form") from None


def build_record(values: tuple, *, all_taxonomies: bool,
                 zips: dict[str, ZipPlace] | _ZipColumns) -> tuple | Deactivation | None:
    """The registry fields of one provider from one file row (a tuple in ``RECORD_COLUMNS`` order); a
    Deactivation; None when out of scope.

    Raises Rejected with the reason for a row that can't be trusted. Names and addresses are stored as
    filed (the registry uses capitals); pages and the API present them in display case.
    """
    v = values
    npi = v[_NPI]
    if not is_valid_npi(npi):
        raise Rejected(f"NPI {npi!r} is not 10 digits with a valid check digit")
    deactivated_on = parse_date(v[_DEACTIVATION], nppes.DEACTIVATION_DATE)
    reactivated_on = parse_date(v[_REACTIVATION], nppes.REACTIVATION_DATE)
    if deactivated_on and not (reactivated_on and reactivated_on > deactivated_on):
        return Deactivation(npi, deactivated_on, reactivated_on)
    taxonomies = tuple((v[t], v[s] == "Y") for t, s in _TAX_POS if v[t])
    specialties = specialties_of(tuple(code for code, _ in taxonomies))
    if not specialties and not all_taxonomies:
        return None
    entity = v[_ENTITY]
    if entity not in ("1", "2"):
        raise Rejected(f"{nppes.ENTITY_TYPE} {entity!r} is not 1 (individual) or 2 (organization)")
    organization = v[_ORG]
    if entity == "1":
        if not v[_LAST]:
            raise Rejected(f"{nppes.LAST_NAME} is empty")
        display = " ".join(p for p in (v[_FIRST], v[_MIDDLE], v[_LAST], v[_SUFFIX]) if p)
        searchable = f"{display} {organization}" if organization else display
    else:
        if not organization:
            raise Rejected(f"{nppes.ORGANIZATION_NAME} is empty")
        display = searchable = organization
    for position, column, limit in _LIMITED:
        if len(v[position]) > limit:
            raise Rejected(f"{column} is longer than {limit} characters")
    postal = v[_POSTAL]
    country = v[_COUNTRY] or "US"
    zip5 = lat = lon = tz = None
    if country == "US":
        if not (len(postal) in (5, 9) and postal.isascii() and postal.isdigit()):
            raise Rejected(f"practice ZIP {postal!r} is not 5 or 9 digits")
        zip5 = postal[:5]
        place = zips.get(zip5)
        if place is not None:  # a ZIP the offline table lacks is kept, just not placed on the map
            lat, lon, tz = place.lat, place.lon, place.time_zone
    return (
        npi, int(entity), display[:200], normalise(searchable)[:300], organization or None, v[_LAST] or None,
        v[_FIRST] or None, v[_MIDDLE] or None, v[_PREFIX] or None, v[_SUFFIX] or None, v[_CREDENTIAL] or None,
        v[_SEX][:1] or None, taxonomies, specialties, v[_ADDRESS1] or None, v[_ADDRESS2] or None,
        v[_CITY] or None, v[_STATE] or None, postal or None, zip5, country[:2], v[_PHONE] or None, lat, lon, tz,
        parse_date(v[_ENUMERATED], nppes.ENUMERATION_DATE), parse_date(v[_UPDATED], nppes.LAST_UPDATE_DATE),
        deactivated_on, reactivated_on, True, digest(v),
    )


def stored_form(record: tuple) -> tuple:
    """A build_record tuple as the importer writes it: taxonomies and specialties as JSON text, dates as ISO
    text (which both SQLite's Date type and PostgreSQL's COPY read)."""
    values = list(record)
    values[_R_TAXONOMIES] = taxonomies_json(record[_R_TAXONOMIES])
    values[R_SPECIALTIES] = list_json(record[R_SPECIALTIES])
    for i in _R_DATES:
        if values[i] is not None:
            values[i] = values[i].isoformat()
    return tuple(values)


@lru_cache(maxsize=65536)
def specialties_of(taxonomy_codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(codes_for_taxonomies(taxonomy_codes))


@lru_cache(maxsize=65536)
def taxonomies_json(taxonomies: tuple[tuple[str, bool], ...]) -> str:
    # Few distinct combinations recur across millions of rows, so each is serialised once.
    return json.dumps([{"code": code, "primary": primary} for code, primary in taxonomies])


@lru_cache(maxsize=4096)
def list_json(items: tuple[str, ...]) -> str:
    return json.dumps(list(items))


def digest(values: tuple) -> str:
    """The filed values decide every registry field, so their digest tells "unchanged" on a re-import."""
    return hashlib.md5("\x1f".join(values).encode(), usedforsecurity=False).hexdigest()


# -- the same rules, a chunk at a time ----------------------------------------------------------------------

@dataclass
class ChunkRecords:
    """What one chunk's rows came to, in file order. Records are kept column by column (``columns[j]`` holds
    RECORD_COLUMNS[j] of every record, in stored_form), which is how they are built and how the writer
    lays them out for the driver."""

    columns: list[list] = field(default_factory=lambda: [[] for _ in RECORD_COLUMNS])
    lines: list[int] = field(default_factory=list)  # the line of each record
    specialties: list[tuple[str, ...]] = field(default_factory=list)  # each record's searchable codes
    lat_bands: list[int | None] = field(default_factory=list)  # each record's search-index band
    deactivations: list[tuple[int, Deactivation]] = field(default_factory=list)  # (line, deactivation)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, npi, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (npi, digest) of rows out of scope

    def add(self, line: int, record: tuple) -> None:
        """Append one build_record record."""
        for column, value in zip(self.columns, stored_form(record), strict=True):
            column.append(value)
        self.lines.append(line)
        self.specialties.append(record[R_SPECIALTIES])
        self.lat_bands.append(None if record[R_LAT] is None else lat_band(record[R_LAT]))

    def rows(self) -> list[tuple]:
        """The records as stored_form tuples."""
        return list(zip(*self.columns, strict=True))


_EMPTY = pa.scalar("", pa.string())
_SPACE = pa.scalar(" ", pa.string())
_UNIT = pa.scalar("\x1f", pa.string())
_ONE = pa.scalar("1", pa.string())
_TWO = pa.scalar("2", pa.string())
_US = pa.scalar("US", pa.string())
_ZERO_NPI = pa.scalar("0000000000", pa.string())
_NULL_STRING = pa.scalar(None, pa.string())
_TRUE = pa.scalar(True)
_INT = {k: pa.scalar(k, pa.int64()) for k in (0, 2, 4, 9, 10, PREFIX_SUM)}
_BAND = pa.scalar(LAT_BAND_DEGREES, pa.float64())
_LIMIT = {limit: pa.scalar(limit, pa.int32()) for limit in set(LENGTH_LIMITS.values())}


class _Memo:
    """A value computed once per distinct input and looked up column-wise: ``index_in`` finds each row's
    input among those seen before (in C), and only inputs never seen go through Python. Registry files
    repeat the same dates and taxonomy combinations across millions of rows."""

    def __init__(self, compute, *, limit: int, columns) -> None:
        self._compute = compute
        self._columns = columns  # new results -> Arrow arrays aligned with them, appended as results grow
        self._limit = limit
        self._lock = threading.Lock()
        self.results: list = []
        self._known = pa.array([], pa.string())
        self.arrays = columns([])

    def indices(self, column: pa.Array) -> tuple[pa.Array, list, tuple]:
        """Each row's index into the results, the results and their Arrow arrays (snapshots, safe to read
        afterwards)."""
        with self._lock:
            found = pc.index_in(column, value_set=self._known)
            if found.null_count:
                unseen = pc.unique(column.filter(pc.is_null(found))).to_pylist()
                if len(self.results) + len(unseen) > self._limit:
                    self.results, self._known, self.arrays = [], pa.array([], pa.string()), self._columns([])
                    unseen = pc.unique(column).to_pylist()
                new = [self._compute(value) for value in unseen]
                self.results = self.results + new
                self._known = pa.concat_arrays([self._known, pa.array(unseen, pa.string())])
                self.arrays = tuple(pa.concat_arrays([old, added])
                                    for old, added in zip(self.arrays, self._columns(new), strict=True))
                found = pc.index_in(column, value_set=self._known)
            return found, self.results, self.arrays


@dataclass(frozen=True)
class _ZipColumns:
    """Centroid and time zone by ZIP as a number (00501 -> 501): one ``take`` places a whole chunk."""

    lat: pa.Array
    lon: pa.Array
    time_zone: pa.Array

    def get(self, zip5: str) -> ZipPlace | None:
        """The place of one 5-digit ZIP, as ``zip_table().get`` gives it (without city and state)."""
        number = int(zip5)
        if not self.lat[number].is_valid:
            return None
        return ZipPlace(zip5, "", "", self.lat[number].as_py(), self.lon[number].as_py(),
                        self.time_zone[number].as_py())


_ZIP_SCHEMA = pa.schema([("lat", pa.float64()), ("lon", pa.float64()), ("time_zone", pa.string())])
_zip_lock = threading.Lock()
_zip_columns_cache: list[_ZipColumns] = []
log = logging.getLogger(__name__)


def zip_columns(cache_dir: Path | None = None) -> _ZipColumns:
    """The offline ZIP table as dense Arrow columns, once per process (thread-safe).

    Building them means materialising every ZIP of the ``zipcodes`` package in Python, about a second;
    with ``cache_dir`` they are kept there as an Arrow file named after the package's version, which loads
    in milliseconds. A missing, unreadable or foreign cache file is rebuilt, and a cache that can't be
    written is only a slower start.
    """
    with _zip_lock:
        if not _zip_columns_cache:
            path = cache_dir / f"zip-centroids-zipcodes-{version('zipcodes')}.arrow" if cache_dir else None
            table = _read_zip_cache(path) if path else None
            if table is None:
                table = _build_zip_table()
                if path:
                    _write_zip_cache(path, table)
            _zip_columns_cache.append(_ZipColumns(*(table.column(i).combine_chunks() for i in range(3))))
        return _zip_columns_cache[0]


def _build_zip_table() -> pa.Table:
    lat: list[float | None] = [None] * 100_000
    lon: list[float | None] = [None] * 100_000
    time_zone: list[str | None] = [None] * 100_000
    for code, place in zip_table().items():
        lat[int(code)], lon[int(code)], time_zone[int(code)] = place.lat, place.lon, place.time_zone
    return pa.table([pa.array(lat, pa.float64()), pa.array(lon, pa.float64()), pa.array(time_zone, pa.string())],
                    schema=_ZIP_SCHEMA)


def _read_zip_cache(path: Path) -> pa.Table | None:
    try:
        with pa.OSFile(str(path), "rb") as source:
            table = pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowInvalid):
        return None
    return table if table.schema.equals(_ZIP_SCHEMA) and table.num_rows == 100_000 else None


def _write_zip_cache(path: Path, table: pa.Table) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        os.replace(partial, path)  # readers see the old file or the whole new one, never half of it
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        log.warning("could not cache the ZIP table in %s: %s", path.parent, exc)


def valid_npis(npis: pa.Array) -> pa.Array:
    """True where the value is 10 ASCII digits whose last is the Luhn check digit over the 80840 prefix."""
    shaped = pc.match_substring_regex(npis, r"^[0-9]{10}$")
    rest = pc.cast(pc.if_else(shaped, npis, _ZERO_NPI), pa.int64())
    digits = []  # right to left: digits[0] is the check digit
    for _ in range(10):
        quotient = pc.divide(rest, _INT[10])
        digits.append(pc.subtract(rest, pc.multiply(quotient, _INT[10])))
        rest = quotient
    total = _INT[PREFIX_SUM]
    for position in range(1, 10):
        digit = digits[position]
        if position % 2:  # the digit next to the check digit, and every other one from there, doubles
            digit = pc.subtract(pc.multiply(digit, _INT[2]),
                                pc.multiply(pc.cast(pc.greater(digit, _INT[4]), pa.int64()), _INT[9]))
        total = pc.add(total, digit)
    check = pc.subtract(_INT[10], pc.subtract(total, pc.multiply(pc.divide(total, _INT[10]), _INT[10])))
    check = pc.if_else(pc.equal(check, _INT[10]), _INT[0], check)
    return pc.and_(shaped, pc.equal(check, digits[0]))


def _iso_date(value: str) -> str | None | bool:
    try:
        parsed = parse_date(value, "")
    except Rejected:
        return False
    return parsed.isoformat() if parsed else None


def _dates(columns: list[pa.Array]) -> list[tuple[pa.Array, pa.Array]]:
    """(ISO text or null, is-a-valid-date-or-empty) per row of each column; one lookup for all of them."""
    found, _, (iso, ok) = _DATE_MEMO.indices(pa.concat_arrays(columns))
    out, start = [], 0
    for column in columns:
        part = found.slice(start, len(column))
        out.append((iso.take(part), ok.take(part)))
        start += len(column)
    return out


def _taxonomy_facts(key: str) -> tuple[str, str, tuple[str, ...]]:
    parts = key.split("\x1f")
    if len(parts) != 2 * nppes.TAXONOMY_SLOTS:  # a separator inside a value: build_chunk sends the row the slow way
        return taxonomies_json(()), list_json(()), ()
    codes, switches = parts[:nppes.TAXONOMY_SLOTS], parts[nppes.TAXONOMY_SLOTS:]
    taxonomies = tuple((code, switch == "Y") for code, switch in zip(codes, switches, strict=True) if code)
    specialties = specialties_of(tuple(code for code, _ in taxonomies))
    return taxonomies_json(taxonomies), list_json(specialties), specialties


# Filed text -> ISO text, None for empty, False when not a date; as arrays: ISO text or null, valid.
_DATE_MEMO = _Memo(_iso_date, limit=200_000, columns=lambda parsed: (
    pa.array([p if isinstance(p, str) else None for p in parsed], pa.string()),
    pa.array([p is not False for p in parsed], pa.bool_())))
# Taxonomy key -> (taxonomies JSON, specialties JSON, codes); as arrays: whether any code is searchable.
_TAXONOMY_MEMO = _Memo(_taxonomy_facts, limit=100_000, columns=lambda facts: (
    pa.array([bool(f[2]) for f in facts], pa.bool_()), pa.array([f[0] for f in facts], pa.string()),
    pa.array([f[1] for f in facts], pa.string())))


def _empty_to_null(column: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(column, _EMPTY), _NULL_STRING, column)


def pick(values: list, indices: list[int]) -> list:
    if not indices:
        return []
    if len(indices) == 1:
        return [values[indices[0]]]
    return list(itemgetter(*indices)(values))


def build_chunk(table: pa.Table, lines: list[int], *, all_taxonomies: bool) -> ChunkRecords:
    """Build every row of a parsed chunk (columns named and ordered as nppes.USED_COLUMNS, strings, no
    nulls; ``lines`` the file line of each row). Outcomes and reasons are exactly build_record's."""
    out = ChunkRecords()
    n = table.num_rows
    if n == 0:
        return out
    col = {name: table.column(name).combine_chunks() for name in nppes.USED_COLUMNS}
    zips = zip_columns()

    joined = pc.binary_join_element_wise(*(col[c] for c in nppes.USED_COLUMNS), _UNIT)
    npi_ok = valid_npis(col[nppes.NPI])
    ((deactivated, deactivated_ok), (reactivated, reactivated_ok), (enumerated, enumerated_ok),
     (updated, updated_ok)) = _dates([col[c] for c in (nppes.DEACTIVATION_DATE, nppes.REACTIVATION_DATE,
                                                      nppes.ENUMERATION_DATE, nppes.LAST_UPDATE_DATE)])
    # Deactivated: a deactivation date and no later reactivation (ISO text orders as the dates do).
    still_deactivated = pc.and_kleene(pc.is_valid(deactivated), pc.invert(pc.fill_null(
        pc.greater(reactivated, deactivated), False)))

    key = pc.binary_join_element_wise(*(col[c] for c in (*nppes.TAXONOMY_COLUMNS, *nppes.PRIMARY_SWITCH_COLUMNS)),
                                      _UNIT)
    key_found, facts, (searchable_codes, taxonomy_jsons, specialty_jsons) = _TAXONOMY_MEMO.indices(key)
    # The key splits back into its columns only when no value holds the separator (a damaged file may).
    key_splits = pc.equal(pc.count_substring(key, "\x1f"), 2 * nppes.TAXONOMY_SLOTS - 1)
    in_scope = pa.repeat(_TRUE, n) if all_taxonomies else searchable_codes.take(key_found)

    entity = col[nppes.ENTITY_TYPE]
    person = pc.equal(entity, _ONE)
    organization = col[nppes.ORGANIZATION_NAME]
    named = pc.if_else(person, pc.not_equal(col[nppes.LAST_NAME], _EMPTY), pc.not_equal(organization, _EMPTY))
    country = col[nppes.COUNTRY_CODE]
    us = pc.or_(pc.equal(country, _EMPTY), pc.equal(country, _US))
    postal = col[nppes.POSTAL_CODE]
    postal_ok = pc.or_(pc.invert(us), pc.match_substring_regex(postal, r"^[0-9]{5}([0-9]{4})?$"))

    fits = None
    for column, limit in LENGTH_LIMITS.items():
        ok = pc.less_equal(pc.utf8_length(col[column]), _LIMIT[limit])
        fits = ok if fits is None else pc.and_(fits, ok)

    fast = npi_ok
    for condition in (key_splits, deactivated_ok, reactivated_ok, pc.invert(still_deactivated), in_scope,
                      pc.or_(person, pc.equal(entity, _TWO)), named, fits, postal_ok, enumerated_ok, updated_ok):
        fast = pc.and_(fast, condition)
    fast_rows = pc.indices_nonzero(fast)
    fast_list = fast_rows.to_pylist()

    if len(fast_list) < n:
        _build_slowly(out, table, lines, fast, all_taxonomies)

    if not fast_list:
        return out
    take = fast_rows

    def c(name: str) -> pa.Array:
        return col[name].take(take)

    f_person = person.take(take)
    f_org = c(nppes.ORGANIZATION_NAME)
    spaced = [pc.if_else(pc.equal(part, _EMPTY), _EMPTY, pc.binary_join_element_wise(part, _SPACE, _EMPTY))
              for part in (c(nppes.FIRST_NAME), c(nppes.MIDDLE_NAME), c(nppes.LAST_NAME), c(nppes.NAME_SUFFIX))]
    full_name = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*spaced, _EMPTY), 0, -1)
    display = pc.if_else(f_person, full_name, f_org)
    searchable = pc.if_else(f_person, pc.if_else(pc.equal(f_org, _EMPTY), full_name,
                                                 pc.binary_join_element_wise(full_name, f_org, _SPACE)), f_org)
    name_search = pc.utf8_slice_codeunits(pc.ascii_trim(pc.replace_substring_regex(
        pc.ascii_lower(searchable), r"[^a-z0-9]+", " "), " "), 0, 300).to_pylist()
    # Accents need Unicode folding: the few names that are not plain ASCII go through names.normalise.
    for i in pc.indices_nonzero(pc.invert(pc.string_is_ascii(searchable))).to_pylist():
        name_search[i] = normalise(searchable[i].as_py())[:300]

    f_us = us.take(take)
    f_postal = c(nppes.POSTAL_CODE)
    zip5 = pc.if_else(f_us, pc.utf8_slice_codeunits(f_postal, 0, 5), _NULL_STRING)
    place = pc.cast(zip5, pa.int32())  # five ASCII digits (checked above) or null
    lat = zips.lat.take(place)
    f_country = c(nppes.COUNTRY_CODE)
    country_code = pc.utf8_slice_codeunits(pc.if_else(pc.equal(f_country, _EMPTY), _US, f_country), 0, 2)
    bands = pc.cast(pc.floor(pc.divide(lat, _BAND)), pa.int64())

    f_key = key_found.take(take)
    taxonomy_json = taxonomy_jsons.take(f_key).to_pylist()
    specialty_json = specialty_jsons.take(f_key).to_pylist()
    out_specialties = pick([f[2] for f in facts], f_key.to_pylist())
    digests = [hashlib.md5(b, usedforsecurity=False).hexdigest()
               for b in joined.take(take).cast(pa.binary()).to_pylist()]

    columns = [
        c(nppes.NPI).to_pylist(), pc.cast(c(nppes.ENTITY_TYPE), pa.int64()).to_pylist(),
        pc.utf8_slice_codeunits(display, 0, 200).to_pylist(), name_search,
        _empty_to_null(f_org).to_pylist(),
        *(_empty_to_null(c(name)).to_pylist() for name in (
            nppes.LAST_NAME, nppes.FIRST_NAME, nppes.MIDDLE_NAME, nppes.NAME_PREFIX, nppes.NAME_SUFFIX,
            nppes.CREDENTIAL)),
        _empty_to_null(pc.utf8_slice_codeunits(c(nppes.SEX), 0, 1)).to_pylist(),
        taxonomy_json, specialty_json,
        *(_empty_to_null(c(name)).to_pylist() for name in (
            nppes.ADDRESS_LINE1, nppes.ADDRESS_LINE2, nppes.CITY, nppes.STATE)),
        _empty_to_null(f_postal).to_pylist(), zip5.to_pylist(), country_code.to_pylist(),
        _empty_to_null(c(nppes.PHONE)).to_pylist(),
        lat.to_pylist(), zips.lon.take(place).to_pylist(), zips.time_zone.take(place).to_pylist(),
        enumerated.take(take).to_pylist(), updated.take(take).to_pylist(),
        deactivated.take(take).to_pylist(), reactivated.take(take).to_pylist(),
        [True] * len(fast_list), digests,
    ]
    fast_lines = pick(lines, fast_list)
    bands_list = bands.to_pylist()
    if not out.lines:
        out.columns, out.lines, out.specialties, out.lat_bands = columns, fast_lines, out_specialties, bands_list
        return out
    # Some rows were built one by one: put both back into file order.
    all_lines = out.lines + fast_lines
    order = sorted(range(len(all_lines)), key=all_lines.__getitem__)
    out.columns = [pick(slow + fast, order) for slow, fast in zip(out.columns, columns, strict=True)]
    out.lines = pick(all_lines, order)
    out.specialties = pick(out.specialties + out_specialties, order)
    out.lat_bands = pick(out.lat_bands + bands_list, order)
    return out


def _build_slowly(out: ChunkRecords, table: pa.Table, lines: list[int], fast: pa.Array,
                  all_taxonomies: bool) -> None:
    """build_record for every row the column-wise checks did not pass."""
    slow = pc.indices_nonzero(pc.invert(fast))
    part = table.take(slow)
    rows = zip(*(part.column(name).to_pylist() for name in nppes.USED_COLUMNS), strict=True)
    zips = zip_columns()
    for index, values in zip(slow.to_pylist(), rows, strict=True):
        line = lines[index]
        try:
            built = build_record(values, all_taxonomies=all_taxonomies, zips=zips)
        except Rejected as exc:
            out.rejected.append((line, values[_NPI], str(exc)))
            continue
        if built is None:
            out.skipped.append((values[_NPI], digest(values)))
        elif isinstance(built, Deactivation):
            out.deactivations.append((line, built))
        else:
            out.add(line, built)
