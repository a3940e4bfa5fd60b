"""The column-wise chunk builder against the one-row rules it must reproduce exactly."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusioncare.directory import nppes, records
from fusioncare.directory.geo import lat_band, zip_table
from fusioncare.directory.npi import is_valid_npi
from tests.directory.nppes_files import make_npi

# Generated values, with a few hand-picked edge cases beside them (full-width digits, ligatures, a 9-digit NPI):
# the generators reach what nobody thought to list, the edge cases make sure the known traps are always tried.
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=260)
_DIGITS = st.text(alphabet=st.characters(categories=("Nd",)), min_size=1, max_size=12)  # any script's digits
_NPIS = st.one_of(
    st.integers(0, 99_999_999).map(make_npi),  # valid
    st.integers(0, 9_999_999_999).map(lambda n: f"{n:010d}"),  # ten digits, one in ten has a valid check digit
    st.integers(0, 10**12).map(str), _DIGITS, _ANY_TEXT,
    st.sampled_from(["1234567890", "123456789", "12345678933", "", "１２３４５６７８９３", " 123456789", "12345-7893"]),
)
_DATES = st.one_of(
    st.dates().map(lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}"),  # every real date, years 1 to 9999
    st.dates().map(lambda d: d.isoformat()),  # the wrong format
    st.from_regex(r"\A[0-9]{1,2}/[0-9]{1,2}/[0-9]{1,4}\Z"),  # impossible days and months, short years
    _ANY_TEXT, st.sampled_from(["", "02/29/2023", "０1/15/2010", "01/1_/2020"]),
)
_NAMES = st.one_of(_ANY_TEXT, st.text(alphabet=st.characters(codec="latin-1"), max_size=250),
                   st.sampled_from(["", "  PADDED ", "ß", "ﬁ", "É" * 100, "A" * 250]))
_TAXONOMIES = st.one_of(
    st.sampled_from(["207Q00000X", "2081P2900X", "208VP0014X", "282N00000X", "207X00000X", "2084N0400X",
                     "225100000X", "103TC0700X", "111N00000X", "207P00000X"]),  # kept by the default scope
    st.from_regex(r"\A[0-9]{3}[0-9A-Z]{6}X\Z"),  # well-formed, almost never a kept one
    _ANY_TEXT,
)
_POSTALS = st.one_of(st.from_regex(r"\A[0-9]{5}([0-9]{4})?\Z"), st.from_regex(r"\A[0-9]{5}-[0-9]{4}\Z"),
                     _DIGITS, _ANY_TEXT, st.sampled_from(["", "10001", "1000", "９0210", "M5V 3L9"]))


def _mostly(usual: st.SearchStrategy[str], unusual: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Usually a good value, so most rows reach every check; sometimes a tricky one."""
    return st.one_of(usual, usual, usual, usual, unusual)


@st.composite
def rows(draw) -> tuple[str, ...]:
    value: dict[str, str] = {c: "" for c in nppes.USED_COLUMNS}
    value[nppes.NPI] = draw(_mostly(st.integers(0, 99_999_999).map(make_npi), _NPIS))
    value[nppes.ENTITY_TYPE] = draw(_mostly(st.sampled_from(["1", "2"]), st.sampled_from(["", "3", " 1"])))
    plain = st.sampled_from(["SMITH", "B" * 100, "O'BRIEN-JONES", "VAN  DYKE", "  PADDED ", "DR.", "X-Y_Z",
                             "1ST CHOICE", ""])
    for column in (nppes.ORGANIZATION_NAME, nppes.LAST_NAME, nppes.FIRST_NAME, nppes.MIDDLE_NAME, nppes.NAME_SUFFIX):
        value[column] = draw(_mostly(plain, _NAMES))
    value[nppes.NAME_PREFIX] = draw(st.sampled_from(["", "DR.", "MS."]))
    value[nppes.CREDENTIAL] = draw(st.sampled_from(["", "MD", "D.O.", "PT, DPT"]))
    value[nppes.SEX] = draw(st.sampled_from(["", "F", "M", "FX"]))
    value[nppes.ADDRESS_LINE1] = draw(_mostly(st.sampled_from(["", "1 MAIN ST"]), st.just("CALLE 5 Nº 3")))
    value[nppes.CITY] = draw(_mostly(st.sampled_from(["", "NEW YORK"]), st.just("SAN JOSÉ")))
    value[nppes.STATE] = draw(st.sampled_from(["", "NY", "ON"]))
    value[nppes.POSTAL_CODE] = draw(_mostly(st.sampled_from(["10001", "100011234", "99999", "60601"]), _POSTALS))
    value[nppes.COUNTRY_CODE] = draw(_mostly(st.sampled_from(["", "US"]), st.sampled_from(["CA", "USA", "D"])))
    value[nppes.PHONE] = draw(st.sampled_from(["", "2125550100"]))
    good_date = st.sampled_from(["01/15/2010", "02/29/2024", "06/01/2024", ""])
    for column in (nppes.ENUMERATION_DATE, nppes.LAST_UPDATE_DATE):
        value[column] = draw(_mostly(good_date, _DATES))
    for column in (nppes.DEACTIVATION_DATE, nppes.REACTIVATION_DATE):
        value[column] = draw(st.one_of(st.just(""), st.just(""), _DATES))
    for slot in range(draw(st.integers(0, 4))):
        value[nppes.TAXONOMY_COLUMNS[slot]] = draw(_mostly(st.sampled_from(["207Q00000X", "282N00000X"]), _TAXONOMIES))
        value[nppes.PRIMARY_SWITCH_COLUMNS[slot]] = draw(st.sampled_from(["Y", "N", "", "X"]))
    return tuple(value[c] for c in nppes.USED_COLUMNS)


def one_by_one(chunk: list[tuple[str, ...]], lines: list[int], all_taxonomies: bool) -> records.ChunkRecords:
    """What build_chunk must produce, from build_record row by row."""
    out = records.ChunkRecords()
    for line, values in zip(lines, chunk, strict=True):
        try:
            built = records.build_record(values, all_taxonomies=all_taxonomies, zips=zip_table())
        except records.Rejected as exc:
            out.rejected.append((line, values[0], str(exc)))
            continue
        if built is None:
            out.skipped.append((values[0], records.digest(values)))
        elif isinstance(built, records.Deactivation):
            out.deactivations.append((line, built))
        else:
            out.add(line, built)
    return out


def as_table(chunk: list[tuple[str, ...]]) -> pa.Table:
    columns = list(zip(*chunk, strict=True)) if chunk else [()] * len(nppes.USED_COLUMNS)
    return pa.table([pa.array(c, pa.string()) for c in columns], names=list(nppes.USED_COLUMNS))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk=st.lists(rows(), max_size=25), all_taxonomies=st.booleans(), first_line=st.integers(2, 10_000))
def test_a_chunk_builds_exactly_as_its_rows_do_one_by_one(chunk, all_taxonomies, first_line):
    lines = [first_line + 2 * i for i in range(len(chunk))]  # not contiguous, as after refused rows

    built = records.build_chunk(as_table(chunk), lines, all_taxonomies=all_taxonomies)

    assert built == one_by_one(chunk, lines, all_taxonomies)


@pytest.mark.parametrize("all_taxonomies", [False, True])
def test_a_separator_character_inside_a_taxonomy_value_builds_like_the_rules(all_taxonomies):
    """Found by the generated strategies: a unit separator (\\x1f) inside a taxonomy code or switch split the
    column-wise lookup key into too many parts and stopped the whole import with a ValueError."""
    base = {nppes.NPI: make_npi(7), nppes.ENTITY_TYPE: "1", nppes.LAST_NAME: "SMITH", nppes.POSTAL_CODE: "10001",
            nppes.TAXONOMY_COLUMNS[0]: "207Q00000X", nppes.PRIMARY_SWITCH_COLUMNS[0]: "Y"}
    odd = [{**base, nppes.TAXONOMY_COLUMNS[1]: "207Q\x1f0000X"}, {**base, nppes.PRIMARY_SWITCH_COLUMNS[1]: "\x1f"},
           {**base, nppes.TAXONOMY_COLUMNS[0]: "\x1f", nppes.PRIMARY_SWITCH_COLUMNS[0]: "\x1fY"}, base]
    chunk = [tuple(row.get(c, "") for c in nppes.USED_COLUMNS) for row in odd]
    lines = [2, 3, 4, 5]

    assert records.build_chunk(as_table(chunk), lines, all_taxonomies=all_taxonomies) == one_by_one(
        chunk, lines, all_taxonomies)


def test_the_fast_path_carries_most_rows_and_builds_them_like_the_rules():
    """Guards against a column-wise check that quietly sends every row down the one-row path."""
    good = [tuple({nppes.NPI: make_npi(i), nppes.ENTITY_TYPE: "1", nppes.LAST_NAME: "SMITH", nppes.FIRST_NAME: "JO",
                   nppes.POSTAL_CODE: "100011234", nppes.ENUMERATION_DATE: "01/15/2010",
                   nppes.TAXONOMY_COLUMNS[0]: "207Q00000X", nppes.PRIMARY_SWITCH_COLUMNS[0]: "Y"}.get(c, "")
                  for c in nppes.USED_COLUMNS) for i in range(50)]
    # Names at the edges: a display name over its 200 characters, and accents folded for search.
    long_name = {nppes.FIRST_NAME: "B" * 100, nppes.MIDDLE_NAME: "É" * 60, nppes.LAST_NAME: "C" * 100}
    accented = {nppes.FIRST_NAME: "JOSÉ", nppes.LAST_NAME: "MUÑOZ"}
    # Each of these passes the column-wise checks too: an organization; a practice abroad (no ZIP, no place); a
    # searchable name over its 300 characters (the other organization name joins an individual's); a sex code and
    # a country code longer than their columns.
    organization = {nppes.ENTITY_TYPE: "2", nppes.LAST_NAME: "", nppes.FIRST_NAME: "",
                    nppes.ORGANIZATION_NAME: "MERCY GENERAL HOSPITAL"}
    abroad = {nppes.COUNTRY_CODE: "CA", nppes.POSTAL_CODE: "M5V 3L9"}
    long_searchable = long_name | {nppes.ORGANIZATION_NAME: "D" * 50}
    long_codes = {nppes.SEX: "FX", nppes.COUNTRY_CODE: "USA"}
    for i, names in ((1, long_name), (2, accented), (3, organization), (4, abroad), (5, long_searchable),
                     (6, long_codes)):
        good[i] = tuple(names.get(column, value) for column, value in zip(nppes.USED_COLUMNS, good[i], strict=True))
    table = as_table(good)
    lines = list(range(2, 52))

    fast = records.build_chunk(table, lines, all_taxonomies=False)

    assert fast == one_by_one(good, lines, False)
    assert fast.rows()[0][:4] == (make_npi(0), 1, "JO SMITH", "jo smith")
    assert len(fast.rows()[1][2]) == 200 and fast.rows()[1][2].startswith("B" * 100 + " É")
    assert fast.rows()[2][2:4] == ("JOSÉ MUÑOZ", "jose munoz")
    assert fast.rows()[0][records.RECORD_COLUMNS.index("zip_code")] == "10001"
    assert fast.rows()[0][records.RECORD_COLUMNS.index("enumeration_date")] == "2010-01-15"
    assert fast.lat_bands[0] == lat_band(zip_table()["10001"].lat)
    column = {name: records.RECORD_COLUMNS.index(name)
              for name in ("zip_code", "lat", "lon", "time_zone", "country_code", "sex")}
    rows = fast.rows()
    assert rows[3][1:5] == (2, "MERCY GENERAL HOSPITAL", "mercy general hospital", "MERCY GENERAL HOSPITAL")
    assert [rows[4][column[c]] for c in ("zip_code", "lat", "lon", "time_zone", "country_code")] == [
        None, None, None, None, "CA"]
    assert len(rows[5][3]) == 300 and rows[5][3].endswith(" " + "d" * 37)  # 100 + 1 + 60 + 1 + 100 + 1 + 37
    assert (rows[6][column["sex"]], rows[6][column["country_code"]]) == ("F", "US")


@settings(max_examples=500, deadline=None)
@given(st.lists(_NPIS, min_size=1, max_size=40))
def test_check_digits_column_wise_agree_with_the_one_value_rule(npis):
    assert records.valid_npis(pa.array(npis, pa.string())).to_pylist() == [is_valid_npi(n) for n in npis]
