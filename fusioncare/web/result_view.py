"""Shapes an assessment result and the answers behind it for the result page (wording only, no clinical logic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fusioncare.knowledge.loader import Pack
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult, FusionRegion, Urgency
from fusioncare.web.questionnaire import (
    APPROACH_CHOICES,
    ONSET_CHOICES,
    ONSET_NOT_SURE,
    REGION_CHOICES,
    TREND_CHOICES,
    Answers,
)
from fusioncare.web.wording import get_wording


@dataclass(frozen=True)
class Banner:
    level: str  # the short label above the title
    title: str  # the page's heading: what to do now
    subtitle: str  # the engine's headline when the title is not already it
    meaning: str  # why, from the pack's urgency level


# The contract's urgency levels as a person reads them (spec/assessment-api.md, "Urgency levels").
_LEVEL_LABELS = {
    Urgency.emergency: "Emergency",
    Urgency.urgent: "Urgent: today",
    Urgency.soon: "Soon: within 1 to 2 weeks",
    Urgency.routine: "Routine",
}
# An emergency is said the way people in the US act on it; the engine's headline follows it.
EMERGENCY_TITLE = "Call 911 or go to the emergency department now"
# Where the fusion is, as said on the phone.
_REGION_SAID = {FusionRegion.lumbar: "lower back", FusionRegion.thoracic: "middle back",
                FusionRegion.cervical: "neck"}


def banner(*, result: AssessmentResult, pack: Pack) -> Banner:
    meaning = pack.urgency_levels[result.urgency].meaning
    if result.urgency is Urgency.emergency:
        return Banner(_LEVEL_LABELS[result.urgency], EMERGENCY_TITLE, result.headline, meaning)
    return Banner(_LEVEL_LABELS[result.urgency], result.headline, "", meaning)


def _number(value: float) -> str:
    return f"{value:g}"


def surgery_ago(answers: Answers) -> str:
    """'2 years ago' / '1 month ago', as the person entered it."""
    try:
        amount = float(answers.get("surgery_time_amount") or 0)
    except ValueError:
        amount = 0
    unit = answers.get("surgery_time_unit") or "months"
    singular = unit.removesuffix("s")
    return f"{_number(amount)} {singular if amount == 1 else unit} ago"


def red_flag_words(*, result: AssessmentResult, pack: Pack) -> list[str]:
    """The red flags in the pack's plain words."""
    return [pack.symptom_by_code[code].plain_words for code in result.red_flags]


def in_sentence(words: str) -> str:
    """'A leg that...' -> 'a leg that...' to read inside a sentence; an acronym ('TENS ...') stays as it is."""
    first = words.split(" ", 1)[0]
    return words if len(first) > 1 and first.isupper() else words[:1].lower() + words[1:]


def joined(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def what_to_say(*, result: AssessmentResult, request: AssessmentRequest, answers: Answers, pack: Pack) -> str:
    """The sentence to read out to a 911 call handler or the surgeon's office, in words they know."""
    if not result.red_flags:
        return ""
    wording = get_wording()
    symptoms = [wording.say(code, in_sentence(pack.symptom_by_code[code].plain_words)) for code in result.red_flags]
    return (f"I had spinal fusion surgery on my {_REGION_SAID[request.fusion_region]} {surgery_ago(answers)}. "
            f"Now I have {joined(symptoms)}.")


def _label(choices: tuple[Any, ...], value: str) -> str:
    return next((c.label for c in choices if c.value == value), value)


def answer_summary(*, request: AssessmentRequest, answers: Answers, pack: Pack) -> list[tuple[str, str]]:
    """(label, value) rows so the person can check what the result is based on."""
    region = _label(REGION_CHOICES, request.fusion_region.value)
    approach = _label(APPROACH_CHOICES, request.fusion_approach.value)
    old = set(request.long_standing_symptoms)
    symptoms = [pack.symptom_by_code[s].plain_words + (" (there before the operation, no worse)" if s in old else "")
                for s in request.symptoms]
    risks = {r.code: r.plain_words for r in pack.risk_factors}
    yes_no = {True: "Yes", False: "No"}
    return [
        ("Surgery", f"{surgery_ago(answers)}, {region.lower()}, {approach.lower()}"),
        ("Age", str(request.age) if request.age is not None else "Not given"),
        ("Sciatica before surgery", yes_no[request.sciatica_before_surgery]),
        ("Leg pain", f"{request.leg_pain} out of 10"),
        ("Back pain", f"{request.back_pain} out of 10"),
        ("Pain over recent weeks", _label(TREND_CHOICES, request.trend.value)),
        ("Pain all the time", yes_no[request.constant_pain]),
        ("How fast it came on", _label(ONSET_CHOICES, request.onset.value if request.onset else ONSET_NOT_SURE)),
        ("Symptoms", "; ".join(symptoms) or "None"),
        ("Your health", "; ".join(risks[r] for r in request.risk_factors) or "None of those listed"),
        ("Treatments tried", "; ".join(pack.treatment_by_code[t].name for t in request.treatments_tried) or "None"),
    ]


def page_context(*, result: AssessmentResult, assessment_request: AssessmentRequest, answers: Answers,
                 pack: Pack) -> dict[str, Any]:
    """Everything assess_result.html shows about the result; the pages add the draft's links."""
    return {
        "result": result,
        "assessment_request": assessment_request,
        "banner": banner(result=result, pack=pack),
        "red_flag_words": red_flag_words(result=result, pack=pack),
        "what_to_say": what_to_say(result=result, request=assessment_request, answers=answers, pack=pack),
        "answer_summary": answer_summary(request=assessment_request, answers=answers, pack=pack),
        "specialty_names": {s.code.value: s.name for s in pack.specialties},
        "first_specialty": result.recommended_specialties[0] if result.recommended_specialties else None,
    }
