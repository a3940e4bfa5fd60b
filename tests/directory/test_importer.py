"""The NPPES importer on hand-made files: every case the registry throws at it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fusioncare.directory import nppes
from fusioncare.directory.errors import ImportInProgress, UnreadableImportFile
from fusioncare.directory.models import Provider, SearchIndexEntry
from fusioncare.directory.schemas import ManagedFieldsUpdate
from fusioncare.directory.service import update_managed_fields
from tests.directory.nppes_files import V2_HEADER, deactivation_row, make_npi, provider_row, write_nppes

A, B, C, D, E, F, G, H, J, K = (make_npi(n) for n in range(1, 11))
HOSPITAL_NPI = make_npi(77, entity_type=2)


def monthly_rows() -> list:
    bad_npi = A[:9] + str((int(A[9]) + 1) % 10)
    return [
        provider_row(A, last="O'BRIEN", first="MARÍA", postal="100011234"),                       # 2 ZIP+4
        provider_row(B, taxonomies=[("363L00000X", True)]),                                      # 3 irrelevant
        provider_row(C, taxonomies=[("363L00000X", True), ("225100000X", False)]),               # 4 non-primary
        provider_row(bad_npi),                                                                   # 5 bad NPI
        provider_row(E, postal="M5V2T6", country="CA", city="TORONTO", state="ON"),              # 6 foreign
        '"1234567893","1"',                                                                      # 7 broken row
        provider_row(F, deactivated="01/01/2015", reactivated="06/01/2015"),                     # 8 reactivated
        provider_row(HOSPITAL_NPI, entity_type=2, organization="MERCY GENERAL HOSPITAL",
                     taxonomies=[("282N00000X", True)]),                                         # 9 hospital
        deactivation_row(H),                                                                     # 10 unknown, gone
        provider_row(G, enumerated="13/45/2011"),                                                # 11 bad date
        provider_row(J, taxonomies=[("207Q00000X", True), ("208VP0014X", False)]),               # 12 two specialties
    ]


def active_npis(db) -> set[str]:
    return set(db.scalars(select(Provider.npi).where(Provider.is_active.is_(True))))


def index_of(db, npi: str) -> list[tuple[str, int]]:
    return sorted(db.execute(select(SearchIndexEntry.specialty, SearchIndexEntry.lat_band)
                             .where(SearchIndexEntry.npi == npi)).all())


def test_monthly_file_counts_every_kind_of_row_and_reports_bad_rows_by_line(db, nppes_file, run_import):
    report = run_import(nppes_file(monthly_rows()))

    assert report.as_dict() == {
        "rows": 11, "imported": 6, "updated": 0, "deactivated": 0, "skipped": 2, "rejected": 3,
        "errors": [
            {"line": 5, "npi": A[:9] + str((int(A[9]) + 1) % 10),
             "reason": f"NPI '{A[:9] + str((int(A[9]) + 1) % 10)}' is not 10 digits with a valid check digit"},
            {"line": 7, "npi": "1234567893", "reason": "expected 330 fields, found 2"},
            {"line": 11, "npi": G,
             "reason": "Provider Enumeration Date '13/45/2011' is not a date in MM/DD/YYYY form"},
        ],
    }
    assert active_npis(db) == {A, C, E, F, HOSPITAL_NPI, J}


def test_imported_fields_zip_plus_four_foreign_address_and_specialties_from_any_taxonomy(db, nppes_file, run_import):
    run_import(nppes_file(monthly_rows()))

    a = db.get(Provider, A)
    assert (a.postal_code, a.zip_code, a.time_zone) == ("100011234", "10001", "America/New_York")
    assert a.lat == pytest.approx(40.7484) and a.lon == pytest.approx(-73.9967)
    assert a.name_search == "maria o brien" and a.specialties == ["primary_care"]
    assert a.source_file.startswith("npidata_pfile_") and a.imported_at is not None
    assert (a.insurance_plans, a.languages, a.services, a.telehealth, a.accepting_new, a.profile_confirmed) == (
        [], [], [], None, None, False)

    c = db.get(Provider, C)
    assert c.specialties == ["physical_therapist"]
    assert c.taxonomies == [{"code": "363L00000X", "primary": True}, {"code": "225100000X", "primary": False}]

    e = db.get(Provider, E)  # foreign: kept with its address, never placed on the map
    assert (e.country_code, e.postal_code, e.zip_code, e.lat, e.lon) == ("CA", "M5V2T6", None, None, None)
    assert index_of(db, E) == []

    assert db.get(Provider, J).specialties == ["pain_medicine", "primary_care"]
    assert [s for s, _ in index_of(db, J)] == ["pain_medicine", "primary_care"]
    assert db.get(Provider, HOSPITAL_NPI).specialties == ["general_acute_care_hospital"]
    assert db.get(Provider, F).is_active and db.get(Provider, F).reactivation_date is not None


def test_importing_the_same_file_twice_changes_nothing(db, nppes_file, run_import):
    path = nppes_file(monthly_rows())
    run_import(path)
    before = {p.npi: {c: getattr(p, c) for c in Provider.__table__.columns.keys()}
              for p in db.scalars(select(Provider))}
    index_before = db.execute(select(SearchIndexEntry.__table__)).all()
    db.expire_all()

    second = run_import(path)

    assert (second.imported, second.updated, second.deactivated, second.rejected) == (0, 0, 0, 3)
    after = {p.npi: {c: getattr(p, c) for c in Provider.__table__.columns.keys()}
             for p in db.scalars(select(Provider))}
    assert after == before
    assert sorted(db.execute(select(SearchIndexEntry.__table__)).all()) == sorted(index_before)


def test_weekly_file_moves_deactivates_adds_and_a_later_file_reactivates(db, nppes_file, run_import):
    run_import(nppes_file(monthly_rows()))
    ny_bands = index_of(db, A)
    weekly = [
        provider_row(A, last="O'BRIEN", first="MARÍA", postal="90012", city="LOS ANGELES", state="CA",
                     address="200 N SPRING ST", updated="11/01/2025"),
        deactivation_row(C, "10/15/2025"),
        provider_row(K, taxonomies=[("2084N0400X", True)], postal="60601"),
        provider_row(F, deactivated="01/01/2015", reactivated="06/01/2015"),
    ]

    report = run_import(nppes_file(weekly))

    assert (report.rows, report.imported, report.updated, report.deactivated, report.skipped, report.rejected) == (
        4, 1, 1, 1, 0, 0)
    db.expire_all()
    a = db.get(Provider, A)
    assert (a.zip_code, a.city, a.state) == ("90012", "LOS ANGELES", "CA")
    assert index_of(db, A) != ny_bands and index_of(db, A)[0][1] == 340  # 34.06 N
    c = db.get(Provider, C)
    assert not c.is_active and index_of(db, C) == []
    assert db.get(Provider, K).specialties == ["neurologist"]

    back = run_import(nppes_file([provider_row(C, taxonomies=[("225100000X", True)], deactivated="10/15/2025",
                                               reactivated="11/20/2025")]))

    assert (back.updated, back.deactivated) == (1, 0)
    db.expire_all()
    assert db.get(Provider, C).is_active and [s for s, _ in index_of(db, C)] == ["physical_therapist"]


def test_a_deactivation_repeated_in_the_next_file_is_not_counted_again(db, nppes_file, run_import):
    run_import(nppes_file([provider_row(A)]))
    assert run_import(nppes_file([deactivation_row(A)])).deactivated == 1
    assert run_import(nppes_file([deactivation_row(A)])).deactivated == 0


def test_reimport_with_changed_registry_data_keeps_provider_managed_fields(db, nppes_file, run_import):
    run_import(nppes_file([provider_row(A)]))
    update_managed_fields(db=db, npi=A, fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], languages=["es"], telehealth=True, accepting_new=True, services=["injection"],
        bio="Spine care.", profile_confirmed=True))

    report = run_import(nppes_file([provider_row(A, phone="2125559999", updated="12/01/2025")]))

    assert report.updated == 1
    db.expire_all()
    a = db.get(Provider, A)
    assert a.phone == "2125559999"
    assert (a.insurance_plans, a.languages, a.telehealth, a.services, a.bio, a.profile_confirmed) == (
        ["aetna"], ["es"], True, ["injection"], "Spine care.", True)


def test_columns_are_mapped_by_name_old_gender_header_reordered_and_extra_columns(db, nppes_file, run_import):
    header = [c if c != nppes.SEX else nppes.SEX_OLD for c in reversed(V2_HEADER)] + ["A Column From The Future"]

    report = run_import(nppes_file([provider_row(A, sex="M"), provider_row(B, taxonomies=[("111N00000X", True)])],
                                   header=header))

    assert (report.imported, report.rejected) == (2, 0)
    assert db.get(Provider, A).sex == "M"
    assert db.get(Provider, B).specialties == ["chiropractor"]


def test_all_taxonomies_keeps_providers_outside_the_specialty_map(db, nppes_file, run_import):
    report = run_import(nppes_file([provider_row(B, taxonomies=[("363L00000X", True)])]), all_taxonomies=True)

    assert (report.imported, report.skipped) == (1, 0)
    assert db.get(Provider, B).specialties == [] and index_of(db, B) == []


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_line_numbers_stay_exact_across_chunks_blank_lines_and_invalid_utf8(db, tmp_path, run_import, newline):
    good = [provider_row(make_npi(100 + i)) for i in range(40)]
    path = tmp_path / "npidata_pfile_chunks.csv"
    write_nppes(path, good[:10] + [""] + good[10:20] + ['"1234567893","1","x"'] + good[20:])
    raw = path.read_bytes().splitlines(keepends=True)
    raw.insert(30, b'"\xff\xfe broken","1"\n')  # becomes line 31
    path.write_bytes(b"".join(raw).replace(b"\n", newline))

    report = run_import(path, chunk_bytes=4096)

    assert report.imported == 40
    assert [(e.line, e.reason) for e in report.errors] == [
        (23, "expected 330 fields, found 3"), (31, "the row is not valid UTF-8")]
    assert report.rows == 42


def test_zip_archive_imports_its_data_member_not_the_fileheader(db, nppes_file, run_import, tmp_path):
    csv_path = nppes_file([provider_row(A)], name="npidata_pfile_20250101-20250131.csv")
    header_only = nppes_file([], name="npidata_pfile_20250101-20250131_fileheader.csv")
    archive = tmp_path / "NPPES_Data_Dissemination_January_2025.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(header_only, header_only.name)
        z.write(csv_path, csv_path.name)
        z.writestr("NPPES_Data_Dissemination_Readme.pdf", b"%PDF-1.4")

    report = run_import(archive)

    assert report.imported == 1
    assert db.get(Provider, A).source_file == f"{archive.name}:{csv_path.name}"


def test_files_that_are_not_nppes_data_are_refused_whole(db, tmp_path, run_import):
    not_nppes = tmp_path / "people.csv"
    not_nppes.write_text('"Name","Age"\n"Ann","3"\n')
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("readme.txt", "nothing here")

    with pytest.raises(UnreadableImportFile, match="lacks 'NPI'"):
        run_import(not_nppes)
    with pytest.raises(UnreadableImportFile, match="expected one npidata_pfile"):
        run_import(empty_zip)


def _cli_env(clean_engine, monkeypatch):
    from fusioncare.settings import get_settings

    monkeypatch.setenv("FUSIONCARE_DATABASE_URL", clean_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()


def test_cli_json_report_has_exactly_the_documented_keys(clean_engine, nppes_file, monkeypatch):
    from fusioncare.cli import app as cli_app
    from fusioncare.settings import get_settings

    _cli_env(clean_engine, monkeypatch)
    try:
        result = CliRunner().invoke(cli_app, ["import-nppes", str(nppes_file(monthly_rows())), "--json"])
        missing = CliRunner().invoke(cli_app, ["import-nppes", "/nonexistent/npidata.csv", "--json"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == ["rows", "imported", "updated", "deactivated", "skipped", "rejected", "errors"]
    assert all(list(e) == ["line", "npi", "reason"] for e in report["errors"])
    assert (report["rows"], report["imported"], report["rejected"]) == (11, 6, 3)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr and missing.stdout == ""


def test_refused_rows_and_blank_lines_in_one_chunk_keep_their_lines(db, tmp_path, run_import):
    """One chunk holding several refused rows and empty lines: pyarrow numbers rows, not lines."""
    good = [provider_row(make_npi(300 + i)) for i in range(12)]
    path = tmp_path / "npidata_pfile_mixed.csv"
    write_nppes(path, [good[0], '"1234567893","1"', "", "", good[1], good[2], '"x"', "", good[3], *good[4:]])

    report = run_import(path)

    # Header is line 1; rows start at line 2.
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "expected 330 fields, found 2"), (8, "expected 330 fields, found 1")]
    assert (report.rows, report.imported, report.rejected) == (14, 12, 2)


def test_chunks_are_whole_lines_however_the_stream_delivers_bytes():
    import io

    from fusioncare.directory.importer import _chunks

    class Trickle(io.RawIOBase):
        """Hands out at most 7 bytes per read, as a slow pipe or an archive member may."""

        def __init__(self, data: bytes) -> None:
            self.stream = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            piece = self.stream.read(min(7, len(buffer)))
            buffer[:len(piece)] = piece
            return len(piece)

    data = b"".join(f'"{i}","{"x" * (i % 50)}"\n'.encode() for i in range(500)) + b'"last","no newline"'

    pieces = [bytes(chunk) for chunk in _chunks(Trickle(data), 100)]

    assert b"".join(pieces) == data + b"\n"
    assert all(piece.endswith(b"\n") and piece.count(b"\n") >= 1 for piece in pieces)
    assert len(pieces) > 10


def test_a_damaged_archive_is_a_clear_error_not_a_traceback(db, nppes_file, run_import, tmp_path, clean_engine,
                                                           monkeypatch):
    from fusioncare.cli import app as cli_app
    from fusioncare.settings import get_settings

    rows = [provider_row(make_npi(500 + i), last=f"NAME{i}" * 5, first="A" * (i % 60)) for i in range(400)]
    csv_path = nppes_file(rows, name="npidata_pfile_20250101-20250131.csv")
    archive = tmp_path / "NPPES_Data_Dissemination_January_2025.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(csv_path, csv_path.name)
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # a scratched disk: the member's compressed bytes no longer check out
    archive.write_bytes(bytes(data))

    with pytest.raises(UnreadableImportFile, match="damaged and can't be read to the end"):
        run_import(archive, chunk_bytes=4096)

    _cli_env(clean_engine, monkeypatch)
    try:
        result = CliRunner().invoke(cli_app, ["import-nppes", str(archive), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "damaged and can't be read to the end" in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def _has_cell_index(db) -> bool:
    from sqlalchemy import inspect

    return "ix_directory_search_index_cell" in {i["name"] for i in inspect(db.connection()).get_indexes(
        SearchIndexEntry.__tablename__)}


def test_the_search_index_is_whole_after_a_fresh_import_and_repaired_after_a_killed_one(db, nppes_file,
                                                                                        run_import):
    from fusioncare.directory.importer import _cell_index

    first = nppes_file([provider_row(make_npi(600 + i)) for i in range(30)])
    run_import(first, chunk_bytes=4096)  # into an empty directory: the index is built at the end
    assert _has_cell_index(db)

    _cell_index().drop(db.connection())  # as an import killed between dropping and rebuilding it leaves it
    db.commit()
    assert not _has_cell_index(db)
    report = run_import(nppes_file([provider_row(make_npi(700))]))

    assert report.imported == 1 and _has_cell_index(db)
    assert len(index_of(db, make_npi(700))) == 1


def test_the_zip_table_cache_is_written_once_and_a_broken_one_is_rebuilt(tmp_path):
    from fusioncare.directory import records

    saved = list(records._zip_columns_cache)
    try:
        records._zip_columns_cache.clear()
        built = records.zip_columns(tmp_path)
        cached = list(tmp_path.glob("zip-centroids-zipcodes-*.arrow"))
        assert len(cached) == 1 and not list(tmp_path.glob("*.partial"))

        records._zip_columns_cache.clear()
        assert records.zip_columns(tmp_path) == built  # read back from the file

        cached[0].write_bytes(b"not an arrow file")
        records._zip_columns_cache.clear()
        assert records.zip_columns(tmp_path) == built
        assert records._read_zip_cache(cached[0]) is not None  # rewritten whole

        unwritable = tmp_path / "file-not-dir"
        unwritable.write_text("x")
        records._zip_columns_cache.clear()
        assert records.zip_columns(unwritable) == built  # a cache that can't be written is only slower
        assert built.get("10001").lat == pytest.approx(40.75, abs=0.05) and built.get("00000") is None
    finally:
        records._zip_columns_cache[:] = saved


def test_a_value_longer_than_its_column_is_refused_with_its_row_on_both_databases(db, nppes_file, run_import):
    long_name = "X" * 101
    report = run_import(nppes_file([provider_row(A, last=long_name), provider_row(B, city="C" * 100),
                                    provider_row(C, address="1 MAIN ST", phone="2" * 21)]))

    assert [(e.line, e.npi, e.reason) for e in report.errors] == [
        (2, A, f"{nppes.LAST_NAME} is longer than 100 characters"),
        (4, C, f"{nppes.PHONE} is longer than 20 characters")]
    assert report.imported == 1 and db.get(Provider, B).city == "C" * 100


def test_a_postgresql_import_leaves_the_search_tables_vacuumed_and_analysed(db, nppes_file, run_import):
    """Search reads only the covering index, which PostgreSQL can do without the table only for pages VACUUM has
    marked all-visible: the import VACUUMs (ANALYZE) what it rewrote instead of waiting for autovacuum."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("VACUUM and the visibility map are PostgreSQL's; SQLite has neither")
    import time

    from sqlalchemy import text

    started = db.scalar(text("SELECT now()"))
    db.commit()
    run_import(nppes_file([provider_row(make_npi(800 + i)) for i in range(5)]))
    seen: dict = {}
    for _ in range(50):  # the statistics system publishes the vacuum within moments
        db.rollback()
        seen = dict(db.execute(text(
            "SELECT relname, greatest(last_vacuum, last_autovacuum) >= :t AND greatest(last_analyze, "
            "last_autoanalyze) >= :t FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND relname IN ('directory_providers', 'directory_search_index')"), {"t": started}).all())
        if seen == {"directory_providers": True, "directory_search_index": True}:
            break
        time.sleep(0.1)
    assert seen == {"directory_providers": True, "directory_search_index": True}


def test_new_rows_copied_straight_in_fall_back_to_the_upsert_when_another_writer_stored_one_meanwhile(
        db, nppes_file, run_import):
    """On PostgreSQL a chunk of NPIs not yet stored is COPYed straight into the directory. Another writer may
    store one of them after the chunk was classified: here a second connection inserts NPI A without committing,
    so the import's COPY waits on A's key; once that insert commits, the COPY fails on the key and the chunk must
    go through the upsert instead, with every row of the file stored and nothing lost or doubled."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the direct COPY is PostgreSQL's path; SQLite always takes the upsert")
    import threading
    import time

    from sqlalchemy import insert, text

    engine = db.get_bind()
    others = [make_npi(900 + i) for i in range(20)]
    path = nppes_file([provider_row(A, last="FROMFILE"), *(provider_row(npi) for npi in others)])
    blocker = engine.connect()
    blocker.execute(insert(Provider).values(
        npi=A, entity_type=1, display_name="OTHER WRITER", name_search="other writer", source_file="other.csv",
        imported_at=datetime.now(UTC), source_digest="0" * 32, taxonomies=[], specialties=[], insurance_plans=[],
        languages=[], services=[]))
    outcome: dict = {}

    def import_it() -> None:
        try:
            outcome["report"] = run_import(path)
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            outcome["error"] = exc

    worker = threading.Thread(target=import_it, daemon=True)
    worker.start()
    waiting = 0
    try:
        with engine.connect() as watcher:
            for _ in range(1200):  # the import's COPY waits on A's key, held by the uncommitted insert
                waiting = watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'COPY%' "
                    "AND datname = current_database()")).scalar_one()
                watcher.rollback()  # pg_stat_activity is read once per transaction
                if waiting or not worker.is_alive():
                    break
                time.sleep(0.05)
    finally:
        blocker.commit()  # always, so a failed wait cannot leave the import blocked behind it
        blocker.close()
    worker.join(timeout=120)
    assert waiting, "the import never reached the COPY that waits on the other writer's row"

    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].imported == 21
    db.expire_all()
    assert "FROMFILE" in db.get(Provider, A).display_name  # the file's record, upserted over the other writer's
    assert db.scalar(select(func.count()).select_from(Provider)) == 21
    assert {npi for (npi,) in db.execute(select(SearchIndexEntry.npi))} == {A, *others}


def test_a_chunk_read_row_by_row_keeps_the_same_rows_as_a_clean_one(db, nppes_file, run_import):
    """One line that is not UTF-8 sends its whole chunk through the row-by-row reader: a deactivation for a
    provider we hold still applies, a row with no taxonomy of the specialty map is still skipped."""
    run_import(nppes_file([provider_row(A), provider_row(B)]))
    path = nppes_file([deactivation_row(A), provider_row(C, taxonomies=[("363L00000X", True)]), provider_row(D)])
    raw = path.read_bytes().splitlines(keepends=True)
    raw.insert(2, b'"\xff\xfe broken","1"\n')  # line 3
    path.write_bytes(b"".join(raw))

    report = run_import(path)

    assert (report.rows, report.imported, report.deactivated, report.skipped, report.rejected) == (4, 1, 1, 1, 1)
    assert active_npis(db) == {B, D}


def test_dates_that_are_not_dates_are_refused_naming_their_column(db, nppes_file, run_import):
    report = run_import(nppes_file([provider_row(A, deactivated="2025-03-01"),
                                    provider_row(B, deactivated="01/01/2015", reactivated="13/01/2015"),
                                    provider_row(C, updated="06/31/2024")]))

    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "NPI Deactivation Date '2025-03-01' is not a date in MM/DD/YYYY form"),
        (3, "NPI Reactivation Date '13/01/2015' is not a date in MM/DD/YYYY form"),
        (4, "Last Update Date '06/31/2024' is not a date in MM/DD/YYYY form"),
    ]


def test_a_deactivation_keeps_its_dates_and_a_reactivation_must_come_after_it(db, nppes_file, run_import):
    """A reactivation on or before the deactivation date does not undo it (the registry's later event wins)."""
    from datetime import date

    run_import(nppes_file([provider_row(A), provider_row(B)]))

    report = run_import(nppes_file([provider_row(A, deactivated="10/15/2025", reactivated="10/15/2025"),
                                    provider_row(B, deactivated="10/15/2025", reactivated="06/01/2015")]))

    assert report.deactivated == 2
    db.expire_all()
    a, b = db.get(Provider, A), db.get(Provider, B)
    assert (a.is_active, a.deactivation_date, a.reactivation_date) == (False, date(2025, 10, 15), date(2025, 10, 15))
    assert (b.is_active, b.deactivation_date, b.reactivation_date) == (False, date(2025, 10, 15), date(2015, 6, 1))


def test_a_reactivated_provider_outside_the_specialty_map_is_skipped_unless_all_taxonomies(db, nppes_file,
                                                                                             run_import):
    rows = [provider_row(A, taxonomies=[("363L00000X", True)], deactivated="01/01/2015", reactivated="06/01/2015")]

    assert (run_import(nppes_file(rows)).skipped, active_npis(db)) == (1, set())
    assert run_import(nppes_file(rows), all_taxonomies=True).imported == 1
    assert active_npis(db) == {A}


def test_a_nameless_organization_a_bad_us_zip_and_misplaced_date_slashes_are_refused_naming_them(
        db, nppes_file, run_import):
    """These rows leave the column-wise path for the one-row rules, whose reasons the report gives word for word."""
    rows = [provider_row(A, entity_type=2) | {nppes.ORGANIZATION_NAME: ""},
            provider_row(B, postal="1234567"),  # digits, but neither 5 nor 9 of them
            provider_row(C, postal="1000A"),  # five characters, not all digits
            provider_row(D, enumerated="12-31/2020"), provider_row(E, enumerated="12/31-2020"),
            provider_row(F, postal="10001")]

    report = run_import(nppes_file(rows))

    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "Provider Organization Name (Legal Business Name) is empty"),
        (3, "practice ZIP '1234567' is not 5 or 9 digits"),
        (4, "practice ZIP '1000A' is not 5 or 9 digits"),
        (5, "Provider Enumeration Date '12-31/2020' is not a date in MM/DD/YYYY form"),
        (6, "Provider Enumeration Date '12/31-2020' is not a date in MM/DD/YYYY form")]
    assert active_npis(db) == {F}


def test_an_unknown_entity_type_and_an_empty_last_name_are_refused_naming_them(db, nppes_file, run_import):
    row = provider_row(A) | {nppes.ENTITY_TYPE: "3"}

    report = run_import(nppes_file([row, provider_row(B, last="")]))

    assert [(e.line, e.reason) for e in report.errors] == [
        (2, "Entity Type Code '3' is not 1 (individual) or 2 (organization)"),
        (3, "Provider Last Name (Legal Name) is empty")]


# -- one import at a time ----------------------------------------------------------------------------------------

def test_four_nppes_imports_of_one_file_at_once_store_each_provider_exactly_once(clean_engine, tmp_path):
    """Two imports at once used to fail part-way on each other's keys, with a traceback. Now an import that finds
    another running is refused at once (ImportInProgress, not recorded as a run); the others run whole."""
    from fusioncare.db import make_session_factory
    from fusioncare.directory.generator import generate_file
    from fusioncare.directory.importer import import_nppes
    from fusioncare.directory.models import ImportRun
    from tests.support import fire_together

    path = tmp_path / "npidata_pfile_20261102-20261108.csv"
    generate_file(path, rows=3000, seed=5)
    sessions = make_session_factory(clean_engine)

    def one(_: int) -> object:
        with sessions() as session:
            try:
                return import_nppes(db=session, path=path, is_demo=True)
            except Exception as exc:  # noqa: BLE001 - the assertions look at what each one got
                return exc

    outcomes = fire_together(4, one)
    refused = [o for o in outcomes if isinstance(o, ImportInProgress)]
    done = [o for o in outcomes if not isinstance(o, ImportInProgress)]
    assert all(hasattr(o, "imported") for o in done), outcomes  # no other error
    assert len(done) >= 1  # the others may have overlapped it (refused) or come after it (nothing new to add)
    assert all(str(o).startswith("Another ") and "is running on this database" in str(o) and str(o).endswith(
        "nothing was imported. Run `fusioncare import-nppes` again when it has finished.") for o in refused)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Provider)) == sum(o.imported for o in done) > 0
        assert session.scalar(select(func.count()).select_from(ImportRun)) == len(done)


def test_import_nppes_while_another_runs_exits_1_with_a_clear_message(db, clean_engine, monkeypatch, nppes_file):
    from fusioncare.cli import app as cli_app
    from fusioncare.directory import imports
    from fusioncare.settings import get_settings

    path = nppes_file([provider_row(make_npi(7))])
    _cli_env(clean_engine, monkeypatch)
    try:
        with imports.one_at_a_time(db, "nppes"):  # another import-nppes holds the lock
            refused = CliRunner().invoke(cli_app, ["import-nppes", str(path)])
        after = CliRunner().invoke(cli_app, ["import-nppes", str(path), "--json"])
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error Another ")
    assert "nothing was imported. Run `fusioncare import-nppes` again when it has finished." in refused.stderr
    assert "Traceback" not in refused.output and refused.stdout == ""
    assert after.exit_code == 0, after.output  # the lock went with the other import
    assert json.loads(after.stdout)["imported"] == 1


def test_the_import_lock_goes_with_a_process_that_dies_holding_it(db, clean_engine, nppes_file):
    """An import killed part-way (kill -9, a lost machine) must not leave the lock behind: the next import runs."""
    import signal
    import subprocess
    import sys
    import time

    from fusioncare.directory.importer import import_nppes

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from fusioncare.db import make_engine, make_session_factory\n"
        "from fusioncare.directory import imports\n"
        "session = make_session_factory(make_engine(sys.argv[1]))()\n"
        "with imports.one_at_a_time(session, 'nppes'):\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(600)\n"), clean_engine.url.render_as_string(hide_password=False)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        path = nppes_file([provider_row(make_npi(8))])
        with pytest.raises(ImportInProgress):
            import_nppes(db=db, path=path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10  # PostgreSQL ends the dead client's backend, and its locks, as it notices
    while True:
        try:
            report = import_nppes(db=db, path=path)
            break
        except ImportInProgress:
            assert time.monotonic() < deadline, "the dead process's lock was never released"
            time.sleep(0.1)
    assert report.imported == 1


def test_imports_in_another_postgresql_schema_are_not_held_up(db, clean_engine, nppes_file):
    """The lock is per schema: installations (and test runs) that share one PostgreSQL database in schemas of
    their own import independently."""
    import uuid

    from sqlalchemy import text as sql

    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory import imports
    from fusioncare.directory.importer import import_nppes

    if clean_engine.dialect.name != "postgresql":
        pytest.skip("schemas are PostgreSQL's; a SQLite database is its own file")
    schema = f"other_{uuid.uuid4().hex[:10]}"
    with clean_engine.begin() as connection:
        connection.execute(sql(f'CREATE SCHEMA "{schema}"'))
    other = make_engine(clean_engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
                        .render_as_string(hide_password=False))
    try:
        migrate.upgrade(other)
        path = nppes_file([provider_row(make_npi(9))])
        with imports.one_at_a_time(db, "nppes"):  # an import-nppes runs in this schema
            with make_session_factory(other)() as session:
                report = import_nppes(db=session, path=path)
            with pytest.raises(ImportInProgress):
                import_nppes(db=db, path=path)
        assert report.imported == 1
    finally:
        other.dispose()
        with clean_engine.begin() as connection:
            connection.execute(sql(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///data/fusioncare.sqlite3", "data/fusioncare.sqlite3"),
    ("sqlite:////srv/fc/db.sqlite3", "/srv/fc/db.sqlite3"),
    ("sqlite:///file:/srv/fc/db.sqlite3?uri=true", "/srv/fc/db.sqlite3"),
    ("sqlite:///file:/srv/fc/db.sqlite3?mode=rwc&uri=true", "/srv/fc/db.sqlite3"),
    ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
])
def test_the_sqlite_import_lock_sits_beside_the_real_database_file(url, expected):
    import os

    from sqlalchemy.engine import make_url

    from fusioncare.directory.imports import _sqlite_file

    assert _sqlite_file(make_url(url)) == (os.path.realpath(expected) if expected else None)
