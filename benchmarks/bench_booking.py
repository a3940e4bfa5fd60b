"""Booking under load through the HTTP API, against `uvicorn --workers N` in a subprocess.

    python -m benchmarks.bench_booking [--database-url postgresql://...] [--workers 2]

Three measurements per database: the race (100 clients, 10 slots: exactly 10 winners, every loser 409, no 5xx,
no slot held twice), bookings alone at 50 clients over distinct slots (bookings/s and each booking's latency,
p50/p95), and a crash check (kill -9 the server mid-load, restart: every 2xx booking is there, none twice).
Without --database-url it runs on a temporary SQLite file (1 worker) and, if FUSIONCARE_TEST_DATABASE_URL is
set, on PostgreSQL (2 workers) in a private schema.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fusioncare import migrate
from fusioncare.accounts import passwords
from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role, TokenKind
from fusioncare.db import make_engine, make_session_factory
from fusioncare.scheduling import service
from fusioncare.scheduling.schemas import AppointmentTypeCreate, WeeklyHoursCreate
from fusioncare.settings import normalise_database_url
from tests.scheduling import crash
from tests.support import ServerProcess

ZONE = ZoneInfo("America/New_York")  # the test directory provider's ZIP 10001
OUT = Path(__file__).parent / "out"


def _setup(url: str, patients: int) -> tuple[str, list[str]]:
    """A provider open around the clock (so every slot is in the future) and bearer tokens for the patients."""
    from argon2 import PasswordHasher

    from fusioncare.directory.npi import with_check_digit
    from tests.scheduling.builders import add_directory_provider

    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    engine = make_engine(url)
    migrate.upgrade(engine)
    db = make_session_factory(engine)()
    npi = with_check_digit("190000001")
    with tempfile.TemporaryDirectory() as tmp:
        from pathlib import Path

        add_directory_provider(db, Path(tmp), npi)
    doctor = accounts.ensure_account(db, email="bench-dr@example.org", password="bench password 2026",
                                     role=Role.patient)
    accounts.claim_provider(db, user=doctor, npi=npi, client_address="bench")
    admin = accounts.ensure_account(db, email="bench-admin@example.org", password="bench password 2026",
                                    role=Role.admin)
    accounts.verify_provider(db, admin=admin, user_id=doctor.id, client_address="bench")
    service.set_availability(db=db, npi=npi, hours=[WeeklyHoursCreate(weekday=d, start="00:00", end="23:55")
                                                     for d in range(7)],
                             appointment_types=[AppointmentTypeCreate(code="visit", name="Visit",
                                                                      duration_minutes=15)])
    tokens = []
    for i in range(patients):
        user = accounts.ensure_account(db, email=f"bench{i}@example.org", password="bench password 2026",
                                       role=Role.patient)
        tokens.append(accounts.issue_token(db, user=user, kind=TokenKind.bearer, lifetime=timedelta(hours=2)).secret)
    db.close()
    engine.dispose()
    return npi, tokens


def _slot_starts(count: int, offset_days: int) -> list[str]:
    """Distinct 15-minute slots from local midnight, 90 a day (the provider is in New York)."""
    return crash.slot_starts(count, first_day=datetime.now(ZONE).date() + timedelta(days=offset_days), zone=ZONE.key,
                             minutes=15, per_day=90)


def _post(http: httpx.Client, token: str, npi: str, start: str) -> int:
    try:
        return http.post("/api/v1/appointments", headers={"Authorization": f"Bearer {token}"},
                         json={"npi": npi, "start": start, "type": "visit"}).status_code
    except httpx.HTTPError:
        return -1  # connection refused or reset


def race(base: str, npi: str, tokens: list[str], clients: int = 100, slots: int = 10) -> dict:
    starts = _slot_starts(slots, offset_days=3)
    barrier = threading.Barrier(clients)

    def one(i: int) -> int:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return _post(http, tokens[i], npi, starts[i % slots])

    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(one, range(clients)))
    return {"201": statuses.count(201), "409": statuses.count(409),
            "5xx": sum(s >= 500 for s in statuses), "other": sum(s not in (201, 409) and s < 500 for s in statuses)}


def throughput(base: str, npi: str, tokens: list[str], clients: int = 50, per_client: int = 4) -> dict:
    """Bookings alone: 50 clients each booking 4 distinct free slots; throughput and each request's latency."""
    starts = _slot_starts(clients * per_client, offset_days=5)

    def book(i: int) -> list[tuple[int, float]]:
        done = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for k in range(per_client):
                began = time.perf_counter()
                status = _post(http, tokens[i], npi, starts[i * per_client + k])
                done.append((status, (time.perf_counter() - began) * 1000))
        return done

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = [a for batch in pool.map(book, range(clients)) for a in batch]
    elapsed = time.perf_counter() - began
    ok = [ms for status, ms in answers if status == 201]
    cuts = statistics.quantiles(ok, n=100, method="inclusive") if len(ok) > 1 else [float("nan")] * 99
    return {"bookings_per_second": round(len(ok) / elapsed, 1), "ok": len(ok), "requests": len(answers),
            "seconds": round(elapsed, 2), "latency_p50_ms": round(cuts[49], 1), "latency_p95_ms": round(cuts[94], 1),
            "latency_max_ms": round(max(ok), 1) if ok else None,
            "other_statuses": sorted({status for status, _ in answers if status != 201})}


def crash_check(server: ServerProcess, url: str, npi: str, tokens: list[str], clients: int = 20,
                per_client: int = 10) -> dict:
    """The crash test's load, bigger: kill -9 after 25 acknowledged bookings, restart, check, retry the cut-off."""
    engine = make_engine(url)
    try:
        outcome, after_restart, retried, after_retry = crash.run(
            server, engine, npi=npi, type_code="visit", tokens=tokens[:clients],
            starts=_slot_starts(clients * per_client, offset_days=8), kill_after=25)
    finally:
        engine.dispose()
    return {"acknowledged": len(outcome.acknowledged), "cut off": len(outcome.unanswered),
            "stored after restart": after_restart.appointments, "problems after restart": after_restart.problems,
            "retries answered 201": retried.count(201), "problems after retries": after_retry.problems}


def run(url: str, workers: int) -> tuple[str, dict]:
    """(label, figures) for one database: printed as they come, and returned for the JSON file."""
    npi, tokens = _setup(url, patients=100)
    server = ServerProcess(url, workers=workers).start()
    try:
        label = f"{make_url(url).get_backend_name()}, {workers} worker(s)"
        figures = {"race_100_clients_10_slots": race(server.url, npi, tokens)}
        print(f"[{label}] race 100 clients / 10 slots: {figures['race_100_clients_10_slots']}", flush=True)
        figures["throughput_50_clients"] = throughput(server.url, npi, tokens)
        t = figures["throughput_50_clients"]
        print(f"[{label}] 50 clients booking: {t['bookings_per_second']} bookings/s ({t['ok']} of {t['requests']} "
              f"booked in {t['seconds']} s), latency p50 {t['latency_p50_ms']} ms, p95 {t['latency_p95_ms']} ms",
              flush=True)
        figures["kill_9_mid_load"] = crash_check(server, url, npi, tokens)
        print(f"[{label}] kill -9 mid-load: {figures['kill_9_mid_load']}", flush=True)
    finally:
        server.stop()
    return label, figures


def _postgres_schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False), schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL (FUSIONCARE_TEST_DATABASE_URL)")
    args = parser.parse_args([] if __name__ != "__main__" else None)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = [(args.database_url, args.workers or 2)] if args.database_url else [
            (f"sqlite:///{tmp}/bench.sqlite3", args.workers or 1)][args.skip_sqlite:]
        if not args.database_url and os.environ.get("FUSIONCARE_TEST_DATABASE_URL"):
            targets.append((os.environ["FUSIONCARE_TEST_DATABASE_URL"], 2))
        for url, workers in targets:
            url = normalise_database_url(url)
            schema = None
            if url.startswith("postgresql") and not args.database_url:
                url, schema = _postgres_schema_url(url)
            try:
                label, figures = run(url, workers)
                results[label] = figures
            finally:
                if schema:
                    admin = make_engine(normalise_database_url(os.environ["FUSIONCARE_TEST_DATABASE_URL"]))
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_booking.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"JSON: {OUT / 'bench_booking.json'}", flush=True)


if __name__ == "__main__":
    main()
