"""Kill -9 in the middle of a booking load, and what the database must hold afterwards.

Shared by tests/scheduling/test_crash.py (a small load, every assertion) and benchmarks/bench_booking.py (a bigger
load, the same findings printed as figures). Every request carries an Idempotency-Key, so a client that got no
answer can ask again after the restart and must get its one booking, never a second.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from fusioncare.scheduling.models import CELL_MINUTES, HOLDING_STATUSES, Appointment, SlotHold
from tests.support import ServerProcess

NO_ANSWER = -1


@dataclass(frozen=True)
class Request:
    client: int
    key: str  # the Idempotency-Key
    start: str  # ISO 8601 with offset


@dataclass
class LoadOutcome:
    acknowledged: list[Request] = field(default_factory=list)  # got 201
    unanswered: list[Request] = field(default_factory=list)  # connection reset or refused: no answer at all
    other: list[tuple[Request, int]] = field(default_factory=list)  # any other status


def slot_starts(count: int, *, first_day: date, zone: str, minutes: int, per_day: int) -> list[str]:
    """Distinct slots on the grid of a provider open from local midnight: ``per_day`` a day, ``minutes`` apart.

    Stepped in UTC from each local midnight, as the slot grid is, so a daylight-saving day stays on the grid.
    """
    tz = ZoneInfo(zone)
    out = []
    for i in range(count):
        midnight = datetime.combine(first_day + timedelta(days=i // per_day), datetime.min.time(), tzinfo=tz)
        out.append((midnight.astimezone(UTC) + timedelta(minutes=minutes * (i % per_day))).astimezone(tz).isoformat())
    return out


def _post(http: httpx.Client, *, token: str, npi: str, type_code: str, request: Request) -> int:
    try:
        return http.post("/api/v1/appointments", json={"npi": npi, "start": request.start, "type": type_code},
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": request.key}).status_code
    except httpx.TransportError:
        return NO_ANSWER


def book_then_kill(server: ServerProcess, *, npi: str, type_code: str, tokens: list[str], starts: list[str],
                   kill_after: int, give_up_after_seconds: float = 30) -> LoadOutcome:
    """Each client books its share of ``starts`` one after another; the server is killed -9 once ``kill_after``
    bookings were acknowledged. A client stops at its first request without an answer."""
    per_client = len(starts) // len(tokens)
    outcome = LoadOutcome()
    lock = threading.Lock()
    enough = threading.Event()

    def client(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for k in range(per_client):
                request = Request(client=index, key=f"crash-{index}-{k}", start=starts[index * per_client + k])
                status = _post(http, token=tokens[index], npi=npi, type_code=type_code, request=request)
                with lock:
                    if status == 201:
                        outcome.acknowledged.append(request)
                        if len(outcome.acknowledged) >= kill_after:
                            enough.set()
                    elif status == NO_ANSWER:
                        outcome.unanswered.append(request)
                    else:
                        outcome.other.append((request, status))
                if status == NO_ANSWER:
                    return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    enough.wait(timeout=give_up_after_seconds)
    server.kill9()
    for t in threads:
        t.join()
    return outcome


def retry_unanswered(base_url: str, *, npi: str, type_code: str, tokens: list[str], outcome: LoadOutcome
                     ) -> list[int]:
    """Ask again, with the same Idempotency-Key, every request that got no answer; their statuses in order."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return [_post(http, token=tokens[r.client], npi=npi, type_code=type_code, request=r)
                for r in outcome.unanswered]


@dataclass
class StoredState:
    """What the database holds for the provider, compared with what the clients were told."""

    missing: list[str]  # promised starts (the client got a 201) with no holding appointment
    duplicated: list[str]  # starts with more than one appointment
    unexpected: list[str]  # appointments nobody asked for
    partial: list[int]  # appointments whose holds are not exactly the cells they cover
    orphan_holds: int  # holds of no appointment
    double_held_cells: int  # cells held by more than one appointment, or overlapping holding appointments
    appointments: int

    @property
    def problems(self) -> dict[str, object]:
        return {name: value for name, value in vars(self).items() if name != "appointments" and value}


def stored_state(engine: Engine, *, npi: str, starts: list[str], outcome: LoadOutcome, promised: list[Request]
                 ) -> StoredState:
    """The provider's appointments and holds from the load's first slot to a day after its last (the benchmark
    books other days of the same provider before the crash check)."""
    first = min(datetime.fromisoformat(s) for s in starts).astimezone(UTC)
    last = max(datetime.fromisoformat(s) for s in starts).astimezone(UTC) + timedelta(days=1)
    with engine.connect() as conn:
        rows = conn.execute(select(Appointment.id, Appointment.starts_at, Appointment.ends_at, Appointment.status)
                            .where(Appointment.npi == npi, Appointment.starts_at >= first,
                                   Appointment.starts_at < last)).all()
        holds = conn.execute(select(SlotHold.cell_start_utc, SlotHold.appointment_id)
                             .where(SlotHold.npi == npi, SlotHold.cell_start_utc >= first,
                                    SlotHold.cell_start_utc < last)).all()

    def utc(moment: datetime) -> datetime:
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    starts_of: dict[datetime, list[int]] = {}
    for row in rows:
        starts_of.setdefault(utc(row.starts_at), []).append(row.id)
    holding = [r for r in rows if r.status in HOLDING_STATUSES]
    cells_of: dict[int, set[datetime]] = {}
    for cell, appointment_id in holds:
        cells_of.setdefault(appointment_id, set()).add(utc(cell))
    step = timedelta(minutes=CELL_MINUTES)
    partial = []
    for row in holding:
        start, end = utc(row.starts_at), utc(row.ends_at)
        wanted = {start + step * i for i in range(int((end - start) / step))}
        if cells_of.get(row.id, set()) != wanted:
            partial.append(row.id)
    ordered = sorted(holding, key=lambda r: utc(r.starts_at))
    overlapping = sum(utc(b.starts_at) < utc(a.ends_at) for a, b in zip(ordered, ordered[1:], strict=False))
    asked = {datetime.fromisoformat(r.start) for r in outcome.acknowledged + outcome.unanswered}
    asked |= {datetime.fromisoformat(r.start) for r, _ in outcome.other}
    holding_starts = {utc(r.starts_at) for r in holding}
    return StoredState(
        missing=[r.start for r in promised if datetime.fromisoformat(r.start) not in holding_starts],
        duplicated=[s.isoformat() for s, ids in starts_of.items() if len(ids) > 1],
        unexpected=[s.isoformat() for s in starts_of if s not in asked],
        partial=partial,
        orphan_holds=sum(len(cells) for appointment_id, cells in cells_of.items()
                         if appointment_id not in {r.id for r in holding}),
        double_held_cells=len(holds) - len({utc(cell) for cell, _ in holds}) + overlapping,
        appointments=len(rows))


def run(server: ServerProcess, engine: Engine, *, npi: str, type_code: str, tokens: list[str], starts: list[str],
        kill_after: int) -> tuple[LoadOutcome, StoredState, list[int], StoredState]:
    """Load, kill -9, restart; the state before and after the unanswered requests are retried (which must all
    get their 201, so after the retry every request the clients made is promised)."""
    outcome = book_then_kill(server, npi=npi, type_code=type_code, tokens=tokens, starts=starts,
                             kill_after=kill_after)
    server.start()
    after_restart = stored_state(engine, npi=npi, starts=starts, outcome=outcome, promised=outcome.acknowledged)
    retried = retry_unanswered(server.url, npi=npi, type_code=type_code, tokens=tokens, outcome=outcome)
    after_retry = stored_state(engine, npi=npi, starts=starts, outcome=outcome,
                               promised=outcome.acknowledged + [r for r, s in zip(outcome.unanswered, retried,
                                                                                  strict=True) if s == 201])
    return outcome, after_restart, retried, after_retry
