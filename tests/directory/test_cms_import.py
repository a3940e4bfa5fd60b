"""The CMS importers on real databases: Medicare procedure volumes and the Doctors and Clinicians file, both
layouts, zip, encodings, bad rows reported and skipped, the wrong file refused, a year replaced."""

from __future__ import annotations

import csv
import json
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from fusioncare.cli import app as cli_app
from fusioncare.db import make_engine, make_session_factory
from fusioncare.directory import cms
from fusioncare.directory.cms_generator import generate_clinicians, generate_utilization
from fusioncare.directory.cms_import import import_clinicians, import_utilization
from fusioncare.directory.errors import ImportInProgress, UnreadableImportFile
from fusioncare.directory.models import (
    PRACTICE_FIELDS,
    ClinicianFacts,
    ClinicianFile,
    ImportRun,
    ProcedureVolume,
)
from fusioncare.settings import get_settings
from tests.directory.cms_files import clinician, utilization_text, volume, write_clinicians, write_utilization
from tests.directory.nppes_files import deactivation_row, make_npi, provider_row
from tests.support import fire_together

# Real rows of the 2019-2022 layout with spreadsheet damage (tests/directory/data/README.md says where from).
SAMPLE = Path(__file__).parent / "data" / "dac-2019-2022-layout-sample.csv"
CURRENT_NAME = "MUP_PHY_R26_P05_V10_D24_Prov_Svc.csv"


def volumes(db) -> dict[tuple, tuple]:
    return {(v.npi, v.hcpcs_code, v.place_of_service, v.data_year): (v.patients, v.services)
            for v in db.scalars(select(ProcedureVolume))}


def test_current_layout_keeps_only_pack_codes_with_their_figures_and_the_exact_report(db, tmp_path, nppes_file,
                                                                                      run_import):
    known, unknown = make_npi(1), make_npi(2)
    run_import(nppes_file([provider_row(known)]))
    path = write_utilization(tmp_path / CURRENT_NAME, [
        volume(known, "64483", "O", "212", "250"),
        volume(known, "64483", "F", "15", "18.0"),
        volume(known, "99213", "O", "900", "2000"),  # an office visit: not a treatment the pack names
        volume(unknown, "97110", "O", "40", "612.5"),
    ])

    report = import_utilization(db=db, path=path)

    assert report.as_dict() == {"rows": 4, "kept": 3, "matched_providers": 1, "unmatched_npis": 1, "rejected": 0,
                                "errors": [], "year": 2024}
    assert volumes(db) == {(known, "64483", "O", 2024): (212, 250.0), (known, "64483", "F", 2024): (15, 18.0),
                           (unknown, "97110", "O", 2024): (40, 612.5)}
    run = db.scalars(select(ImportRun).where(ImportRun.source == "cms_utilization")).one()
    assert (run.status, run.rows, run.imported, run.skipped) == ("succeeded", 4, 3, 1)


def test_an_older_release_with_the_gender_column_and_the_legacy_tab_separated_layout_both_import(db, tmp_path):
    npi = make_npi(3)
    with_gender = write_utilization(tmp_path / "MUP_PHY_R24_P07_V10_D22_Prov_Svc.csv",
                                    [volume(npi, "98941", "O", "31", "77")], gender=True)
    legacy = write_utilization(tmp_path / "Medicare_Provider_Util_Payment_PUF_CY2016.txt",
                               [volume(npi, "63650", "F", "12", "30")], layout="legacy")

    assert import_utilization(db=db, path=with_gender).kept == 1
    report = import_utilization(db=db, path=legacy)

    assert (report.year, report.kept, report.rejected) == (2016, 1, 0)
    assert volumes(db) == {(npi, "98941", "O", 2022): (31, 77.0), (npi, "63650", "F", 2016): (12, 30.0)}


def test_bad_rows_are_reported_with_line_and_reason_and_the_rest_is_imported(db, tmp_path):
    good = make_npi(4)
    bad_check_digit = good[:9] + str((int(good[9]) + 1) % 10)
    path = write_utilization(tmp_path / CURRENT_NAME, [
        volume(good, "64483"),                              # line 2
        volume(bad_check_digit, "64483"),                   # line 3
        volume(good, "62323", patients="twelve"),           # line 4
        volume(good, "64493", patients="7"),                # line 5
        volume(good, "6448"),                               # line 6: not a HCPCS code
        volume(good, "64635", place="X"),                   # line 7
        "1234567893,SHORT,ROW",                             # line 8: 3 fields
        volume(good, "64483", patients="99"),               # line 9: repeats line 2
        volume(good, "97110", services="lots"),             # line 10
    ])

    report = import_utilization(db=db, path=path).as_dict()

    assert report["rows"] == 9 and report["kept"] == 1 and report["rejected"] == 8
    assert report["errors"] == [
        {"line": 3, "reason": f"Rndrng_NPI {bad_check_digit} fails the NPI check digit"},
        {"line": 4, "reason": "Tot_Benes 'twelve' is not a whole number"},
        {"line": 5, "reason": "Tot_Benes is 7: CMS publishes only counts of 11 or more, so this row is not as CMS "
                              "published it"},
        {"line": 6, "reason": "HCPCS_Cd '6448' is not a procedure code (5 letters or digits)"},
        {"line": 7, "reason": "Place_Of_Srvc must be F (facility) or O (office), not 'X'"},
        {"line": 8, "reason": "expected 28 fields, found 3"},
        {"line": 9, "reason": "repeats the NPI, procedure code and place of service of line 2"},
        {"line": 10, "reason": "Tot_Srvcs 'lots' is not a number of services"},
    ]
    assert volumes(db) == {(good, "64483", "O", 2024): (212, 250.0)}


def test_a_windows_1252_file_is_read_and_the_report_says_so(db, tmp_path):
    npi = make_npi(5)
    path = write_utilization(tmp_path / CURRENT_NAME, [volume(npi, "64483", last="MUÑOZ-PÉREZ")], encoding="cp1252")
    assert b"MU\xd1OZ" in path.read_bytes()

    report = import_utilization(db=db, path=path)

    assert (report.kept, report.rejected, report.encoding) == (1, 0, "cp1252")


def test_the_zip_cms_ships_imports_and_a_damaged_zip_is_refused_leaving_the_year_as_it_was(db, tmp_path):
    npi = make_npi(6)
    archive = tmp_path / "MUP_PHY_R26_P05_V10_D24_Prov_Svc.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(CURRENT_NAME, utilization_text([volume(npi, "64483", patients=str(11 + i)) for i in range(1)]
                                                  + [volume(make_npi(100 + i), "97110") for i in range(3000)]))
        z.writestr("Methodology.txt", "about the file")
    assert import_utilization(db=db, path=archive).kept == 3001

    damaged = tmp_path / "damaged_D24_.zip"
    data = bytearray(archive.read_bytes())
    data[200:260] = b"\x00" * 60  # inside the deflated member
    damaged.write_bytes(bytes(data))
    with pytest.raises(UnreadableImportFile, match="damaged"):
        import_utilization(db=db, path=damaged)

    assert len(volumes(db)) == 3001  # nothing half-written: the year is as the good import left it
    assert db.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.status == "failed")) == 1
    assert import_utilization(db=db, path=archive).kept == 3001  # the failed import left nothing in the way


def test_rows_in_any_order_are_all_stored_and_no_staging_table_is_left(db, tmp_path):
    """SQLite stages the rows unindexed and writes them in key order at the end (cms_import._volumes_in_key_order):
    a file in descending NPI order, over many chunks, stores exactly its rows, and nothing of the staging stays."""
    npis = sorted((make_npi(400 + i) for i in range(40)), reverse=True)
    keys = [(npi, code, place) for npi in npis for code, place in (("64483", "O"), ("62323", "F"))]
    rows = [volume(npi, code, place, patients=str(11 + i)) for i, (npi, code, place) in enumerate(keys)]
    path = write_utilization(tmp_path / CURRENT_NAME, rows)
    assert len(path.read_bytes()) > 3 * 2048

    report = import_utilization(db=db, path=path, chunk_bytes=2048)

    assert (report.kept, report.rejected) == (80, 0)
    assert volumes(db) == {(r["npi"], r["code"], r["place"], 2024): (int(r["patients"]), 250.0) for r in rows}
    if db.get_bind().dialect.name == "sqlite":
        assert db.connection().exec_driver_sql("SELECT name FROM sqlite_temp_master").all() == []


@pytest.mark.parametrize(("header", "message"), [
    (",".join(cms.CLINICIANS_HEADER), "this is the Doctors and Clinicians National Downloadable File, not a Medicare "
                                      "Physician & Other Practitioners by Provider and Service file; import it with "
                                      "`fusioncare import-cms-clinicians`"),
    ('"NPI","Entity Type Code","Provider Last Name (Legal Name)"', "this is an NPPES registry file"),
    ("Rndrng_NPI,Rndrng_Prvdr_Last_Org_Name,Tot_HCPCS_Cds,Tot_Benes",
     "this is the Medicare Physician & Other Practitioners by Provider file, which has no procedure codes"),
    ("name,age", "the first line lacks the column(s) Rndrng_NPI, HCPCS_Cd, Place_Of_Srvc, Tot_Benes, Tot_Srvcs"),
])
def test_another_datasets_file_is_refused_at_once_with_a_clear_message(db, tmp_path, header, message):
    path = tmp_path / CURRENT_NAME
    path.write_text(header + "\n1234567893,x,y,z\n", encoding="utf-8")
    with pytest.raises(UnreadableImportFile) as caught:
        import_utilization(db=db, path=path)
    assert message in str(caught.value)
    assert volumes(db) == {}


def test_reimporting_a_year_replaces_that_year_and_keeps_the_others(db, tmp_path):
    a, b = make_npi(7), make_npi(8)
    import_utilization(db=db, path=write_utilization(tmp_path / "x_D23_.csv", [volume(a, "64483", patients="50")]))
    import_utilization(db=db, path=write_utilization(tmp_path / "x_D24_.csv", [volume(a, "64483", patients="60"),
                                                                                 volume(b, "64635")]))
    report = import_utilization(db=db, path=write_utilization(tmp_path / "y_D24_.csv",
                                                              [volume(a, "64483", patients="70")]))

    assert report.year == 2024
    assert volumes(db) == {(a, "64483", "O", 2023): (50, 250.0), (a, "64483", "O", 2024): (70, 250.0)}


def test_a_file_name_without_a_year_needs_the_year_option(db, tmp_path):
    path = write_utilization(tmp_path / "procedures.csv", [volume(make_npi(9))])
    with pytest.raises(UnreadableImportFile, match="give it with --year"):
        import_utilization(db=db, path=path)
    assert import_utilization(db=db, path=path, year=2021).year == 2021


def test_generated_utilization_file_imports_completely(db, tmp_path):
    path = tmp_path / CURRENT_NAME
    written = generate_utilization(path, rows=3000, seed=5)
    report = import_utilization(db=db, path=path, is_demo=True)
    assert report.rows == written == 3000 and report.rejected == 0 and 0 < report.kept < 3000
    assert db.scalar(select(func.count()).select_from(ProcedureVolume)) == report.kept
    assert db.scalar(select(func.count()).where(ProcedureVolume.is_demo.is_(False))) == 0


# -- Doctors and Clinicians -------------------------------------------------------------------------------------

def practices_of(db, npi: str | None = None) -> list[dict]:
    """The stored practices (of one NPI, or of all in NPI order), each with its NPI, in file order."""
    stmt = select(ClinicianFacts).order_by(ClinicianFacts.npi)
    if npi is not None:
        stmt = stmt.where(ClinicianFacts.npi == npi)
    return [{"npi": row.npi, **dict(zip(PRACTICE_FIELDS, practice, strict=True))} for row in db.scalars(stmt)
            for practice in row.practices]


def file_npis(path: Path) -> list[str]:
    """The distinct NPIs of a CMS file's first column, in file order."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(dict.fromkeys(row[0].strip() for row in list(csv.reader(f))[1:]))


def test_the_real_2019_2022_sample_imports_repairing_spreadsheet_damage_row_by_row(db, tmp_path, nppes_file,
                                                                                    run_import):
    path = tmp_path / "DAC_NationalDownloadableFile.csv"
    shutil.copy(SAMPLE, path)
    run_import(nppes_file([provider_row(npi) for npi in file_npis(path)]))  # the directory holds them all

    report = import_clinicians(db=db, path=path, year=2022).as_dict()

    assert (report["rows"], report["kept"], report["rejected"], report["year"]) == (386, 386, 0, 2022)
    assert report["matched_providers"] == 371 and report["unmatched_npis"] == 0  # 13 NPIs have several rows
    reasons = {e["line"]: e["reason"] for e in report["errors"]}
    assert sum(r.startswith("repaired: zip") for r in reasons.values()) + sum(
        r.startswith("zip") for r in reasons.values()) == 52
    assert sum(r.startswith("phn_numbr") for r in reasons.values()) == 2 and len(reasons) == 54
    assert reasons[7] == "repaired: zip 64844660 lost its leading zero (spreadsheet damage); read as 064844660"
    assert reasons[43] == ("phn_numbr '2.12689E+12' is not a phone number as CMS writes it (10 digits; spreadsheet "
                           "damage?); left out")
    practices = practices_of(db, "1215325329")
    assert [(p["zip_code"], p["state"], p["city"]) for p in practices] == [("064844660", "CT", "SHELTON")]
    assert len(practices_of(db, "1215348321")) == 3
    facts = db.get(ClinicianFacts, "1215911011")
    assert facts is not None
    assert (facts.accepts_assignment, facts.telehealth, facts.graduation_year, facts.specialty) == (
        "always", None, 1981, "INTERNAL MEDICINE")  # that layout has no telehealth column: unknown, not "no"


def test_current_layout_with_tab_padded_names_gives_telehealth_and_assignment(db, tmp_path, nppes_file, run_import):
    path = tmp_path / "DAC_NationalDownloadableFile.csv"
    generate_clinicians(path, rows=400, seed=2)
    assert b"Telehlth\t" in path.read_bytes().split(b"\n")[0]
    run_import(nppes_file([provider_row(npi) for npi in file_npis(path)]))

    report = import_clinicians(db=db, path=path)

    assert report.rejected == 0 and report.kept == 400
    telehealth = {row[0] for row in db.execute(select(ClinicianFacts.telehealth).distinct())}
    assert set(telehealth) == {True, False}
    assert set(db.scalars(select(ClinicianFacts.accepts_assignment).distinct())) <= {"always", "sometimes"}


def test_clinicians_bad_npis_are_refused_and_a_new_file_replaces_the_old(db, tmp_path, nppes_file, run_import):
    good = make_npi(11)
    run_import(nppes_file([provider_row(good)]))
    header = ",".join(cms.CLINICIANS_HEADER)

    def row(npi: str, city: str) -> str:
        values = dict.fromkeys(cms.CLINICIANS_HEADER, "")
        values |= {"NPI": npi, "Facility Name": "SPINE CARE, LLC", "adr_ln_1": "1 MAIN ST", "City/Town": city,
                   "State": "NY", "ZIP Code": "100011234", "Telephone Number": "2125550100", "Telehlth": "Y",
                   "ind_assgn": "Y", "pri_spec": "ORTHOPEDIC SURGERY"}
        return ",".join(f'"{values[c]}"' for c in cms.CLINICIANS_HEADER)

    first = tmp_path / "first.csv"
    first.write_text("\n".join([header, row(good, "NEW YORK"), row("123", "NEW YORK")]) + "\n", encoding="utf-8")
    report = import_clinicians(db=db, path=first).as_dict()
    assert report["errors"] == [{"line": 3, "reason": "NPI '123' is not an NPI (10 digits)"}]
    assert (report["kept"], report["rejected"]) == (1, 1)

    second = tmp_path / "second.csv"
    second.write_text("\n".join([header, row(good, "BROOKLYN")]) + "\n", encoding="utf-8")
    import_clinicians(db=db, path=second)
    assert [p["city"] for p in practices_of(db)] == ["BROOKLYN"]
    facts = db.get(ClinicianFacts, good)
    assert facts is not None and (facts.telehealth, facts.accepts_assignment) == (True, "always")


def test_only_the_directorys_clinicians_are_kept_and_every_npi_of_the_file_is_counted(db, tmp_path, nppes_file,
                                                                                      run_import):
    ours, gone, theirs = make_npi(20), make_npi(21), make_npi(22)
    run_import(nppes_file([provider_row(ours), provider_row(gone)]))
    run_import(nppes_file([deactivation_row(gone)]))  # no longer active: not shown, so not kept
    path = write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv", [
        clinician(ours, zip_code="64844660"),             # line 2: repaired (a kept row)
        clinician(theirs, zip_code="64844660"),           # line 3: not in the directory: counted, not looked at
        clinician(gone),                                  # line 4
        clinician("1234567890"),                          # line 5: a bad check digit is refused all the same
        clinician(theirs, group="", line1="9 PARK AVE"),  # line 6
        clinician(ours, group="", line1="9 PARK AVE"),    # line 7
    ])

    report = import_clinicians(db=db, path=path).as_dict()

    assert (report["rows"], report["kept"], report["rejected"]) == (6, 2, 1)
    assert (report["matched_providers"], report["unmatched_npis"]) == (1, 2)
    assert report["errors"] == [
        {"line": 2, "reason": "repaired: ZIP Code 64844660 lost its leading zero (spreadsheet damage); read as "
                              "064844660"},
        {"line": 5, "reason": "NPI 1234567890 fails the NPI check digit"},
    ]
    assert [(p["npi"], p["address_line1"]) for p in practices_of(db)] == [(ours, "1 MAIN ST"), (ours, "9 PARK AVE")]
    assert list(db.scalars(select(ClinicianFacts.npi))) == [ours]
    run = db.scalars(select(ImportRun).where(ImportRun.source == "cms_clinicians")).one()
    assert (run.rows, run.imported, run.rejected, run.skipped) == (6, 2, 1, 3)


def test_a_clinicians_facts_combine_all_their_rows_across_chunks(db, tmp_path, nppes_file, run_import):
    mixed, always, silent = make_npi(23), make_npi(24), make_npi(25)
    others = [make_npi(400 + i) for i in range(60)]
    run_import(nppes_file([provider_row(n) for n in (mixed, always, silent, *others)]))
    rows = [clinician(mixed, assignment="Y", school="OTHER", graduated="1990", specialty="CHIROPRACTIC"),
            clinician(always, assignment="Y"), clinician(silent, assignment="", telehealth="")]
    rows += [clinician(n) for n in others]
    rows += [clinician(mixed, assignment="M", telehealth="Y", school="BAYLOR COLLEGE OF MEDICINE", graduated="",
                       specialty="CHIROPRACTIC", city="BUFFALO"),
             clinician(always, assignment="Y", school="OTHER"), clinician(silent, assignment="", telehealth="")]
    path = write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv", rows)
    assert len(path.read_bytes()) > 3 * 2048  # each NPI's rows are chunks apart

    report = import_clinicians(db=db, path=path, year=2026, chunk_bytes=2048)

    assert (report.kept, report.rejected, report.matched_providers) == (66, 0, 63)
    facts = {f.npi: (f.accepts_assignment, f.telehealth, f.medical_school, f.graduation_year, f.specialty)
             for f in db.scalars(select(ClinicianFacts).where(ClinicianFacts.npi.in_([mixed, always, silent])))}
    assert facts == {
        mixed: ("sometimes", True, "BAYLOR COLLEGE OF MEDICINE", 1990, "CHIROPRACTIC"),
        always: ("always", False, None, 2001, "INTERVENTIONAL PAIN MANAGEMENT"),
        silent: (None, False, None, 2001, "INTERVENTIONAL PAIN MANAGEMENT"),
    }
    assert db.scalar(select(func.count()).select_from(ClinicianFacts)) == 63
    # The practices of a clinician whose rows are chunks apart: merged into their one row, in file order.
    assert [p["city"] for p in practices_of(db, mixed)] == ["NEW YORK", "BUFFALO"]
    file = db.get(ClinicianFile, 1)
    assert (file.source_file, file.data_year, file.is_demo) == ("DAC_NationalDownloadableFile.csv", 2026, False)


def test_chunks_without_any_of_the_directorys_clinicians_do_not_end_the_import(db, tmp_path, nppes_file,
                                                                                run_import):
    """A chunk holding none of the directory's clinicians (a regional directory, a national file) is read,
    checked and counted like any other, and the chunks after it are imported: it once ended the import there,
    silently, keeping nothing after it."""
    ours = make_npi(60)
    others = [make_npi(600 + i) for i in range(40)]
    run_import(nppes_file([provider_row(ours)]))
    path = write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv",
                            [*(clinician(n) for n in others), clinician(make_npi(0)[:9] + "x"), clinician(ours)])
    assert len(path.read_bytes()) > 4 * 1024  # the other clinicians fill several chunks before ours

    report = import_clinicians(db=db, path=path, chunk_bytes=1024)

    assert (report.rows, report.kept, report.rejected) == (42, 1, 1)
    assert (report.matched_providers, report.unmatched_npis) == (1, 40)
    assert [p["npi"] for p in practices_of(db)] == [ours]


def _stored_clinicians(db) -> list[tuple]:
    return [(f.npi, f.accepts_assignment, f.telehealth, f.medical_school, f.graduation_year, f.specialty, f.practices)
            for f in db.scalars(select(ClinicianFacts).order_by(ClinicianFacts.npi))]


@pytest.mark.parametrize("layout", ["real 2019-2022 sample", "current layout, rows shuffled"])
def test_small_chunks_store_exactly_what_one_chunk_stores(db, tmp_path, nppes_file, run_import, layout):
    """A clinician's rows merged across chunks (each merge an UPDATE of the row an earlier chunk wrote) give the
    very rows, report and errors that reading the whole file as one chunk gives: on the real sample (no telehealth
    column; 13 clinicians with rows 20 to 140 lines apart) and on a generated file in random order."""
    import random

    path = tmp_path / "DAC_NationalDownloadableFile.csv"
    if layout.startswith("real"):
        shutil.copy(SAMPLE, path)
    else:
        generate_clinicians(tmp_path / "sorted.csv", rows=600, seed=4)
        header, *rows = (tmp_path / "sorted.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        random.Random(4).shuffle(rows)
        path.write_text(header + "".join(rows), encoding="utf-8")
    npis = file_npis(path)
    run_import(nppes_file([provider_row(npi) for npi in npis[::2]]))  # the directory holds every other one

    whole = import_clinicians(db=db, path=path, year=2022).as_dict()
    at_once = _stored_clinicians(db)
    pieces = import_clinicians(db=db, path=path, year=2022, chunk_bytes=1024).as_dict()

    assert _stored_clinicians(db) == at_once
    assert pieces == whole
    several = [row for row in at_once if len(row[-1]) > 1]
    assert len(at_once) == len(npis[::2]) and len(several) >= 5
    if layout.startswith("real"):
        assert {row[2] for row in at_once} == {None}  # that layout has no telehealth column


def test_practices_keep_every_character_and_leave_blank_values_out(db, tmp_path, nppes_file, run_import):
    """A clinician's rows become one stored list of practices (valid JSON whatever the names hold); a blank value
    is null, a tab inside a value reads as a space."""
    npi, other = make_npi(26), make_npi(27)
    run_import(nppes_file([provider_row(npi), provider_row(other)]))
    path = write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv", [
        clinician(npi, group='METRO "BACK" CARE \\ SPINE, PC', line1="1 MAIN ST\tSUITE 2", city="SAN JOSÉ"),
        clinician(npi, group="", phone="", zip_code=""),
        clinician(other, group="ORTHOPEDIC\tPARTNERS"),
    ])

    report = import_clinicians(db=db, path=path)

    assert (report.kept, report.rejected) == (3, 0)
    assert db.scalar(select(func.count()).select_from(ClinicianFacts)) == 2  # one row per clinician
    assert practices_of(db, npi) == [
        {"npi": npi, "name": 'METRO "BACK" CARE \\ SPINE, PC', "address_line1": "1 MAIN ST SUITE 2",
         "address_line2": None, "city": "SAN JOSÉ", "state": "NY", "zip_code": "100011234", "phone": "2125550100"},
        {"npi": npi, "name": None, "address_line1": "1 MAIN ST", "address_line2": None, "city": "NEW YORK",
         "state": "NY", "zip_code": None, "phone": None},
    ]
    assert [p["name"] for p in practices_of(db, other)] == ["ORTHOPEDIC PARTNERS"]


def test_a_utilization_file_given_to_the_clinicians_import_is_refused(db, tmp_path):
    path = write_utilization(tmp_path / CURRENT_NAME, [volume(make_npi(12))])
    with pytest.raises(UnreadableImportFile, match="import-cms-utilization"):
        import_clinicians(db=db, path=path)


# -- the commands ----------------------------------------------------------------------------------------------

@pytest.fixture
def cli(clean_engine, monkeypatch):
    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", clean_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_import_cms_utilization_json_prints_the_report_and_says_when_it_read_cp1252(cli, tmp_path):
    path = write_utilization(tmp_path / CURRENT_NAME, [volume(make_npi(13), last="PEÑA"), volume("1", "64483")],
                             encoding="cp1252")
    result = cli("import-cms-utilization", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == ["rows", "kept", "matched_providers", "unmatched_npis", "rejected", "errors", "year"]
    assert (report["kept"], report["rejected"], report["year"]) == (1, 1, 2024)
    assert "read as Windows-1252" in result.stderr


def test_import_cms_clinicians_refuses_a_missing_or_wrong_file_with_exit_2(cli, tmp_path):
    result = cli("import-cms-clinicians", str(tmp_path / "nope.csv"), "--json")
    assert result.exit_code == 2 and "does not exist" in result.stderr and result.stdout == ""
    wrong = write_utilization(tmp_path / CURRENT_NAME, [volume(make_npi(14))])
    result = cli("import-cms-clinicians", str(wrong))
    assert result.exit_code == 2 and "import-cms-utilization" in result.stderr


def test_an_import_cms_command_while_another_of_its_kind_runs_exits_1_with_a_clear_message(cli, db, tmp_path):
    from fusioncare.directory import imports

    path = write_utilization(tmp_path / CURRENT_NAME, [volume(make_npi(45))])
    other_kind = write_clinicians(tmp_path / "DAC.csv", [clinician(make_npi(46))])
    with imports.one_at_a_time(db, "cms_utilization"):  # another import-cms-utilization holds the lock
        refused = cli("import-cms-utilization", str(path), "--json")
        clinicians = cli("import-cms-clinicians", str(other_kind))
    after = cli("import-cms-utilization", str(path), "--json")

    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error Another ") and refused.stderr.rstrip().endswith(
        "nothing was imported. Run `fusioncare import-cms-utilization` again when it has finished."), refused.stderr
    assert "Traceback" not in refused.output and refused.stdout == ""
    if db.get_bind().dialect.name == "postgresql":
        assert clinicians.exit_code == 0, clinicians.output  # another kind of import runs meanwhile
    else:  # SQLite takes one writer at a time: any other import is refused too, rather than wait and fail
        assert clinicians.exit_code == 1 and "Another import is running on this database (SQLite takes one " \
            "writer at a time); nothing was imported." in clinicians.stderr, clinicians.output
    assert after.exit_code == 0 and json.loads(after.stdout)["kept"] == 1  # the lock went with the other import


def test_generate_then_import_both_cms_files_through_the_commands(cli, tmp_path):
    volumes, clinicians = tmp_path / CURRENT_NAME, tmp_path / "DAC_NationalDownloadableFile.csv"
    assert cli("generate-cms-utilization", "--rows", "500", "--seed", "3", "--out", str(volumes)).exit_code == 0
    assert cli("generate-cms-clinicians", "--rows", "200", "--out", str(clinicians)).exit_code == 0
    assert volumes.read_text(encoding="utf-8").split("\n")[0] == ",".join(cms.UTILIZATION_HEADER)

    used = json.loads(cli("import-cms-utilization", str(volumes), "--demo", "--json").stdout)
    assert (used["rows"], used["rejected"], used["year"]) == (500, 0, 2024) and used["kept"] > 0

    # The clinicians file is kept for the directory's providers only: into an empty directory nothing is stored,
    # and the command says why and what to do.
    empty = cli("import-cms-clinicians", str(clinicians), "--demo", "--json")
    listed = json.loads(empty.stdout)
    assert (listed["rows"], listed["kept"], listed["rejected"]) == (200, 0, 0)
    assert listed["matched_providers"] == 0 and listed["unmatched_npis"] == len(file_npis(clinicians))
    assert "the directory holds no providers" in empty.stderr and "fusioncare import-nppes" in empty.stderr


def test_generating_for_the_demo_providers_needs_them_first(cli, tmp_path):
    result = cli("generate-cms-clinicians", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2 and "run `fusioncare demo` first" in result.stderr


def test_a_code_padded_with_spaces_is_read_as_the_code(db, tmp_path):
    npi = make_npi(15)
    path = write_utilization(tmp_path / CURRENT_NAME, [volume(npi, " 64483 "), volume(npi, "9921 ")])
    report = import_utilization(db=db, path=path).as_dict()
    assert (report["kept"], report["rejected"]) == (1, 1)
    assert report["errors"] == [{"line": 3, "reason": "HCPCS_Cd '9921' is not a procedure code (5 letters or digits)"}]
    assert volumes(db) == {(npi, "64483", "O", 2024): (212, 250.0)}


def test_a_row_repeated_in_a_later_chunk_is_rejected_as_within_a_chunk(db, tmp_path):
    npi, other = make_npi(16), make_npi(17)
    rows = [volume(npi, "64483", patients="20"), volume(other, "64635", "F", patients="30")]  # lines 2, 3
    rows += [volume(make_npi(200 + i), "97110") for i in range(30)]  # lines 4-33
    path = write_utilization(tmp_path / CURRENT_NAME, [
        *rows,
        volume(npi, "64483", patients="99"),   # line 34: repeats line 2, many chunks later
        volume(npi, "64483", "F", "44"),       # line 35: another place of service, a key of its own
        volume(other, "64635", "F", "55"),     # line 36: repeats line 3
    ])
    assert len(path.read_bytes()) > 3 * 2048  # lines 2 and 34 are chunks apart

    report = import_utilization(db=db, path=path, chunk_bytes=2048)  # many small chunks

    assert (report.rows, report.kept, report.rejected) == (35, 33, 2)
    assert report.as_dict()["errors"] == [
        {"line": 34, "reason": "repeats the NPI, procedure code and place of service of line 2"},
        {"line": 36, "reason": "repeats the NPI, procedure code and place of service of line 3"},
    ]
    stored = volumes(db)
    assert len(stored) == 33  # kept is exactly what is stored
    assert stored[(npi, "64483", "O", 2024)] == (20, 250.0)  # the first row stays, as within a chunk
    assert stored[(npi, "64483", "F", 2024)] == (44, 250.0)
    assert stored[(other, "64635", "F", 2024)] == (30, 250.0)


def test_a_repeat_within_one_chunk_and_across_chunks_gives_the_same_report(db, tmp_path):
    npi = make_npi(18)
    rows = [volume(npi, "64483", patients="20"), *(volume(make_npi(300 + i), "97110") for i in range(30)),
            volume(npi, "64483", patients="99")]  # line 33 repeats line 2
    path = write_utilization(tmp_path / CURRENT_NAME, rows)

    whole = import_utilization(db=db, path=path).as_dict()  # one chunk
    pieces = import_utilization(db=db, path=path, chunk_bytes=2048).as_dict()  # the year replaced, many chunks

    assert whole == pieces
    assert (whole["kept"], whole["rejected"]) == (31, 1)
    assert whole["errors"] == [{"line": 33, "reason": "repeats the NPI, procedure code and place of service of "
                                                      "line 2"}]
    assert volumes(db)[(npi, "64483", "O", 2024)] == (20, 250.0)


def test_a_count_over_the_largest_integer_is_a_rejected_row_and_the_rest_is_imported(db, tmp_path):
    npi = make_npi(19)
    path = write_utilization(tmp_path / CURRENT_NAME, [
        volume(npi, "64483", patients="2147483648"),          # line 2: one more than PostgreSQL's integer holds
        volume(npi, "64484", patients="2,147,483,648"),       # line 3: the same with thousands commas
        volume(npi, "62323", services="3000000000"),          # line 4
        volume(npi, "62323", "F", services="2147483647.5"),   # line 5
        volume(npi, "64493", patients="2147483647", services="2147483647"),  # line 6: the largest, stored
        volume(npi, "97110", patients="11", services="12.5"),                # line 7
    ])

    report = import_utilization(db=db, path=path).as_dict()

    assert (report["rows"], report["kept"], report["rejected"]) == (6, 2, 4)
    assert report["errors"] == [
        {"line": 2, "reason": "Tot_Benes 2147483648 is more than 2147483647, beyond any real count"},
        {"line": 3, "reason": "Tot_Benes 2,147,483,648 is more than 2147483647, beyond any real count"},
        {"line": 4, "reason": "Tot_Srvcs 3000000000 is more than 2147483647, beyond any real count"},
        {"line": 5, "reason": "Tot_Srvcs 2147483647.5 is more than 2147483647, beyond any real count"},
    ]
    assert volumes(db) == {(npi, "64493", "O", 2024): (2147483647, 2147483647.0),
                           (npi, "97110", "O", 2024): (11, 12.5)}


def test_profiles_read_the_previous_practices_while_a_clinicians_import_runs(db, tmp_path, nppes_file, run_import):
    """On PostgreSQL the import must never lock the clinicians table against readers: a profile view during the
    import reads the previous file's practices at once. The import is held at a known point: its COPY waits for
    another transaction's uncommitted row with one of its NPIs, after it has deleted the previous file's rows."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite readers never wait for a writer (WAL): they read the last commit")
    reading, held = make_npi(21), make_npi(22)
    run_import(nppes_file([provider_row(reading), provider_row(held)]))
    import_clinicians(db=db, path=write_clinicians(tmp_path / "old.csv", [clinician(reading, city="ALBANY")]))
    new_file = write_clinicians(tmp_path / "new.csv", [clinician(reading, city="BUFFALO"), clinician(held)])
    others = make_engine(db.get_bind().url.render_as_string(hide_password=False))  # not the import's pool
    with _clinicians_import_held(db, new_file, held) as outcome, others.connect() as reader:
        reader.execute(text("SET lock_timeout = '2s'"))
        listed = reader.execute(text("SELECT practices FROM cms_clinicians WHERE npi = :npi"),
                                {"npi": reading}).scalars().all()
        outcome["during"] = [p[PRACTICE_FIELDS.index("city")] for practices in listed
                             for p in json.loads(practices)]
        reader.rollback()
    others.dispose()

    assert outcome["during"] == ["ALBANY"]  # the previous file's, at once
    assert outcome["report"].kept == 2
    db.rollback()
    assert [p["city"] for p in practices_of(db, reading)] == ["BUFFALO"]


def _parallel(count: int, engine, target) -> list[object]:
    """``target(session)`` in ``count`` threads released together (fire_together), each with its own session:
    what each returned or raised."""
    sessions = make_session_factory(engine)

    def one(_: int) -> object:
        with sessions() as session:
            return _catch(lambda: target(session))

    return fire_together(count, one)


def test_the_same_years_utilization_imported_four_times_at_once_is_stored_exactly_once(clean_engine, tmp_path):
    """Each import deletes the year and inserts its rows: two at once used to fail part-way on each other's keys,
    with a traceback. Now each either runs whole or is refused at once with a clear message; the year holds the
    file's rows exactly once."""
    path = write_utilization(tmp_path / CURRENT_NAME, [volume(make_npi(i), code) for i in range(1, 40)
                                                        for code in ("64483", "97110", "62323")])
    outcomes = _parallel(4, clean_engine, lambda session: import_utilization(db=session, path=path))
    refused = [o for o in outcomes if isinstance(o, ImportInProgress)]
    done = [o for o in outcomes if not isinstance(o, ImportInProgress)]
    assert all(getattr(o, "kept", None) == 117 for o in done), outcomes
    assert len(done) >= 1 and len(done) + len(refused) == 4
    assert all(str(o).startswith("Another ") and str(o).endswith(
        "Run `fusioncare import-cms-utilization` again when it has finished.") for o in refused)
    with clean_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cms_procedure_volumes")).scalar_one() == 117
        runs = connection.execute(text("SELECT status, count(*) FROM directory_import_runs "
                                       "WHERE source = 'cms_utilization' GROUP BY status")).all()
    assert dict(runs) == {"succeeded": len(done)}  # a refused import never started, so it is not recorded


@contextmanager
def _clinicians_import_held(db, path: Path, held: str) -> Iterator[dict[str, object]]:
    """PostgreSQL: an import of ``path`` running in a thread, held part-way while the block runs (its COPY waits
    for another transaction's uncommitted row of NPI ``held``); afterwards ``["report"]`` is what it
    returned or raised."""
    others = make_engine(db.get_bind().url.render_as_string(hide_password=False))
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["report"] = import_clinicians(db=db, path=path)
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            outcome["report"] = exc

    with others.connect() as blocker, others.connect() as watcher:
        blocker.execute(text("INSERT INTO cms_clinicians (npi, practices) VALUES (:npi, '[]')"),
                        {"npi": held})  # uncommitted
        importer = threading.Thread(target=run)
        importer.start()
        try:
            deadline = time.monotonic() + 30
            while not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'COPY cms_clinicians %'")).scalar_one():
                watcher.rollback()  # pg_stat_activity is read once per transaction
                assert time.monotonic() < deadline, f"the import never reached its COPY: {outcome}"
                time.sleep(0.05)
            watcher.rollback()
            yield outcome
        finally:
            blocker.rollback()
            importer.join(timeout=60)
    others.dispose()


def test_a_clinicians_import_while_another_holds_the_lock_is_refused_and_the_first_completes(
        db, clean_engine, tmp_path, nppes_file, run_import):
    """A second import-cms-clinicians while one runs: refused with a message naming the command, nothing written
    by it, and the first one's rows all there. PostgreSQL: the first is held part-way (its facts COPY waits for
    another transaction's uncommitted row). SQLite: another connection holds the write lock, and the second import
    gives up after the busy timeout (set short here)."""
    ours, held = make_npi(41), make_npi(42)
    run_import(nppes_file([provider_row(ours), provider_row(held)]))
    path = write_clinicians(tmp_path / "DAC_NationalDownloadableFile.csv", [clinician(ours), clinician(held)])
    others = make_engine(clean_engine.url.render_as_string(hide_password=False))
    outcome: dict[str, object] = {}
    if clean_engine.dialect.name == "postgresql":
        with _clinicians_import_held(db, path, held) as first:
            started = time.monotonic()
            outcome["second"] = _parallel(1, others, lambda s: import_clinicians(db=s, path=path))[0]
            outcome["waited"] = time.monotonic() - started
        outcome["first"] = first["report"]
        assert outcome["waited"] < 5  # refused at once, not after the first one ends
    else:
        with others.connect() as writer:
            writer.exec_driver_sql("BEGIN IMMEDIATE")  # another long write holds SQLite's one write lock
            impatient = make_session_factory(others)()
            impatient.connection().exec_driver_sql("PRAGMA busy_timeout = 200")
            outcome["second"] = _catch(lambda: import_clinicians(db=impatient, path=path))
            impatient.close()
            writer.exec_driver_sql("ROLLBACK")
        outcome["first"] = import_clinicians(db=db, path=path)
    others.dispose()

    assert isinstance(outcome["second"], ImportInProgress), outcome
    assert "Run `fusioncare import-cms-clinicians` again when it has finished" in str(outcome["second"])
    assert getattr(outcome["first"], "kept", None) == 2, outcome
    db.rollback()
    assert sorted(db.scalars(select(ClinicianFacts.npi))) == sorted([ours, held])
    assert len(practices_of(db)) == 2
    assert db.scalar(select(func.count()).select_from(ImportRun).where(ImportRun.source == "cms_clinicians")) == 1


def _catch(call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the caller asserts on it
        return exc


_PRACTICE_TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=12),
                           st.sampled_from(['METRO "BACK"', "A\\B", "TAB\tIN", "SAN JOSÉ", "\\\"", "{[,]}"]))


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=3), *[_PRACTICE_TEXT] * 7), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_practice_lists_are_valid_json_holding_every_value_in_file_order(rows):
    """Whatever a file's fields hold, each clinician's stored list is valid JSON with their rows in file order;
    a blank value is null and a control character reads as a space."""
    from fusioncare.directory.cms_import import _practice_lists

    npis = [make_npi(30 + n) for n, *_ in rows]
    fields = {name: pa.array([(r[1 + i] or None) for r in rows], pa.string())
              for i, name in enumerate(PRACTICE_FIELDS)}
    table = pa.table({"npi": npis, "npi_number": pa.array([int(n) for n in npis], pa.int64()), **fields})

    stored = _practice_lists(table).to_pylist()

    expected: dict[str, list[list]] = {}
    for npi, (_, *values) in zip(npis, rows, strict=True):
        expected.setdefault(npi, []).append([re.sub(r"[\x00-\x1f]", " ", v) if v else None for v in values])
    assert sorted(r["npi"] for r in stored) == sorted(expected)  # one row per clinician of the chunk
    assert {r["npi"]: json.loads(r["practices"]) for r in stored} == expected


def test_rows_of_a_table_in_several_chunks_are_written_exactly(db):
    """What the importers write may come in several chunks, an empty one first (pyarrow's write_csv, which feeds
    PostgreSQL's COPY, wrote garbage for those): every value arrives as it was."""
    from fusioncare.directory.cms_import import _insert_rows

    db.execute(text("CREATE TEMPORARY TABLE chunked_rows (kind integer, value text)"))
    empty = pa.table({"kind": pa.array([], pa.int64()), "value": pa.array([], pa.string())})
    rows = pa.table({"kind": pa.array([1, 2], pa.int64()), "value": pa.array(["SPINE, LLC", None], pa.string())})
    _insert_rows(db, "chunked_rows", pa.concat_tables([empty, rows, empty, rows]))
    assert db.execute(text("SELECT kind, value FROM chunked_rows")).all() == [
        (1, "SPINE, LLC"), (2, None), (1, "SPINE, LLC"), (2, None)]
    db.rollback()
