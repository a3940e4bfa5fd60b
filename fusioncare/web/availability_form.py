"""The provider's availability form: rows of weekly hours and appointment types in, the API's shapes out.

Field names are per row (``hours-0-1-start``: Monday's second window), so every problem lands beside its field.
Blank rows are ignored; a half-filled row is an error. The service checks the rest (and names rows by index,
which ``row_field`` maps back to the form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from fusioncare.scheduling.models import DEFAULT_BOOKING_HORIZON_DAYS, MAX_BOOKING_HORIZON_DAYS
from fusioncare.scheduling.schemas import AppointmentTypeCreate, AvailabilityExceptionCreate, WeeklyHoursCreate

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EXCEPTION_KINDS = {"time_off": "Time off (no bookings)", "extra_hours": "Extra hours (open for bookings)"}


@dataclass
class AvailabilityForm:
    """What the page shows: rows as typed (or as stored), and problems by field id."""

    hours: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # weekday -> [{"start", "end"}]
    types: list[dict[str, str]] = field(default_factory=list)  # [{"code", "name", "minutes"}]
    horizon: str = str(DEFAULT_BOOKING_HORIZON_DAYS)  # days ahead patients may book, as typed
    horizon_days: int | None = None  # parsed; None keeps the stored value
    errors: dict[str, str] = field(default_factory=dict)
    # The parsed rows with the id of their first field, in the order the service sees them.
    parsed_hours: list[tuple[str, WeeklyHoursCreate]] = field(default_factory=list)
    parsed_types: list[tuple[str, AppointmentTypeCreate]] = field(default_factory=list)

    def with_blank_rows(self) -> AvailabilityForm:
        """An empty row at the end of each weekday and of the types (unless one is there), to add one more."""
        for weekday in range(7):
            rows = self.hours.setdefault(weekday, [])
            if not rows or any(rows[-1].values()):
                rows.append({"start": "", "end": ""})
        if not self.types or any(self.types[-1].values()):
            self.types.append({"code": "", "name": "", "minutes": ""})
        return self

    def row_field(self, service_field: str) -> str | None:
        """'hours[2].end' or 'appointment_types' from the service -> the form field it is about."""
        if service_field.startswith("hours[") and "]" in service_field:
            index, _, rest = service_field[len("hours["):].partition("]")
            if index.isdigit() and int(index) < len(self.parsed_hours):
                return self.parsed_hours[int(index)][0] + "-" + (rest.lstrip(".") or "start")
        if service_field == "appointment_types" and self.parsed_types:
            return self.parsed_types[0][0] + "-code"
        return None


def field_label(field_id: str) -> str:
    """'hours-0-1-end' -> 'Monday, row 2, closes': how the error summary names a field."""
    parts = field_id.split("-")
    if parts[0] == "hours" and len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
        return f"{WEEKDAYS[int(parts[1])]}, row {int(parts[2]) + 1}, {'opens' if parts[3] == 'start' else 'closes'}"
    if parts[0] == "type" and len(parts) == 3 and parts[1].isdigit():
        return f"Kind of visit {int(parts[1]) + 1}, {parts[2]}"
    return {"exception-kind": "Time off or extra hours", "exception-start": "From",
            "exception-end": "Until", HORIZON_FIELD: "How far ahead patients can book"}.get(field_id, "This")


HORIZON_FIELD = "booking-horizon-days"


def from_stored(hours, types, horizon_days: int = DEFAULT_BOOKING_HORIZON_DAYS) -> AvailabilityForm:
    form = AvailabilityForm(horizon=str(horizon_days))
    for h in hours:
        form.hours.setdefault(h.weekday, []).append({"start": _hhmm(h.start_minute), "end": _hhmm(h.end_minute)})
    form.types = [{"code": t.code, "name": t.name, "minutes": str(t.duration_minutes)} for t in types]
    return form.with_blank_rows()


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _first_message(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    return str(error["loc"][0]) if error["loc"] else "", error["msg"].removeprefix("Value error, ")


def parse(values: dict[str, str]) -> AvailabilityForm:
    """Read the posted rows; ``errors`` is empty when every filled row is well-formed."""
    form = AvailabilityForm()
    for weekday in range(7):
        index = 0
        while f"hours-{weekday}-{index}-start" in values or f"hours-{weekday}-{index}-end" in values:
            row_id = f"hours-{weekday}-{index}"
            start, end = (values.get(f"{row_id}-start", "").strip(), values.get(f"{row_id}-end", "").strip())
            form.hours.setdefault(weekday, []).append({"start": start, "end": end})
            index += 1
            if not start and not end:
                continue
            if not start or not end:
                missing = "start" if not start else "end"
                form.errors[f"{row_id}-{missing}"] = ("needs an opening time too" if missing == "start"
                                                      else "needs a closing time too")
                continue
            try:
                window = WeeklyHoursCreate(weekday=weekday, start=_time(start), end=_time(end))
            except ValueError as exc:
                name, message = _first_message(exc) if isinstance(exc, ValidationError) else ("start", str(exc))
                form.errors[f"{row_id}-{'end' if name == 'end' else 'start'}"] = message
                continue
            if window.end <= window.start:
                form.errors[f"{row_id}-end"] = "must be later than the opening time"
                continue
            form.parsed_hours.append((row_id, window))
    index, codes = 0, set()
    while f"type-{index}-code" in values:
        row_id = f"type-{index}"
        row = {key: values.get(f"{row_id}-{key}", "").strip() for key in ("code", "name", "minutes")}
        form.types.append(row)
        index += 1
        if not any(row.values()):
            continue
        try:
            kind = AppointmentTypeCreate(code=row["code"], name=row["name"], duration_minutes=row["minutes"] or 0)
        except ValidationError as exc:
            name, message = _first_message(exc)
            form.errors[f"{row_id}-{'minutes' if name == 'duration_minutes' else name or 'code'}"] = _plain(name,
                                                                                                          message)
            continue
        if kind.code in codes:
            form.errors[f"{row_id}-code"] = "is already used by another kind of visit above"
            continue
        codes.add(kind.code)
        form.parsed_types.append((row_id, kind))
    if not form.parsed_types and not any(key.startswith("type-") for key in form.errors):
        form.errors["type-0-code"] = "at least one kind of visit is needed"
    if HORIZON_FIELD in values:
        form.horizon = values[HORIZON_FIELD].strip()
        if form.horizon.isdigit() and 1 <= int(form.horizon) <= MAX_BOOKING_HORIZON_DAYS:
            form.horizon_days = int(form.horizon)
        else:
            form.errors[HORIZON_FIELD] = f"must be a number of days from 1 to {MAX_BOOKING_HORIZON_DAYS}"
    return form


def _time(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time like 09:00") from None


def _plain(name: str, message: str) -> str:
    """Pydantic's wording for our three type fields, said the way the form says it."""
    if name == "code":
        return "must start with a small letter and use only small letters, digits and _ (e.g. new_patient)"
    if name == "duration_minutes":
        return "must be a number of minutes from 5 to 480, in steps of 5"
    if name == "name":
        return "needs a name patients will see, up to 100 characters"
    return message


def parse_exception(values: dict[str, str], zone: str) -> tuple[AvailabilityExceptionCreate | None, dict[str, str]]:
    """The exception form: kind, and local start and end (``datetime-local``) in the practice's time zone."""
    errors: dict[str, str] = {}
    kind = values.get("exception-kind", "")
    if kind not in EXCEPTION_KINDS:
        errors["exception-kind"] = "choose time off or extra hours"
    moments = {}
    for name in ("start", "end"):
        raw = values.get(f"exception-{name}", "").strip()
        try:
            moments[name] = datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone)) if raw else None
        except ValueError:
            moments[name] = None
        if moments[name] is None:
            errors[f"exception-{name}"] = "needs a date and time, e.g. 2026-12-24 09:00"
    if errors:
        return None, errors
    try:
        return AvailabilityExceptionCreate(kind=kind, start=moments["start"], end=moments["end"]), errors
    except ValidationError as exc:  # e.g. a year outside 1900..2200
        name, message = _first_message(exc)
        errors[f"exception-{name if name in ('start', 'end') else 'start'}"] = message
        return None, errors
