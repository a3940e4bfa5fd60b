"""Scheduling pages: choose a slot (week by week, up to the provider's horizon) and book it, keeping the chosen
time through sign-in or sign-up; my appointments (confirmation, move, cancel, calendar file); the provider's
dashboard, schedule and availability."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from fusioncare.accounts import service as accounts
from fusioncare.accounts.audit import Actor
from fusioncare.accounts.csrf import csrf_protect
from fusioncare.accounts.deps import CurrentProvider, CurrentUser, OptionalUser, RequestActor, provider_npi
from fusioncare.accounts.models import User
from fusioncare.deps import DbSession
from fusioncare.directory import service as directory
from fusioncare.directory.errors import ProviderNotFound
from fusioncare.directory.models import Provider
from fusioncare.display import clock, when_short, zone_words
from fusioncare.errors import DomainError, InvalidInput, NotFound
from fusioncare.inputs import Day, RowId, parse_day, parse_moment
from fusioncare.scheduling import calendar, service
from fusioncare.scheduling.errors import AppointmentNotChangeable, AppointmentOverlaps, SlotTaken
from fusioncare.scheduling.mail import answer_by
from fusioncare.scheduling.models import Appointment, AppointmentStatus
from fusioncare.scheduling.schemas import MAX_NAME_LENGTH, MAX_REASON_LENGTH
from fusioncare.web import availability_form
from fusioncare.web.maps import directions_url
from fusioncare.web.templating import templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
WEEK = 7
NpiPath = Annotated[str, Path(max_length=20)]
AppointmentId = Annotated[str, Path(max_length=12)]
TypeQuery = Annotated[str | None, Query(max_length=40)]
StartQuery = Annotated[str | None, Query(max_length=64)]
WeekQuery = Annotated[str | None, Query(max_length=10)]


# ---- choosing a time ----------------------------------------------------------------------------------------

@dataclass
class Picker:
    """One week of open times of one kind of visit, in the practice's time zone."""

    days: list[tuple[date, list[dict[str, str]]]]
    week: date
    week_last: date
    earlier: date | None
    later: date | None
    next_open: dict[str, str] | None  # when this week has nothing: the first open time after it
    selected: str | None  # the chosen slot's value, when it is still open
    gone: datetime | None  # a chosen slot that is no longer open (taken meanwhile, or past)
    zone: str
    zone_words: str
    horizon_days: int
    horizon_end: date

    @property
    def selected_day(self) -> date | None:
        """The day of the chosen slot, when one is chosen and still open."""
        return next((day for day, slots in self.days if any(s["value"] == self.selected for s in slots)), None)


def _parse_moment(value: str | None) -> datetime | None:
    """A time with its offset within the bounded range (fusioncare.inputs), else None."""
    return parse_moment(value) if value else None


def _parse_day(value: str | None) -> date | None:
    return parse_day(value) if value else None


def _picker(db: Session, *, npi: str, type_code: str, week: date | None, start: datetime | None,
            ignore_appointment_id: int | None = None) -> Picker:
    now = datetime.now(UTC)
    zone_name = service.location_time_zone(db=db, npi=npi)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    horizon_days = service.booking_horizon_days(db=db, npi=npi)
    horizon = now + timedelta(days=horizon_days)
    first = week or (start.astimezone(zone).date() if start else today)
    first = min(max(first, today), horizon.astimezone(zone).date())
    window_start = datetime.combine(first, time.min, tzinfo=zone)
    window_end = min(datetime.combine(first + timedelta(days=WEEK), time.min, tzinfo=zone),
                     horizon + timedelta(microseconds=1))
    slots = service.free_slots(db=db, npi=npi, start=window_start, end=window_end, type_code=type_code, now=now,
                               ignore_appointment_id=ignore_appointment_id)
    days: dict[date, list[dict[str, str]]] = defaultdict(list)
    values = set()
    for slot in slots:
        local = slot.start.astimezone(zone)
        value = local.isoformat()
        values.add(value)
        days[local.date()].append({"value": value, "label": clock(local)})
    selected = gone = None
    if start is not None:
        wanted = start.astimezone(zone).isoformat()
        if wanted in values:
            selected = wanted
        else:
            gone = start.astimezone(zone)
    next_open = None
    if not slots and window_end < horizon:
        later = service.free_slots(db=db, npi=npi, start=window_end, end=min(window_end + timedelta(days=60),
                                                                              horizon + timedelta(microseconds=1)),
                                   type_code=type_code, now=now, ignore_appointment_id=ignore_appointment_id)
        if later:
            local = later[0].start.astimezone(zone)
            next_open = {"label": when_short(local), "value": local.isoformat(), "week": local.date().isoformat()}
    earlier = max(first - timedelta(days=WEEK), today) if first > today else None
    return Picker(days=sorted(days.items()), week=first,
                  week_last=min(first + timedelta(days=WEEK - 1), horizon.astimezone(zone).date()), earlier=earlier,
                  later=first + timedelta(days=WEEK) if window_end < horizon else None, next_open=next_open,
                  selected=selected, gone=gone, zone=zone_name, zone_words=zone_words(zone_name, window_start),
                  horizon_days=horizon_days, horizon_end=horizon.astimezone(zone).date())


def _provider_view(provider: Provider) -> dict[str, Any]:
    address = calendar.practice_address(provider)
    return {"npi": provider.npi, "name": calendar.provider_label(provider), "address": address,
            "phone": provider.phone, "directions": directions_url(address), "is_demo": provider.is_demo,
            "not_taking_new": provider.profile_confirmed and provider.accepting_new is False}


def _default_type(db: Session, *, user: User | None, npi: str, types: list) -> str | None:
    """A first visit with this provider is their new-patient visit; someone they have seen gets a follow-up."""
    codes = [t.code for t in types]
    if not codes:
        return None
    seen = user is not None and service.has_seen(db=db, patient_id=user.id, npi=npi)
    preferred = ("follow_up", service.NEW_PATIENT_TYPE) if seen else (service.NEW_PATIENT_TYPE,)
    return next((code for code in preferred if code in codes), codes[0])


def _booking_context(db: Session, *, npi: str, user: User | None, type_code: str | None, start: datetime | None,
                     week: date | None) -> dict[str, Any]:
    provider = directory.get_provider(db=db, npi=npi)
    types = service.appointment_types(db=db, npi=npi)
    bookable = bool(types) and service.provider_is_bookable(db=db, npi=npi)
    codes = {t.code for t in types}
    chosen_code = type_code if type_code in codes else _default_type(db, user=user, npi=npi, types=types)
    chosen = next((t for t in types if t.code == chosen_code), None)
    picker = _picker(db, npi=npi, type_code=chosen.code, week=week, start=start) if bookable and chosen else None
    return {"provider": _provider_view(provider), "types": types, "chosen": chosen, "bookable": bookable,
            "picker": picker, "user": user, "errors": {}, "message": "", "other": None,
            "patient_name": (service.last_patient_name(db=db, patient_id=user.id) or "") if user else "",
            "reason": "", "share": False,
            "shareable": service.has_shareable_assessment(db=db, patient_id=user.id) if user else False}


def _book_path(npi: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/doctors/{npi}/book" + (f"?{query}" if query else "")


@router.get("/doctors/{npi}/book")
def booking_page(request: Request, db: DbSession, user: OptionalUser, npi: NpiPath, type: TypeQuery = None,
                 start: StartQuery = None, week: WeekQuery = None) -> Response:
    try:
        context = _booking_context(db, npi=npi, user=user, type_code=type, start=_parse_moment(start),
                                   week=_parse_day(week))
    except ProviderNotFound:
        return templates.TemplateResponse(request, "directory/not_found.html", {"npi": npi}, status_code=404)
    return templates.TemplateResponse(request, "scheduling/book.html", context)


@router.get("/doctors/{npi}/book/account")
def continue_to_account(npi: NpiPath, type: TypeQuery = None, start: StartQuery = None,
                        account: Annotated[str, Query(pattern="^(new|existing)$")] = "new") -> Response:
    """Someone not signed in chose a time: sign up (or in), then come back to the booking with it still chosen."""
    back = _book_path(npi, type=type, start=start if _parse_moment(start) else None)
    page = "sign-up" if account == "new" else "sign-in"
    return RedirectResponse(f"/account/{page}?next={quote(back, safe='/')}", status_code=303)


@router.post("/doctors/{npi}/book")
def book(request: Request, db: DbSession, user: OptionalUser, actor: RequestActor, npi: NpiPath,
         start: Annotated[str, Form(max_length=64)] = "", type: Annotated[str, Form(max_length=40)] = "",
         patient_name: Annotated[str, Form(max_length=MAX_NAME_LENGTH)] = "",
         reason: Annotated[str, Form(max_length=MAX_REASON_LENGTH)] = "",
         share: Annotated[str | None, Form(max_length=10)] = None) -> Response:
    moment = _parse_moment(start)
    if user is None:  # signed out meanwhile: keep the chosen time through signing in again
        back = _book_path(npi, type=type or None, start=moment.isoformat() if moment else None)
        return RedirectResponse(f"/account/sign-in?next={quote(back, safe='/')}", status_code=303)
    errors = {}
    if moment is None:
        errors["start"] = "Choose one of the times shown."
    if not patient_name.strip() or "\x00" in patient_name:
        errors["patient_name"] = "Enter your full name, so the practice knows whom to expect."
        patient_name = patient_name.replace("\x00", "")
    if "\x00" in reason:
        errors["reason"] = "Write the reason in plain text."
        reason = reason.replace("\x00", "")
    if moment is not None and not errors:
        try:
            appointment, _ = service.book(db=db, actor=actor, npi=npi, start=moment, type_code=type,
                                          share_latest_assessment=share == "yes", patient_name=patient_name.strip(),
                                          reason=reason.strip() or None)
            return RedirectResponse(f"/appointments/{appointment.id}?booked=1", status_code=303)
        except (InvalidInput, SlotTaken, AppointmentOverlaps) as exc:
            return _booking_error(request, db, user, npi=npi, type_code=type, start=moment, exc=exc,
                                  typed={"patient_name": patient_name, "reason": reason, "share": share == "yes"})
    context = _booking_context(db, npi=npi, user=user, type_code=type, start=moment, week=None)
    context.update(errors=errors, patient_name=patient_name, reason=reason, share=share == "yes",
                   message="Please check " + ("this." if len(errors) == 1 else "these."))
    return templates.TemplateResponse(request, "scheduling/book.html", context, status_code=422)


def _booking_error(request: Request, db: Session, user: User, *, npi: str, type_code: str, start: datetime | None,
                   exc: DomainError, typed: dict[str, Any]) -> Response:
    context = _booking_context(db, npi=npi, user=user, type_code=type_code, start=start, week=None)
    context.update(typed)
    if isinstance(exc, AppointmentOverlaps):
        context["other"] = exc.extra.get("overlapping_appointment")
        context["message"] = "You already have an appointment at that time."
        status = 409
    elif isinstance(exc, SlotTaken):
        context["message"] = "Someone else booked that time a moment ago. Please choose another time."
        status = 409
    elif isinstance(exc, InvalidInput) and exc.field == "start" and "days ahead" in exc.field_message:
        context["errors"] = {"start": f"That time {exc.field_message}."}
        context["message"] = "Please choose one of the times shown."
        status = 422
    elif isinstance(exc, InvalidInput):
        context["errors"] = {"start": "Choose one of the times shown."} if exc.field == "start" else {}
        context["message"] = ("Please choose one of the times shown." if exc.field == "start"
                              else f"{exc.field_message[:1].upper()}{exc.field_message[1:]}.")
        status = 422
    else:
        raise exc
    return templates.TemplateResponse(request, "scheduling/book.html", context, status_code=status)


# ---- my appointments ----------------------------------------------------------------------------------------

PATIENT_STATUS = {"requested": "Waiting for the practice to confirm", "confirmed": "Confirmed",
                  "declined": "Not booked: the practice could not take this time", "completed": "Done",
                  "no_show": "Missed"}
PROVIDER_STATUS = {"requested": "Waiting for your decision", "confirmed": "Confirmed", "declined": "Declined",
                   "completed": "Done", "no_show": "Did not come"}


def _status_words(appointment: Appointment, *, for_provider: bool) -> str:
    if appointment.status == AppointmentStatus.cancelled:
        by_patient = appointment.cancelled_by != "provider"
        if for_provider:
            return "Cancelled by the patient" if by_patient else "Cancelled by you"
        return "Cancelled by you" if by_patient else "Cancelled by the practice"
    return (PROVIDER_STATUS if for_provider else PATIENT_STATUS).get(appointment.status, appointment.status)


def _row(db: Session, appointment: Appointment, *, for_provider: bool = False, email: str | None = None,
         names: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    zone = ZoneInfo(appointment.time_zone)
    try:
        provider: dict[str, Any] = _provider_view(directory.get_provider(db=db, npi=appointment.npi))
    except ProviderNotFound:
        provider = {"npi": appointment.npi, "name": f"NPI {appointment.npi}", "address": "", "phone": None,
                    "directions": "", "is_demo": False, "not_taking_new": False}
    if names is None or appointment.npi not in names:
        names = {**(names or {}), appointment.npi: service.type_names(db=db, npi=appointment.npi)}
    now = datetime.now(UTC)
    return {"id": appointment.id, "provider": provider, "npi": appointment.npi,
            "type": service.type_name(names[appointment.npi], appointment.type_code),
            "type_code": appointment.type_code,
            "start": appointment.starts_at.astimezone(zone), "end": appointment.ends_at.astimezone(zone),
            "zone": zone_words(appointment.time_zone, appointment.starts_at), "status": appointment.status,
            "status_words": _status_words(appointment, for_provider=for_provider),
            "changeable": appointment.status in service.CHANGEABLE and appointment.starts_at > now,
            "upcoming": appointment.starts_at > now and appointment.status in service.CHANGEABLE,
            "patient": appointment.patient_name or email or "A patient", "email": email,
            "reason": appointment.reason if for_provider else None,
            "summary": service.shared_assessment_summary(db=db, appointment=appointment) if for_provider else None}


@router.get("/appointments")
def my_appointments(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor,
                    notice: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    names: dict[str, dict[str, str]] = {}
    rows = [_row(db, a, names=names) for a in service.list_for_patient(db=db, actor=actor)]
    return templates.TemplateResponse(request, "scheduling/mine.html", {
        "user": user, "upcoming": [r for r in rows if r["upcoming"]],
        "past": [r for r in reversed(rows) if not r["upcoming"]], "notice": notice})


def _own(db: Session, actor: Actor, user: User, appointment_id: str) -> Appointment:
    """The signed-in patient's own appointment (the booked provider reads theirs on the dashboard): else 404."""
    appointment = service.read(db=db, actor=actor, appointment_id=appointment_id)
    if appointment.patient_id != user.id:
        raise NotFound("There is no appointment with this id.")
    return appointment


@router.get("/appointments/{appointment_id}")
def appointment_page(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor,
                     appointment_id: AppointmentId,
                     booked: Annotated[str | None, Query(max_length=1)] = None,
                     moved: Annotated[str | None, Query(max_length=1)] = None) -> Response:
    appointment = _own(db, actor, user, appointment_id)
    row = _row(db, appointment)
    zone = ZoneInfo(appointment.time_zone)
    deadline = answer_by(requested_at=appointment.updated_at, starts_at=appointment.starts_at, zone=zone)
    now = datetime.now(UTC)
    reminders = [label for label, lead in (("24 hours", timedelta(hours=24)), ("2 hours", timedelta(hours=2)))
                 if appointment.starts_at - lead > now]
    shared = ("no" if appointment.shared_assessment_id is None
              else "yes" if service.shared_assessment_summary(db=db, appointment=appointment) else "deleted")
    return templates.TemplateResponse(request, "scheduling/appointment.html", {
        "user": user, "a": row, "booked": booked == "1", "moved": moved == "1", "email": user.email, "shared": shared,
        "deadline": deadline.astimezone(zone) if deadline else None, "reminders": reminders})


@router.get("/appointments/{appointment_id}/cancel")
def cancel_page(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor,
                appointment_id: AppointmentId) -> Response:
    """"Cancel this appointment?": one slip of a thumb must not give away a held time, so cancelling asks first."""
    appointment = _own(db, actor, user, appointment_id)
    return templates.TemplateResponse(request, "scheduling/cancel.html", {"user": user, "a": _row(db, appointment)})


@router.post("/appointments/{appointment_id}/cancel")
def cancel(db: DbSession, user: CurrentUser, actor: RequestActor, appointment_id: AppointmentId) -> Response:
    _own(db, actor, user, appointment_id)
    service.cancel(db=db, actor=actor, appointment_id=appointment_id)
    return RedirectResponse("/appointments?notice=cancelled", status_code=303)


@router.get("/appointments/{appointment_id}/reschedule")
def reschedule_page(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor,
                    appointment_id: AppointmentId, week: WeekQuery = None) -> Response:
    appointment = _own(db, actor, user, appointment_id)
    return _reschedule_page(request, db, user, appointment, week=_parse_day(week))


def _reschedule_page(request: Request, db: Session, user: User, appointment: Appointment, *, week: date | None,
                     start: datetime | None = None, message: str = "", status_code: int = 200,
                     other: dict | None = None) -> Response:
    picker = _picker(db, npi=appointment.npi, type_code=appointment.type_code, week=week, start=start,
                     ignore_appointment_id=appointment.id) if appointment.status in service.CHANGEABLE else None
    return templates.TemplateResponse(request, "scheduling/reschedule.html", {
        "user": user, "a": _row(db, appointment), "picker": picker, "message": message, "other": other},
        status_code=status_code)


@router.post("/appointments/{appointment_id}/reschedule")
def reschedule(request: Request, db: DbSession, user: CurrentUser, actor: RequestActor,
               appointment_id: AppointmentId, start: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Move to another time; the old time stays booked until the new one is secured."""
    appointment = _own(db, actor, user, appointment_id)
    moment = _parse_moment(start)
    try:
        if moment is None:
            raise InvalidInput("start", "choose one of the times shown")
        service.reschedule(db=db, actor=actor, appointment_id=appointment_id, start=moment)
    except SlotTaken:
        db.rollback()
        return _reschedule_page(request, db, user, appointment, week=None, start=moment, status_code=409,
                                message="Someone else booked that time a moment ago; your appointment keeps its "
                                        "time. Please choose another.")
    except AppointmentOverlaps as exc:
        db.rollback()
        return _reschedule_page(request, db, user, appointment, week=None, start=moment, status_code=409,
                                message="You already have another appointment at that time; this one keeps its "
                                        "time.", other=exc.extra.get("overlapping_appointment"))
    except (InvalidInput, AppointmentNotChangeable) as exc:
        db.rollback()
        words = exc.field_message if isinstance(exc, InvalidInput) else exc.message
        return _reschedule_page(request, db, user, appointment, week=None, start=moment, status_code=422,
                                message=f"{words[:1].upper()}{words[1:].rstrip('.')}. Your appointment keeps its "
                                        "time.")
    return RedirectResponse(f"/appointments/{appointment.id}?moved=1", status_code=303)


# ---- the provider's side ------------------------------------------------------------------------------------

def _provider_rows(db: Session, appointments: list[Appointment]) -> list[dict[str, Any]]:
    emails = accounts.contact_emails(db, user_ids=[a.patient_id for a in appointments])
    names: dict[str, dict[str, str]] = {}
    return [_row(db, a, for_provider=True, email=emails.get(a.patient_id), names=names) for a in appointments]


@router.get("/provider")
def provider_dashboard(request: Request, db: DbSession, provider: CurrentProvider, actor: RequestActor,
                       notice: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    board = service.provider_dashboard(db=db, actor=actor)
    return templates.TemplateResponse(request, "scheduling/dashboard.html", {
        "user": provider, "waiting": _provider_rows(db, board.waiting), "today": _provider_rows(db, board.today),
        "upcoming": _provider_rows(db, board.upcoming), "zone": zone_words(board.time_zone),
        "days": service.DASHBOARD_DAYS, "notice": notice,
        "today_date": datetime.now(ZoneInfo(board.time_zone)).date()})


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
    rows = _provider_rows(db, service.schedule_for_provider(db=db, actor=actor, start=start, end=end))
    return templates.TemplateResponse(request, "scheduling/schedule.html", {
        "user": provider, "appointments": rows, "first": first, "view": view, "zone": zone_words(zone_name, start),
        "previous": first - timedelta(days=length), "next": first + timedelta(days=length)})


@router.get("/provider/appointments/{appointment_id}/cancel")
def provider_cancel_page(request: Request, db: DbSession, provider: CurrentProvider, actor: RequestActor,
                         appointment_id: AppointmentId,
                         back: Annotated[str, Query(pattern="^(dashboard|schedule)$")] = "schedule") -> Response:
    """Cancelling a patient's confirmed visit asks first: a slip on a busy dashboard would e-mail the patient that
    their visit is off."""
    appointment, cancellable = service.for_provider_cancel(db=db, actor=actor, appointment_id=appointment_id)
    return templates.TemplateResponse(request, "scheduling/provider_cancel.html", {
        "user": provider, "a": _provider_rows(db, [appointment])[0], "cancellable": cancellable, "back": back})


@router.post("/provider/appointments/{appointment_id}/{decision}")
def respond(db: DbSession, provider: CurrentProvider, actor: RequestActor, appointment_id: AppointmentId,
            decision: Annotated[str, Path(pattern="^(confirm|decline|cancel)$")],
            back: Annotated[str, Form(pattern="^(dashboard|schedule)$")] = "schedule") -> Response:
    appointment = service.respond(db=db, actor=actor, appointment_id=appointment_id, decision=decision)
    if back == "dashboard":
        return RedirectResponse(f"/provider?notice={decision}", status_code=303)
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
        "user": provider, "zone": zone_words(zone_name), "form": form, "weekdays": availability_form.WEEKDAYS,
        "kinds": availability_form.EXCEPTION_KINDS, "exceptions": exceptions, "errors": errors,
        "exception_values": exception_values or {}, "message": message,
        "field_label": availability_form.field_label}, status_code=status_code)


@router.get("/provider/availability")
def availability_page(request: Request, db: DbSession, provider: CurrentProvider,
                      saved: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    npi = provider_npi(provider)
    form = availability_form.from_stored(service.weekly_hours(db=db, npi=npi),
                                         service.appointment_types(db=db, npi=npi),
                                         service.booking_horizon_days(db=db, npi=npi))
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
                                     appointment_types=[t for _, t in form.parsed_types],
                                     booking_horizon_days=form.horizon_days)
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
                                         service.appointment_types(db=db, npi=npi),
                                         service.booking_horizon_days(db=db, npi=npi))
    return _availability_page(request, db, provider, form, exception_errors=errors, exception_values=values,
                              status_code=422)


@router.post("/provider/availability/exceptions/{exception_id}/remove")
def remove_exception(exception_id: Annotated[RowId, Path()], db: DbSession,
                     provider: CurrentProvider) -> Response:
    service.remove_exception(db=db, npi=provider_npi(provider), exception_id=exception_id)
    return RedirectResponse("/provider/availability?saved=removed", status_code=303)
