"""The assessment request/response contract of spec/assessment-api.md, as Pydantic models.

The codes here are the public API vocabulary (binding, lower_snake_case); their plain words,
questions and clinical meaning live in the knowledge pack, which is checked against these on load.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class FusionRegion(StrEnum):
    lumbar = "lumbar"
    thoracic = "thoracic"
    cervical = "cervical"


class Trend(StrEnum):
    improving = "improving"
    stable = "stable"
    worsening = "worsening"


class Urgency(StrEnum):
    """Ordered from least to most urgent; compare with ``Urgency.rank``."""

    routine = "routine"
    soon = "soon"
    urgent = "urgent"
    emergency = "emergency"

    @property
    def rank(self) -> int:
        return _URGENCY_ORDER.index(self)


_URGENCY_ORDER = [Urgency.routine, Urgency.soon, Urgency.urgent, Urgency.emergency]


class Symptom(StrEnum):
    saddle_numbness = "saddle_numbness"
    bladder_dysfunction = "bladder_dysfunction"
    bowel_incontinence = "bowel_incontinence"
    sexual_dysfunction = "sexual_dysfunction"
    leg_weakness_progressive = "leg_weakness_progressive"
    foot_drop = "foot_drop"
    new_numbness = "new_numbness"
    both_legs = "both_legs"
    fever = "fever"
    wound_drainage = "wound_drainage"
    wound_redness = "wound_redness"
    calf_pain_swelling = "calf_pain_swelling"
    chest_pain_breathless = "chest_pain_breathless"
    weight_loss = "weight_loss"
    cancer_history = "cancer_history"
    night_pain = "night_pain"
    recent_trauma = "recent_trauma"
    sudden_severe_pain = "sudden_severe_pain"
    walking_leg_pain = "walking_leg_pain"
    sitting_buttock_pain = "sitting_buttock_pain"
    low_mood = "low_mood"
    # Added in contract 1.1.
    postural_headache = "postural_headache"
    clear_wound_fluid = "clear_wound_fluid"
    reduced_bladder_or_bowel_feeling = "reduced_bladder_or_bowel_feeling"
    spreading_numbness = "spreading_numbness"
    new_weakness = "new_weakness"
    erection_or_ejaculation_change = "erection_or_ejaculation_change"
    sepsis_signs = "sepsis_signs"
    hand_clumsiness = "hand_clumsiness"
    unsteady_walking = "unsteady_walking"
    neck_swelling_swallowing = "neck_swelling_swallowing"
    abdominal_swelling = "abdominal_swelling"
    whole_leg_swelling = "whole_leg_swelling"
    cold_pale_foot = "cold_pale_foot"
    pain_uncontrolled = "pain_uncontrolled"
    unable_to_walk = "unable_to_walk"
    oversedation = "oversedation"
    self_harm_thoughts = "self_harm_thoughts"
    upper_back_pain = "upper_back_pain"


class FusionApproach(StrEnum):
    """Contract 1.1: whether the operation went in from the back, the front (belly or neck) or the side."""

    posterior = "posterior"
    anterior = "anterior"
    lateral = "lateral"
    unknown = "unknown"


class Onset(StrEnum):
    """Contract 1.1: how quickly the current problem came on. Ordered slowest first; ``None`` (not known)
    counts as the fastest, so saying nothing can never lower urgency."""

    months = "months"
    weeks = "weeks"
    days = "days"
    hours = "hours"

    @property
    def rank(self) -> int:
        return _ONSET_ORDER.index(self)


_ONSET_ORDER = [Onset.months, Onset.weeks, Onset.days, Onset.hours]
ONSET_UNKNOWN_RANK = len(_ONSET_ORDER)  # not known counts as faster than hours


class RiskFactor(StrEnum):
    """Contract 1.1 risk factors."""

    injecting_drug_use = "injecting_drug_use"
    weakened_immunity = "weakened_immunity"
    diabetes = "diabetes"
    osteoporosis = "osteoporosis"
    blood_thinners = "blood_thinners"
    active_cancer = "active_cancer"
    smoking = "smoking"


class Treatment(StrEnum):
    medication = "medication"
    injection = "injection"
    physical_therapy = "physical_therapy"
    chiropractic = "chiropractic"
    tens = "tens"
    ablation = "ablation"
    spinal_cord_stimulation = "spinal_cord_stimulation"
    psychological_therapy = "psychological_therapy"
    revision_surgery = "revision_surgery"
    activity_modification = "activity_modification"
    weight_management = "weight_management"
    support_group = "support_group"


class Specialty(StrEnum):
    emergency_department = "emergency_department"
    spine_surgeon = "spine_surgeon"
    pain_medicine = "pain_medicine"
    physiatrist = "physiatrist"
    physical_therapist = "physical_therapist"
    chiropractor = "chiropractor"
    pain_psychologist = "pain_psychologist"
    neurologist = "neurologist"
    primary_care = "primary_care"


class Contributor(StrEnum):
    normal_nerve_recovery = "normal_nerve_recovery"
    residual_nerve_damage = "residual_nerve_damage"
    scar_tissue = "scar_tissue"
    adjacent_segment_disease = "adjacent_segment_disease"
    pseudarthrosis = "pseudarthrosis"
    hardware_problem = "hardware_problem"
    disc_herniation = "disc_herniation"
    spinal_misalignment = "spinal_misalignment"
    muscle_weakness = "muscle_weakness"
    piriformis_syndrome = "piriformis_syndrome"
    pelvic_floor_dysfunction = "pelvic_floor_dysfunction"
    surgical_nerve_injury = "surgical_nerve_injury"
    infection = "infection"
    cauda_equina_compression = "cauda_equina_compression"
    blood_clot = "blood_clot"
    fracture = "fracture"
    serious_pathology = "serious_pathology"


PainScore = Annotated[int, Field(ge=0, le=10, strict=True)]


class AssessmentRequest(BaseModel):
    """What the person tells us. Unknown fields are bad input (contract: 'Bad input')."""

    model_config = ConfigDict(extra="forbid")

    months_since_surgery: float = Field(ge=0, le=600, allow_inf_nan=False, strict=True,
                                        description="Time since the most recent fusion, in months.")
    fusion_region: FusionRegion = FusionRegion.lumbar
    sciatica_before_surgery: bool = Field(default=False, strict=True)
    leg_pain: PainScore = Field(description="Average leg (sciatic) pain over the past week, 0-10.")
    back_pain: PainScore = Field(description="Average back pain over the past week, 0-10.")
    trend: Trend
    constant_pain: bool = Field(default=False, strict=True)
    symptoms: list[Symptom] = Field(default_factory=list, max_length=len(Symptom) * 2)
    treatments_tried: list[Treatment] = Field(default_factory=list, max_length=len(Treatment) * 2)
    # Contract 1.1 (all optional; a 1.0 request means exactly what it meant before).
    age: int | None = Field(default=None, ge=16, le=120, strict=True, description="Age in years.")
    fusion_approach: FusionApproach = FusionApproach.unknown
    onset: Onset | None = Field(default=None, description="How quickly the current problem came on; null: not known.")
    long_standing_symptoms: list[Symptom] = Field(
        default_factory=list,
        max_length=len(Symptom) * 2,
        description="Reported symptoms that were there before the operation and have not got worse; each must "
        "also be in symptoms.",
    )
    risk_factors: list[RiskFactor] = Field(default_factory=list, max_length=len(RiskFactor) * 2)

    @field_validator("long_standing_symptoms")
    @classmethod
    def _long_standing_are_reported(cls, value: list[Symptom], info: ValidationInfo) -> list[Symptom]:
        reported = info.data.get("symptoms")
        if reported is None:  # symptoms itself was bad input; that error is reported on its own
            return value
        missing = [s.value for s in dict.fromkeys(value) if s not in reported]
        if missing:
            raise PydanticCustomError(
                "long_standing_not_reported",
                "{missing} {verb} not in symptoms: every code in long_standing_symptoms must also be listed in "
                "symptoms",
                {"missing": ", ".join(missing), "verb": "is" if len(missing) == 1 else "are"},
            )
        return value


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)  # built once per pack and shared between results

    code: str
    text: str
    rule: str = Field(description="Id of the knowledge-pack rule that produced this reason.")
    source: str = Field(description="The guideline or review the rule comes from.")


class PossibleContributor(BaseModel):
    model_config = ConfigDict(frozen=True)  # built once per pack and shared between results

    code: Contributor
    name: str
    explanation: str


class RecommendedSpecialty(BaseModel):
    model_config = ConfigDict(frozen=True)  # built once per pack and shared between results

    code: Specialty
    name: str
    taxonomy_codes: list[str]
    why: str


class TreatmentOption(BaseModel):
    model_config = ConfigDict(frozen=True)  # built once per pack and shared between results

    code: Treatment
    name: str
    specialties: list[Specialty]
    summary: str
    evidence: str = Field(default="", description="What the evidence says, honestly, including advice against.")
    cautions: list[str] = Field(default_factory=list, description="Safety cautions to know before trying it.")


class WarningSign(BaseModel):
    """Contract 1.1 safety-netting: a sign that should make this person seek help at once, and where."""

    model_config = ConfigDict(frozen=True)  # built once per pack and shared between results

    code: str
    text: str


class AssessmentResult(BaseModel):
    urgency: Urgency
    headline: str
    red_flags: list[Symptom]
    reasons: list[Reason]
    possible_contributors: list[PossibleContributor]
    recommended_specialties: list[RecommendedSpecialty]
    treatment_options: list[TreatmentOption]
    next_steps: list[str]
    # Always filled by the engine (never empty); the default only lets results saved under contract 1.0 load.
    warning_signs: list[WarningSign] = Field(default_factory=list)
    disclaimer: str


# The contract's specialty table: name and NUCC taxonomy codes per specialty code (spec/assessment-api.md).
# The knowledge pack's specialty map must match it exactly (checked on load).
CONTRACT_SPECIALTIES: dict[Specialty, tuple[str, tuple[str, ...]]] = {
    Specialty.emergency_department: ("Emergency medicine", ("207P00000X",)),
    Specialty.spine_surgeon: ("Spine surgeon", ("207XS0117X", "207T00000X", "207X00000X")),
    Specialty.pain_medicine: ("Pain medicine", ("208VP0014X", "208VP0000X", "207LP2900X", "2081P2900X", "2084P2900X")),
    Specialty.physiatrist: ("Physical medicine and rehabilitation", ("208100000X", "2081S0010X")),
    Specialty.physical_therapist: ("Physical therapist", ("225100000X", "2251X0800X")),
    Specialty.chiropractor: ("Chiropractor", ("111N00000X", "111NX0800X")),
    Specialty.pain_psychologist: (
        "Psychologist (pain and health)",
        ("103T00000X", "103TH0004X", "103TH0100X", "103TC0700X"),
    ),
    Specialty.neurologist: ("Neurologist", ("2084N0400X",)),
    Specialty.primary_care: ("Primary care", ("207Q00000X", "207R00000X", "208D00000X")),
}
