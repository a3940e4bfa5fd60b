"""Scheduling shapes at the edges: availability in, slots and appointments out (times carry their offset)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fusioncare.inputs import Moment, Text
from fusioncare.scheduling.models import DEFAULT_BOOKING_HORIZON_DAYS, MAX_BOOKING_HORIZON_DAYS

TYPE_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
NPI_PATTERN = r"^[0-9]{10}$"  # ASCII digits: the regex's \d would also take other scripts' digits


class WeeklyHoursCreate(BaseModel):
    """One opening window on a weekday, in the practice location's local time (multiples of 5 minutes)."""

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6, description="0 Monday .. 6 Sunday")
    start: time = Field(description="local opening time, e.g. 09:00")
    end: time = Field(description="local closing time, e.g. 17:00; later than start")

    @field_validator("start", "end")
    @classmethod
    def _on_grid(cls, value: time) -> time:
        if value.minute % 5 or value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("must be a local time on a 5-minute boundary without seconds or offset, e.g. 09:05")
        return value


class AppointmentTypeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=TYPE_CODE_PATTERN, description="e.g. new_patient, follow_up, telehealth")
    name: Text = Field(min_length=1, max_length=100)
    duration_minutes: int = Field(ge=5, le=480, multiple_of=5)


class AvailabilityUpdate(BaseModel):
    """Replaces the provider's weekly hours and appointment types (and the booking horizon, when given)."""

    model_config = ConfigDict(extra="forbid")

    hours: list[WeeklyHoursCreate] = Field(max_length=50)
    appointment_types: list[AppointmentTypeCreate] = Field(min_length=1, max_length=20)
    booking_horizon_days: int | None = Field(
        default=None, ge=1, le=MAX_BOOKING_HORIZON_DAYS,
        description=f"how many days ahead patients may book (default {DEFAULT_BOOKING_HORIZON_DAYS}); "
                    "absent: unchanged")


class AvailabilityExceptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["time_off", "extra_hours"]
    start: Moment
    end: Moment


MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 1000


class SlotRead(BaseModel):
    start: datetime = Field(description="ISO 8601 in the location's time zone, with its offset")
    end: datetime
    type: str


class SlotList(BaseModel):
    npi: str
    time_zone: str | None
    slots: list[SlotRead]


class AppointmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    npi: str = Field(pattern=NPI_PATTERN, description="the provider's 10-digit NPI")
    start: Moment = Field(description="a slot start from GET /api/v1/providers/{npi}/slots, with its offset")
    type: str = Field(pattern=TYPE_CODE_PATTERN, description="an appointment type code of that provider")
    end: Moment | None = Field(default=None, description="optional; if given it must match the type's length")
    share_latest_assessment: bool = Field(
        default=False, description="consent to show the provider your latest saved assessment summary")
    patient_name: Text | None = Field(default=None, max_length=MAX_NAME_LENGTH,
                                     description="the name the practice should expect")
    reason: Text | None = Field(default=None, max_length=MAX_REASON_LENGTH,
                               description="why you are coming, in your words; only this provider sees it")

    @field_validator("patient_name", "reason")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None


class AppointmentReschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Moment
    type: str | None = Field(default=None, pattern=TYPE_CODE_PATTERN)


class AssessmentSummary(BaseModel):
    urgency: str
    headline: str


class AppointmentRead(BaseModel):
    id: int
    status: str
    npi: str
    type: str
    start: datetime
    end: datetime
    time_zone: str
    shares_assessment: bool
    patient_name: str | None = None
    reason: str | None = Field(default=None, description="only for the patient and the booked provider")
    cancelled_by: Literal["patient", "provider"] | None = None
    assessment_summary: AssessmentSummary | None = Field(
        default=None, description="only for the booked provider, and only with the patient's consent")
    created_at: datetime


class AppointmentList(BaseModel):
    appointments: list[AppointmentRead]


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
