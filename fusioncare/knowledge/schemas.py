"""Pydantic shapes of a knowledge pack's YAML files: what a clinical reviewer edits, checked on load."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fusioncare.triage.schemas import (
    Contributor,
    FusionApproach,
    FusionRegion,
    Onset,
    RiskFactor,
    Specialty,
    Symptom,
    Treatment,
    Trend,
    Urgency,
)

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]


class PackModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- sources -------------------------------------------------------------------------------------


SourceKind = Literal["guideline", "article", "web_page"]

DOI_PATTERN = r"^10\.\d{4,9}/\S+$"


class Source(PackModel):
    """One specific document a rule or claim rests on: a numbered guideline, a journal article or a web page.

    Checked on load: a guideline needs its number (``identifier``, e.g. "NG59") and its URL; an article needs its
    authors, journal and year and a way to find it: a DOI (``10.NNNN/...``), or, when no DOI could be verified, its
    PubMed ID or its volume and pages; a web page needs its URL. A DOI is never guessed: one we could not verify is
    left out.
    """

    id: Code
    kind: SourceKind
    title: Text
    publisher: Text
    year: int | None = Field(default=None, ge=1950, le=2100, description="Publication year; None only for a web page.")
    updated: int | None = Field(default=None, ge=1950, le=2100, description="Year of the last update, if any.")
    identifier: str = Field(default="", description="A guideline's number, e.g. 'NG59', 'TA159'.")
    authors: str = Field(default="", description="'Surname AB, Surname CD, et al.' as in the article.")
    journal: str = ""
    volume: str = ""
    pages: str = Field(default="", description="Pages or article number, e.g. '2012-2020', 'E8', 'CD014789'.")
    doi: Annotated[str, Field(pattern=DOI_PATTERN)] | None = None
    pmid: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,8}$")] | None = None
    url: Annotated[str, Field(pattern=r"^https://\S+$")] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _identifiable(self) -> Source:
        if self.kind == "guideline":
            if not self.identifier or not self.url or self.year is None:
                raise ValueError(f"{self.id}: a guideline needs its number (identifier), its url and its year")
        elif self.kind == "article":
            if not self.authors or not self.journal or self.year is None:
                raise ValueError(f"{self.id}: an article needs its authors, journal and year")
            if not (self.doi or self.pmid or (self.volume and self.pages)):
                raise ValueError(f"{self.id}: an article needs a DOI, or its PubMed ID, or its volume and pages")
        elif not self.url:
            raise ValueError(f"{self.id}: a web page needs its url")
        return self

    @property
    def citation(self) -> str:
        """One line naming the document, e.g. 'NICE NG59: Low back pain and sciatica ... (2016, updated 2020)'."""
        when = "" if self.year is None else f" ({self.year}{f', updated {self.updated}' if self.updated else ''})"
        if self.kind == "guideline":
            return f"{self.publisher} {self.identifier}: {self.title}{when}"
        if self.kind == "article":
            where = self.journal + (f" {self.volume}" if self.volume else "")
            if self.pages:
                where += f":{self.pages}" if self.volume else f", {self.pages}"
            return f"{self.authors.rstrip('.')}. {self.title}. {where}{when}"
        return f"{self.publisher}: {self.title}{when}"


# --- vocabulary ----------------------------------------------------------------------------------


class AskWhen(PackModel):
    """When a question group is worth asking: questions about the neck only after a neck fusion, and so on.
    An empty list means any. Only the questionnaire uses this; the engine weighs every symptom it is sent."""

    fusion_region_in: list[FusionRegion] = Field(default_factory=list)
    fusion_approach_in: list[FusionApproach] = Field(default_factory=list)


class QuestionGroup(PackModel):
    """One step of the questionnaire: a topic with its own short introduction."""

    code: Code
    title: Text
    intro: Text
    ask_when: AskWhen = Field(default_factory=AskWhen)

    def applies(self, region: FusionRegion | None, approach: FusionApproach | None) -> bool:
        """Whether to ask this group; an unanswered region or approach asks every group (the safe side)."""
        region_ok = not self.ask_when.fusion_region_in or region is None or region in self.ask_when.fusion_region_in
        approach_ok = (not self.ask_when.fusion_approach_in or approach is None
                       or approach in self.ask_when.fusion_approach_in)
        return region_ok and approach_ok


class SymptomEntry(PackModel):
    code: Symptom
    plain_words: Text
    question_group: Code
    may_be_long_standing: bool = Field(
        default=False,
        description="A stable nerve symptom whose weight a long-standing report may lower (contract 1.1).")


class RiskFactorEntry(PackModel):
    code: RiskFactor
    plain_words: Text


class ContributorEntry(PackModel):
    code: Contributor
    name: Text
    explanation: Text
    source: Code


class TreatmentLimit(PackModel):
    """A presentation for which the sources advise against offering a treatment."""

    when: Conditions
    why: Text
    sources: list[Code] = Field(min_length=1)


class TreatmentEntry(PackModel):
    code: Treatment
    name: Text
    specialties: list[Specialty] = Field(min_length=1)
    summary: Text
    evidence: Text
    cautions: list[Text] = Field(default_factory=list, description="Short safety cautions, one plain sentence each.")
    sources: list[Code] = Field(min_length=1)
    not_offered_when: list[TreatmentLimit] = Field(
        default_factory=list, description="Never offered when any of these holds (the sources advise against it)."
    )


class SpecialtyEntry(PackModel):
    code: Specialty
    name: Text
    taxonomy_codes: list[Annotated[str, Field(pattern=r"^[0-9A-Z]{9}X$")]] = Field(min_length=1)
    description: Text


class ManagementStrategy(PackModel):
    """A long-term self-management habit (used by the recovery tracker)."""

    code: Code
    title: Text
    summary: Text
    source: Code


class UrgencyLevel(PackModel):
    code: Urgency
    headline: Text
    meaning: Text
    next_steps: list[Text] = Field(min_length=1)


# --- rules ---------------------------------------------------------------------------------------


class Conditions(PackModel):
    """All listed conditions must hold (AND). Every field is optional; an empty block always matches.

    The "raising" conditions (symptoms, new symptoms, risk factors, pain at least, trend at least, constant
    pain, onset at least, age at least, and any_of over raising blocks) can only become true, never false, as a
    person reports more or worse symptoms, more risk factors, a faster onset, a higher age or a symptom as new
    rather than long-standing; that is what makes the engine monotone (contract 1.0 and 1.1).
    The "lowering" ones (``*_at_most``) may only be used by routine rules (checked on load).
    """

    symptoms_all: list[Symptom] = Field(default_factory=list, description="Every one of these is reported.")
    symptoms_any: list[Symptom] = Field(default_factory=list, description="At least one of these is reported.")
    new_symptoms_any: list[Symptom] = Field(
        default_factory=list,
        description="At least one of these is reported and not listed as long-standing. Only symptoms marked "
        "may_be_long_standing in symptoms.yaml (checked on load); every other symptom counts whether old or new.",
    )
    risk_factors_any: list[RiskFactor] = Field(default_factory=list, description="At least one of these risk factors.")
    onset_at_least: Onset | None = Field(
        default=None, description="months < weeks < days < hours < not known: came on at least this fast."
    )
    age_at_least: int | None = Field(default=None, ge=16, le=120, description="Age at least this, or not known.")
    fusion_approach_in: list[FusionApproach] = Field(default_factory=list)
    any_of: list[Conditions] = Field(
        default_factory=list, description="At least one of these blocks holds (each block is itself all-of)."
    )
    leg_pain_at_least: int | None = Field(default=None, ge=0, le=10)
    back_pain_at_least: int | None = Field(default=None, ge=0, le=10)
    any_pain_at_least: int | None = Field(default=None, ge=0, le=10, description="Leg or back pain at least this.")
    trend_at_least: Trend | None = Field(default=None, description="improving < stable < worsening.")
    constant_pain: bool | None = Field(default=None, description="Only 'true' is allowed: the pain never lets up.")
    months_at_least: float | None = Field(default=None, ge=0)
    months_below: float | None = Field(default=None, gt=0)
    sciatica_before_surgery: bool | None = None
    fusion_region_in: list[FusionRegion] = Field(default_factory=list)
    treatments_tried_any: list[Treatment] = Field(default_factory=list)
    treatments_tried_at_least: int | None = Field(default=None, ge=1, description="Of those in treatments_tried_any.")
    # Lowering conditions: routine rules only.
    trend_at_most: Trend | None = None
    any_pain_at_most: int | None = Field(default=None, ge=0, le=10, description="Leg and back pain both at most this.")
    leg_pain_at_most: int | None = Field(default=None, ge=0, le=10, description="Leg pain at most this.")
    symptoms_none: list[Symptom] = Field(default_factory=list, description="None of these is reported.")

    @model_validator(mode="after")
    def _coherent(self) -> Conditions:
        if self.constant_pain is False:
            raise ValueError("constant_pain may only be true (a rule cannot require the pain to let up)")
        if self.treatments_tried_at_least is not None and not self.treatments_tried_any:
            raise ValueError("treatments_tried_at_least needs treatments_tried_any")
        if self.treatments_tried_at_least is not None and self.treatments_tried_at_least > len(
            self.treatments_tried_any
        ):
            raise ValueError("treatments_tried_at_least is larger than the list it counts")
        if (
            self.months_at_least is not None
            and self.months_below is not None
            and self.months_below <= self.months_at_least
        ):
            raise ValueError("months_below must be larger than months_at_least")
        return self

    @property
    def lowers(self) -> bool:
        """True when the rule could stop matching as symptoms, pain or trend get worse."""
        return (
            self.trend_at_most is not None
            or self.any_pain_at_most is not None
            or self.leg_pain_at_most is not None
            or bool(self.symptoms_none)
            or any(block.lowers for block in self.any_of)
        )

    @property
    def symptom_codes(self) -> list[Symptom]:
        nested = [code for block in self.any_of for code in block.symptom_codes]
        return list(dict.fromkeys([*self.symptoms_all, *self.symptoms_any, *self.new_symptoms_any, *nested]))

    @property
    def new_symptom_codes(self) -> list[Symptom]:
        """Every code named in a new_symptoms_any, here or in a nested block."""
        return list(dict.fromkeys([*self.new_symptoms_any, *(c for b in self.any_of for c in b.new_symptom_codes)]))

    @property
    def clinical(self) -> bool:
        """True when the block asks for something the person reports: a symptom or a pain level. A rule that
        raises urgency must, so a timeline, region or risk factor alone never sends anyone to hospital."""
        own = bool(
            self.symptoms_all
            or self.symptoms_any
            or self.new_symptoms_any
            or self.constant_pain
            or self.leg_pain_at_least
            or self.back_pain_at_least
            or self.any_pain_at_least
        )
        return own or (bool(self.any_of) and all(block.clinical for block in self.any_of))


class Rule(PackModel):
    """One ordered rule: when its conditions hold it sets at least ``urgency`` and adds its advice."""

    id: Code
    red_flag: bool = Field(
        default=False, description="A warning sign; red-flag rules alone may set urgent or emergency."
    )
    when: Conditions
    urgency: Urgency
    reason: Text
    contributors: list[Contributor] = Field(default_factory=list)
    specialties: list[Specialty] = Field(default_factory=list)
    specialty_why: str = Field(default="", description="Why these specialists, in plain words.")
    treatments: list[Treatment] = Field(default_factory=list)
    next_steps: list[Text] = Field(default_factory=list)
    sources: list[Code] = Field(min_length=1)

    @model_validator(mode="after")
    def _safe(self) -> Rule:
        high = self.urgency in (Urgency.urgent, Urgency.emergency)
        if self.red_flag and not high:
            raise ValueError("a red-flag rule must set urgency urgent or emergency")
        if high and not self.red_flag:
            raise ValueError("only red-flag rules may set urgency urgent or emergency")
        if self.red_flag and not self.when.clinical:
            raise ValueError("a red-flag rule must name the warning symptoms or the pain level it reacts to")
        if high and self.treatments:
            raise ValueError("an urgent or emergency rule lists no treatments: the person needs a clinician first")
        if self.when.lowers and self.urgency is not Urgency.routine:
            raise ValueError("trend_at_most, any_pain_at_most and symptoms_none are only allowed in routine rules")
        if self.urgency is Urgency.emergency and (
            not self.specialties or self.specialties[0] is not Specialty.emergency_department
        ):
            raise ValueError("an emergency rule must list emergency_department first")
        if not self.specialties and self.urgency is not Urgency.routine:
            raise ValueError("a rule that raises urgency must say whom to see")
        return self


class WarningSignEntry(PackModel):
    """Safety-netting (contract 1.1): a sign to act on at once and where to go, listed when ``when`` holds.
    It never changes the urgency; its conditions only fit the list to the person (time, region, risks)."""

    code: Code
    text: Text
    when: Conditions = Field(default_factory=Conditions)
    sources: list[Code] = Field(min_length=1)


class WarningSignFile(PackModel):
    warning_signs: list[WarningSignEntry] = Field(min_length=1)


class RiskFactorFile(PackModel):
    risk_factors: list[RiskFactorEntry]


class RuleFile(PackModel):
    rules: list[Rule] = Field(min_length=1)


class PackMeta(PackModel):
    """pack.yaml: the condition's name, the default rule and the fixed texts."""

    code: Code
    name: Text
    version: Text
    reviewed_by: str = ""
    disclaimer: Text
    default_rule: Rule
    question_groups: list[QuestionGroup] = Field(min_length=1)
    urgency_levels: list[UrgencyLevel] = Field(min_length=4, max_length=4)


class SymptomFile(PackModel):
    symptoms: list[SymptomEntry]


class ContributorFile(PackModel):
    contributors: list[ContributorEntry]


class TreatmentFile(PackModel):
    treatments: list[TreatmentEntry]


class SpecialtyFile(PackModel):
    specialties: list[SpecialtyEntry]


class ManagementFile(PackModel):
    strategies: list[ManagementStrategy] = Field(min_length=1)


class GlossaryTerm(PackModel):
    """A medical word a patient needs, with its plain explanation (texts explain it once, in their own words)."""

    term: Text
    variants: list[Text] = Field(default_factory=list, description="Other forms of the word, e.g. plurals.")
    plain: Text


class GlossaryFile(PackModel):
    terms: list[GlossaryTerm] = Field(min_length=1)


class ProcedureCode(PackModel):
    """One HCPCS/CPT code that shows a clinician performs a treatment (read from Medicare's public file)."""

    code: Annotated[str, Field(pattern=r"^[0-9A-Z]{5}$", description="5 letters or digits, e.g. 64483, G0260.")]
    meaning: Text
    patient_words: Text
    add_on: bool = False
    sources: list[Code] = Field(min_length=1)

    @model_validator(mode="after")
    def _add_on_stands_alone(self) -> ProcedureCode:
        # A profile lists only the codes a clinician has figures for, so an add-on's line may stand alone: it must
        # name its procedure, not point back at one ("Extra levels of that fusion" after an injection line).
        if self.add_on and re.search(r"\b(that|those|these|this)\b", self.patient_words, re.IGNORECASE):
            raise ValueError(f"{self.code}: an add-on's patient_words must name the procedure it extends (it can be "
                             f"shown alone), not point back with 'that' or 'those': {self.patient_words!r}")
        return self


class TreatmentEvidence(PackModel):
    """The procedure codes of one treatment, and how a match reason counts and says them."""

    treatment: Treatment
    measure: Literal["services", "patients"]
    phrase: Text
    codes: list[ProcedureCode] = Field(min_length=1)

    @model_validator(mode="after")
    def _countable(self) -> TreatmentEvidence:
        import string

        fields = sorted({name for _, name, _, _ in string.Formatter().parse(self.phrase) if name is not None})
        if fields != ["number", "year"]:
            raise ValueError(f"{self.treatment.value}: the phrase must use exactly {{number}} and {{year}}, "
                             f"found {', '.join(fields) or 'none'}")
        if all(c.add_on for c in self.codes):
            raise ValueError(f"{self.treatment.value}: at least one code must not be an add-on (add-ons are "
                             f"never counted in a reason)")
        return self


class MedicareDataset(PackModel):
    """One CMS public file the directory reads: how we name it to patients, and what its figures are not."""

    code: Literal["utilization", "clinicians"]
    name: Text
    caveat: Text
    short_caveat: Text = Field(description="The caveat in one short line, for a match card.")
    sources: list[Code] = Field(min_length=1)


class ProcedureEvidenceFile(PackModel):
    datasets: list[MedicareDataset] = Field(min_length=2, max_length=2)
    evidence: list[TreatmentEvidence] = Field(min_length=1)


class SourceFile(PackModel):
    sources: list[Source] = Field(min_length=1)


# Treatment limits are read before Conditions is defined in this module.
TreatmentLimit.model_rebuild()
TreatmentEntry.model_rebuild()
TreatmentFile.model_rebuild()
