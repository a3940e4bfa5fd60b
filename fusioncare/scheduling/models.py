"""Scheduling tables: booking settings, weekly hours, appointment types, exceptions, appointments, slot and
patient holds, idempotency keys and the e-mail outbox.

Double-booking is impossible by construction: every appointment holds one ``scheduling_slot_holds`` row per
5-minute cell it covers, and (npi, cell_start_utc) is unique. Two appointments of different lengths that
overlap by even one cell collide on that cell, in whichever process or database (SQLite or PostgreSQL) they
run. The same holds for a patient: ``scheduling_patient_holds`` keys (patient_id, cell_start_utc), so one
person cannot hold two overlapping appointments, with two providers, even when both bookings race. Holds are
deleted in the same transaction that cancels, declines or moves an appointment.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fusioncare.accounts.models import UtcDateTime, utcnow
from fusioncare.db import Base

CELL_MINUTES = 5  # the booking grid: appointment starts and lengths are multiples of it
DEFAULT_BOOKING_HORIZON_DAYS = 90  # how far ahead patients may book a provider who has not set it
MAX_BOOKING_HORIZON_DAYS = 365


class AppointmentStatus(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    completed = "completed"
    no_show = "no_show"


# Statuses whose appointment keeps its slot; declined and cancelled ones give it back.
HOLDING_STATUSES = (AppointmentStatus.requested, AppointmentStatus.confirmed, AppointmentStatus.completed,
                    AppointmentStatus.no_show)
_HOLDING_SQL = "status IN ('requested', 'confirmed', 'completed', 'no_show')"


class ProviderBookingSettings(Base):
    """A provider's booking rules; a provider without a row gets the defaults."""

    __tablename__ = "scheduling_provider_settings"
    __table_args__ = (
        CheckConstraint(f"booking_horizon_days BETWEEN 1 AND {MAX_BOOKING_HORIZON_DAYS}", name="horizon_range"),
    )

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    # Patients may book slots starting at most this many days from now (every booking path checks it).
    booking_horizon_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_BOOKING_HORIZON_DAYS)


class WeeklyHours(Base):
    """A provider's opening window on one weekday, in the practice location's local time."""

    __tablename__ = "scheduling_weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
                        name="minutes_range"),
        Index("ix_scheduling_weekly_hours_npi", "npi"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    npi: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    end_minute: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(40))  # IANA zone of the practice location


class AppointmentType(Base):
    __tablename__ = "scheduling_appointment_types"
    __table_args__ = (
        UniqueConstraint("npi", "code"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 480 AND duration_minutes % 5 = 0",
                        name="duration_on_grid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    npi: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))  # e.g. new_patient, follow_up, telehealth
    name: Mapped[str] = mapped_column(String(100))
    duration_minutes: Mapped[int] = mapped_column(Integer)


class AvailabilityException(Base):
    """Time off (removes slots) or extra hours (adds a window), in UTC."""

    __tablename__ = "scheduling_exceptions"
    __table_args__ = (
        CheckConstraint("kind IN ('time_off', 'extra_hours')", name="kind_known"),
        Index("ix_scheduling_exceptions_npi_starts_at", "npi", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    npi: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Appointment(Base):
    __tablename__ = "scheduling_appointments"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show')",
                        name="status_known"),
        # Second line of defence behind the cell holds: one holding appointment per provider start time.
        Index("uq_scheduling_appointments_npi_start_active", "npi", "starts_at", unique=True,
              sqlite_where=text(_HOLDING_SQL), postgresql_where=text(_HOLDING_SQL)),
        Index("ix_scheduling_appointments_patient_id", "patient_id"),
        Index("ix_scheduling_appointments_npi_starts_at", "npi", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    npi: Mapped[str] = mapped_column(String(10))
    type_code: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    time_zone: Mapped[str] = mapped_column(String(40))  # the location's zone, for showing local times
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.requested)
    # Set only when the patient consented to share their latest saved assessment with this provider.
    shared_assessment_id: Mapped[str | None] = mapped_column(String(32))
    # What the patient typed when booking: the name the practice should expect, and (optionally) why they come.
    # The reason is seen only by the patient and the booked provider, never put in an e-mail or a calendar file.
    patient_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # "patient" or "provider"
    # RFC 5545 SEQUENCE of the calendar event: raised on every change the patient's calendar should pick up.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SlotHold(Base):
    """One 5-minute cell of a provider's time held by one appointment; the unique key forbids double-booking."""

    __tablename__ = "scheduling_slot_holds"
    __table_args__ = (Index("ix_scheduling_slot_holds_appointment_id", "appointment_id"),)

    npi: Mapped[str] = mapped_column(String(10), primary_key=True)
    cell_start_utc: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("scheduling_appointments.id", ondelete="CASCADE"))


class PatientHold(Base):
    """One 5-minute cell of a patient's time held by one appointment: a patient cannot be in two places at once."""

    __tablename__ = "scheduling_patient_holds"
    __table_args__ = (Index("ix_scheduling_patient_holds_appointment_id", "appointment_id"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    cell_start_utc: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("scheduling_appointments.id", ondelete="CASCADE"))


class IdempotencyKey(Base):
    """A booking request's Idempotency-Key, per patient, with a digest of the body it came with."""

    __tablename__ = "scheduling_idempotency_keys"

    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    appointment_id: Mapped[int] = mapped_column(ForeignKey("scheduling_appointments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MessageKind(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    rescheduled = "rescheduled"
    reminder_24h = "reminder_24h"
    reminder_2h = "reminder_2h"


REMINDER_KINDS = (MessageKind.reminder_24h, MessageKind.reminder_2h)


class OutboxMessage(Base):
    """Outbox row: one e-mail about an appointment to its patient or its provider, due at ``due_at``.

    Rows are written in the transaction that changes the appointment, so a message exists exactly when the change
    does; a worker claims a due row atomically, sends it and stamps ``done_at`` (see scheduling/outbox.py).
    """

    __tablename__ = "scheduling_outbox"
    __table_args__ = (
        CheckConstraint("recipient IN ('patient', 'provider')", name="recipient_known"),
        Index("ix_scheduling_outbox_pending", "done_at", "due_at"),
        Index("ix_scheduling_outbox_appointment_id", "appointment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("scheduling_appointments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # a MessageKind
    recipient: Mapped[str] = mapped_column(String(16))  # "patient" or "provider"
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # For a reschedule: the time it was moved from, to say "moved from ... to ...".
    previous_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))  # "sent" or "skipped" (nobody left to write to)
    last_error: Mapped[str | None] = mapped_column(Text)
