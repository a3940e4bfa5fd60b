"""Directory search at national density: today's search (a count that stops at 1,000 and nearest-first pages
from widening circles) against the search it replaced (an exact count and one nearest-first query over the whole
circle), the same queries interleaved in the same run; then today's search over HTTP.

    nice -n 10 python -m benchmarks.bench_search --providers 3000000 [--postgres-url postgresql://...]

The national NPPES file imported with the default taxonomy scope holds about 3 million searchable providers
(bench_national: 2,967,231 from 9 million rows), 85% of them around 15 metros. Importing that file takes 87 s on a
quiet machine and a quarter of an hour on a loaded one, so this benchmark writes the same density straight into
the two tables search reads (the directory's providers and its search index), spread like the generator spreads
them: 85% on real ZIPs within 20 miles of a metro centre, the rest anywhere, one to two specialties each. The
queries are bench_directory's (80% from metro ZIPs, 5 to 50 miles, 20 per page). The load ends with the VACUUM
(ANALYZE) the importer ends with. JSON: benchmarks/out/bench_search_<providers>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time
from datetime import UTC, datetime

from benchmarks.bench_directory import (
    OUT,
    _percentiles,
    _postgres_schema_url,
    _queries,
    _with_postgres_schema,
)
from benchmarks.bench_national import _search_over_http

METRO_SHARE = 0.85


def _rows(count: int, seed: int):
    """(provider COPY line, [index COPY lines]) for ``count`` made-up providers at real ZIP centroids."""
    from fusioncare.directory.generator import METROS, _zips
    from fusioncare.directory.geo import lat_band, zip_table
    from fusioncare.directory.npi import check_digit
    from fusioncare.directory.specialties import SPECIALTY_CODES

    rng = random.Random(seed)
    pools, places = _zips(), zip_table()
    metros = [m[0] for m in METROS]
    now = datetime.now(UTC).isoformat()
    for n in range(count):
        first_nine = f"1{n:08d}"
        npi = f"{first_nine}{check_digit(first_nine)}"
        zip5 = rng.choice(pools.by_metro[rng.choice(metros)]) if rng.random() < METRO_SHARE else rng.choice(pools.all)
        place = places[zip5]
        codes = rng.sample(SPECIALTY_CODES, rng.choice((1, 1, 1, 2)))
        name = f"PROVIDER {n}"
        provider = "\t".join((
            npi, "1", name, name.lower(), "[]", json.dumps(codes), zip5, place.city, place.state, zip5, "US",
            repr(place.lat), repr(place.lon), "America/New_York", "t", "bench_search", now, "0" * 32, "t",
            "[]", "[]", "[]", "f"))
        index = [f"{npi}\t{code}\t{lat_band(place.lat)}\t{place.lat!r}\t{place.lon!r}" for code in codes]
        yield provider, index


PROVIDER_COLUMNS = ("npi", "entity_type", "display_name", "name_search", "taxonomies", "specialties", "postal_code",
                    "city", "state", "zip_code", "country_code", "lat", "lon", "time_zone", "is_active", "source_file",
                    "imported_at", "source_digest", "is_demo", "insurance_plans", "languages", "services",
                    "profile_confirmed")
INDEX_COLUMNS = ("npi", "specialty", "lat_band", "lat", "lon")


def _load(url: str, count: int, seed: int) -> dict:
    """The schema at head, then ``count`` providers COPYed in chunks, then VACUUM (ANALYZE) as after an import."""
    from fusioncare import migrate
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory.importer import _refresh_planner_facts

    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    index_rows = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        providers, index = io.StringIO(), io.StringIO()

        def flush() -> None:
            for table, columns, buffer in (("directory_providers", PROVIDER_COLUMNS, providers),
                                           ("directory_search_index", INDEX_COLUMNS, index)):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()

        for n, (provider, entries) in enumerate(_rows(count, seed), start=1):
            providers.write(provider + "\n")
            index.write("\n".join(entries) + "\n")
            index_rows += len(entries)
            if n % 100_000 == 0:
                flush()
                print(f"  {n:,} providers loaded", flush=True)
        flush()
        raw.commit()
    finally:
        raw.close()
    session = make_session_factory(engine)()
    try:
        _refresh_planner_facts(session)  # VACUUM (ANALYZE), as the NPPES import does when it finishes
    finally:
        session.close()
    engine.dispose()
    return {"providers": count, "index_rows": index_rows, "load_s": round(time.perf_counter() - started, 1)}


def _replaced_search(db, specialty: str, near: str, radius: float, limit: int) -> tuple[int, list[str]]:
    """The search as it was before the count cap and the widening circles: an exact count of the whole circle and
    one nearest-first query over it (both evaluate the distance of every candidate in the circle)."""
    from sqlalchemy import func, select

    from fusioncare.directory import service
    from fusioncare.directory.models import Provider
    from fusioncare.directory.models import SearchIndexEntry as idx

    place = service.resolve_place(near=near)
    conditions, limit_h = service._circle(specialty, place, radius)
    h = service._haversine_term(place)  # the same SQL as today's search
    within = [*conditions, h <= limit_h]
    total = db.scalar(select(func.count()).select_from(idx).where(*within)) or 0
    npis = list(db.scalars(select(idx.npi).where(*within).order_by(h, idx.npi).limit(limit + 1)))[:limit]
    providers = {p.npi: p for p in db.scalars(select(Provider).where(Provider.npi.in_(npis)))}  # as search does
    return total, [providers[npi].npi for npi in npis]


def _in_process(url: str, queries: list[tuple[str, str, float]]) -> dict:
    """Both searches on every query, alternating which goes first; the pages must agree."""
    from fusioncare.db import make_engine, make_session_factory
    from fusioncare.directory import service
    from fusioncare.directory.schemas import ProviderSearch

    engine = make_engine(url)
    session = make_session_factory(engine)()
    timings: dict[str, list[float]] = {"replaced": [], "today": []}
    totals, capped = [], 0
    try:
        for n, (specialty, near, radius) in enumerate(queries):
            def today(specialty: str = specialty, near: str = near, radius: float = radius) -> list[str]:
                result = service.search_providers(db=session, params=ProviderSearch(
                    specialty=specialty, near=near, radius_miles=radius, limit=20))
                return [h.provider.npi for h in result.hits]

            def replaced(specialty: str = specialty, near: str = near, radius: float = radius) -> list[str]:
                total, npis = _replaced_search(session, specialty, near, radius, 20)
                totals.append(total)
                return npis

            pages = {}
            for name, run in (("today", today), ("replaced", replaced))[:: 1 if n % 2 else -1]:
                started = time.perf_counter()
                pages[name] = run()
                timings[name].append((time.perf_counter() - started) * 1000)
                session.rollback()
            if pages["today"] != pages["replaced"]:
                raise AssertionError(f"the two searches disagree on {specialty} near {near} within {radius} miles")
            capped += totals[-1] > service.COUNT_CAP
    finally:
        session.close()
        engine.dispose()
    today, replaced = _percentiles(timings["today"]), _percentiles(timings["replaced"])
    return {"today": today, "replaced": replaced,
            "p50_ratio": round(today["p50_ms"] / replaced["p50_ms"], 3),
            "p95_ratio": round(today["p95_ms"] / replaced["p95_ms"], 3),
            "mean_matches": round(sum(totals) / len(totals), 1), "share_over_cap": round(capped / len(totals), 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=os.environ.get("FUSIONCARE_BENCH_POSTGRES_URL")
                        or os.environ.get("FUSIONCARE_TEST_DATABASE_URL")
                        or "postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv if argv is not None else ([] if __name__ != "__main__" else None))

    from rich.console import Console
    from rich.table import Table

    console = Console()
    OUT.mkdir(parents=True, exist_ok=True)
    url, schema = _postgres_schema_url(args.postgres_url)
    _with_postgres_schema(args.postgres_url, schema, create=True)
    results: dict = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "niceness": os.nice(0)}
    try:
        console.print(f"Loading {args.providers:,} providers into PostgreSQL schema {schema} ...")
        results["load"] = _load(url, args.providers, args.seed)
        queries = _queries(args.queries, args.seed)
        console.print(f"{args.queries} queries in-process, both searches interleaved ...")
        results["in_process"] = _in_process(url, queries)
        console.print(f"{args.queries} queries over HTTP against `fusioncare serve` ...")
        results["http"] = _search_over_http(url, queries)
    finally:
        _with_postgres_schema(args.postgres_url, schema, create=False)
    results["load_average_at_end"] = os.getloadavg()
    out = OUT / f"bench_search_{args.providers}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")

    inp = results["in_process"]
    table = Table(title=f"Search at {args.providers:,} providers on PostgreSQL (mean {inp['mean_matches']:,} "
                        f"matches a query, {inp['share_over_cap']:.0%} over the count cap)")
    for column in ("", "p50 ms", "p95 ms"):
        table.add_column(column)
    table.add_row("replaced search, in-process", f"{inp['replaced']['p50_ms']:.2f}", f"{inp['replaced']['p95_ms']:.2f}")
    table.add_row("today's search, in-process", f"{inp['today']['p50_ms']:.2f}", f"{inp['today']['p95_ms']:.2f}")
    table.add_row("today / replaced", f"{inp['p50_ratio']:.3f}x", f"{inp['p95_ratio']:.3f}x")
    table.add_row("today's search over HTTP", f"{results['http']['p50_ms']:.2f}", f"{results['http']['p95_ms']:.2f}")
    console.print(table)
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
