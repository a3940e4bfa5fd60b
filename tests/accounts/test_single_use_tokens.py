"""Single-use secrets under real concurrency: a reset link and an Idempotency-Key each take effect exactly once,
however many parallel requests carry them."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from fusioncare.accounts import service
from fusioncare.scheduling.models import Appointment
from tests.scheduling.builders import bookable_provider, future_day
from tests.support import fire_together


class Outbox:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.bodies.append(body)


def _reset_token(db, email: str) -> str:
    outbox = Outbox()
    service.request_password_reset(db, email=email, client_address="test", notifier=outbox,
                                   base_url="http://testserver", lifetime=timedelta(minutes=30))
    return re.search(r"token=([A-Za-z0-9_-]+)", outbox.bodies[-1]).group(1)


@pytest.fixture
def slow_hashing(monkeypatch):
    """Hashing the new password takes 50 ms, as argon2id's real cost would: the window a double use needs."""
    real = service.hash_password

    def slow(password: str) -> str:
        time.sleep(0.05)
        return real(password)

    monkeypatch.setattr(service, "hash_password", slow)


def test_eight_parallel_uses_of_one_reset_token_succeed_exactly_once(live_server, make_person, db, slow_hashing):
    ann = make_person("ann")
    token = _reset_token(db, ann.email)
    passwords = [f"a brand new password number {i}" for i in range(8)]

    def attempt(index: int) -> int:
        return httpx.post(f"{live_server.url}/api/v1/password-resets/confirm", timeout=60,
                          json={"token": token, "new_password": passwords[index]}).status_code

    statuses = fire_together(8, attempt)
    assert sorted(statuses) == [204] + [400] * 7
    winner = passwords[statuses.index(204)]
    loser = passwords[statuses.index(400)]
    sign_in = {p: httpx.post(f"{live_server.url}/api/v1/tokens", json={"email": ann.email, "password": p}).status_code
               for p in (loser, winner)}
    assert sign_in == {loser: 401, winner: 200}, "the password is the one the single successful use set"


def test_parallel_bookings_with_one_idempotency_key_make_exactly_one_appointment(live_server, make_person, bearer,
                                                                                  db, tmp_path):
    from fusioncare.directory.npi import with_check_digit

    npi = with_check_digit("170000041")
    bookable_provider(db, tmp_path, npi)
    headers = {**bearer(make_person("ann")), "Idempotency-Key": "booking-7f3a"}
    start = datetime.combine(future_day(), clock(11), tzinfo=ZoneInfo("America/New_York"))
    body = {"npi": npi, "start": start.isoformat(), "type": "follow_up"}
    lock, answers = threading.Lock(), []

    def attempt(index: int) -> int:
        response = httpx.post(f"{live_server.url}/api/v1/appointments", json=body, headers=headers, timeout=60)
        with lock:
            answers.append(response)
        return response.status_code

    statuses = fire_together(8, attempt)
    assert statuses == [201] * 8
    assert len({a.json()["id"] for a in answers}) == 1, "every answer is the same appointment"
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1
