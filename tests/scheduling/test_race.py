"""A real race over real HTTP: many clients booking the same slots at once get exactly one winner per slot."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from fusioncare.scheduling.models import Appointment, SlotHold
from tests.scheduling.builders import future_day

CLIENTS = 12
NEW_YORK = ZoneInfo("America/New_York")


def test_concurrent_bookings_of_the_same_slots_have_one_winner_each_and_no_5xx(live_server, provider, make_person,
                                                                                bearer, db):
    day = future_day()
    wanted = [datetime.combine(day, time(9), tzinfo=NEW_YORK), datetime.combine(day, time(9, 45), tzinfo=NEW_YORK),
              datetime.combine(day, time(10, 30), tzinfo=NEW_YORK)]
    tokens = [bearer(make_person(f"racer{i}")) for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)

    def attempt(index: int) -> tuple[int, str, int]:
        start = wanted[index % len(wanted)]
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            barrier.wait()
            response = http.post("/api/v1/appointments", headers=tokens[index],
                                 json={"npi": provider, "start": start.isoformat(), "type": "new_patient"})
        return response.status_code, start.isoformat(), index

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(attempt, range(CLIENTS)))

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * len(wanted) + [409] * (CLIENTS - len(wanted)), results
    winners = {start for status, start, _ in results if status == 201}
    assert len(winners) == len(wanted), "one winner per slot"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Appointment)) == len(wanted)
    held = db.scalar(select(func.count()).select_from(SlotHold))
    assert held == len(wanted) * 45 // 5
