"""An appointment as an iCalendar file (RFC 5545, written with the icalendar library): who, when, where, the
practice's phone, and an alarm an hour before; never why the patient is coming."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Alarm, Calendar, Event, vGeo
from sqlalchemy.orm import Session

from fusioncare.directory import service as directory
from fusioncare.directory.models import Provider
from fusioncare.directory.names import display_case
from fusioncare.display import format_phone
from fusioncare.scheduling.models import Appointment, AppointmentStatus

ALARM_BEFORE = timedelta(hours=1)


def provider_label(provider: Provider) -> str:
    """'Jane Cutter, MD' in display case (the registry files names in capitals)."""
    name = display_case(provider.display_name)
    return f"{name}, {provider.credential}" if provider.credential else name


def practice_address(provider: Provider) -> str:
    """'350 West 16th Street, New York, NY 10011'."""
    street = ", ".join(display_case(x) for x in (provider.address_line1, provider.address_line2) if x)
    town = display_case(provider.city or "")
    region = " ".join(x for x in (provider.state, provider.zip_code or provider.postal_code) if x)
    return ", ".join(x for x in (street, town, region) if x)


def to_ics(*, db: Session, appointment: Appointment, base_url: str, type_name: str,
           patient_name: str | None = None, for_provider: bool = False) -> bytes:
    """One VEVENT (status TENTATIVE until confirmed, CANCELLED once declined or cancelled; SEQUENCE raised on each
    change, so a calendar that imported it before updates the same event)."""
    provider = directory.get_provider(db=db, npi=appointment.npi)
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "fusioncare"
    status = {AppointmentStatus.confirmed: "CONFIRMED", AppointmentStatus.cancelled: "CANCELLED",
              AppointmentStatus.declined: "CANCELLED"}.get(AppointmentStatus(appointment.status), "TENTATIVE")
    who = provider_label(provider)
    place = practice_address(provider)
    phone = format_phone(provider.phone)
    calendar = Calendar()
    calendar.add("prodid", "-//FusionCare//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@{host}")
    event.add("dtstamp", appointment.updated_at)
    event.add("sequence", appointment.sequence)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    if for_provider:
        event.add("summary", f"{type_name}: {patient_name or 'patient'}")
    else:
        event.add("summary", f"{type_name} with {who}")
    event.add("location", place)
    lines = [f"{type_name} with {who}.", f"Address: {place}"]
    if phone:
        lines.append(f"Practice phone: {phone}")
    lines.append(f"See, move or cancel it: {base_url}/appointments/{appointment.id}")
    event.add("description", "\n".join(lines))
    event.add("status", status)
    event.add("url", f"{base_url}/appointments/{appointment.id}")
    if provider.phone:
        event.add("contact", f"{who}, {phone}")
    if provider.lat is not None and provider.lon is not None:
        event.add("geo", vGeo((provider.lat, provider.lon)))
    if status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", -ALARM_BEFORE)
        alarm.add("description", f"In one hour: {type_name} with {who}, {place}")
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
