"""CMS imports against pyarrow's bare streaming parse of the same file, in the same run.

    python -m benchmarks.bench_cms --utilization-rows 10000000 --clinician-rows 3000000 [--rounds 3] [--postgres-url U]
        [--only clinicians] [--store-floor]

Generates the files once (cached under benchmarks/out/): a "by Provider and Service" file in the current
28-column layout (about one row in ten of a code the knowledge pack names) and a Doctors and Clinicians file in
the current 31-column layout. Then, for each database and file, in fresh subprocesses one after the other: the
floor (pyarrow's streaming CSV reader over the whole file, every column as a string, bad rows skipped) and the
import into a fresh database (SQLite file, or a fresh PostgreSQL schema), ``--rounds`` times, the rounds one after
the other. Reports each round's seconds, import / floor and the import's peak RSS (the child's own rusage), then the
median ratio of the rounds against the target. Writes JSON to benchmarks/out/bench_cms.json.

``--store-floor`` adds, for the clinicians file, what storing the import's rows alone costs (_child_store): after
each round's import, in another fresh database, the same rows written again by the import's own writer, with no
parse and no checks. It says how much of the 2x budget the writing leaves to the reading.

Before the timed import, untimed, the fresh database gets a directory as an import meets it in production: active
providers for a share of the file's distinct NPIs (``--directory-share``, default one in three, about what the
default-scope NPPES directory holds of the clinicians CMS lists), with realistic rows. The clinicians import keeps
practices and facts for those NPIs only (and still checks and counts every row), so the share matters there; the
utilization import stores every row of the pack's codes whatever the directory holds. The set-up runs in a
process of its own, so the import's peak RSS is the import's alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow.csv as pacsv

from benchmarks import peak_rss_mb

OUT = Path(__file__).parent / "out"
TARGET_RATIO = 2.0
TARGET_RSS_MB = 500


def _child_floor(path: Path) -> dict:
    import pyarrow as pa

    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    reader = pacsv.open_csv(
        path, parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}))
    rows = sum(batch.num_rows for batch in reader)
    return {"seconds": time.perf_counter() - started, "rows": rows,
            "max_rss_mb": peak_rss_mb()}


def _directory_for(session, path: Path, share: float) -> int:
    """Untimed set-up: active providers, with rows like an NPPES import writes, for ``share`` of the file's distinct
    NPIs (every n-th in sorted order). Returns how many."""
    from datetime import UTC, datetime

    import pyarrow as pa
    import pyarrow.compute as pc
    from sqlalchemy import insert

    from fusioncare.directory.models import Provider

    if share <= 0:
        return 0
    with path.open(encoding="utf-8", newline="") as f:
        first = next(csv.reader(f))[0]
    reader = pacsv.open_csv(path, parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
                            convert_options=pacsv.ConvertOptions(include_columns=[first],
                                                                 column_types={first: pa.string()}))
    distinct = pc.unique(pa.chunked_array([pc.unique(batch.column(0)) for batch in reader], pa.string()))
    step = max(1, round(1 / share))
    chosen = pc.sort_indices(distinct).to_pylist()[::step]
    npis = distinct.take(pa.array(chosen)).to_pylist() if chosen else []
    now = datetime.now(UTC)

    def row(i: int, npi: str) -> dict:
        return {"npi": npi, "entity_type": 1, "display_name": f"JANE DOE{i} MD", "name_search": f"jane doe{i}",
                 "last_name": f"DOE{i}", "first_name": "JANE", "credential": "MD", "sex": "F",
                 "taxonomies": [{"code": "208VP0014X", "primary": True}], "specialties": ["pain_medicine"],
                 "address_line1": f"{i % 999 + 1} MAIN ST", "city": "SPRINGFIELD", "state": "IL",
                 "postal_code": "627011234", "zip_code": "62701", "country_code": "US", "phone": "2175550100",
                 "lat": 39.8, "lon": -89.6, "time_zone": "America/Chicago", "is_active": True,
                 "source_file": "npidata_pfile_bench.csv", "imported_at": now, "source_digest": f"{i:032x}",
                 "is_demo": True, "insurance_plans": [], "languages": [], "services": [], "profile_confirmed": False}

    for start in range(0, len(npis), 20_000):
        session.execute(insert(Provider), [row(i, npi) for i, npi in enumerate(npis[start:start + 20_000], start)])
    session.commit()
    return len(npis)


def _child_directory(path: Path, url: str, share: float) -> dict:
    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory

    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    count = _directory_for(make_session_factory(engine)(), path, share)
    return {"directory_providers": count, "seconds": time.perf_counter() - started}


def _child_import(kind: str, path: Path, url: str) -> dict:
    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory.cms_import import import_clinicians, import_utilization
    from fusioncare.knowledge.loader import get_pack

    engine = make_engine(url)
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    get_pack()  # loaded at start-up in the app and the CLI alike; not part of the import
    started = time.perf_counter()
    if kind == "utilization":
        report = import_utilization(db=session, path=path, is_demo=True)
    else:
        report = import_clinicians(db=session, path=path, is_demo=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "report": {k: v for k, v in report.as_dict().items() if k != "errors"},
            "max_rss_mb": peak_rss_mb()}


def _child_store(path: Path, url: str) -> dict:
    """What storing the clinicians import's rows alone costs, with the import's own writer: the import runs once,
    untimed, then its rows are read back, deleted, and written again in chunk-sized slices in a shuffled order (as
    the import writes them: one slice per chunk of the file, the NPIs of one chunk anywhere in the key), then the
    file's row and the commit, timed. No parse, no checks, no JSON."""
    import numpy as np
    import pyarrow as pa
    from sqlalchemy import text

    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory import cms_import
    from fusioncare.directory.models import ClinicianFacts, ClinicianFile

    engine = make_engine(url)
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    cms_import.import_clinicians(db=session, path=path, is_demo=True)
    clinicians = ClinicianFacts.__tablename__
    columns = ["npi", "accepts_assignment", "telehealth", "medical_school", "graduation_year", "specialty",
               "practices"]
    rows = session.execute(text(f"SELECT {', '.join(columns)} FROM {clinicians} ORDER BY npi")).all()
    stored = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    stored = stored.take(np.random.default_rng(7).permutation(stored.num_rows))
    file = session.get(ClinicianFile, 1)
    assert file is not None
    shared = {"source_file": file.source_file, "data_year": file.data_year, "is_demo": file.is_demo}
    sqlite = engine.dialect.name == "sqlite"
    # Empty tables, as the timed import met them. On PostgreSQL a DELETE would leave every key in the unique
    # index as a dead entry, each new row's uniqueness check visiting its dead tuple: not what a fresh import pays.
    for table in (clinicians, ClinicianFile.__tablename__):
        session.execute(text(f"{'DELETE FROM' if sqlite else 'TRUNCATE'} {table}"))
    session.commit()
    if sqlite:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    chunks = -(-path.stat().st_size // cms_import.CHUNK_BYTES)  # the import writes once per chunk
    slices = max(1, -(-stored.num_rows // chunks))
    started = time.perf_counter()
    with cms_import._bulk_session_settings(session):
        for start in range(0, stored.num_rows, slices):
            cms_import._insert_rows(session, clinicians, stored.slice(start, slices))
        session.add(ClinicianFile(**shared))
        session.commit()
    return {"seconds": time.perf_counter() - started, "clinician_rows": stored.num_rows}


def _run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_cms", *args], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _postgres(base: str, schema: str, *, create: bool) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from fusioncare.db import make_engine
    from fusioncare.settings import normalise_database_url

    admin = make_engine(normalise_database_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
    url = make_url(normalise_database_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _files(utilization_rows: int, clinician_rows: int) -> dict[str, Path]:
    from fusioncare.directory.cms_generator import generate_clinicians, generate_utilization

    OUT.mkdir(exist_ok=True)
    files = {"utilization": OUT / f"cms_utilization_{utilization_rows}_D24_Prov_Svc.csv",
             "clinicians": OUT / f"cms_clinicians_{clinician_rows}_DAC_NationalDownloadableFile.csv"}
    for kind, rows in (("utilization", utilization_rows), ("clinicians", clinician_rows)):
        if not files[kind].exists():
            started = time.perf_counter()
            partial = files[kind].with_suffix(".partial")
            (generate_utilization if kind == "utilization" else generate_clinicians)(partial, rows=rows, seed=7)
            partial.rename(files[kind])
            print(f"generated {files[kind].name} ({files[kind].stat().st_size / 1e6:,.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utilization-rows", type=int, default=1_000_000)
    parser.add_argument("--clinician-rows", type=int, default=300_000)
    parser.add_argument("--postgres-url", default=os.environ.get("FUSIONCARE_BENCH_POSTGRES_URL"))
    parser.add_argument("--only", choices=("utilization", "clinicians"), default=None)
    parser.add_argument("--rounds", type=int, default=3,
                        help="Floor-then-import rounds per database and file; the summary gives the medians.")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only (with --postgres-url).")
    parser.add_argument("--child-floor", type=Path)
    parser.add_argument("--directory-share", type=float, default=1 / 3,
                        help="Share of the file's distinct NPIs the directory holds before each import (default 1/3).")
    parser.add_argument("--child-directory", nargs=2, metavar=("FILE", "URL"))
    parser.add_argument("--child-import", nargs=3, metavar=("KIND", "FILE", "URL"))
    parser.add_argument("--store-floor", action="store_true",
                        help="Clinicians: also time storing the import's rows alone, with its own writer (no parse, "
                             "no checks), after each round's import.")
    parser.add_argument("--child-store", nargs=2, metavar=("FILE", "URL"))
    args = parser.parse_args(argv)
    if args.child_floor:
        print(json.dumps(_child_floor(args.child_floor)))
        return
    if args.child_import:
        kind, file, url = args.child_import
        print(json.dumps(_child_import(kind, Path(file), url)))
        return
    if args.child_store:
        file, url = args.child_store
        print(json.dumps(_child_store(Path(file), url)))
        return
    if args.child_directory:
        file, url = args.child_directory
        print(json.dumps(_child_directory(Path(file), url, args.directory_share)))
        return

    files = _files(args.utilization_rows, args.clinician_rows)
    targets = ([] if args.skip_sqlite else [("sqlite", None)]) + (
        [("postgresql", args.postgres_url)] if args.postgres_url else [])
    results = []
    for round_ in range(1, args.rounds + 1):
        for database, base in targets:
            for kind, path in files.items():
                if args.only and kind != args.only:
                    continue
                results.append(_round(round_, database, base, kind, path, args.directory_share,
                                      store_floor=args.store_floor and kind == "clinicians"))
    summary = _summary(results)
    for row in summary:
        print(f"[{row['database']}] {row['file']}: median of {row['rounds']} rounds: floor {row['floor_s']} s, "
              f"import {row['import_s']} s, import / floor {row['ratio']}x (each round: "
              f"{', '.join(str(r) for r in row['ratios'])}); peak RSS at most {row['import_max_rss_mb']} MB; "
              f"{'meets' if row['meets_targets'] else 'misses'} the targets"
              + (f"; storing the rows alone: {row['store_over_floor']}x the floor (each round: "
                 f"{', '.join(str(r) for r in row['store_over_floors'])})" if "store_over_floor" in row else ""),
              flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_cms.json").write_text(json.dumps({"rounds": results, "summary": summary}, indent=2) + "\n",
                                        encoding="utf-8")


def _round(round_: int, database: str, base: str | None, kind: str, path: Path, share: float, *,
           store_floor: bool = False) -> dict:
    """One floor, then the import into a fresh database right after it, each in a fresh process; with
    ``store_floor``, then the storing of the import's rows alone (_child_store) into another fresh database."""
    floor = _run_child("--child-floor", str(path))
    directory, imported = _in_fresh_database(base, path, share, "--child-import", kind)
    store = _in_fresh_database(base, path, share, "--child-store")[1] if store_floor else None
    ratio = imported["seconds"] / floor["seconds"]
    row = {"round": round_, "database": database, "file": kind, "rows": floor["rows"],
           "megabytes": round(path.stat().st_size / 1e6), "floor_s": round(floor["seconds"], 2),
           "import_s": round(imported["seconds"], 2), "ratio": round(ratio, 2),
           "import_max_rss_mb": round(imported["max_rss_mb"]), "report": imported["report"],
           "directory_providers": directory["directory_providers"],
           "load_average": [round(x, 2) for x in os.getloadavg()]}
    if store is not None:
        row["store_s"] = round(store["seconds"], 2)
        row["store_over_floor"] = round(store["seconds"] / floor["seconds"], 2)
    print(f"round {round_} [{database}] {kind}: {row['rows']:,} rows ({row['megabytes']:,} MB): floor "
          f"{row['floor_s']} s, import {row['import_s']} s = {row['ratio']}x, peak RSS {row['import_max_rss_mb']} MB; "
          f"directory {row['directory_providers']:,} providers; load {row['load_average']}; {row['report']}"
          + (f"; storing the rows alone {row['store_s']} s = {row['store_over_floor']}x the floor"
             if store is not None else ""), flush=True)
    return row


def _in_fresh_database(base: str | None, path: Path, share: float, *child: str) -> tuple[dict, dict]:
    """A fresh database (a SQLite file, or a fresh PostgreSQL schema dropped afterwards) given its directory, then
    the child ``child + (FILE, URL)`` run in it: (the directory's report, the child's)."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_cms_{uuid.uuid4().hex[:10]}"
        url = _postgres(base, schema, create=True) if base else f"sqlite:///{Path(tmp) / 'cms.sqlite3'}"
        try:
            directory = _run_child("--child-directory", str(path), url, "--directory-share", str(share))
            return directory, _run_child(*child, str(path), url)
        finally:
            if base:
                _postgres(base, schema, create=False)


def _summary(results: list[dict]) -> list[dict]:
    """Per database and file: the medians over the rounds (the machine is shared: one round proves little), the
    worst peak RSS, and whether the median ratio and the worst RSS meet the targets."""
    summary = []
    for key in dict.fromkeys((r["database"], r["file"]) for r in results):
        rounds = [r for r in results if (r["database"], r["file"]) == key]
        ratio = statistics.median(r["ratio"] for r in rounds)
        rss = max(r["import_max_rss_mb"] for r in rounds)
        summary.append({"database": key[0], "file": key[1], "rounds": len(rounds),
                        "floor_s": round(statistics.median(r["floor_s"] for r in rounds), 2),
                        "import_s": round(statistics.median(r["import_s"] for r in rounds), 2),
                        "ratio": round(ratio, 2), "ratios": [r["ratio"] for r in rounds], "import_max_rss_mb": rss,
                        "meets_targets": ratio <= TARGET_RATIO and rss < TARGET_RSS_MB})
        stores = [r["store_over_floor"] for r in rounds if "store_over_floor" in r]
        if stores:
            summary[-1]["store_over_floor"] = round(statistics.median(stores), 2)
            summary[-1]["store_over_floors"] = stores
    return summary


if __name__ == "__main__":
    main()
