"""The e-mails about an appointment, in plain text and simple HTML, with its calendar file where it helps.

Who, when (in the practice's time zone, in words) and where; what happens next. Never why the patient is coming,
never a symptom or a shared assessment: e-mail is not a private channel, and a subject line is read by anyone
who glances at a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from fusioncare.accounts import service as accounts
from fusioncare.directory import service as directory
from fusioncare.directory.errors import ProviderNotFound
from fusioncare.display import clock_range, day_long, format_phone, when_long, when_short, zone_words
from fusioncare.notifications import Attachment
from fusioncare.scheduling import calendar
from fusioncare.scheduling import service as scheduling
from fusioncare.scheduling.models import Appointment, AppointmentStatus, MessageKind, OutboxMessage

DIRECTIONS_URL = "https://www.openstreetmap.org/search?query={query}"
ANSWER_HOUR = 17  # a request is answered by 5 pm local on the next working day, or the patient should call


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@dataclass
class _Draft:
    """One message as paragraphs, a few labelled facts and one link, rendered to text and HTML alike."""

    subject: str
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (label, url)
    after: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [*self.paragraphs, "\n".join(f"{label}: {value}" for label, value in self.facts)]
        if self.link:
            parts.append(f"{self.link[0]}: {self.link[1]}")
        parts += self.after
        parts.append("FusionCare")
        return "\n\n".join(p for p in parts if p) + "\n"

    def html(self) -> str:
        body = [Markup("<p>{}</p>").format(p) for p in self.paragraphs]
        if self.facts:
            rows = Markup("").join(Markup("<tr><th scope=\"row\" align=\"left\">{}</th><td>{}</td></tr>")
                                   .format(label, value) for label, value in self.facts)
            body.append(Markup("<table cellpadding=\"4\">{}</table>").format(rows))
        if self.link:
            body.append(Markup("<p><a href=\"{}\">{}</a></p>").format(self.link[1], self.link[0]))
        body += [Markup("<p>{}</p>").format(p) for p in self.after]
        return str(Markup("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>"
                          "<body>{}<p>FusionCare</p></body></html>").format(self.subject, Markup("").join(body)))


def directions_url(address: str) -> str:
    from urllib.parse import quote_plus

    return DIRECTIONS_URL.format(query=quote_plus(address))


def answer_by(*, requested_at: datetime, starts_at: datetime, zone: ZoneInfo) -> datetime | None:
    """By when the patient should have heard back: 5 pm local on the next working day, and at the latest two
    hours before the appointment; None when that is already (nearly) past, so the patient should just call."""
    day = requested_at.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    deadline = min(datetime.combine(day, time(ANSWER_HOUR), tzinfo=zone),
                   starts_at.astimezone(zone) - timedelta(hours=2))
    return deadline if deadline > requested_at + timedelta(minutes=30) else None


def compose(*, db: Session, message: OutboxMessage, appointment: Appointment, base_url: str,
            now: datetime | None = None) -> Email | None:
    """The e-mail for one outbox row, or None when there is nobody to write to or it no longer makes sense (a
    reminder for an appointment that was cancelled, moved or has started)."""
    now = now or datetime.now(UTC)
    kind = MessageKind(message.kind)
    if kind.name.startswith("reminder") and (appointment.status not in scheduling.CHANGEABLE
                                             or appointment.starts_at <= now):
        return None
    if message.recipient == "provider":
        to = accounts.provider_contact_email(db, npi=appointment.npi)
    else:
        to = accounts.contact_email(db, user_id=appointment.patient_id)
    if not to:
        return None
    try:
        provider = directory.get_provider(db=db, npi=appointment.npi)
    except ProviderNotFound:
        return None
    zone = ZoneInfo(appointment.time_zone)
    start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    who = calendar.provider_label(provider)
    visit = scheduling.type_name(scheduling.type_names(db=db, npi=appointment.npi), appointment.type_code)
    place = calendar.practice_address(provider)
    phone = format_phone(provider.phone)
    zone_name = zone_words(appointment.time_zone, appointment.starts_at)
    when = f"{day_long(start)}, {clock_range(start, end)} {zone_name}"
    page = f"{base_url}/appointments/{appointment.id}"
    facts = [("When", when), ("What", visit), ("With", who), ("Where", place)]
    if phone:
        facts.append(("Practice phone", phone))
    facts.append(("Directions", directions_url(place)))
    previous = message.previous_starts_at.astimezone(zone) if message.previous_starts_at else None
    if message.recipient == "provider":
        draft = _for_provider(kind, appointment, visit=visit, start=start, when=when, previous=previous,
                              patient=appointment.patient_name or to_patient_email(db, appointment),
                              zone_name=zone_name, base_url=base_url)
        return Email(to=to, subject=draft.subject, text=draft.text(), html=draft.html())
    draft = _for_patient(kind, appointment, who=who, visit=visit, start=start, previous=previous, phone=phone,
                         zone=zone, zone_name=zone_name, facts=facts, page=page, base_url=base_url, now=now)
    ics = calendar.to_ics(db=db, appointment=appointment, base_url=base_url, type_name=visit)
    return Email(to=to, subject=draft.subject, text=draft.text(), html=draft.html(),
                 attachments=(Attachment(filename=f"appointment-{appointment.id}.ics",
                                         content_type="text/calendar; method=PUBLISH", data=ics),))


def to_patient_email(db: Session, appointment: Appointment) -> str:
    return accounts.contact_email(db, user_id=appointment.patient_id) or "a patient"


def _for_patient(kind: MessageKind, appointment: Appointment, *, who: str, visit: str, start: datetime,
                 previous: datetime | None, phone: str, zone: ZoneInfo, zone_name: str,
                 facts: list[tuple[str, str]], page: str, base_url: str, now: datetime) -> _Draft:
    short = when_short(start)
    call = f"call the practice on {phone}" if phone else "call the practice"
    rebook = ("Choose another time", f"{base_url}/doctors/{appointment.npi}/book")
    if kind is MessageKind.requested:
        draft = _Draft(f"Request sent: {short} with {who}", [
            f"Your request for a {visit.lower()} with {who} is sent. The time is held for you while the practice "
            "decides."], facts, ("See, move or cancel it", page))
        deadline = answer_by(requested_at=appointment.created_at, starts_at=appointment.starts_at, zone=zone)
        draft.paragraphs.append(
            "What happens next: the practice confirms or declines your request, and we e-mail you as soon as they "
            "do. " + (f"If you have not heard by {when_long(deadline)} {zone_name}, {call}." if deadline
                      else f"As the visit is soon, please {call} to check that they can see you."))
        draft.after.append("We will also remind you by e-mail 24 hours and 2 hours before. The calendar file "
                           "attached adds it to your calendar.")
        return draft
    if kind is MessageKind.confirmed:
        return _Draft(f"Confirmed: {short} with {who}", [f"{who} confirmed your appointment."], facts,
                      ("See, move or cancel it", page),
                      ["We will remind you by e-mail 24 hours and 2 hours before. The calendar file attached "
                       "updates your calendar."])
    if kind is MessageKind.declined:
        return _Draft(f"Not booked: your request for {short}", [
            f"{who}'s practice could not take your request for {short} {zone_name}, so it is not booked.",
            f"You can choose another time, or {call}."], facts[:3], rebook)
    if kind is MessageKind.cancelled:
        if appointment.cancelled_by == "provider":
            return _Draft(f"Cancelled by the practice: {short} with {who}", [
                f"{who}'s practice cancelled your appointment on {short} {zone_name}.",
                f"You can choose another time, or {call}."], facts[:3], rebook)
        return _Draft(f"Cancelled: {short} with {who}", [
            f"You cancelled your appointment on {short} {zone_name}. The practice has been told."], facts[:3],
            rebook)
    if kind is MessageKind.rescheduled:
        moved_from = f" from {when_short(previous)}" if previous else ""
        return _Draft(f"Moved to {short}: your appointment with {who}", [
            f"Your appointment with {who} is moved{moved_from} to {short} {zone_name}.",
            "The practice confirms the new time, and we e-mail you as soon as they do. The calendar file attached "
            "updates your calendar."], facts, ("See, move or cancel it", page))
    lead = "tomorrow" if kind is MessageKind.reminder_24h else "in 2 hours"
    draft = _Draft(f"Reminder: {lead}, {short} with {who}", [f"Your appointment with {who} is {lead}."], facts,
                   ("See, move or cancel it", page))
    if appointment.status == AppointmentStatus.requested:
        draft.paragraphs.append(f"The practice has not confirmed it yet: please {call} to check.")
    draft.after.append("If you cannot come, please cancel it so someone else can have the time.")
    return draft


def _for_provider(kind: MessageKind, appointment: Appointment, *, visit: str, start: datetime, when: str,
                  previous: datetime | None, patient: str, zone_name: str, base_url: str) -> _Draft:
    short = when_short(start)
    facts = [("Patient", patient), ("When", when), ("What", visit)]
    dashboard = ("Open your dashboard", f"{base_url}/provider")
    if kind is MessageKind.requested:
        return _Draft(f"New request: {short}, {visit}", [
            f"{patient} asked for a {visit.lower()} on {short} {zone_name}. The time is held until you decide.",
            "Confirm or decline it on your dashboard; the patient is told at once. Sign in to see the reason they "
            "gave and anything they chose to share with you."], facts, dashboard)
    if kind is MessageKind.cancelled:
        return _Draft(f"Cancelled by the patient: {short}", [
            f"{patient} cancelled their {visit.lower()} on {short} {zone_name}. The time is free again."], facts,
            dashboard)
    moved_from = f" instead of {when_short(previous)}" if previous else ""
    return _Draft(f"Moved: {short}{moved_from}", [
        f"{patient} moved their {visit.lower()} to {short} {zone_name}{moved_from}. Please confirm or decline the new "
        "time on your dashboard."], facts, dashboard)
