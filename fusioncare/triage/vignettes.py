"""Clinical vignettes: a request with what a reviewer expects back, run through the engine for sign-off."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from fusioncare.knowledge.loader import Pack, get_pack
from fusioncare.triage import service
from fusioncare.triage.batch import BadAssessmentInput
from fusioncare.triage.schemas import (
    AssessmentRequest,
    AssessmentResult,
    Contributor,
    Specialty,
    Symptom,
    Treatment,
    Urgency,
)
from fusioncare.validation import FieldProblem, problems


class Expectation(BaseModel):
    """What the result must show. Every field is optional; lists of acceptable values are alternatives."""

    model_config = ConfigDict(extra="forbid")

    urgency: list[Urgency] = Field(default_factory=list, description="Acceptable urgencies.")
    first_specialty: list[Specialty] = Field(default_factory=list, description="Acceptable first specialties.")
    red_flags: list[Symptom] | None = Field(default=None, description="Exactly these red flags, in any order.")
    contributors_include: list[Contributor] = Field(default_factory=list)
    contributors_exclude: list[Contributor] = Field(default_factory=list)
    specialties_include: list[Specialty] = Field(default_factory=list)
    treatments_include: list[Treatment] = Field(default_factory=list)
    treatments_exclude: list[Treatment] = Field(default_factory=list, description="Options that must not be offered.")
    first_treatment_not_in: list[Treatment] = Field(
        default_factory=list, description="Tried options must not come first."
    )
    rules_include: list[str] = Field(default_factory=list, description="Ids of rules that must be among the reasons.")


class Vignette(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    source: str | None = Field(default=None, description="Id of the source that decides the expected urgency.")
    request: AssessmentRequest
    expect: Expectation


_VIGNETTES = TypeAdapter(list[Vignette])


@dataclass(frozen=True)
class Outcome:
    vignette: Vignette
    result: AssessmentResult
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def under_triage(self) -> bool:
        """The urgency is below every acceptable one: the unsafe kind of miss."""
        floor = min((u.rank for u in self.vignette.expect.urgency), default=None)
        return floor is not None and self.result.urgency.rank < floor

    @property
    def urgency_matches(self) -> bool:
        return not self.vignette.expect.urgency or self.result.urgency in self.vignette.expect.urgency

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.vignette.name,
            "passed": self.passed,
            "problems": self.problems,
            "urgency": self.result.urgency.value,
            "first_specialty": self.result.recommended_specialties[0].code.value
            if self.result.recommended_specialties
            else None,
            "red_flags": [s.value for s in self.result.red_flags],
            "under_triage": self.under_triage,
            "rules": [r.rule for r in self.result.reasons],
        }


def load_vignettes(path: Path) -> list[Vignette]:
    """A JSON or YAML list of {name, request, expect}; BadAssessmentInput names the bad element and field."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise BadAssessmentInput(
            [FieldProblem(field="", message=f"{path.name} cannot be read ({exc})", type="json_invalid", loc=())]
        ) from None
    try:
        return _VIGNETTES.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]["loc"][0] if errors[0]["loc"] and isinstance(errors[0]["loc"][0], int) else None
        own: list[dict[str, Any]] = [
            {**e, "loc": tuple(e["loc"][1:])} for e in errors if first is not None and e["loc"][0] == first
        ] or [dict(e) for e in errors]
        raise BadAssessmentInput(problems(own), index=first) from None


def check(vignette: Vignette, result: AssessmentResult) -> list[str]:
    """Every way the result differs from the expectation, in plain words ([] when it passes)."""
    expect = vignette.expect
    found: list[str] = []
    first = result.recommended_specialties[0].code if result.recommended_specialties else None
    contributors = {c.code for c in result.possible_contributors}
    specialties = {s.code for s in result.recommended_specialties}
    treatments = [t.code for t in result.treatment_options]
    rules = {r.rule for r in result.reasons}
    if expect.urgency and result.urgency not in expect.urgency:
        lowest = min(u.rank for u in expect.urgency)
        kind = "UNDER-TRIAGE: " if result.urgency.rank < lowest else ""
        found.append(f"{kind}urgency {result.urgency.value}, expected {' or '.join(u.value for u in expect.urgency)}")
    if expect.first_specialty and first not in expect.first_specialty:
        found.append(
            f"first specialty {first.value if first else 'none'}, "
            f"expected {' or '.join(s.value for s in expect.first_specialty)}"
        )
    if expect.red_flags is not None and set(result.red_flags) != set(expect.red_flags):
        found.append(
            f"red flags {sorted(s.value for s in result.red_flags)}, "
            f"expected {sorted(s.value for s in expect.red_flags)}"
        )
    found += [f"contributor {c.value} missing" for c in expect.contributors_include if c not in contributors]
    found += [f"contributor {c.value} should not be listed" for c in expect.contributors_exclude if c in contributors]
    found += [f"specialty {s.value} missing" for s in expect.specialties_include if s not in specialties]
    found += [f"treatment option {t.value} missing" for t in expect.treatments_include if t not in treatments]
    found += [f"treatment option {t.value} should not be offered" for t in expect.treatments_exclude if t in treatments]
    if treatments and treatments[0] in expect.first_treatment_not_in:
        found.append(f"treatment option {treatments[0].value} comes first but was already tried")
    found += [f"rule {r} did not fire" for r in expect.rules_include if r not in rules]
    return found


def run(vignettes: list[Vignette], *, pack: Pack | None = None) -> list[Outcome]:
    pack = pack or get_pack()
    outcomes = []
    for vignette in vignettes:
        result = service.assess(request=vignette.request, pack=pack)
        outcomes.append(Outcome(vignette=vignette, result=result, problems=check(vignette, result)))
    return outcomes
