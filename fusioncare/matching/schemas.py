"""Matching shapes: an assessment plus a place and preferences in; doctors grouped by specialty out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from fusioncare.directory.schemas import InsurancePlan, Language, Near, ProviderLocation
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult, Specialty, Urgency


def _assessment_kind(value: Any) -> str:
    """A result carries its urgency; anything else is read (and checked) as a request."""
    if isinstance(value, AssessmentResult) or (isinstance(value, dict) and "urgency" in value):
        return "result"
    return "request"


Assessment = Annotated[
    Annotated[AssessmentRequest, Tag("request")] | Annotated[AssessmentResult, Tag("result")],
    Discriminator(_assessment_kind),
]


class MatchRequest(BaseModel):
    """POST /api/v1/matches."""

    model_config = ConfigDict(extra="forbid")

    assessment: Assessment = Field(description="An assessment request (the answers; it is assessed first) or a "
                                               "result returned by POST /api/v1/assessments.")
    near: Near
    radius_miles: float = Field(default=25, ge=1, le=100, allow_inf_nan=False)
    insurance: InsurancePlan | None = Field(default=None, description="Only providers who accept this plan.")
    language: Language | None = Field(default=None, description="Providers who speak it rank higher (ISO 639-1).")
    telehealth: bool | None = Field(default=None, description="true: only providers offering video visits (as they "
                                                               "say, or else as Medicare's file says).")
    accepts_medicare_assignment: bool | None = Field(
        default=None, description="true: only providers who always accept the Medicare-approved amount as payment "
                                  "in full (Medicare's Doctors and Clinicians file).")
    limit_per_group: int = Field(default=10, ge=1, le=50)


class MatchedSpecialty(BaseModel):
    code: Specialty
    name: str
    why: str


class SoonestOpening(BaseModel):
    """The provider's soonest free slot to book through FusionCare, within 14 days."""

    start: datetime = Field(description="ISO 8601 in the practice location's time zone, with its offset.")
    end: datetime
    type: str = Field(description="The appointment type code of that slot.")
    time_zone: str
    label: str = Field(description="The start as people say it, in the location's zone: 'Tue 3 Dec, 9:00 am'.")
    book_path: str = Field(description="The page that books it, with this slot chosen: "
                                       "/doctors/{npi}/book?type=...&start=...")


class ProcedureEvidence(BaseModel):
    """Public Medicare figures showing the provider performs a treatment the assessment suggests."""

    treatment: str = Field(description="The treatment code of the assessment contract.")
    year: int = Field(description="The data year of the figures.")
    number: int = Field(description="Procedures done, or patients treated, as `text` says.")
    text: str = Field(description="In plain words, e.g. 'Did 212 spinal injections for Medicare patients in 2024'.")
    caveat: str = Field(description="What the figure is not (Medicare patients only; volume is not quality).")
    source: str = Field(description="The CMS dataset.")
    is_demo: bool


class MatchedProvider(BaseModel):
    """One doctor in a group, with the ranking signals and the reasons in plain words."""

    npi: str
    name: str
    credential: str | None
    score: float = Field(description="Higher is a better fit; see docs/matching.md for how it is made.")
    reasons: list[str]
    distance_miles: float
    primary_specialty_match: bool = Field(description="The specialty is the provider's primary registered taxonomy.")
    matching_services: list[str] = Field(description="Treatment codes from the assessment the provider offers.")
    accepting_new: bool | None
    telehealth: bool | None
    insurance: list[str]
    languages: list[str]
    profile_confirmed: bool
    location: ProviderLocation
    phone: str | None
    is_demo: bool
    procedure_evidence: ProcedureEvidence | None = Field(
        default=None, description="Medicare procedure figures for a treatment the assessment suggests, if any.")
    medicare_assignment: Literal["always", "sometimes"] | None = Field(
        default=None, description="Accepts the Medicare-approved amount (Medicare's Doctors and Clinicians file).")
    soonest_opening: SoonestOpening | None = Field(
        default=None, description="Only for providers who take bookings here and have a free slot within 14 days.")


class MatchGroup(BaseModel):
    specialty: MatchedSpecialty
    total: int = Field(description="Matching providers within the radius (results holds the best of them).")
    results: list[MatchedProvider]


class EmergencyHospital(BaseModel):
    npi: str
    name: str
    distance_miles: float
    location: ProviderLocation
    phone: str | None
    is_demo: bool


class EmergencyGuidance(BaseModel):
    headline: str
    next_steps: list[str]
    hospitals: list[EmergencyHospital] = Field(description="Nearest general acute care hospitals (NPPES "
                                                           "282N00000X) within 50 miles; may be empty.")


class MatchPlace(BaseModel):
    lat: float
    lon: float
    zip: str | None
    label: str | None


class MatchResponse(BaseModel):
    urgency: Urgency
    place: MatchPlace
    radius_miles: float
    emergency: EmergencyGuidance | None = Field(description="Only for an emergency; then groups is empty.")
    groups: list[MatchGroup]
