"""Pydantic shapes at the edges of the recovery tracker (diary entries, questionnaires, trends)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fusioncare.inputs import Day, Text
from fusioncare.recovery.scoring import Change, Instrument
from fusioncare.triage.schemas import (
    AssessmentResult,
    FusionApproach,
    FusionRegion,
    PainScore,
    Symptom,
    Treatment,
)

# The last calendar date anywhere on Earth (UTC+14): a diary date after it is in the future for everyone.
LATEST_UTC_OFFSET = dt.timedelta(hours=14)


def latest_possible_today() -> dt.date:
    return (dt.datetime.now(dt.UTC) + LATEST_UTC_OFFSET).date()


Medication = Annotated[Text, Field(min_length=1, max_length=100)]


class DiaryEntryCreate(BaseModel):
    """One day's diary. Unknown fields are bad input."""

    model_config = ConfigDict(extra="forbid")

    date: Day = Field(description="The day this entry is about: not in the future, and not before the operation "
                                  "date in the recovery profile (or, when that is not recorded, not more than "
                                  "10 years ago).")
    leg_pain: PainScore = Field(description="Leg (sciatic) pain today, 0-10.")
    back_pain: PainScore = Field(description="Back pain today, 0-10.")
    symptoms: list[Symptom] = Field(default_factory=list, max_length=len(Symptom))
    medications: list[Medication] = Field(default_factory=list, max_length=20,
                                          description="Medications taken today, as the patient names them.")
    treatments_started: list[Treatment] = Field(default_factory=list, max_length=len(Treatment))
    treatments_stopped: list[Treatment] = Field(default_factory=list, max_length=len(Treatment))
    exercise_minutes: int | None = Field(default=None, ge=0, le=1440, strict=True)
    sleep_quality: int | None = Field(default=None, ge=1, le=5, strict=True,
                                      description="1 very poor, 2 poor, 3 fair, 4 good, 5 very good.")
    note: Text = Field(default="", max_length=2000)

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > latest_possible_today():
            raise ValueError("must not be in the future")
        return value


class RecoveryProfileUpdate(BaseModel):
    """The operation and what the patient had before it, recorded once; name and date of birth as they want them on
    the visit summary. Fields left out keep what is stored."""

    model_config = ConfigDict(extra="forbid")

    full_name: Text = Field(default="", max_length=200)
    date_of_birth: Day | None = None
    operation_date: Day | None = Field(default=None, description="The date of the (most recent) fusion.")
    fusion_region: FusionRegion = FusionRegion.lumbar
    fusion_levels: Text = Field(default="", max_length=100, description="As the surgeon wrote them, e.g. L4-L5.")
    fusion_approach: FusionApproach = FusionApproach.unknown
    surgeon: Text = Field(default="", max_length=200, description="The surgeon or the practice.")
    long_standing_symptoms: list[Symptom] = Field(default_factory=list, max_length=len(Symptom), description=(
        "Symptoms already there before the operation and not worse since (contract 1.1 long_standing_symptoms); "
        "the diary's safety re-check passes those the entry reports to the assessment."))


class RecoveryProfileRead(BaseModel):
    full_name: str
    date_of_birth: dt.date | None
    operation_date: dt.date | None
    fusion_region: FusionRegion
    fusion_levels: str
    fusion_approach: FusionApproach
    surgeon: str
    long_standing_symptoms: list[str]


class DiaryEntryRead(BaseModel):
    id: str
    date: dt.date
    leg_pain: int
    back_pain: int
    symptoms: list[str]
    medications: list[str]
    treatments_started: list[str]
    treatments_stopped: list[str]
    exercise_minutes: int | None
    sleep_quality: int | None
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_existing: bool = Field(default=False, description="True when this POST replaced the entry already "
                                                              "saved for the same day.")
    message: str = ""
    safety: AssessmentResult | None = Field(default=None, description="The assessment result when this entry "
                                            "triggered a safety re-check (red-flag symptom or meaningful worsening).")
    safety_seen: bool = Field(default=False, description="The patient said they have read the re-check's result; "
                                                         "until then the tracker lists it.")


class QuestionnaireCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: Instrument
    answers: list[int | None] = Field(min_length=1, max_length=10, description=(
        "peg: 3 items 0-10; pgic: 1 item 1-7; odi: 10 section scores 0-5, null for a skipped section."))


class QuestionnaireRead(BaseModel):
    id: str
    instrument: Instrument
    answers: list[int | None]
    score: float
    band: str | None = None
    interpretation: str
    completed_at: dt.datetime


class WeeklyAverage(BaseModel):
    week_start: dt.date
    value: float
    entries: int


class MeasureTrend(BaseModel):
    measure: str
    name: str
    unit: Literal["points", "percent"]
    baseline: float | None
    baseline_date: dt.date | None
    latest: float | None
    latest_date: dt.date | None
    change: float | None
    judgement: Change | None
    summary: str
    meaningful_change_points: float
    meaningful_change_percent: float | None
    source: str
    weekly: list[WeeklyAverage]


class TreatmentMarker(BaseModel):
    date: dt.date
    treatment: str
    event: Literal["started", "stopped"]


class TrendsRead(BaseModel):
    measures: list[MeasureTrend]
    treatments: list[TreatmentMarker]


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    npi: Text = Field(min_length=1, max_length=20, description="The provider's 10-digit NPI: one you have an "
                      "appointment with (GET /recovery/shares/suggestions) or any verified provider in the directory.")
    share_assessments: bool = Field(default=False, description="Also let them see my assessments: the urgency and "
                                    "headline of my latest saved assessment and of my diary's safety re-checks.")


class ShareRead(BaseModel):
    id: str = Field(description="The share's opaque id; the provider's reads are keyed by it.")
    npi: str
    provider_name: str
    share_assessments: bool
    created_at: dt.datetime


class ProviderChoiceRead(BaseModel):
    npi: str
    name: str


class SharedPatientRead(BaseModel):
    share_id: str
    patient_email: str
    shared_since: dt.datetime
