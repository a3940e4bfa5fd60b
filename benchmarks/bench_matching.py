"""Find My Doctor on the demo data: one match() call without the soonest-opening signal, with it, and with it plus
the Medicare procedure evidence (the demo's generated CMS figures).

    python -m benchmarks.bench_matching [--runs 41]

The demo directory plus its demo hours (every demo practitioner bookable, Monday-Friday) on a temporary SQLite
file and, with FUSIONCARE_TEST_DATABASE_URL set, in a private PostgreSQL schema; a "soon" assessment near 10001
within 25 miles (four specialty groups). Alternating runs, median, 90th and 95th percentile of each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fusioncare import migrate
from fusioncare.db import make_engine, make_session_factory
from fusioncare.directory import demo as directory_demo
from fusioncare.matching.schemas import MatchRequest
from fusioncare.matching.service import match
from fusioncare.scheduling import demo as scheduling_demo
from fusioncare.settings import normalise_database_url

OUT = Path(__file__).parent / "out"
ANSWERS = {"months_since_surgery": 8, "leg_pain": 6, "back_pain": 3, "trend": "stable",
           "treatments_tried": ["medication", "physical_therapy"]}


def measure(url: str, runs: int) -> tuple[str, dict]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    quiet = Console(quiet=True)
    with make_session_factory(engine)() as db:
        directory_demo.load(db=db, console=quiet)
        scheduling_demo.load(db=db, console=quiet)
        request = MatchRequest(assessment=ANSWERS, near="10001", radius_miles=25)
        variants = {"without_soonest_opening": (False, False), "with_soonest_opening": (True, False),
                    "with_soonest_opening_and_medicare_evidence": (True, True)}
        times: dict[str, list[float]] = {key: [] for key in variants}
        for openings, evidence in variants.values():  # warm every path once
            match(db=db, request=request, use_openings=openings, use_evidence=evidence)
        for i in range(runs * len(variants)):
            key = list(variants)[i % len(variants)]
            openings, evidence = variants[key]
            began = time.perf_counter()
            result = match(db=db, request=request, use_openings=openings, use_evidence=evidence)
            times[key].append((time.perf_counter() - began) * 1000)
            db.rollback()
        ranked = sum(g.total for g in result.groups)
        shown = [r for g in match(db=db, request=request).groups for r in g.results]
        with_openings = sum(r.soonest_opening is not None for r in shown)
        with_evidence = sum(r.procedure_evidence is not None for r in shown)
    engine.dispose()
    label = make_url(url).get_backend_name()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, int(len(ordered) * q + 0.5) - 1)]

    for key in variants:
        print(f"[{label}] match() {key.replace('_', ' ')}: median {statistics.median(times[key]):.1f} ms, "
              f"p90 {pct(times[key], 0.9):.1f} ms, p95 {pct(times[key], 0.95):.1f} ms over {runs} runs", flush=True)
    print(f"[{label}] {ranked} providers ranked in the groups; of those shown, {with_openings} have an opening and "
          f"{with_evidence} Medicare procedure evidence", flush=True)
    return label, {
        "runs": runs, "providers_ranked": ranked, "shown_with_an_opening": with_openings,
        "shown_with_medicare_evidence": with_evidence,
        **{key: {"median_ms": round(statistics.median(times[key]), 2), "p90_ms": round(pct(times[key], 0.9), 2),
                 "p95_ms": round(pct(times[key], 0.95), 2)} for key in variants}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args([] if __name__ != "__main__" else None)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        label, figures = measure(f"sqlite:///{tmp}/bench.sqlite3", args.runs)
        results[label] = figures
    base = os.environ.get("FUSIONCARE_TEST_DATABASE_URL")
    if base:
        base = normalise_database_url(base)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            label, figures = measure(make_url(base).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False), args.runs)
            results[label] = figures
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_matching.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"JSON: {OUT / 'bench_matching.json'}", flush=True)


if __name__ == "__main__":
    main()
