"""Directory benchmark: NPPES import against like-for-like floors, and search latency against brute force.

    python -m benchmarks.bench_directory --rows 1000000 [--postgres-url postgresql://...]

Generates the synthetic file once (cached under benchmarks/out/), then for each database, in fresh subprocesses
one after the other, for --import-rounds rounds (medians and each round's ratio; peak RSS from the child's own
rusage): the like-for-like floor (pyarrow's threaded parse of only the columns the importer maps), today's
all-columns parse (all 330 as text, for comparison), on PostgreSQL a raw COPY of the mapped columns into an
UNLOGGED table, and our import into a fresh database;
then runs random (specialty, ZIP, radius 5-50 miles) searches in-process and over HTTP (a live
uvicorn on loopback), and a brute-force baseline (every provider of the specialty, distances in Python)
on a subset of the same queries, checking that both return the same providers. Prints a table and
writes JSON to benchmarks/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks import peak_rss_mb

OUT = Path(__file__).parent / "out"


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3), "max_ms": round(ordered[-1], 3), "n": len(ordered)}


# -- children: one measurement per fresh process ------------------------------------------------------------

def _mapped_columns(header: list[str]) -> list[str]:
    """The file's columns the importer maps (its _read_header): the like-for-like floor converts only these."""
    from fusioncare.directory import nppes

    present = set(header)
    mapped = [c for c in nppes.USED_COLUMNS if c in present]
    if nppes.SEX not in present and nppes.SEX_OLD in present:
        mapped.append(nppes.SEX_OLD)
    return mapped


def _child_floor(path: Path, columns: str = "all") -> dict:
    """pyarrow's threaded CSV parse of the file, every column as text ('all') or only the mapped ones ('mapped')."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    with path.open("rb") as f:
        header = f.readline().decode().strip().strip('"').split('","')
    wanted = header if columns == "all" else _mapped_columns(header)
    reader = pacsv.open_csv(
        path, parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(include_columns=wanted, column_types={c: pa.string() for c in wanted}))
    rows = sum(batch.num_rows for batch in reader)
    return {"seconds": time.perf_counter() - started, "rows": rows, "columns": len(wanted),
            "max_rss_mb": peak_rss_mb()}


def _child_copy(path: Path, url: str) -> dict:
    """PostgreSQL's floor: pyarrow parses the mapped columns and COPY streams them, untouched, into an UNLOGGED
    table of text columns (no checks, no geocoding, no upsert): what moving those columns in costs at least."""
    import io

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from sqlalchemy.engine import make_url

    from fusioncare.settings import normalise_database_url

    started = time.perf_counter()
    with path.open("rb") as f:
        header = f.readline().decode().strip().strip('"').split('","')
    wanted = _mapped_columns(header)
    reader = pacsv.open_csv(
        path, parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(include_columns=wanted, column_types={c: pa.string() for c in wanted}))
    parsed = make_url(normalise_database_url(url))
    options = parsed.query.get("options")
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    rows = 0
    with psycopg.connect(conninfo, options=options or "") as conn:
        columns = ", ".join(f"c{i} text" for i in range(len(wanted)))
        conn.execute(f"CREATE UNLOGGED TABLE copy_floor ({columns})")
        with conn.cursor().copy("COPY copy_floor FROM STDIN (FORMAT csv)") as copy:
            for batch in reader:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())
                rows += batch.num_rows
        conn.execute("DROP TABLE copy_floor")
    return {"seconds": time.perf_counter() - started, "rows": rows, "columns": len(wanted),
            "max_rss_mb": peak_rss_mb()}


def _child_import(path: Path, url: str) -> dict:
    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory.importer import import_nppes

    engine = make_engine(url)
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    started = time.perf_counter()
    # The same ZIP-table cache the CLI keeps in its data directory (built by the first import, about 1 s).
    report = import_nppes(db=session, path=path, is_demo=True, cache_dir=OUT / "cache")
    seconds = time.perf_counter() - started
    counts = {k: v for k, v in report.as_dict().items() if k != "errors"}
    return {"seconds": seconds, "report": counts, "unchanged": report.unchanged,
            "max_rss_mb": peak_rss_mb()}


def _run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_directory", *args], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- searches ---------------------------------------------------------------------------------------------------

def _queries(count: int, seed: int) -> list[tuple[str, str, float]]:
    from fusioncare.directory.generator import METROS, _zips
    from fusioncare.directory.specialties import SPECIALTY_CODES

    rng = random.Random(seed)
    pools = _zips()
    out = []
    for _ in range(count):
        # Mostly where the providers are (metro ZIPs), some anywhere in the country.
        if rng.random() < 0.8:
            zip_code = rng.choice(pools.by_metro[rng.choice(METROS)[0]])
        else:
            zip_code = rng.choice(pools.all)
        out.append((rng.choice(SPECIALTY_CODES), zip_code, round(rng.uniform(5, 50), 2)))
    return out


def _brute_force(db, specialty: str, zip_code: str, radius: float) -> list[str]:
    """The baseline: read every provider of the specialty and compute each distance in Python."""
    from sqlalchemy import select

    from fusioncare.directory.geo import haversine_miles, lookup_zip
    from fusioncare.directory.models import SearchIndexEntry as idx

    centre = lookup_zip(zip_code)
    found = []
    for npi, lat, lon in db.execute(select(idx.npi, idx.lat, idx.lon).where(idx.specialty == specialty)):
        d = haversine_miles(centre.lat, centre.lon, lat, lon)
        if d <= radius:
            found.append((d, npi))
    found.sort()
    return [npi for _, npi in found]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _search_figures(url: str, queries: list[tuple[str, str, float]], brute_count: int) -> dict:
    import httpx

    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory import service
    from fusioncare.directory.schemas import ProviderSearch

    engine = make_engine(url)
    db = make_session_factory(engine)()
    service.resolve_place(near="10001")  # load the ZIP table before timing
    in_process, totals, all_npis = [], [], []
    for specialty, zip_code, radius in queries:
        started = time.perf_counter()
        result = service.search_providers(db=db, params=ProviderSearch(specialty=specialty, near=zip_code,
                                                                       radius_miles=radius, limit=20))
        in_process.append((time.perf_counter() - started) * 1000)
        totals.append(result.total)
        db.rollback()

    brute, mismatches = [], 0
    for specialty, zip_code, radius in queries[:brute_count]:
        started = time.perf_counter()
        expected = _brute_force(db, specialty, zip_code, radius)
        brute.append((time.perf_counter() - started) * 1000)
        params = ProviderSearch(specialty=specialty, near=zip_code, radius_miles=radius, limit=100)
        got = service.search_providers(db=db, params=params)
        all_npis.append(len(expected))
        if got.total != len(expected) or [h.provider.npi for h in got.hits] != expected[:100]:
            mismatches += 1
        db.rollback()
    db.close()

    port = _free_port()
    env = {**os.environ, "FUSIONCARE_DATABASE_URL": url, "FUSIONCARE_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "fusioncare.main:create_app", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                               "--no-access-log"], env=env)
    over_http = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start")
                time.sleep(0.1)
            client.get("/api/v1/providers", params={"specialty": "pain_medicine", "near": "10001"})  # warm up
            for specialty, zip_code, radius in queries:
                started = time.perf_counter()
                response = client.get("/api/v1/providers", params={"specialty": specialty, "near": zip_code,
                                                                   "radius_miles": radius, "limit": 20})
                over_http.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"in_process": _percentiles(in_process), "http": _percentiles(over_http),
            "brute_force": _percentiles(brute), "brute_force_mismatches": mismatches,
            "mean_results_total": round(statistics.fmean(totals), 1)}


# -- the run ------------------------------------------------------------------------------------------------------

def _postgres_schema_url(base: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    from fusioncare.settings import normalise_database_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = make_url(normalise_database_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _with_postgres_schema(base: str, schema: str, create: bool) -> None:
    from sqlalchemy import text

    from fusioncare.db import make_engine
    from fusioncare.settings import normalise_database_url

    engine = make_engine(normalise_database_url(base))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _p50_p95(figures: dict) -> str:
    return f"{figures['p50_ms']:.2f} / {figures['p95_ms']:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--brute-force-queries", type=int, default=200,
                        help="How many of the queries also run the brute-force baseline (it is slow).")
    parser.add_argument("--postgres-url", default=os.environ.get("FUSIONCARE_BENCH_POSTGRES_URL"))
    parser.add_argument("--import-rounds", type=int, default=3,
                        help="Rounds of (parse floor, fresh import) per database; medians are reported.")
    parser.add_argument("--child-floor", nargs=2, metavar=("FILE", "COLUMNS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-copy", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--child-import", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_floor:
        print(json.dumps(_child_floor(Path(args.child_floor[0]), args.child_floor[1])))
        return
    if args.child_copy:
        print(json.dumps(_child_copy(Path(args.child_copy[0]), args.child_copy[1])))
        return
    if args.child_import:
        print(json.dumps(_child_import(Path(args.child_import[0]), args.child_import[1])))
        return

    from rich.console import Console
    from rich.table import Table

    from fusioncare.directory.generator import generate_file

    console = Console()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"npidata_pfile_bench_{args.rows}_{args.seed}.csv"
    if not data.exists():
        console.print(f"Generating {args.rows:,} rows into {data} ...")
        started = time.perf_counter()
        partial = data.with_suffix(".partial")
        generate_file(partial, rows=args.rows, seed=args.seed)
        partial.rename(data)
        console.print(f"  generated in {time.perf_counter() - started:.1f} s")
    size_mb = data.stat().st_size / 1e6
    queries = _queries(args.queries, args.seed)
    results: dict = {"rows": args.rows, "file_mb": round(size_mb, 1), "cpus": os.cpu_count(),
                     "queries": args.queries, "brute_force_queries": min(args.brute_force_queries, args.queries),
                     "databases": {}}

    targets = [("sqlite", f"sqlite:///{(OUT / f'bench_{args.rows}.sqlite3').resolve()}", None)]
    if args.postgres_url:
        pg_url, schema = _postgres_schema_url(args.postgres_url)
        targets.append(("postgresql", pg_url, schema))
    for name, url, schema in targets:
        floors, mapped_floors, copies, imports, ratios, mapped_ratios, copy_ratios, rss = [], [], [], [], [], [], [], []
        for round_ in range(1, args.import_rounds + 1):
            # A fresh database each round; the last one stays for the re-import and the searches.
            if schema:
                if round_ > 1:
                    _with_postgres_schema(args.postgres_url, schema, create=False)
                _with_postgres_schema(args.postgres_url, schema, create=True)
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            console.print(f"[{name}] round {round_}/{args.import_rounds}: pyarrow parse floors (all columns, the "
                          f"mapped ones){', COPY floor' if schema else ''}, then import ...")
            floor = _run_child("--child-floor", str(data), "all")
            mapped = _run_child("--child-floor", str(data), "mapped")
            copied = _run_child("--child-copy", str(data), url) if schema else None
            imported = _run_child("--child-import", str(data), url)
            floors.append(floor["seconds"])
            mapped_floors.append(mapped["seconds"])
            imports.append(imported["seconds"])
            ratios.append(imported["seconds"] / floor["seconds"])
            mapped_ratios.append(imported["seconds"] / mapped["seconds"])
            if copied:
                copies.append(copied["seconds"])
                copy_ratios.append(imported["seconds"] / copied["seconds"])
            rss.append(imported["max_rss_mb"])
            console.print(f"  floors: all {floor['columns']} columns {floor['seconds']:.2f} s, mapped "
                          f"{mapped['columns']} columns {mapped['seconds']:.2f} s"
                          + (f", COPY {copied['seconds']:.2f} s" if copied else "")
                          + f"; import {imported['seconds']:.2f} s ({mapped_ratios[-1]:.2f}x the mapped-columns "
                          f"floor, {ratios[-1]:.2f}x the all-columns one), peak RSS {imported['max_rss_mb']:.0f} MB")
        try:
            console.print(f"[{name}] re-import (unchanged file) ...")
            again = _run_child("--child-import", str(data), url)
            console.print(f"[{name}] {args.queries} searches ...")
            search = _search_figures(url, queries, results["brute_force_queries"])
        finally:
            if schema:
                _with_postgres_schema(args.postgres_url, schema, create=False)
        results["databases"][name] = {
            "mapped_columns": mapped["columns"], "all_columns": floor["columns"],
            "mapped_floor_s": round(statistics.median(mapped_floors), 2),
            "import_vs_mapped_floor": round(statistics.median(mapped_ratios), 2),
            "import_vs_mapped_floor_rounds": [round(r, 2) for r in mapped_ratios],
            "copy_floor_s": round(statistics.median(copies), 2) if copies else None,
            "import_vs_copy_floor": round(statistics.median(copy_ratios), 2) if copy_ratios else None,
            "import_vs_copy_floor_rounds": [round(r, 2) for r in copy_ratios],
            "parse_floor_s": round(statistics.median(floors), 2), "parse_floor_rss_mb": round(floor["max_rss_mb"]),
            "import_s": round(statistics.median(imports), 2), "import_rss_mb": round(max(rss)),
            "import_vs_floor": round(statistics.median(ratios), 2),
            "import_vs_floor_rounds": [round(r, 2) for r in ratios],
            "parse_floor_s_rounds": [round(f, 2) for f in floors], "import_s_rounds": [round(i, 2) for i in imports],
            "import_report": imported["report"],
            "reimport_s": round(again["seconds"], 2), "reimport_report": again["report"], **search,
        }

    table = Table(title=f"Directory benchmark: {args.rows:,} rows ({size_mb:,.0f} MB), {os.cpu_count()} CPUs")
    table.add_column("measure")
    for name in results["databases"]:
        table.add_column(name, justify="right")
    rows = [
        ("like-for-like floor: pyarrow parse of the mapped columns, median (s)",
         lambda d: f"{d['mapped_floor_s']:.2f} ({d['mapped_columns']} columns)"),
        ("PostgreSQL floor: mapped columns COPYed to an unlogged table (s)",
         lambda d: f"{d['copy_floor_s']:.2f}" if d["copy_floor_s"] is not None else "-"),
        ("pyarrow parse of all columns, median (s)", lambda d: f"{d['parse_floor_s']:.2f} ({d['all_columns']})"),
        ("import, median (s)", lambda d: f"{d['import_s']:.2f}"),
        ("import / like-for-like floor, median of rounds", lambda d: f"{d['import_vs_mapped_floor']:.2f}x"),
        ("import / like-for-like floor, each round",
         lambda d: " ".join(f"{r:.2f}x" for r in d["import_vs_mapped_floor_rounds"])),
        ("import / COPY floor, median of rounds",
         lambda d: f"{d['import_vs_copy_floor']:.2f}x" if d["import_vs_copy_floor"] is not None else "-"),
        ("import / all-columns parse, median of rounds", lambda d: f"{d['import_vs_floor']:.2f}x"),
        ("import peak RSS, max (MB)", lambda d: f"{d['import_rss_mb']}"),
        ("providers imported", lambda d: f"{d['import_report']['imported']:,}"),
        ("re-import, unchanged file (s)", lambda d: f"{d['reimport_s']:.2f}"),
        ("search in-process p50 / p95 (ms)", lambda d: _p50_p95(d["in_process"])),
        ("search HTTP p50 / p95 (ms)", lambda d: _p50_p95(d["http"])),
        ("brute force p50 / p95 (ms)", lambda d: _p50_p95(d["brute_force"])),
        ("brute force disagreements", lambda d: f"{d['brute_force_mismatches']}"),
        ("mean matches per query", lambda d: f"{d['mean_results_total']}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(d) for d in results["databases"].values()))
    console.print(table)
    out = OUT / f"bench_directory_{args.rows}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
