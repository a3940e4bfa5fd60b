"""Triage engine speed: 1,000 varied assessments in one batch, and the `fusioncare assess --json` process."""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fusioncare.knowledge.loader import get_pack
from fusioncare.triage.batch import parse_requests
from fusioncare.triage.schemas import FusionRegion, Symptom, Treatment, Trend
from fusioncare.triage.service import assess, assess_many

BATCH = 1_000
RUNS = 7
OUT = Path(__file__).parent / "out"


def varied_requests(count: int, *, seed: int = 20261125) -> list[dict[str, object]]:
    """Deterministic, varied requests: every region, trend and code, mostly few symptoms like real answers."""
    rng = random.Random(seed)
    symptoms, treatments = list(Symptom), list(Treatment)
    return [
        {
            "months_since_surgery": round(rng.choice([rng.uniform(0, 6), rng.uniform(6, 24), rng.uniform(24, 240)]), 1),
            "fusion_region": rng.choice(list(FusionRegion)).value,
            "sciatica_before_surgery": rng.random() < 0.6,
            "leg_pain": rng.randint(0, 10),
            "back_pain": rng.randint(0, 10),
            "trend": rng.choice(list(Trend)).value,
            "constant_pain": rng.random() < 0.15,
            "symptoms": [s.value for s in rng.sample(symptoms, rng.choice([0, 0, 1, 1, 2, 3, 5]))],
            "treatments_tried": [t.value for t in rng.sample(treatments, rng.randint(0, 4))],
        }
        for _ in range(count)
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f} µs"


def main() -> None:
    payload = varied_requests(BATCH)
    text = json.dumps(payload)
    pack = get_pack()

    parse_times, engine_times = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        requests = parse_requests(text)
        parsed = time.perf_counter()
        assess_many(requests=requests, pack=pack)
        done = time.perf_counter()
        parse_times.append(parsed - start)
        engine_times.append(done - parsed)

    singles = []
    for request in requests:
        start = time.perf_counter()
        assess(request=request, pack=pack)
        singles.append(time.perf_counter() - start)
    cuts = statistics.quantiles(singles, n=100)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.json"
        path.write_text(text)
        walls = []
        for _ in range(3):
            start = time.perf_counter()
            completed = subprocess.run([sys.executable, "-m", "fusioncare.cli", "assess", "--json", str(path)],
                                       capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
        assert len(json.loads(completed.stdout)) == BATCH

    table = Table(title=f"Triage engine, {BATCH:,} varied requests (median of {RUNS} runs unless noted)")
    table.add_column("Measure")
    table.add_column("Time", justify="right")
    table.add_row(f"Engine time for {BATCH:,} assessments (assess_many)", _ms(statistics.median(engine_times)))
    table.add_row(f"Parse and validate {BATCH:,} requests from JSON", _ms(statistics.median(parse_times)))
    table.add_row("Per assessment p50", _us(cuts[49]))
    table.add_row("Per assessment p95", _us(cuts[94]))
    table.add_row(f"`fusioncare assess --json FILE`, {BATCH:,}-request batch, whole process (median of 3)",
                  _ms(statistics.median(walls)))
    Console().print(table)
    figures = {"batch": BATCH, "runs": RUNS, "engine_s_median": round(statistics.median(engine_times), 5),
               "engine_s_runs": [round(t, 5) for t in engine_times],
               "parse_s_median": round(statistics.median(parse_times), 5),
               "per_assessment_p50_us": round(cuts[49] * 1e6, 1), "per_assessment_p95_us": round(cuts[94] * 1e6, 1),
               "cli_process_s_median_of_3": round(statistics.median(walls), 3), "target_cli_process_s": 1.0}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_assess.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    Console().print(f"JSON: {OUT / 'bench_assess.json'}")


if __name__ == "__main__":
    main()
