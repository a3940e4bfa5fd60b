"""Availability, slot computation, booking (idempotent, race-safe), cancel, reschedule, provider decisions and
dashboard, and the e-mails each change queues.

Concurrency: a booking writes the appointment, one ``SlotHold`` row per 5-minute cell of the provider's time and
one ``PatientHold`` row per cell of the patient's time in one transaction. The holds' primary keys
(npi, cell_start_utc) and (patient_id, cell_start_utc) make a second holder fail with IntegrityError in any
process, on SQLite and PostgreSQL alike: the loser gets ``SlotTaken`` with the next free slots, or
``AppointmentOverlaps`` naming the patient's other appointment. Validation reads run before the first write, so on
SQLite the write transaction starts with an INSERT and waits for the write lock (busy timeout) instead of failing
on a stale snapshot.

Every change that someone should hear about writes its ``OutboxMessage`` rows in the same transaction (see
scheduling/outbox.py for the sending), so a message exists exactly when the change does.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fusioncare.accounts import audit, personal_data
from fusioncare.accounts import service as accounts
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.permissions import Action, authorize
from fusioncare.db import rowcount
from fusioncare.directory import service as directory
from fusioncare.directory.geo import lookup_zip
from fusioncare.directory.names import display_case
from fusioncare.display import when_short
from fusioncare.errors import NotFound
from fusioncare.inputs import MAX_ROW_ID, parse_row_id
from fusioncare.scheduling.errors import (
    AppointmentNotChangeable,
    AppointmentOverlaps,
    IdempotencyKeyReused,
    InvalidBooking,
    SlotTaken,
)
from fusioncare.scheduling.models import (
    CELL_MINUTES,
    DEFAULT_BOOKING_HORIZON_DAYS,
    HOLDING_STATUSES,
    REMINDER_KINDS,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityException,
    IdempotencyKey,
    MessageKind,
    OutboxMessage,
    PatientHold,
    ProviderBookingSettings,
    SlotHold,
    WeeklyHours,
)
from fusioncare.scheduling.schemas import (
    IDEMPOTENCY_KEY,
    AppointmentTypeCreate,
    WeeklyHoursCreate,
)
from fusioncare.triage import records as saved_assessments

RECORD_TYPE = "appointment"
MAX_RANGE = timedelta(days=60)
NEXT_FREE_COUNT = 5
SOONEST_HORIZON = timedelta(days=14)  # how far matching looks for a provider's soonest opening
DEFAULT_LISTING = timedelta(days=14)  # the slot listing's range when the caller gives none
REMINDER_LEADS = {MessageKind.reminder_24h: timedelta(hours=24), MessageKind.reminder_2h: timedelta(hours=2)}
CHANGEABLE = (AppointmentStatus.requested, AppointmentStatus.confirmed)


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    type_code: str


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---- availability -------------------------------------------------------------------------------------------

def location_time_zone(*, db: Session, npi: str) -> str:
    """The IANA zone of the provider's practice location: the directory's stored zone, else its ZIP's zone."""
    provider = directory.get_provider(db=db, npi=npi)
    zone = provider.time_zone
    if not zone and provider.zip_code:
        place = lookup_zip(provider.zip_code)
        zone = place.time_zone if place else None
    if not zone:
        raise InvalidBooking("npi", "the provider's practice location has no known time zone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidBooking("npi", f"the practice location's time zone {zone!r} is unknown") from None
    return zone


def booking_horizon_days(*, db: Session, npi: str) -> int:
    """How many days ahead patients may book this provider (their setting, else the default)."""
    days = db.scalar(select(ProviderBookingSettings.booking_horizon_days).where(ProviderBookingSettings.npi == npi))
    return days or DEFAULT_BOOKING_HORIZON_DAYS


def booking_horizon_end(*, db: Session, npi: str, now: datetime) -> datetime:
    """The latest moment a slot of this provider may start, booked now."""
    return now + timedelta(days=booking_horizon_days(db=db, npi=npi))


def set_booking_horizon(*, db: Session, npi: str, days: int) -> None:
    row = db.get(ProviderBookingSettings, npi)
    if row is None:
        db.add(ProviderBookingSettings(npi=npi, booking_horizon_days=days))
    else:
        row.booking_horizon_days = days
    db.commit()


def set_availability(*, db: Session, npi: str, hours: list[WeeklyHoursCreate],
                     appointment_types: list[AppointmentTypeCreate], booking_horizon_days: int | None = None) -> None:
    """Replace the provider's weekly hours and appointment types (existing appointments keep their slots), and
    the booking horizon when one is given."""
    for index, window in enumerate(hours):
        if window.end <= window.start:
            raise InvalidBooking(f"hours[{index}].end", "must be later than start on the same day")
    codes = [t.code for t in appointment_types]
    if len(set(codes)) != len(codes):
        raise InvalidBooking("appointment_types", "each code may appear only once")
    zone = location_time_zone(db=db, npi=npi)
    db.execute(delete(WeeklyHours).where(WeeklyHours.npi == npi))
    db.execute(delete(AppointmentType).where(AppointmentType.npi == npi))
    db.add_all(WeeklyHours(npi=npi, weekday=w.weekday, start_minute=w.start.hour * 60 + w.start.minute,
                           end_minute=w.end.hour * 60 + w.end.minute, time_zone=zone) for w in hours)
    db.add_all(AppointmentType(npi=npi, code=t.code, name=t.name, duration_minutes=t.duration_minutes)
               for t in appointment_types)
    if booking_horizon_days is not None:
        set_booking_horizon(db=db, npi=npi, days=booking_horizon_days)
    db.commit()


def add_exception(*, db: Session, npi: str, kind: str, starts_at: datetime, ends_at: datetime) -> AvailabilityException:
    if ends_at <= starts_at:
        raise InvalidBooking("end", "must be later than start")
    if ends_at - starts_at > MAX_RANGE:
        raise InvalidBooking("end", "an exception may last at most 60 days")
    row = AvailabilityException(npi=npi, kind=kind, starts_at=starts_at.astimezone(UTC),
                                ends_at=ends_at.astimezone(UTC))
    db.add(row)
    db.commit()
    return row


def remove_exception(*, db: Session, npi: str, exception_id: int) -> None:
    """Delete one of this provider's time-off or extra-hours entries; another provider's, or an unknown id, is
    NotFound (never which). Slots come back, or go, at once: they are computed from what is stored."""
    row = db.scalar(select(AvailabilityException).where(AvailabilityException.id == exception_id,
                                                        AvailabilityException.npi == npi))
    if row is None:
        raise NotFound("no such time off or extra hours")
    db.delete(row)
    db.commit()


def weekly_hours(*, db: Session, npi: str) -> list[WeeklyHours]:
    return list(db.scalars(select(WeeklyHours).where(WeeklyHours.npi == npi)
                           .order_by(WeeklyHours.weekday, WeeklyHours.start_minute)))


def upcoming_exceptions(*, db: Session, npi: str, now: datetime | None = None) -> list[AvailabilityException]:
    """Time off and extra hours that have not ended yet, soonest first."""
    return list(db.scalars(select(AvailabilityException).where(
        AvailabilityException.npi == npi, AvailabilityException.ends_at > (now or utcnow()))
        .order_by(AvailabilityException.starts_at)))


def appointment_types(*, db: Session, npi: str) -> list[AppointmentType]:
    return list(db.scalars(select(AppointmentType).where(AppointmentType.npi == npi)
                           .order_by(AppointmentType.duration_minutes, AppointmentType.code)))


def provider_is_bookable(*, db: Session, npi: str) -> bool:
    """A provider can be booked once an admin has verified an account for their NPI."""
    return accounts.has_verified_provider(db, npi=npi)


# ---- slots --------------------------------------------------------------------------------------------------

def _local_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """Local wall time -> UTC; None for a time the DST spring-forward skips."""
    local = datetime.combine(day, time.min) + timedelta(minutes=minute)
    aware = local.replace(tzinfo=zone)
    utc = aware.astimezone(UTC)
    return utc if utc.astimezone(zone).replace(tzinfo=None) == local else None


_CELL = timedelta(minutes=CELL_MINUTES)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _floor_cell(moment: datetime) -> datetime:
    return moment - (moment - _EPOCH) % _CELL


def _cells(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute grid cells (aligned to the UTC epoch) that cover [start, end): from start rounded down to end
    rounded up. Any two overlapping intervals share a cell, even ones off the grid (extra hours from 13:01)."""
    out, t = [], _floor_cell(start)
    while t < end:
        out.append(t)
        t += _CELL
    return out


def _windows(hours: list[WeeklyHours], exceptions: list[AvailabilityException], start: datetime, end: datetime
             ) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """Opening windows (weekly hours on the local days around [start, end), plus extra hours) and time off, UTC."""
    windows: list[tuple[datetime, datetime]] = []
    if hours:
        zone = ZoneInfo(hours[0].time_zone)
        day, last = start.astimezone(zone).date() - timedelta(days=1), end.astimezone(zone).date()
        while day <= last:
            for h in hours:
                if h.weekday == day.weekday():
                    opens, closes = _local_to_utc(day, h.start_minute, zone), _local_to_utc(day, h.end_minute, zone)
                    if opens and closes:
                        windows.append((opens, closes))
            day += timedelta(days=1)
    windows += [(e.starts_at, e.ends_at) for e in exceptions if e.kind == "extra_hours"]
    time_off = [(e.starts_at, e.ends_at) for e in exceptions if e.kind == "time_off"]
    return sorted(windows), time_off


def _starts_in(window: tuple[datetime, datetime], length: timedelta, time_off: list[tuple[datetime, datetime]],
               start: datetime, end: datetime) -> Iterator[datetime]:
    """Slot starts of one length in a window, in order: on the window's grid, in [start, end), clear of time off."""
    opens, closes = window
    t = opens if opens >= start else opens + length * -((opens - start) // length)
    while t + length <= closes and t < end:
        if not any(t < off_end and off_start < t + length for off_start, off_end in time_off):
            yield t
        t += length


def _exceptions_query(npis: list[str], start: datetime, end: datetime):
    return select(AvailabilityException).where(
        AvailabilityException.npi.in_(npis), AvailabilityException.starts_at < end + timedelta(days=1),
        AvailabilityException.ends_at > start - timedelta(days=1))


def _candidate_slots(*, db: Session, npi: str, types: list[AppointmentType], start: datetime,
                     end: datetime) -> list[Slot]:
    """Slots from weekly hours plus extra hours, minus time off, starting in [start, end); holds not applied."""
    hours = list(db.scalars(select(WeeklyHours).where(WeeklyHours.npi == npi)))
    windows, time_off = _windows(hours, list(db.scalars(_exceptions_query([npi], start, end))), start, end)
    found = {Slot(start=t, end=t + timedelta(minutes=appointment_type.duration_minutes),
                  type_code=appointment_type.code)
             for appointment_type in types for window in windows
             for t in _starts_in(window, timedelta(minutes=appointment_type.duration_minutes), time_off, start, end)}
    return sorted(found, key=lambda s: (s.start, s.end, s.type_code))


def _held_cells(*, db: Session, npi: str, start: datetime, end: datetime, ignore_appointment_id: int | None = None
                ) -> set[datetime]:
    query = select(SlotHold.cell_start_utc).where(SlotHold.npi == npi, SlotHold.cell_start_utc >= _floor_cell(start),
                                                   SlotHold.cell_start_utc < end)
    if ignore_appointment_id is not None:
        query = query.where(SlotHold.appointment_id != ignore_appointment_id)
    return set(db.scalars(query))


def free_slots(*, db: Session, npi: str, start: datetime, end: datetime, type_code: str | None = None,
               now: datetime | None = None, ignore_appointment_id: int | None = None) -> list[Slot]:
    """Open slots starting in [start, end): hours + extra hours - time off - held cells - the past."""
    now = now or utcnow()
    if not provider_is_bookable(db=db, npi=npi):
        return []
    types = appointment_types(db=db, npi=npi)
    if type_code is not None:
        types = [t for t in types if t.code == type_code]
    start = max(start.astimezone(UTC), now)
    end = end.astimezone(UTC)
    if end <= start or not types:
        return []
    candidates = _candidate_slots(db=db, npi=npi, types=types, start=start, end=end)
    if not candidates:
        return []
    held = _held_cells(db=db, npi=npi, start=candidates[0].start, end=max(s.end for s in candidates),
                       ignore_appointment_id=ignore_appointment_id)
    return [s for s in candidates if not any(c in held for c in _cells(s.start, s.end))]


def list_slots(*, db: Session, npi: str, start: datetime | None = None, end: datetime | None = None,
               type_code: str | None = None, now: datetime | None = None) -> tuple[str | None, list[Slot]]:
    """The public slot listing: checks the provider, the type and the range (at most 60 days; from now for 14 days
    when not given). Slots past the provider's booking horizon are not listed: they cannot be booked."""
    directory.get_provider(db=db, npi=npi)
    now = now or utcnow()
    start = start or now
    end = end or start + DEFAULT_LISTING
    if end <= start:
        raise InvalidBooking("to", "must be later than 'from'")
    if end - start > MAX_RANGE:
        raise InvalidBooking("to", "the range may cover at most 60 days")
    types = appointment_types(db=db, npi=npi)
    if type_code is not None and type_code not in {t.code for t in types}:
        allowed = ", ".join(t.code for t in types) or "none: this provider has no appointment types yet"
        raise InvalidBooking("type", f"must be one of this provider's appointment types ({allowed})")
    zone = types and db.scalar(select(WeeklyHours.time_zone).where(WeeklyHours.npi == npi).limit(1))
    # A slot may start up to and including the horizon's last moment: the range is [start, end).
    end = min(end, booking_horizon_end(db=db, npi=npi, now=now) + timedelta(microseconds=1))
    return zone or None, free_slots(db=db, npi=npi, start=start, end=end, type_code=type_code, now=now)


@dataclass(frozen=True)
class Opening:
    """A provider's soonest free slot, with the zone to show it in."""

    npi: str
    slot: Slot
    time_zone: str


def _grouped(rows: Iterable, key: str) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for row in rows:
        out[getattr(row, key)].append(row)
    return out


def _first_free(windows: list[tuple[datetime, datetime]], types: list[AppointmentType],
                time_off: list[tuple[datetime, datetime]], held: set[datetime], start: datetime, end: datetime
                ) -> Slot | None:
    """The earliest slot of any type starting in [start, end) none of whose cells is held (windows in order)."""
    best: Slot | None = None
    for window in windows:  # a window opening after the best start cannot beat it
        if best is not None and window[0] >= best.start:
            break
        for appointment_type in types:
            length = timedelta(minutes=appointment_type.duration_minutes)
            for t in _starts_in(window, length, time_off, start, end):
                if best is not None and t >= best.start:
                    break
                if not any(c in held for c in _cells(t, t + length)):
                    best = Slot(start=t, end=t + length, type_code=appointment_type.code)
                    break
    return best


# The appointment type code a new patient books, by convention (the demo and the availability page suggest it).
NEW_PATIENT_TYPE = "new_patient"


def soonest_openings(*, db: Session, npis: Iterable[str], horizon: timedelta = SOONEST_HORIZON,
                     now: datetime | None = None) -> dict[str, Opening]:
    """Each bookable provider's soonest free slot starting within the horizon: of a new-patient visit when they
    offer one (matching finds doctors for people who are not their patients yet), else of any of their types.

    For a whole batch (matching ranks hundreds of providers) in five queries, however many NPIs: verified
    accounts, appointment types, weekly hours, exceptions, held cells. Providers with nothing free are left out.
    """
    now = now or utcnow()
    end = now + horizon
    bookable = sorted(accounts.verified_provider_npis(db, npis=npis))
    if not bookable:
        return {}
    types: dict[str, list[AppointmentType]] = defaultdict(list)
    horizon_days: dict[str, int] = {}
    for appointment_type, days in db.execute(
            select(AppointmentType, ProviderBookingSettings.booking_horizon_days)
            .outerjoin(ProviderBookingSettings, ProviderBookingSettings.npi == AppointmentType.npi)
            .where(AppointmentType.npi.in_(bookable))
            .order_by(AppointmentType.duration_minutes, AppointmentType.code)):
        types[appointment_type.npi].append(appointment_type)
        horizon_days[appointment_type.npi] = days or DEFAULT_BOOKING_HORIZON_DAYS
    bookable = [npi for npi in bookable if types[npi]]
    hours = _grouped(db.scalars(select(WeeklyHours).where(WeeklyHours.npi.in_(bookable))), "npi")
    exceptions = _grouped(db.scalars(_exceptions_query(bookable, now, end)), "npi")
    longest = max((t.duration_minutes for found in types.values() for t in found), default=0)
    held: dict[str, set[datetime]] = defaultdict(set)
    for npi, cell in db.execute(select(SlotHold.npi, SlotHold.cell_start_utc).where(
            SlotHold.npi.in_(bookable), SlotHold.cell_start_utc >= _floor_cell(now),
            SlotHold.cell_start_utc < end + timedelta(minutes=longest))):
        held[npi].add(cell)
    out: dict[str, Opening] = {}
    for npi in bookable:
        best = None
        last = min(end, now + timedelta(days=horizon_days[npi]))
        # Most providers have a free slot within days: build two days of windows first, the whole horizon if not.
        for span_end in sorted({min(now + timedelta(days=2), last), last}):
            windows, time_off = _windows(hours[npi], exceptions[npi], now, span_end)
            offered = [t for t in types[npi] if t.code == NEW_PATIENT_TYPE] or types[npi]
            best = _first_free(windows, offered, time_off, held[npi], now, span_end)
            if best is not None:
                break
        if best is not None:
            zone = hours[npi][0].time_zone if hours[npi] else location_time_zone(db=db, npi=npi)
            out[npi] = Opening(npi=npi, slot=best, time_zone=zone)
    return out


def _next_free(*, db: Session, npi: str, after: datetime, type_code: str) -> list[Slot]:
    db.rollback()
    end = min(after + timedelta(days=14), booking_horizon_end(db=db, npi=npi, now=utcnow()) + timedelta(seconds=1))
    slots = free_slots(db=db, npi=npi, start=after, end=end, type_code=type_code)
    return slots[:NEXT_FREE_COUNT]


def _slot_taken(db: Session, *, npi: str, start: datetime, type_code: str, zone: str) -> SlotTaken:
    nxt = _next_free(db=db, npi=npi, after=start, type_code=type_code)
    tz = ZoneInfo(zone)
    return SlotTaken("This slot was just taken by someone else; please choose another.",
                     next_free_slots=[{"start": s.start.astimezone(tz).isoformat(),
                                       "end": s.end.astimezone(tz).isoformat(), "type": s.type_code} for s in nxt])


# ---- booking ------------------------------------------------------------------------------------------------

def request_digest(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _checked_slot(*, db: Session, npi: str, start: datetime, type_code: str, end: datetime | None,
                  now: datetime, ignore_appointment_id: int | None = None) -> tuple[AppointmentType, str]:
    """Validate a wanted slot; returns its type and the location zone. Raises InvalidBooking or SlotTaken."""
    try:
        directory.get_provider(db=db, npi=npi)
    except NotFound:
        raise InvalidBooking("npi", "no active provider with this NPI in the directory") from None
    if not provider_is_bookable(db=db, npi=npi):
        raise InvalidBooking("npi", "this provider does not take bookings through FusionCare yet (not verified)")
    types = {t.code: t for t in appointment_types(db=db, npi=npi)}
    if type_code not in types:
        allowed = ", ".join(types) or "none"
        raise InvalidBooking("type", f"must be one of this provider's appointment types ({allowed})")
    chosen = types[type_code]
    start = start.astimezone(UTC)
    if start <= now:
        raise InvalidBooking("start", "is in the past; choose a future slot")
    horizon = booking_horizon_days(db=db, npi=npi)
    if start > now + timedelta(days=horizon):
        raise InvalidBooking("start", f"is more than {horizon} days ahead; this provider takes bookings up to "
                                      f"{horizon} days ahead")
    length = timedelta(minutes=chosen.duration_minutes)
    if end is not None and end.astimezone(UTC) - start != length:
        raise InvalidBooking("end", f"a {type_code} appointment lasts {chosen.duration_minutes} minutes")
    zone = db.scalar(select(WeeklyHours.time_zone).where(WeeklyHours.npi == npi).limit(1)) or \
        location_time_zone(db=db, npi=npi)
    candidates = _candidate_slots(db=db, npi=npi, types=[chosen], start=start, end=start + timedelta(seconds=1))
    if not any(s.start == start for s in candidates):
        raise InvalidBooking("start", f"is not one of this provider's {type_code} slots (outside their hours, "
                                      f"during time off, or off the {chosen.duration_minutes}-minute grid); "
                                      f"GET /api/v1/providers/{npi}/slots lists the open ones")
    if _held_cells(db=db, npi=npi, start=start, end=start + length, ignore_appointment_id=ignore_appointment_id):
        raise _slot_taken(db, npi=npi, start=start, type_code=type_code, zone=zone)
    return chosen, zone


def overlapping_appointment(*, db: Session, patient_id: int, starts_at: datetime, ends_at: datetime,
                            ignore_appointment_id: int | None = None) -> Appointment | None:
    """The patient's appointment (with any provider) that keeps its time and overlaps [starts_at, ends_at)."""
    query = select(Appointment).where(Appointment.patient_id == patient_id,
                                      Appointment.status.in_(HOLDING_STATUSES),
                                      Appointment.starts_at < ends_at, Appointment.ends_at > starts_at)
    if ignore_appointment_id is not None:
        query = query.where(Appointment.id != ignore_appointment_id)
    return db.scalars(query.order_by(Appointment.starts_at).limit(1)).first()


def _overlaps(db: Session, other: Appointment) -> AppointmentOverlaps:
    zone = ZoneInfo(other.time_zone)
    try:
        name = display_case(directory.get_provider(db=db, npi=other.npi).display_name)
    except NotFound:
        name = f"NPI {other.npi}"
    start = other.starts_at.astimezone(zone)
    return AppointmentOverlaps(
        f"You already have an appointment at this time (appointment {other.id}: {when_short(start)} with "
        f"{name}). Cancel or move that one first.",
        overlapping_appointment={"id": other.id, "npi": other.npi, "provider_name": name,
                                 "start": start.isoformat(), "end": other.ends_at.astimezone(zone).isoformat(),
                                 "status": other.status})


def _hold(db: Session, appointment: Appointment) -> None:
    """The provider's and the patient's cells for this appointment (the primary keys refuse a second holder)."""
    cells = _cells(appointment.starts_at, appointment.ends_at)
    db.add_all(SlotHold(npi=appointment.npi, cell_start_utc=c, appointment_id=appointment.id) for c in cells)
    db.add_all(PatientHold(patient_id=appointment.patient_id, cell_start_utc=c, appointment_id=appointment.id)
               for c in cells)


def _message(appointment: Appointment, kind: MessageKind, recipient: str, now: datetime,
             previous_starts_at: datetime | None = None) -> OutboxMessage:
    return OutboxMessage(appointment_id=appointment.id, kind=kind, recipient=recipient, due_at=now, created_at=now,
                         previous_starts_at=previous_starts_at, attempts=0)


def _reminders(appointment: Appointment, now: datetime) -> list[OutboxMessage]:
    return [OutboxMessage(appointment_id=appointment.id, kind=kind, recipient="patient",
                          due_at=appointment.starts_at - lead, created_at=now, attempts=0)
            for kind, lead in REMINDER_LEADS.items() if appointment.starts_at - lead > now]


def _replay(db: Session, *, patient_id: int, key: str, digest: str) -> Appointment | None:
    found = db.get(IdempotencyKey, (patient_id, key))
    if found is None:
        return None
    if found.request_digest != digest:
        raise IdempotencyKeyReused("Idempotency-Key", "was already used with a different request body; "
                                                      "use a new key for a new booking", location="header")
    return db.get(Appointment, found.appointment_id)


def book(*, db: Session, actor: Actor, npi: str, start: datetime, type_code: str, end: datetime | None = None,
         share_latest_assessment: bool = False, idempotency_key: str | None = None, patient_name: str | None = None,
         reason: str | None = None, now: datetime | None = None) -> tuple[Appointment, bool]:
    """Book a slot for the signed-in patient. Returns (appointment, created); a replayed key gives created=False.

    In the one write transaction: the appointment, the provider's and the patient's cell holds, the idempotency
    key, and the messages (the request to the patient and the provider, the two reminders)."""
    if actor.user_id is None:
        raise ValueError("booking needs a signed-in patient")
    now = now or utcnow()
    digest = request_digest({"npi": npi, "start": start.astimezone(UTC).isoformat(), "type": type_code,
                             "end": end.astimezone(UTC).isoformat() if end else None,
                             "share_latest_assessment": share_latest_assessment})
    if idempotency_key is not None:
        if not IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidBooking("Idempotency-Key", "must be 1 to 255 printable ASCII characters without spaces",
                                 location="header")
        replayed = _replay(db, patient_id=actor.user_id, key=idempotency_key, digest=digest)
        if replayed is not None:
            return replayed, False
    try:
        chosen, zone = _checked_slot(db=db, npi=npi, start=start, type_code=type_code, end=end, now=now)
        starts_at = start.astimezone(UTC)
        ends_at = starts_at + timedelta(minutes=chosen.duration_minutes)
        other = overlapping_appointment(db=db, patient_id=actor.user_id, starts_at=starts_at, ends_at=ends_at)
        if other is not None:
            raise _overlaps(db, other)
    except (SlotTaken, InvalidBooking, AppointmentOverlaps):
        # Perhaps the slot (or the patient's time) went to a parallel request carrying this same key, which
        # committed after our replay check: that booking is this request's, not a conflict.
        replayed = _replay(db, patient_id=actor.user_id, key=idempotency_key, digest=digest) \
            if idempotency_key is not None else None
        if replayed is not None:
            return replayed, False
        raise
    shared = None
    if share_latest_assessment:
        shared = saved_assessments.latest_id_for_owner(db, owner_id=actor.user_id)
    db.commit()  # end the read phase: the write transaction below starts with an INSERT (see module docstring)
    appointment = Appointment(patient_id=actor.user_id, npi=npi, type_code=type_code, starts_at=starts_at,
                              ends_at=ends_at, time_zone=zone, status=AppointmentStatus.requested,
                              shared_assessment_id=shared, patient_name=patient_name, reason=reason, sequence=0,
                              created_at=now, updated_at=now)
    try:
        db.add(appointment)
        db.flush()
        _hold(db, appointment)
        if idempotency_key is not None:
            db.add(IdempotencyKey(patient_id=actor.user_id, key=idempotency_key, request_digest=digest,
                                  appointment_id=appointment.id, created_at=now))
        db.add_all([_message(appointment, MessageKind.requested, "patient", now),
                    _message(appointment, MessageKind.requested, "provider", now), *_reminders(appointment, now)])
        db.commit()
    except IntegrityError:
        db.rollback()
        if idempotency_key is not None:
            replayed = _replay(db, patient_id=actor.user_id, key=idempotency_key, digest=digest)
            if replayed is not None:
                return replayed, False
        raise _lost_race(db, patient_id=actor.user_id, npi=npi, starts_at=starts_at, ends_at=ends_at,
                         type_code=type_code, zone=zone) from None
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.create", record_type=RECORD_TYPE,
                 record_id=appointment.id, outcome=Outcome.allowed)
    return appointment, True


def _lost_race(db: Session, *, patient_id: int, npi: str, starts_at: datetime, ends_at: datetime, type_code: str,
               zone: str, ignore_appointment_id: int | None = None) -> SlotTaken | AppointmentOverlaps:
    """Which holder refused the write: the patient's own other appointment, or someone else's on the slot."""
    db.rollback()
    other = overlapping_appointment(db=db, patient_id=patient_id, starts_at=starts_at, ends_at=ends_at,
                                    ignore_appointment_id=ignore_appointment_id)
    if other is not None:
        return _overlaps(db, other)
    return _slot_taken(db, npi=npi, start=starts_at, type_code=type_code, zone=zone)


def get(*, db: Session, appointment_id: str | int) -> Appointment | None:
    """Unchecked lookup; routes use ``read`` (or the other checked functions) instead. An id that is not ASCII
    digits within the 32-bit ids the database stores names no appointment."""
    number = appointment_id if isinstance(appointment_id, int) else parse_row_id(appointment_id)
    return db.get(Appointment, number) if number is not None and 1 <= number <= MAX_ROW_ID else None


def read(*, db: Session, actor: Actor, appointment_id: int | str) -> Appointment:
    """The patient who booked it, or the booked (verified) provider, may read it; anyone else gets NotFound."""
    appointment = get(db=db, appointment_id=appointment_id)
    authorize(db, actor=actor, action=Action.read, record_type=RECORD_TYPE, record_id=appointment_id,
              owner_id=appointment.patient_id if appointment else None,
              shared_with_npis=(appointment.npi,) if appointment else ())
    assert appointment is not None  # authorize raised NotFound for a missing one
    return appointment


def has_shareable_assessment(*, db: Session, patient_id: int) -> bool:
    """Whether the patient has a saved symptom check a booking could share (their latest). Without one the booking
    page offers nothing to share, rather than a box that would share nothing."""
    return saved_assessments.latest_id_for_owner(db, owner_id=patient_id) is not None


def shared_assessment_summary(*, db: Session, appointment: Appointment) -> dict | None:
    if appointment.shared_assessment_id is None:
        return None
    return saved_assessments.summary(db, assessment_id=appointment.shared_assessment_id)


def list_for_patient(*, db: Session, actor: Actor) -> list[Appointment]:
    found = list(db.scalars(select(Appointment).where(Appointment.patient_id == actor.user_id)
                            .order_by(Appointment.starts_at)))
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.list", record_type=RECORD_TYPE, outcome=Outcome.allowed,
                 detail=f"{len(found)} records")
    return found


def has_seen(*, db: Session, patient_id: int, npi: str) -> bool:
    """Whether the patient has (or had) an appointment with this provider that was not declined or cancelled:
    then they are not a new patient there."""
    return db.scalar(select(Appointment.id).where(Appointment.patient_id == patient_id, Appointment.npi == npi,
                                                  Appointment.status.in_(HOLDING_STATUSES)).limit(1)) is not None


def last_patient_name(*, db: Session, patient_id: int) -> str | None:
    """The name the patient gave at their latest booking, to offer it again."""
    return db.scalar(select(Appointment.patient_name).where(Appointment.patient_id == patient_id,
                                                            Appointment.patient_name.is_not(None))
                     .order_by(Appointment.created_at.desc(), Appointment.id.desc()).limit(1))


def schedule_for_provider(*, db: Session, actor: Actor, start: datetime, end: datetime) -> list[Appointment]:
    """The verified provider's appointments starting in [start, end), every status."""
    if end <= start:
        raise InvalidBooking("to", "must be later than 'from'")
    if end - start > MAX_RANGE:
        raise InvalidBooking("to", "the range may cover at most 60 days")
    found = list(db.scalars(select(Appointment).where(Appointment.npi == actor.verified_npi,
                                                      Appointment.starts_at >= start, Appointment.starts_at < end)
                            .order_by(Appointment.starts_at)))
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.schedule", record_type=RECORD_TYPE,
                 outcome=Outcome.allowed, detail=f"{len(found)} records")
    return found


@dataclass(frozen=True)
class Dashboard:
    """A verified provider's start page: requests to decide first, then today, then what is coming up."""

    waiting: list[Appointment]
    today: list[Appointment]
    upcoming: list[Appointment]
    time_zone: str


DASHBOARD_DAYS = 30


def provider_dashboard(*, db: Session, actor: Actor, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    npi = actor.verified_npi
    if npi is None:
        raise NotFound("Not Found")
    zone_name = location_time_zone(db=db, npi=npi)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    day_start = datetime.combine(today, time.min, tzinfo=zone).astimezone(UTC)
    day_end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    found = list(db.scalars(select(Appointment).where(
        Appointment.npi == npi, Appointment.starts_at >= day_start,
        Appointment.starts_at < now + timedelta(days=DASHBOARD_DAYS)).order_by(Appointment.starts_at)))
    waiting = [a for a in found if a.status == AppointmentStatus.requested and a.starts_at > now]
    todays = [a for a in found if a.starts_at < day_end and a not in waiting]
    upcoming = [a for a in found if a.starts_at >= day_end and a.status == AppointmentStatus.confirmed]
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.dashboard", record_type=RECORD_TYPE,
                 outcome=Outcome.allowed, detail=f"{len(found)} records")
    return Dashboard(waiting=waiting, today=todays, upcoming=upcoming, time_zone=zone_name)


def _release(db: Session, appointment: Appointment) -> None:
    db.execute(delete(SlotHold).where(SlotHold.appointment_id == appointment.id))
    db.execute(delete(PatientHold).where(PatientHold.appointment_id == appointment.id))
    db.execute(delete(OutboxMessage).where(OutboxMessage.appointment_id == appointment.id,
                                           OutboxMessage.kind.in_(REMINDER_KINDS), OutboxMessage.done_at.is_(None)))


def cancel(*, db: Session, actor: Actor, appointment_id: int | str, now: datetime | None = None) -> Appointment:
    """The patient cancels; the slot is free again at once, and both sides are told."""
    now = now or utcnow()
    appointment = get(db=db, appointment_id=appointment_id)
    authorize(db, actor=actor, action=Action.delete, record_type=RECORD_TYPE, record_id=appointment_id,
              owner_id=appointment.patient_id if appointment else None)
    assert appointment is not None  # authorize raised NotFound for a missing one
    if appointment.status not in CHANGEABLE:
        raise AppointmentNotChangeable(f"A {appointment.status} appointment cannot be cancelled.")
    if appointment.starts_at <= now:
        raise AppointmentNotChangeable("An appointment that has started cannot be cancelled.")
    db.commit()
    _release(db, appointment)
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_by = "patient"
    appointment.sequence += 1
    appointment.updated_at = now
    db.add_all([_message(appointment, MessageKind.cancelled, "patient", now),
                _message(appointment, MessageKind.cancelled, "provider", now)])
    db.commit()
    return appointment


def reschedule(*, db: Session, actor: Actor, appointment_id: int | str, start: datetime, type_code: str | None = None,
               now: datetime | None = None) -> Appointment:
    """Move an appointment atomically: the old slot is freed only in the transaction that takes the new one, so if
    the new one is gone (or overlaps another of the patient's appointments) the old time is kept."""
    now = now or utcnow()
    appointment = get(db=db, appointment_id=appointment_id)
    authorize(db, actor=actor, action=Action.update, record_type=RECORD_TYPE, record_id=appointment_id,
              owner_id=appointment.patient_id if appointment else None)
    assert appointment is not None  # authorize raised NotFound for a missing one
    if appointment.status not in CHANGEABLE:
        raise AppointmentNotChangeable(f"A {appointment.status} appointment cannot be moved.")
    if appointment.starts_at <= now:
        raise AppointmentNotChangeable("An appointment that has started cannot be moved.")
    type_code = type_code or appointment.type_code
    chosen, zone = _checked_slot(db=db, npi=appointment.npi, start=start, type_code=type_code, end=None, now=now,
                                 ignore_appointment_id=appointment.id)
    starts_at = start.astimezone(UTC)
    ends_at = starts_at + timedelta(minutes=chosen.duration_minutes)
    other = overlapping_appointment(db=db, patient_id=appointment.patient_id, starts_at=starts_at, ends_at=ends_at,
                                    ignore_appointment_id=appointment.id)
    if other is not None:
        raise _overlaps(db, other)
    previous = appointment.starts_at
    db.commit()
    try:
        _release(db, appointment)
        appointment.starts_at, appointment.ends_at, appointment.type_code = starts_at, ends_at, type_code
        appointment.status = AppointmentStatus.requested  # the provider confirms the new time again
        appointment.sequence += 1
        appointment.updated_at = now
        db.flush()
        _hold(db, appointment)
        db.add_all([_message(appointment, MessageKind.rescheduled, "patient", now, previous),
                    _message(appointment, MessageKind.rescheduled, "provider", now, previous),
                    *_reminders(appointment, now)])
        db.commit()
    except IntegrityError:
        db.rollback()
        raise _lost_race(db, patient_id=appointment.patient_id, npi=appointment.npi, starts_at=starts_at,
                         ends_at=ends_at, type_code=type_code, zone=zone,
                         ignore_appointment_id=appointment.id) from None
    return appointment


DECISIONS = ("confirm", "decline", "cancel")


def for_provider_cancel(*, db: Session, actor: Actor, appointment_id: int | str, now: datetime | None = None
                        ) -> tuple[Appointment, bool]:
    """The booked provider's own appointment and whether respond() would cancel it now (the same rule,
    _why_not), for the page that asks first; anyone else gets NotFound, as respond() answers them."""
    now = now or utcnow()
    appointment = read(db=db, actor=actor, appointment_id=appointment_id)
    if actor.verified_npi is None or appointment.npi != actor.verified_npi:
        raise NotFound("There is no appointment with this id.")
    return appointment, _why_not(appointment, "cancel", now) is None


def _why_not(appointment: Appointment, decision: str, now: datetime) -> str | None:
    """Why the booked provider can't take ``decision`` on the appointment now, or None when they can."""
    allowed_from = {"confirm": (AppointmentStatus.requested,), "decline": CHANGEABLE,
                    "cancel": (AppointmentStatus.confirmed,)}[decision]
    if appointment.status not in allowed_from:
        done = {"confirm": "confirmed", "decline": "declined", "cancel": "cancelled"}[decision]
        return f"A {appointment.status} appointment cannot be {done}."
    if decision == "cancel" and appointment.starts_at <= now:
        return "An appointment that has started cannot be cancelled."
    return None


def respond(*, db: Session, actor: Actor, appointment_id: int | str, decision: str, now: datetime | None = None
            ) -> Appointment:
    """The booked provider confirms or declines a requested appointment, or cancels a confirmed one (declining
    and cancelling free the slot); the patient is told."""
    now = now or utcnow()
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    appointment = get(db=db, appointment_id=appointment_id)
    mine = appointment is not None and actor.verified_npi is not None and appointment.npi == actor.verified_npi
    outcome = Outcome.allowed if mine else (Outcome.denied if appointment else Outcome.not_found)
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.{decision}", record_type=RECORD_TYPE,
                 record_id=appointment_id, outcome=outcome)
    if appointment is None or not mine:
        raise NotFound("There is no appointment with this id.")
    if (refusal := _why_not(appointment, decision, now)) is not None:
        raise AppointmentNotChangeable(refusal)
    db.commit()
    if decision == "confirm":
        appointment.status = AppointmentStatus.confirmed
        kind = MessageKind.confirmed
    else:
        _release(db, appointment)
        if decision == "decline":
            appointment.status, kind = AppointmentStatus.declined, MessageKind.declined
        else:
            appointment.status, kind = AppointmentStatus.cancelled, MessageKind.cancelled
            appointment.cancelled_by = "provider"
    appointment.sequence += 1
    appointment.updated_at = now
    db.add(_message(appointment, kind, "patient", now))
    db.commit()
    return appointment


def type_names(*, db: Session, npi: str) -> dict[str, str]:
    """Appointment type code -> the name patients see ('New-patient consult')."""
    return {t.code: t.name for t in appointment_types(db=db, npi=npi)}


def type_name(names: dict[str, str], code: str) -> str:
    return names.get(code) or code.replace("_", " ").capitalize()


# ---- personal data ------------------------------------------------------------------------------------------

def export_for_owner(*, db: Session, user_id: int) -> list[dict]:
    rows = db.scalars(select(Appointment).where(Appointment.patient_id == user_id).order_by(Appointment.starts_at))
    return [{"id": a.id, "npi": a.npi, "type": a.type_code, "start": a.starts_at.isoformat(),
             "end": a.ends_at.isoformat(), "status": a.status, "shared_assessment_id": a.shared_assessment_id,
             "patient_name": a.patient_name, "reason": a.reason, "cancelled_by": a.cancelled_by,
             "created_at": a.created_at.isoformat()} for a in rows]


def erase_for_owner(*, db: Session, user_id: int) -> int:
    ids = select(Appointment.id).where(Appointment.patient_id == user_id).scalar_subquery()
    for table in (SlotHold, PatientHold, OutboxMessage, IdempotencyKey):
        db.execute(delete(table).where(table.appointment_id.in_(ids)))
    return rowcount(db.execute(delete(Appointment).where(Appointment.patient_id == user_id)))


personal_data.register("appointments", export=export_for_owner, erase=erase_for_owner)
