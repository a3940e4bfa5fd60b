"""Directory shapes at the edges: search parameters in, provider summaries and profiles out."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from fusioncare.directory.catalog import INSURANCE_PLANS, LANGUAGES
from fusioncare.directory.models import Provider
from fusioncare.directory.names import display_case
from fusioncare.directory.specialties import SEARCHABLE_CODES, specialty_name
from fusioncare.triage.schemas import Treatment

# Members come from the catalogues at import time, which mypy can't enumerate (it needs a literal).
SpecialtyCode = StrEnum("SpecialtyCode", {code: code for code in SEARCHABLE_CODES})  # type: ignore[misc]
InsurancePlan = StrEnum("InsurancePlan", {code: code for code in INSURANCE_PLANS})  # type: ignore[misc]
Language = StrEnum("Language", {code: code for code in LANGUAGES})  # type: ignore[misc]

_LAT_LON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
NEAR_HELP = "a 5-digit US ZIP code (e.g. 10001) or 'lat,lon' in decimal degrees (e.g. 40.75,-73.99)"


def parse_near(value: str) -> str | tuple[float, float]:
    """'10001' -> '10001'; '40.75,-73.99' -> (40.75, -73.99); anything else raises ValueError."""
    value = value.strip()
    if len(value) == 5 and value.isascii() and value.isdigit():
        return value
    match = _LAT_LON.match(value)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
        raise ValueError("latitude must be between -90 and 90 and longitude between -180 and 180")
    raise ValueError(f"must be {NEAR_HELP}")



def _checked_near(value: str) -> str:
    try:
        parse_near(value)
    except ValueError as exc:
        raise PydanticCustomError("near", str(exc)) from None
    return value.strip()


# A ZIP or "lat,lon", checked where it comes in; the directory search and matching both take it.
Near = Annotated[str, AfterValidator(_checked_near), Field(description=NEAR_HELP)]

class ProviderSearch(BaseModel):
    """GET /api/v1/providers query parameters (also what the CLI and the search page build)."""

    model_config = ConfigDict(extra="forbid")

    specialty: SpecialtyCode
    near: Near
    radius_miles: float = Field(default=25, ge=1, le=100)
    q: str | None = Field(default=None, max_length=100, description="Part of a name; forgiving of case, accents, "
                                                                     "word order and small typos.")
    insurance: InsurancePlan | None = None
    language: Language | None = None
    telehealth: bool | None = Field(default=None, description="Video visits: what the provider says, or else what "
                                                               "Medicare's Doctors and Clinicians file says.")
    accepting_new: bool | None = None
    accepts_medicare_assignment: bool | None = Field(
        default=None, description="true: only providers who, per Medicare's Doctors and Clinicians file, always "
                                  "accept the Medicare-approved amount as payment in full.")
    sort: Literal["distance", "name"] = "distance"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=500)

    @field_validator("q", "cursor")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class ProviderLocation(BaseModel):
    address: str | None
    city: str | None
    state: str | None
    zip: str | None
    country_code: str
    lat: float | None
    lon: float | None
    time_zone: str | None


class TaxonomyRead(BaseModel):
    code: str
    primary: bool


class ProviderRead(BaseModel):
    """One provider in search results."""

    npi: str
    name: str
    credential: str | None
    entity_type: Literal["individual", "organization"]
    specialties: list[str]
    specialty_names: list[str]
    taxonomy_codes: list[str]
    primary_taxonomy_code: str | None
    distance_miles: float | None
    location: ProviderLocation
    phone: str | None
    insurance: list[str]
    languages: list[str]
    telehealth: bool | None
    accepting_new: bool | None
    services: list[str]
    profile_confirmed: bool
    is_demo: bool = Field(description="True for synthetic providers loaded as demo data; never a real clinician.")

    @classmethod
    def from_provider(cls, provider: Provider, distance_miles: float | None = None) -> ProviderRead:
        return cls(**_summary_fields(provider, distance_miles))


class ProviderSource(BaseModel):
    file: str
    imported_at: datetime


class DataSource(BaseModel):
    """Where a figure comes from: the CMS dataset and the year it is about."""

    dataset: str
    year: int
    is_demo: bool = Field(description="True for generated demo figures; never real data.")


class ProcedureVolumeRead(BaseModel):
    """One procedure code's Medicare figures for one provider and year, summed over places of service."""

    code: str = Field(description="HCPCS/CPT code.")
    description: str = Field(description="What the code means (from the knowledge pack).")
    plain_words: str = Field(description="The same in words a patient understands.")
    add_on: bool = Field(description="An add-on code counts extra levels or minutes of another code's procedure.")
    treatment: str = Field(description="The assessment contract's treatment code it evidences.")
    year: int
    patients: int = Field(description="Medicare patients (11 or more: CMS does not publish smaller counts).")
    services: float = Field(description="Services billed (may be fractional).")
    source: DataSource


class MedicarePractice(BaseModel):
    name: str | None = Field(description="The group practice; null for a clinician on their own.")
    address: str | None
    phone: str | None


class MedicareFacts(BaseModel):
    """What CMS's Doctors and Clinicians file says about the clinician."""

    accepts_assignment: Literal["always", "sometimes"] | None = Field(
        description="always: accepts the Medicare-approved amount as payment in full; sometimes: may accept it.")
    telehealth: bool | None = Field(description="Video visits per Medicare; null when the file does not say.")
    practices: list[MedicarePractice]
    graduation_year: int | None
    medical_school: str | None
    specialty: str | None = Field(description="The specialty as Medicare knows it.")
    source: DataSource
    caveat: str


class ProviderEvidence(BaseModel):
    """The strongest procedure evidence for a treatment the assessment suggests (matching)."""

    treatment: str
    year: int
    number: int
    reason: str
    is_demo: bool


class ProviderProfile(ProviderRead):
    """GET /api/v1/providers/{npi}: the summary plus registry detail and the provider's own words."""

    taxonomies: list[TaxonomyRead]
    sex: str | None
    enumeration_date: date | None
    last_update_date: date | None
    bio: str | None
    source: ProviderSource
    procedure_volumes: list[ProcedureVolumeRead] = Field(
        default_factory=list, description="Medicare procedure figures for the treatments the knowledge pack names, "
                                          "newest year first; empty does not mean the provider does none.")
    procedure_volumes_caveat: str | None = Field(default=None, description="What these figures are not.")
    medicare: MedicareFacts | None = Field(default=None, description="Null when CMS's file has nothing on them.")

    @classmethod
    def from_provider(cls, provider: Provider, distance_miles: float | None = None, *,
                      procedure_volumes: list[ProcedureVolumeRead] | None = None,
                      procedure_volumes_caveat: str | None = None,
                      medicare: MedicareFacts | None = None) -> ProviderProfile:
        imported_at = provider.imported_at
        if imported_at.tzinfo is None:  # SQLite keeps no offset; every stored time is UTC
            imported_at = imported_at.replace(tzinfo=UTC)
        return cls(
            **_summary_fields(provider, distance_miles),
            taxonomies=[TaxonomyRead(**t) for t in provider.taxonomies],
            sex=provider.sex,
            enumeration_date=provider.enumeration_date,
            last_update_date=provider.last_update_date,
            bio=provider.bio,
            source=ProviderSource(file=provider.source_file, imported_at=imported_at),
            procedure_volumes=procedure_volumes or [],
            procedure_volumes_caveat=procedure_volumes_caveat if procedure_volumes else None,
            medicare=medicare,
        )


class ProviderSearchPage(BaseModel):
    total: int = Field(description="How many providers match, across all pages; when `total_is_exact` is false, "
                                   "at least this many (a plain distance search stops counting at 1,000).")
    total_is_exact: bool = Field(default=True, description="False when more than `total` providers match.")
    results: list[ProviderRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def _summary_fields(p: Provider, distance_miles: float | None) -> dict:
    street = ", ".join(display_case(x) for x in (p.address_line1, p.address_line2) if x) or None
    primary = next((t["code"] for t in p.taxonomies if t.get("primary")), None)
    return {
        "npi": p.npi,
        "name": display_case(p.display_name),
        "credential": p.credential,
        "entity_type": "individual" if p.entity_type == 1 else "organization",
        "specialties": list(p.specialties),
        "specialty_names": [specialty_name(code) for code in p.specialties],
        "taxonomy_codes": [t["code"] for t in p.taxonomies],
        "primary_taxonomy_code": primary,
        "distance_miles": None if distance_miles is None else round(distance_miles, 2),
        "location": ProviderLocation(address=street, city=display_case(p.city or "") or None, state=p.state,
                                     zip=p.zip_code or p.postal_code, country_code=p.country_code, lat=p.lat,
                                     lon=p.lon, time_zone=p.time_zone),
        "phone": p.phone,
        "insurance": list(p.insurance_plans),
        "languages": list(p.languages),
        "telehealth": p.telehealth,
        "accepting_new": p.accepting_new,
        "services": list(p.services),
        "profile_confirmed": p.profile_confirmed,
        "is_demo": p.is_demo,
    }


class ManagedFieldsUpdate(BaseModel):
    """The fields a provider keeps up to date themselves (never touched by an NPPES import)."""

    model_config = ConfigDict(extra="forbid")

    insurance_plans: list[InsurancePlan] = Field(default_factory=list, max_length=len(INSURANCE_PLANS))
    languages: list[Language] = Field(default_factory=list, max_length=len(LANGUAGES))
    telehealth: bool | None = None
    accepting_new: bool | None = None
    services: list[Treatment] = Field(default_factory=list, max_length=len(Treatment))
    bio: str | None = Field(default=None, max_length=2000)
    profile_confirmed: bool = False
