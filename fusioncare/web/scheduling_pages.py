"""Scheduling pages: choose a slot, my appointments (cancel, calendar file), the provider's day or week schedule."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from fusioncare.accounts.csrf import csrf_protect
from fusioncare.accounts.deps import CurrentProvider, CurrentUser, OptionalUser, RequestActor, provider_npi
from fusioncare.deps import DbSession
from fusioncare.directory import service as directory
from fusioncare.directory.errors import ProviderNotFound
from fusioncare.errors import DomainError, InvalidInput
from fusioncare.inputs import Day, RowId, parse_moment
from fusioncare.scheduling import service
from fusioncare.scheduling.errors import SlotTaken
from fusioncare.web import availability_form
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
BOOKING_DAYS = 7
NpiPath = Annotated[str, Path(max_length=20)]


def _booking_context(db, npi: str, type_code: str | None) -> dict:
    provider = directory.get_provider(db=db, npi=npi)
    types = service.appointment_types(db=db, npi=npi)
    chosen = next((t for t in types if t.code == type_code), types[0] if types else None)
    now = datetime.now(UTC)
    zone_name: str | None = None
    slots: list[service.Slot] = []
    if chosen is not None:
        zone_name, slots = service.list_slots(db=db, npi=npi, start=now, end=now + timedelta(days=BOOKING_DAYS),
                                              type_code=chosen.code)
    zone = ZoneInfo(zone_name) if zone_name else UTC
    days: dict[date, list] = defaultdict(list)
    for slot in slots:
        local = slot.start.astimezone(zone)
        days[local.date()].append({"value": local.isoformat(), "label": local.strftime("%H:%M")})
    return {"provider": provider, "types": types, "chosen": chosen, "days": sorted(days.items()),
            "zone": zone_name, "errors": {}, "message": ""}


@router.get("/doctors/{npi}/book")
def booking_page(request: Request, db: DbSession, user: OptionalUser, npi: NpiPath,
                 type: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    try:
        context = _booking_context(db, npi, type)
    except ProviderNotFound:
        return templates.TemplateResponse(request, "directory/not_found.html", {"npi": npi}, status_code=404)
    return templates.TemplateResponse(request, "scheduling/book.html", {**context, "user": user})


@router.post("/doctors/{npi}/book")
def book(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor, npi: NpiPath,
         start: Annotated[str, Form(max_length=64)] = "", type: Annotated[str, Form(max_length=40)] = "",
         share: Annotated[str | None, Form(max_length=10)] = None) -> Response:
    try:
        moment = parse_moment(start)
        if moment is None:
            raise InvalidInput("start", "choose one of the times shown")
        appointment, _ = service.book(db=db, actor=actor, npi=npi, start=moment, type_code=type,
                                      share_latest_assessment=share == "yes")
    except (InvalidInput, SlotTaken) as exc:
        return _booking_error(request, db, user, npi, type, exc)
    return RedirectResponse(f"/appointments?booked={appointment.id}", status_code=303)


def _booking_error(request: Request, db, user, npi: str, type_code: str, exc: DomainError) -> Response:
    context = _booking_context(db, npi, type_code)
    if isinstance(exc, InvalidInput):
        context["message"] = (f"{exc.field_message}." if exc.field != "start"
                              else "Please choose one of the times shown.")
        status = 422
    else:
        context["message"] = "Someone else booked that time a moment ago. Please choose another time."
        status = 409
    return templates.TemplateResponse(request, "scheduling/book.html", {**context, "user": user}, status_code=status)


def _row(db, appointment) -> dict:
    zone = ZoneInfo(appointment.time_zone)
    try:
        name = directory.get_provider(db=db, npi=appointment.npi).display_name
    except ProviderNotFound:
        name = f"NPI {appointment.npi}"
    return {"id": appointment.id, "provider": name, "npi": appointment.npi, "type": appointment.type_code,
            "start": appointment.starts_at.astimezone(zone), "end": appointment.ends_at.astimezone(zone),
            "status": appointment.status, "cancellable": appointment.status in service.CHANGEABLE
            and appointment.starts_at > datetime.now(UTC), "summary":
            service.shared_assessment_summary(db=db, appointment=appointment)}


@router.get("/appointments")
def my_appointments(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor) -> Response:
    rows = [_row(db, a) for a in service.list_for_patient(db=db, actor=actor)]
    booked = request.query_params.get("booked", "")
    return templates.TemplateResponse(request, "scheduling/mine.html",
                                      {"user": user, "appointments": rows, "booked": booked})


@router.post("/appointments/{appointment_id}/cancel")
def cancel(db: DbSession, user: CurrentUser, actor: RequestActor,
           appointment_id: Annotated[str, Path(max_length=12)]) -> Response:
    service.cancel(db=db, actor=actor, appointment_id=appointment_id)
    return RedirectResponse("/appointments", status_code=303)


@router.get("/provider/schedule")
def provider_schedule(request: Request, db: DbSession, provider: CurrentProvider, actor: RequestActor,
                      day: Annotated[Day | None, Query()] = None,
                      view: Annotated[str, Query(pattern="^(day|week)$")] = "day") -> Response:
    zone_name = service.location_time_zone(db=db, npi=provider_npi(provider))
    zone = ZoneInfo(zone_name)
    first = day or datetime.now(zone).date()
    length = 7 if view == "week" else 1
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(first + timedelta(days=length), time.min, tzinfo=zone)
    rows = [_row(db, a) for a in service.schedule_for_provider(db=db, actor=actor, start=start, end=end)]
    return templates.TemplateResponse(request, "scheduling/schedule.html", {
        "user": provider, "appointments": rows, "first": first, "view": view, "zone": zone_name,
        "previous": first - timedelta(days=length), "next": first + timedelta(days=length)})


@router.post("/provider/appointments/{appointment_id}/{decision}")
def respond(db: DbSession, provider: CurrentProvider, actor: RequestActor,
            appointment_id: Annotated[str, Path(max_length=12)],
            decision: Annotated[str, Path(pattern="^(confirm|decline)$")]) -> Response:
    appointment = service.respond(db=db, actor=actor, appointment_id=appointment_id, decision=decision)
    local_day = appointment.starts_at.astimezone(ZoneInfo(appointment.time_zone)).date()
    return RedirectResponse(f"/provider/schedule?day={local_day.isoformat()}", status_code=303)


def _availability_page(request: Request, db, provider, form: availability_form.AvailabilityForm, *,
                       exception_errors: dict[str, str] | None = None, exception_values: dict[str, str] | None = None,
                       message: str = "", status_code: int = 200) -> Response:
    npi = provider_npi(provider)
    zone_name = service.location_time_zone(db=db, npi=npi)
    zone = ZoneInfo(zone_name)
    exceptions = [{"id": e.id, "kind": availability_form.EXCEPTION_KINDS[e.kind],
                   "start": e.starts_at.astimezone(zone), "end": e.ends_at.astimezone(zone)}
                  for e in service.upcoming_exceptions(db=db, npi=npi)]
    errors = {**form.errors, **(exception_errors or {})}
    return templates.TemplateResponse(request, "scheduling/availability.html", {
        "user": provider, "zone": zone_name, "form": form, "weekdays": availability_form.WEEKDAYS,
        "kinds": availability_form.EXCEPTION_KINDS, "exceptions": exceptions, "errors": errors,
        "exception_values": exception_values or {}, "message": message,
        "field_label": availability_form.field_label}, status_code=status_code)


@router.get("/provider/availability")
def availability_page(request: Request, db: DbSession, provider: CurrentProvider,
                      saved: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    npi = provider_npi(provider)
    form = availability_form.from_stored(service.weekly_hours(db=db, npi=npi),
                                         service.appointment_types(db=db, npi=npi))
    message = {"hours": "Your hours and kinds of visit are saved.", "exception": "Saved.",
               "removed": "Removed."}.get(saved or "", "")
    return _availability_page(request, db, provider, form, message=message)


@router.post("/provider/availability")
async def save_availability(request: Request, db: DbSession, provider: CurrentProvider) -> Response:
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    form = availability_form.parse(values)
    if not form.errors:
        try:
            service.set_availability(db=db, npi=provider_npi(provider), hours=[w for _, w in form.parsed_hours],
                                     appointment_types=[t for _, t in form.parsed_types])
            return RedirectResponse("/provider/availability?saved=hours", status_code=303)
        except InvalidInput as exc:
            db.rollback()
            form.errors[form.row_field(exc.field) or "hours-0-0-start"] = exc.field_message
    return _availability_page(request, db, provider, form.with_blank_rows(), status_code=422)


@router.post("/provider/availability/exceptions")
async def add_exception(request: Request, db: DbSession, provider: CurrentProvider) -> Response:
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    npi = provider_npi(provider)
    data, errors = availability_form.parse_exception(values, service.location_time_zone(db=db, npi=npi))
    if data is not None:
        try:
            service.add_exception(db=db, npi=npi, kind=data.kind, starts_at=data.start, ends_at=data.end)
            return RedirectResponse("/provider/availability?saved=exception", status_code=303)
        except InvalidInput as exc:
            db.rollback()
            errors[f"exception-{exc.field}" if exc.field in ("start", "end") else "exception-end"] = exc.field_message
    form = availability_form.from_stored(service.weekly_hours(db=db, npi=npi),
                                         service.appointment_types(db=db, npi=npi))
    return _availability_page(request, db, provider, form, exception_errors=errors, exception_values=values,
                              status_code=422)


@router.post("/provider/availability/exceptions/{exception_id}/remove")
def remove_exception(exception_id: Annotated[RowId, Path()], db: DbSession,
                     provider: CurrentProvider) -> Response:
    service.remove_exception(db=db, npi=provider_npi(provider), exception_id=exception_id)
    return RedirectResponse("/provider/availability?saved=removed", status_code=303)
