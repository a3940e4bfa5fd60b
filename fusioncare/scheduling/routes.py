"""Scheduling API: slots, booking, my appointments, cancel, reschedule, provider decisions and schedule, .ics."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Response

from fusioncare.accounts.deps import CurrentProvider, CurrentUser, RequestActor, provider_npi
from fusioncare.api.errors import documented
from fusioncare.deps import AppSettings, DbSession
from fusioncare.inputs import Moment, RowId
from fusioncare.scheduling import calendar, service
from fusioncare.scheduling.models import Appointment
from fusioncare.scheduling.schemas import (
    AppointmentCreate,
    AppointmentList,
    AppointmentRead,
    AppointmentReschedule,
    AssessmentSummary,
    AvailabilityExceptionCreate,
    AvailabilityUpdate,
    SlotList,
    SlotRead,
)

router = APIRouter(tags=["scheduling"])

UNAUTHENTICATED = documented(401, "Not signed in.")
NOT_FOUND = {**documented(404, "No such appointment, or not yours."), **documented(401, "A bad bearer token."),
             **documented(422, "Bad input.")}
TAKEN = documented(409, "The slot is taken (body lists next_free_slots), the patient already has an appointment "
                        "then (body names overlapping_appointment), or the status does not allow this.")
BAD = documented(422, "Bad input; the message names the field and what is allowed.")
AppointmentId = Annotated[RowId, Path(description="An appointment's id (digits 0-9, 1 to 2147483647).")]


def _read(db, appointment: Appointment, *, for_provider: bool = False) -> AppointmentRead:
    zone = ZoneInfo(appointment.time_zone)
    summary = service.shared_assessment_summary(db=db, appointment=appointment) if for_provider else None
    return AppointmentRead(id=appointment.id, status=appointment.status, npi=appointment.npi,
                           type=appointment.type_code, start=appointment.starts_at.astimezone(zone),
                           end=appointment.ends_at.astimezone(zone), time_zone=appointment.time_zone,
                           shares_assessment=appointment.shared_assessment_id is not None,
                           assessment_summary=AssessmentSummary(**summary) if summary else None,
                           patient_name=appointment.patient_name, reason=appointment.reason,
                           cancelled_by=appointment.cancelled_by,
                           created_at=appointment.created_at)


@router.get("/providers/{npi}/slots", response_model=SlotList,
            responses={**documented(404, "No active provider with this NPI."), **UNAUTHENTICATED, **BAD})
def list_slots(npi: str, db: DbSession,
               start: Annotated[Moment | None, Query(alias="from", description="default: now")] = None,
               end: Annotated[Moment | None, Query(alias="to", description="default: 14 days after from")]
               = None, type: str | None = None) -> SlotList:
    """Open slots starting in [from, to) (at most 60 days; the next 14 days by default), in the location's time
    zone with offsets; none past the provider's booking horizon."""
    zone, slots = service.list_slots(db=db, npi=npi, start=start, end=end, type_code=type)
    tz = ZoneInfo(zone) if zone else UTC
    return SlotList(npi=npi, time_zone=zone, slots=[SlotRead(start=s.start.astimezone(tz), end=s.end.astimezone(tz),
                                                             type=s.type_code) for s in slots])


@router.post("/appointments", status_code=201, response_model=AppointmentRead,
             responses={**UNAUTHENTICATED, **TAKEN, **BAD})
def book(body: AppointmentCreate, user: CurrentUser, actor: RequestActor, db: DbSession, response: Response,
         idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> AppointmentRead:
    """Book a slot (status requested). A retried request with the same Idempotency-Key returns the same one."""
    appointment, created = service.book(db=db, actor=actor, npi=body.npi, start=body.start, type_code=body.type,
                                        end=body.end, share_latest_assessment=body.share_latest_assessment,
                                        idempotency_key=idempotency_key, patient_name=body.patient_name,
                                        reason=body.reason)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return _read(db, appointment)


@router.get("/appointments", response_model=AppointmentList, responses={**UNAUTHENTICATED, **BAD})
def my_appointments(user: CurrentUser, actor: RequestActor, db: DbSession) -> AppointmentList:
    return AppointmentList(appointments=[_read(db, a) for a in service.list_for_patient(db=db, actor=actor)])


@router.get("/appointments/{appointment_id}.ics", response_class=Response, responses=NOT_FOUND)
def calendar_file(appointment_id: AppointmentId, actor: RequestActor, db: DbSession, settings: AppSettings) -> Response:
    """The appointment as an iCalendar file (RFC 5545)."""
    appointment = service.read(db=db, actor=actor, appointment_id=appointment_id)
    type_name = service.type_name(service.type_names(db=db, npi=appointment.npi), appointment.type_code)
    ics = calendar.to_ics(db=db, appointment=appointment, base_url=settings.base_url, type_name=type_name,
                          patient_name=appointment.patient_name, for_provider=actor.user_id != appointment.patient_id)
    return Response(ics,
                    media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="appointment-{appointment.id}.ics"'})


@router.get("/appointments/{appointment_id}", response_model=AppointmentRead, responses=NOT_FOUND)
def read_appointment(appointment_id: AppointmentId, actor: RequestActor, db: DbSession) -> AppointmentRead:
    """The patient or the booked provider; the provider also sees the shared assessment summary, if consented."""
    appointment = service.read(db=db, actor=actor, appointment_id=appointment_id)
    return _read(db, appointment, for_provider=actor.user_id != appointment.patient_id)


@router.delete("/appointments/{appointment_id}", response_model=AppointmentRead, responses={**NOT_FOUND, **TAKEN})
def cancel(appointment_id: AppointmentId, actor: RequestActor, db: DbSession) -> AppointmentRead:
    return _read(db, service.cancel(db=db, actor=actor, appointment_id=appointment_id))


@router.post("/appointments/{appointment_id}/reschedule", response_model=AppointmentRead,
             responses={**NOT_FOUND, **TAKEN, **BAD})
def reschedule(appointment_id: AppointmentId, body: AppointmentReschedule, actor: RequestActor, db: DbSession
               ) -> AppointmentRead:
    """Move to another slot atomically: if the new slot is taken, the old one is kept."""
    return _read(db, service.reschedule(db=db, actor=actor, appointment_id=appointment_id, start=body.start,
                                        type_code=body.type))


@router.post("/appointments/{appointment_id}/{decision}", response_model=AppointmentRead,
             responses={**NOT_FOUND, **TAKEN})
def respond(appointment_id: AppointmentId, decision: Literal["confirm", "decline", "cancel"], actor: RequestActor,
            db: DbSession) -> AppointmentRead:
    """The booked provider confirms or declines a request, or cancels a confirmed appointment."""
    return _read(db, service.respond(db=db, actor=actor, appointment_id=appointment_id, decision=decision),
                 for_provider=True)


@router.put("/me/availability", status_code=204,
            responses={**documented(404, "Not a verified provider."), **UNAUTHENTICATED, **BAD})
def set_availability(body: AvailabilityUpdate, provider: CurrentProvider, db: DbSession) -> Response:
    """Replace the provider's weekly hours (local time of the practice location) and appointment types."""
    service.set_availability(db=db, npi=provider_npi(provider), hours=body.hours,
                             appointment_types=body.appointment_types,
                             booking_horizon_days=body.booking_horizon_days)
    return Response(status_code=204)


@router.post("/me/availability/exceptions", status_code=201, responses={**documented(404, "Not a verified provider."),
                                                                        **UNAUTHENTICATED, **BAD})
def add_exception(body: AvailabilityExceptionCreate, provider: CurrentProvider, db: DbSession) -> dict:
    row = service.add_exception(db=db, npi=provider_npi(provider), kind=body.kind, starts_at=body.start,
                                ends_at=body.end)
    return {"id": row.id, "kind": row.kind, "start": row.starts_at, "end": row.ends_at}


ExceptionId = Annotated[RowId, Path(description="The entry's id, as returned when it was added.")]


@router.delete("/me/availability/exceptions/{exception_id}", status_code=204,
               responses={**documented(404, "Not a verified provider, or no such entry of theirs."),
                          **UNAUTHENTICATED})
def remove_exception(exception_id: ExceptionId, provider: CurrentProvider, db: DbSession) -> Response:
    """Remove one of the provider's time-off or extra-hours entries."""
    service.remove_exception(db=db, npi=provider_npi(provider), exception_id=exception_id)
    return Response(status_code=204)


@router.get("/me/schedule", response_model=AppointmentList,
            responses={**documented(404, "Not a verified provider."), **UNAUTHENTICATED, **BAD})
def my_schedule(provider: CurrentProvider, actor: RequestActor, db: DbSession,
                start: Annotated[Moment, Query(alias="from")],
                end: Annotated[Moment, Query(alias="to")]) -> AppointmentList:
    """The verified provider's appointments starting in [from, to)."""
    found = service.schedule_for_provider(db=db, actor=actor, start=start, end=end)
    return AppointmentList(appointments=[_read(db, a, for_provider=True) for a in found])
