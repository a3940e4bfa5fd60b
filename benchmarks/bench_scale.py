"""Scale-out: the realistic mix (benchmarks/locustfile.py) against 1, 2 and 4 app processes on one PostgreSQL,
then 4 processes with searches, profiles and matching on a streaming replica.

    python -m benchmarks.bench_scale [--users 40] [--run-seconds 45] [--max-requests 20000] [--processes 1 2 4]

Starts its own PostgreSQL primary and standby (tests/operations/replica.py: initdb + pg_basebackup -R, fsync and
synchronous commit on, statement logging off) on loopback ports, loads the demo directory with its hours and
makes bearer tokens for the simulated patients; then per run a fresh `fusioncare serve --workers N` and a headless
locust (bounded by --run-seconds and --max-requests, loopback only). Reports requests/s, p50/p95 per route, 5xx,
and checks that no provider ever holds two overlapping appointments. JSON: benchmarks/out/bench_scale.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

OUT = Path(__file__).parent / "out"
ROOT = Path(__file__).parent.parent


def _seed(url: str, patients: int) -> dict:
    from argon2 import PasswordHasher
    from rich.console import Console
    from sqlalchemy import select

    from fusioncare import migrate
    from fusioncare.accounts import passwords
    from fusioncare.accounts import service as accounts
    from fusioncare.accounts.models import Role, TokenKind
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory import demo as directory_demo
    from fusioncare.directory.models import Provider
    from fusioncare.scheduling import demo as scheduling_demo
    from fusioncare.scheduling.models import WeeklyHours

    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    engine = make_engine(url)
    migrate.upgrade(engine)
    quiet = Console(quiet=True)
    with make_session_factory(engine)() as db:
        directory_demo.load(db=db, console=quiet)
        scheduling_demo.load(db=db, console=quiet)
        npis = sorted(set(db.scalars(select(WeeklyHours.npi).distinct())))
        zips = sorted(set(db.scalars(select(Provider.zip_code).where(Provider.npi.in_(npis)))))
        tokens = []
        for i in range(patients):
            user = accounts.ensure_account(db, email=f"load{i}@example.org", password="load test password 2026",
                                           role=Role.patient)
            tokens.append(accounts.issue_token(db, user=user, kind=TokenKind.bearer,
                                               lifetime=timedelta(hours=6)).secret)
        db.commit()
    engine.dispose()
    return {"npis": npis, "zips": [z for z in zips if z], "tokens": tokens}


def _serve(url: str, read_url: str | None, workers: int, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUSIONCARE_", "PROMETHEUS_"))}
    env.update({"FUSIONCARE_DATABASE_URL": url, "FUSIONCARE_ENV": "test", "FUSIONCARE_LOG_LEVEL": "WARNING",
                "FUSIONCARE_SECRET_KEY": "bench-scale-" + "k" * 40})
    if read_url:
        env["FUSIONCARE_DATABASE_READ_URL"] = read_url
    proc = subprocess.Popen([sys.executable, "-m", "fusioncare.cli", "serve", "--port", str(port), "--workers",
                             str(workers)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the app did not become ready")


def _locust(port: int, fixture: Path, users: int, seconds: int, max_requests: int, prefix: Path) -> None:
    env = {**os.environ, "FUSIONCARE_BENCH_FIXTURE": str(fixture), "FUSIONCARE_BENCH_MAX_REQUESTS": str(max_requests)}
    subprocess.run([sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
                    "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(max(users // 5, 1)),
                    "--run-time", f"{seconds}s", "--stop-timeout", "10", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING"], env=env, cwd=ROOT, check=False, timeout=seconds + 120)


def _read_stats(prefix: Path) -> dict:
    routes, total = {}, {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            figures = {"method": row["Type"], "requests": int(row["Request Count"]),
                       "failures": int(row["Failure Count"]), "rps": round(float(row["Requests/s"]), 1),
                       "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0)}
            if row["Name"] == "Aggregated":
                total = figures
            else:
                routes[f"{row['Type']} {row['Name']}"] = figures
    server_errors = 0
    with open(f"{prefix}_failures.csv", newline="") as f:
        for row in csv.DictReader(f):
            if "status 5" in row["Error"] or "50" in row["Error"][:40]:
                server_errors += int(row["Occurrences"])
    return {"total": total, "routes": routes, "server_errors": server_errors}


def _double_bookings(url: str) -> dict:
    """Holding appointments of one provider that overlap, and appointments whose holds don't cover them."""
    from sqlalchemy import text

    from fusioncare.db import make_engine

    engine = make_engine(url)
    with engine.connect() as c:
        overlapping = c.scalar(text(
            "SELECT count(*) FROM scheduling_appointments a JOIN scheduling_appointments b "
            "ON a.npi = b.npi AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
            "WHERE a.status IN ('requested','confirmed','completed','no_show') "
            "AND b.status IN ('requested','confirmed','completed','no_show')"))
        booked = c.scalar(text("SELECT count(*) FROM scheduling_appointments"))
    engine.dispose()
    return {"appointments": booked, "overlapping_pairs": overlapping}


def main(argv: list[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from tests.operations.replica import ReplicatedCluster
    from tests.support import _free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--run-seconds", type=int, default=45)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args(argv if argv is not None else ([] if __name__ != "__main__" else None))
    console = Console()
    OUT.mkdir(parents=True, exist_ok=True)
    runs = [(n, False) for n in args.processes] + [(max(args.processes), True)]
    results: dict = {"cpus": os.cpu_count(), "users": args.users, "run_seconds": args.run_seconds,
                     "max_requests": args.max_requests, "runs": []}
    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    with ReplicatedCluster(log_statements=False, settings=durable) as cluster:
        console.print(f"PostgreSQL primary :{cluster.primary_port}, standby :{cluster.standby_port}; seeding ...")
        fixture = _seed(cluster.primary_url, args.users)
        fixture_file = OUT / "bench_scale_fixture.json"
        fixture_file.write_text(json.dumps(fixture))
        cluster.wait_for_replay()
        for workers, replica in runs:
            label = f"{workers} process{'es' if workers > 1 else ''}" + (", replica reads" if replica else "")
            console.print(f"[{label}] serving and loading for up to {args.run_seconds} s ...")
            before = _double_bookings(cluster.primary_url)["appointments"]
            load_before = os.getloadavg()[0]
            port = _free_port()
            server = _serve(cluster.primary_url, cluster.standby_url if replica else None, workers, port)
            prefix = OUT / f"bench_scale_{workers}{'_replica' if replica else ''}"
            try:
                _locust(port, fixture_file, args.users, args.run_seconds, args.max_requests, prefix)
            finally:
                server.terminate()
                server.wait(timeout=60)
            stats = _read_stats(prefix)
            checks = _double_bookings(cluster.primary_url)
            results["runs"].append({"label": label, "processes": workers, "replica_reads": replica,
                                    "bookings_stored": checks["appointments"] - before,
                                    "overlapping_pairs": checks["overlapping_pairs"],
                                    "server_exit_code": server.returncode,
                                    "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                                    **stats})
            console.print(f"  {stats['total'].get('rps', 0)} req/s, p50 {stats['total'].get('p50_ms')} ms, "
                          f"p95 {stats['total'].get('p95_ms')} ms, 5xx {stats['server_errors']}, "
                          f"overlapping bookings {checks['overlapping_pairs']}")
    table = Table(title=f"Scale-out: {args.users} simulated patients, {os.cpu_count()} CPUs (locust on the same "
                        "machine)")
    table.add_column("route")
    for run in results["runs"]:
        table.add_column(run["label"], justify="right")
    table.add_row("requests/s (all)", *(str(r["total"].get("rps")) for r in results["runs"]))
    table.add_row("p50 / p95 ms (all)", *(f"{r['total'].get('p50_ms'):.0f} / {r['total'].get('p95_ms'):.0f}"
                                          for r in results["runs"]))
    for route in results["runs"][0]["routes"]:
        table.add_row(route, *(f"{r['routes'].get(route, {}).get('p50_ms', 0):.0f} / "
                               f"{r['routes'].get(route, {}).get('p95_ms', 0):.0f}" for r in results["runs"]))
    table.add_row("5xx", *(str(r["server_errors"]) for r in results["runs"]))
    table.add_row("failures (any)", *(str(r["total"].get("failures")) for r in results["runs"]))
    table.add_row("machine load average (1 min) before / after",
                  *(f"{r['load_average_1m'][0]} / {r['load_average_1m'][1]}" for r in results["runs"]))
    table.add_row("bookings stored / overlapping", *(f"{r['bookings_stored']} / {r['overlapping_pairs']}"
                                                     for r in results["runs"]))
    console.print(table)
    out = OUT / "bench_scale.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
