"""kill -9 of the real server in the middle of a booking load, then a restart on the same database.

The server runs as its own process (uvicorn on the test's SQLite file, or on PostgreSQL in the run's private
schema), so the kill drops it mid-transaction exactly as a crash would. benchmarks/bench_booking.py runs the same
load (tests/scheduling/crash.py) bigger.
"""

from __future__ import annotations

from datetime import time, timedelta

from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role, TokenKind
from tests.scheduling import crash
from tests.scheduling.builders import bookable_provider, every_day, future_day
from tests.scheduling.conftest import NPI
from tests.support import ServerProcess

CLIENTS = 8
PER_CLIENT = 30
KILL_AFTER = 12  # acknowledged bookings before the kill


def test_kill_9_mid_load_keeps_every_acknowledged_booking_once_and_no_half_bookings(db, clean_engine, settings,
                                                                                    tmp_path):
    # Open around the clock, so every follow-up (20 minutes) on the grid from local midnight is a slot.
    bookable_provider(db, tmp_path, NPI, hours=every_day(time(0), time(23, 55)))
    tokens = []
    for i in range(CLIENTS):
        user = accounts.ensure_account(db, email=f"crash{i}@example.org", password="crash test password 2026",
                                       role=Role.patient)
        tokens.append(accounts.issue_token(db, user=user, kind=TokenKind.bearer, lifetime=timedelta(hours=1)).secret)
    starts = crash.slot_starts(CLIENTS * PER_CLIENT, first_day=future_day(3), zone="America/New_York", minutes=20,
                               per_day=60)

    server = ServerProcess(settings.database_url).start()
    try:
        outcome, after_restart, retried, after_retry = crash.run(
            server, clean_engine, npi=NPI, type_code="follow_up", tokens=tokens, starts=starts,
            kill_after=KILL_AFTER)
    finally:
        server.stop()

    assert len(outcome.acknowledged) >= KILL_AFTER
    assert outcome.unanswered, "the kill should have cut some requests off mid-flight"
    assert outcome.other == [], "before the kill every booking of a distinct open slot succeeds"
    # After the restart: every 201 is there exactly once; the cut-off requests left a whole booking or nothing.
    assert after_restart.problems == {}, after_restart
    assert len(outcome.acknowledged) <= after_restart.appointments
    assert after_restart.appointments <= len(outcome.acknowledged) + len(outcome.unanswered)
    # Asking again with the same Idempotency-Key gets each cut-off request its one booking, never a second.
    assert retried == [201] * len(outcome.unanswered)
    assert after_retry.problems == {}, after_retry
    assert after_retry.appointments == len(outcome.acknowledged) + len(outcome.unanswered)
