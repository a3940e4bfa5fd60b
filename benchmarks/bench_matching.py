"""Find My Doctor on the demo data: one match() call with and without the soonest-opening signal.

    python -m benchmarks.bench_matching [--runs 41]

The demo directory plus its demo hours (every demo practitioner bookable, Monday-Friday) on a temporary SQLite
file and, with FUSIONCARE_TEST_DATABASE_URL set, in a private PostgreSQL schema; a "soon" assessment near 10001
within 25 miles (four specialty groups). Alternating runs, median and 90th percentile of each.
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
        times: dict[bool, list[float]] = {True: [], False: []}
        for use_openings in (True, False):  # warm both paths once
            match(db=db, request=request, use_openings=use_openings)
        for i in range(runs * 2):
            use_openings = i % 2 == 0
            began = time.perf_counter()
            result = match(db=db, request=request, use_openings=use_openings)
            times[use_openings].append((time.perf_counter() - began) * 1000)
            db.rollback()
        ranked = sum(g.total for g in result.groups)
        with_openings = sum(r.soonest_opening is not None for g in match(db=db, request=request).groups
                            for r in g.results)
    engine.dispose()
    label = make_url(url).get_backend_name()
    for use_openings, label_signal in ((False, "without soonest opening"), (True, "with soonest opening")):
        found = sorted(times[use_openings])
        print(f"[{label}] match() {label_signal}: median {statistics.median(found):.1f} ms, "
              f"p90 {found[int(len(found) * 0.9) - 1]:.1f} ms over {runs} runs", flush=True)
    print(f"[{label}] {ranked} providers ranked in the groups; {with_openings} of those shown have an opening",
          flush=True)
    return label, {
        "runs": runs, "providers_ranked": ranked, "shown_with_an_opening": with_openings,
        **{key: {"median_ms": round(statistics.median(times[flag]), 2),
                 "p90_ms": round(sorted(times[flag])[int(len(times[flag]) * 0.9) - 1], 2)}
           for key, flag in (("without_soonest_opening", False), ("with_soonest_opening", True))}}


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
