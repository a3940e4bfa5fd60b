"""The synthetic NPPES generator: exact format, deterministic, and importable with the expected counts."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

from fusioncare.directory import nppes
from fusioncare.directory.generator import generate_file
from fusioncare.directory.importer import import_nppes
from fusioncare.directory.npi import is_valid_npi

SPEC = Path("/work/shared/spec/nppes-columns.txt")


def test_header_is_the_330_columns_of_the_spec_in_order():
    header = nppes.v2_header()
    assert len(header) == 330 and len(set(header)) == 330
    assert header[0] == "NPI" and header[41] == "Provider Sex Code" and header[-1] == "Certification Date"
    if SPEC.exists():  # the binding spec, when this checkout sits next to it
        assert header == tuple(line for line in SPEC.read_text().splitlines() if line and not line.startswith("#"))


def test_same_seed_same_bytes_other_seed_other_file(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.csv"))
    generate_file(a, rows=300, seed=5)
    generate_file(b, rows=300, seed=5)
    generate_file(c, rows=300, seed=6)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(a) == digest(b) != digest(c)


def test_rows_follow_the_registry_format(tmp_path):
    path = tmp_path / "npidata_pfile.csv"
    stats = generate_file(path, rows=10000, seed=3)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(line.startswith('"') and line.endswith('"') for line in lines)  # every value quoted
    rows = list(csv.DictReader(lines))
    assert len(rows) == stats.rows == 10000
    date = re.compile(r"^(0[1-9]|1[0-2])/[0-3][0-9]/(19|20)[0-9]{2}$")
    well_formed = [r for r in rows if None not in r.values() and r[nppes.ENUMERATION_DATE] != "13/45/2011"]
    for r in well_formed:
        for column in (nppes.ENUMERATION_DATE, nppes.LAST_UPDATE_DATE, nppes.DEACTIVATION_DATE):
            assert r[column] == "" or date.match(r[column])
        if r[nppes.COUNTRY_CODE] == "US" and r[nppes.POSTAL_CODE] != "ABCDE":
            assert re.fullmatch(r"[0-9]{5}([0-9]{4})?", r[nppes.POSTAL_CODE])
    valid = sum(is_valid_npi(r["NPI"]) for r in rows)
    assert valid >= len(rows) - stats.bad
    assert stats.deactivated > 0 and stats.reactivated > 0 and stats.bad > 0 and stats.foreign > 0
    assert any(r[nppes.taxonomy_column(1)] == "282N00000X" for r in well_formed)
    assert any(r[nppes.primary_switch_column(2)] == "Y" for r in well_formed)  # primary not always in slot 1


def test_importing_a_generated_file_rejects_exactly_its_bad_rows(db, tmp_path):
    path = tmp_path / "npidata_pfile.csv"
    stats = generate_file(path, rows=10000, seed=9)
    report = import_nppes(db=db, path=path, is_demo=True)
    assert report.rows == 10000 and stats.bad > 0
    assert report.rejected == stats.bad
    assert report.imported + report.skipped + report.rejected == 10000
    assert 0.25 < report.imported / 10000 < 0.45  # a realistic share of relevant providers
