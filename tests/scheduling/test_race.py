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
from tests.support import fire_together

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


# Three bookings whose times overlap pairwise and none of which start together (the 9:00 new-patient visit runs to
# 9:45, the 9:20 follow-up to 9:40, the 9:30 telehealth visit to 10:00): the one-appointment-per-start index cannot
# tell them apart, only the provider's cell holds can. Each group is repeated 3 and 6 hours later the same day.
OVERLAPPING = [(time(9), "new_patient", 45), (time(9, 20), "follow_up", 20), (time(9, 30), "telehealth", 30)]
GROUP_OFFSETS_HOURS = (0, 3, 6)
ROUNDS = 4


def _local_start(day, at: time, offset_hours: int) -> datetime:
    return datetime.combine(day, time(at.hour + offset_hours, at.minute), tzinfo=NEW_YORK)


def test_racing_overlapping_bookings_with_different_starts_and_lengths_have_one_winner_per_overlap(
        live_server, provider, make_person, bearer, db):
    racers = len(OVERLAPPING) * len(GROUP_OFFSETS_HOURS)
    tokens = [bearer(make_person(f"overlap{i}")) for i in range(racers)]  # a patient each: only the provider collides
    outcomes: list[tuple[int, int, str, dict]] = []
    for round_index in range(ROUNDS):
        day = future_day(5 + round_index)
        wanted = [(offset, _local_start(day, at, offset), type_code)
                  for offset in GROUP_OFFSETS_HOURS for at, type_code, _ in OVERLAPPING]

        def attempt(index: int, wanted=wanted, round_index=round_index) -> tuple[int, int, str, dict]:
            offset, start, type_code = wanted[index]
            with httpx.Client(base_url=live_server.url, timeout=60) as http:
                response = http.post("/api/v1/appointments", headers=tokens[index],
                                     json={"npi": provider, "start": start.isoformat(), "type": type_code})
            return round_index * 100 + offset, response.status_code, type_code, response.json()

        outcomes += fire_together(racers, attempt)

    by_group: dict[int, list[int]] = {}
    for group, status, _, _ in outcomes:
        by_group.setdefault(group, []).append(status)
    assert {group: sorted(statuses) for group, statuses in by_group.items()} == {
        group: [201, 409, 409] for group in by_group}, "exactly one booking of each overlapping three"
    assert len(by_group) == ROUNDS * len(GROUP_OFFSETS_HOURS)
    assert {body["code"] for _, status, _, body in outcomes if status == 409} == {"slot_taken"}

    db.expire_all()
    booked = list(db.scalars(select(Appointment).where(Appointment.npi == provider).order_by(Appointment.starts_at)))
    assert len(booked) == ROUNDS * len(GROUP_OFFSETS_HOURS)
    for earlier, later in zip(booked, booked[1:], strict=False):
        assert earlier.ends_at <= later.starts_at, f"appointments {earlier.id} and {later.id} overlap"
    minutes = {type_code: length for _, type_code, length in OVERLAPPING}
    assert db.scalar(select(func.count()).select_from(SlotHold)) == sum(minutes[a.type_code] // 5 for a in booked)
