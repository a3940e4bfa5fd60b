"""National directory: a registry-sized NPPES file imported into PostgreSQL, with the default taxonomy scope and
with --all-taxonomies, each against pyarrow's parse floors measured beside it; peak memory; search over HTTP.

    nice -n 10 python -m benchmarks.bench_national --rows 9000000 [--postgres-url postgresql://...] [--queries 1000]

The real monthly file has about 9 million rows (about 10.5 GB in the generator's format). Generates the file once
(cached in benchmarks/out/, shared with bench_directory), then in fresh subprocesses: the floors, the
default-scope import into a fresh schema and searches over HTTP against `fusioncare serve` on it (the schema the
product serves), then the floors again and the all-taxonomies import into another fresh schema. The floor that
counts is the like-for-like one, pyarrow's threaded parse of only the columns the importer maps (bench_directory);
the parse of all columns, the floor these figures were first set against, is reported beside it. The schemas are
dropped at the end. JSON: benchmarks/out/bench_national_<rows>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks import peak_rss_mb
from benchmarks.bench_directory import (
    OUT,
    _free_port,
    _percentiles,
    _postgres_schema_url,
    _queries,
    _with_postgres_schema,
)

ROOT = Path(__file__).parent.parent


def _child_import(path: Path, url: str, all_taxonomies: bool) -> dict:
    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory.importer import import_nppes

    engine = make_engine(url)
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    started = time.perf_counter()
    report = import_nppes(db=session, path=path, is_demo=True, all_taxonomies=all_taxonomies,
                          cache_dir=OUT / "cache")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "report": {k: v for k, v in report.as_dict().items() if k != "errors"},
            "max_rss_mb": peak_rss_mb()}


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _search_over_http(url: str, queries: list[tuple[str, str, float]]) -> dict:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUSIONCARE_", "PROMETHEUS_"))}
    env.update({"FUSIONCARE_DATABASE_URL": url, "FUSIONCARE_LOG_LEVEL": "WARNING", "FUSIONCARE_ENV": "test",
                "FUSIONCARE_SECRET_KEY": "bench-national-" + "k" * 40})
    server = subprocess.Popen([sys.executable, "-m", "fusioncare.cli", "serve", "--port", str(port)], env=env,
                              cwd=ROOT)
    timings, totals = [], []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not become ready")
                time.sleep(0.2)
            for specialty, zip_code, radius in queries[:20]:  # warm the caches the way a running service has them
                client.get("/api/v1/providers", params={"specialty": specialty, "near": zip_code,
                                                        "radius_miles": radius})
            for specialty, zip_code, radius in queries:
                started = time.perf_counter()
                response = client.get("/api/v1/providers", params={"specialty": specialty, "near": zip_code,
                                                                   "radius_miles": radius, "limit": 20})
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                totals.append(response.json()["total"])
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {**_percentiles(timings), "mean_total": round(sum(totals) / len(totals), 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--postgres-url", default=os.environ.get("FUSIONCARE_BENCH_POSTGRES_URL")
                        or os.environ.get("FUSIONCARE_TEST_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--child-import", nargs=3, metavar=("FILE", "URL", "ALL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else ([] if __name__ != "__main__" else None))
    if args.child_import:
        path, url, everyone = args.child_import
        print(json.dumps(_child_import(Path(path), url, everyone == "all")))
        return

    from rich.console import Console
    from rich.table import Table

    from fusioncare.directory.generator import generate_file

    console = Console()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"npidata_pfile_bench_{args.rows}_{args.seed}.csv"
    if not data.exists():
        console.print(f"Generating {args.rows:,} rows into {data} ...")
        partial = data.with_suffix(".partial")
        generate_file(partial, rows=args.rows, seed=args.seed)
        partial.rename(data)
    results: dict = {"rows": args.rows, "file_mb": round(data.stat().st_size / 1e6), "cpus": os.cpu_count(),
                     "load_average_at_start": os.getloadavg(), "niceness": os.nice(0), "imports": {}}
    schemas = []
    out = OUT / f"bench_national_{args.rows}.json"
    try:
        for scope in ("default", "all"):
            url, schema = _postgres_schema_url(args.postgres_url)
            _with_postgres_schema(args.postgres_url, schema, create=True)
            schemas.append(schema)
            console.print(f"[{scope} scope] pyarrow parse floors ...")
            floor = _run("benchmarks.bench_directory", "--child-floor", str(data), "mapped")
            all_columns = _run("benchmarks.bench_directory", "--child-floor", str(data), "all")
            console.print(f"  floor {floor['seconds']:.1f} s (all {all_columns['columns']} columns: "
                          f"{all_columns['seconds']:.1f} s); importing ...")
            imported = _run("benchmarks.bench_national", "--child-import", str(data), url, scope)
            ratio = imported["seconds"] / floor["seconds"]
            console.print(f"  import {imported['seconds']:.1f} s ({ratio:.2f}x the floor), peak RSS "
                          f"{imported['max_rss_mb']:.0f} MB, {imported['report']}")
            results["imports"][scope] = {
                "floor_s": round(floor["seconds"], 1), "all_columns_floor_s": round(all_columns["seconds"], 1),
                "import_s": round(imported["seconds"], 1), "import_vs_floor": round(ratio, 2),
                "import_vs_all_columns_floor": round(imported["seconds"] / all_columns["seconds"], 2),
                "peak_rss_mb": round(imported["max_rss_mb"]), "floor_peak_rss_mb": round(floor["max_rss_mb"]),
                "report": imported["report"]}
            out.write_text(json.dumps(results, indent=2) + "\n")  # each phase kept, should a later one not finish
            if scope == "default":
                console.print(f"[default scope] {args.queries} searches over HTTP ...")
                results["search_http"] = _search_over_http(url, _queries(args.queries, args.seed))
                console.print(f"  p50 {results['search_http']['p50_ms']} ms, p95 {results['search_http']['p95_ms']} ms")
                out.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        for schema in schemas:
            _with_postgres_schema(args.postgres_url, schema, create=False)
    results["load_average_at_end"] = os.getloadavg()

    table = Table(title=f"National directory on PostgreSQL: {args.rows:,} rows ({results['file_mb']:,} MB), "
                        f"{os.cpu_count()} CPUs")
    table.add_column("measure")
    table.add_column("default scope", justify="right")
    table.add_column("--all-taxonomies", justify="right")
    imports = results["imports"]
    for label, key, fmt in (("like-for-like floor: parse of the mapped columns (s)", "floor_s", "{}"),
                            ("parse of all columns (s)", "all_columns_floor_s", "{}"), ("import (s)", "import_s", "{}"),
                            ("import / like-for-like floor", "import_vs_floor", "{}x"),
                            ("import / all-columns parse", "import_vs_all_columns_floor", "{}x"),
                            ("import peak RSS (MB)", "peak_rss_mb", "{}")):
        table.add_row(label, *(fmt.format(imports[s][key]) for s in ("default", "all")))
    table.add_row("providers imported", *(f"{imports[s]['report']['imported']:,}" for s in ("default", "all")))
    table.add_row("search over HTTP p50 / p95 (ms)",
                  f"{results['search_http']['p50_ms']} / {results['search_http']['p95_ms']}", "")
    console.print(table)
    out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
