"""The realistic mix for benchmarks/bench_scale.py: people assessing, matching, reading profiles, searching,
listing slots, booking and keeping their diary; requests are named by route template.

Reads its fixture (provider NPIs, ZIPs, bearer tokens) from the JSON file in FUSIONCARE_BENCH_FIXTURE, and stops
the whole run after FUSIONCARE_BENCH_MAX_REQUESTS requests (locust's --run-time bounds the time).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, date, datetime, timedelta

from locust import HttpUser, between, events, task

FIXTURE = json.loads(open(os.environ["FUSIONCARE_BENCH_FIXTURE"]).read())
MAX_REQUESTS = int(os.environ.get("FUSIONCARE_BENCH_MAX_REQUESTS", "50000"))
TOKENS = itertools.cycle(FIXTURE["tokens"])
SPECIALTIES = ["spine_surgeon", "pain_medicine", "physiatrist", "physical_therapist", "chiropractor", "neurologist"]
ASSESSMENTS = [
    {"months_since_surgery": 4.0, "fusion_region": "lumbar", "sciatica_before_surgery": True, "leg_pain": 6,
     "back_pain": 3, "trend": "improving", "constant_pain": False, "symptoms": [],
     "treatments_tried": ["physical_therapy"]},
    {"months_since_surgery": 30, "fusion_region": "lumbar", "sciatica_before_surgery": False, "leg_pain": 7,
     "back_pain": 6, "trend": "worsening", "constant_pain": True, "symptoms": ["new_numbness"],
     "treatments_tried": ["medication", "physical_therapy"]},
    {"months_since_surgery": 9, "leg_pain": 5, "back_pain": 4, "trend": "stable",
     "treatments_tried": ["medication"]},
]
sent = 0


@events.request.add_listener
def _bound_the_run(**_kwargs) -> None:
    global sent
    sent += 1
    if sent == MAX_REQUESTS and _environment is not None and _environment.runner is not None:
        _environment.runner.quit()


_environment = None


@events.init.add_listener
def _remember(environment, **_kwargs) -> None:
    global _environment
    _environment = environment


class Patient(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {next(TOKENS)}"}

    def _provider(self) -> str:
        return random.choice(FIXTURE["npis"])

    def _zip(self) -> str:
        return random.choice(FIXTURE["zips"])

    @task(3)
    def assess(self) -> None:
        self.client.post("/api/v1/assessments", json=random.choice(ASSESSMENTS), name="/api/v1/assessments")

    @task(2)
    def match(self) -> None:
        self.client.post("/api/v1/matches", json={"assessment": random.choice(ASSESSMENTS), "near": self._zip(),
                                                  "radius_miles": 25}, name="/api/v1/matches")

    @task(3)
    def search(self) -> None:
        self.client.get("/api/v1/providers", params={"specialty": random.choice(SPECIALTIES), "near": self._zip(),
                                                     "radius_miles": random.choice([10, 25, 50])},
                        name="/api/v1/providers")

    @task(3)
    def profile(self) -> None:
        self.client.get(f"/api/v1/providers/{self._provider()}", name="/api/v1/providers/{npi}")

    @task(2)
    def slots(self) -> None:
        self._slots(self._provider())

    def _slots(self, npi: str) -> list[dict]:
        start = datetime.now(UTC) + timedelta(days=random.randint(1, 25))
        with self.client.get(f"/api/v1/providers/{npi}/slots", name="/api/v1/providers/{npi}/slots",
                             params={"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()},
                             catch_response=True) as response:
            if response.status_code == 200:
                response.success()
                return response.json()["slots"]
            response.failure(f"status {response.status_code}")
            return []

    @task(1)
    def book(self) -> None:
        npi = self._provider()
        slots = self._slots(npi)
        if not slots:
            return
        slot = random.choice(slots)
        with self.client.post("/api/v1/appointments", json={"npi": npi, "start": slot["start"],
                                                            "type": slot["type"]},
                              headers=self.auth, name="/api/v1/appointments", catch_response=True) as response:
            # A lost race for a slot is the system working (409 with the next free slots), not a failure.
            if response.status_code in (201, 409):
                response.success()
            else:
                response.failure(f"status {response.status_code}")

    @task(1)
    def diary(self) -> None:
        day = date.today() - timedelta(days=random.randint(0, 365))
        self.client.post("/api/v1/diary/entries", headers=self.auth, name="/api/v1/diary/entries",
                         json={"date": day.isoformat(), "leg_pain": random.randint(0, 10),
                               "back_pain": random.randint(0, 10)})
