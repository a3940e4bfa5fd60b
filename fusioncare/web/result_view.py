"""Shapes an assessment result and the answers behind it for the result page (wording only, no clinical logic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fusioncare.knowledge.loader import Pack
from fusioncare.triage.schemas import AssessmentRequest, AssessmentResult, Urgency
from fusioncare.web.questionnaire import REGION_CHOICES, TREND_CHOICES, Answers


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


def banner(*, result: AssessmentResult, pack: Pack) -> Banner:
    meaning = pack.urgency_levels[result.urgency].meaning
    if result.urgency is Urgency.emergency:
        return Banner(_LEVEL_LABELS[result.urgency], EMERGENCY_TITLE, result.headline, meaning)
    return Banner(_LEVEL_LABELS[result.urgency], result.headline, "", meaning)


def _number(value: float) -> str:
    return f"{value:g}"


def surgery_ago(answers: Answers) -> str:
    """'2 years ago' / '1 month ago', as the person entered it."""
    amount = float(answers.get("surgery_time_amount") or 0)
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


def answer_summary(*, request: AssessmentRequest, answers: Answers, pack: Pack) -> list[tuple[str, str]]:
    """(label, value) rows so the person can check what the result is based on."""
    region = next(c.label for c in REGION_CHOICES if c.value == request.fusion_region.value)
    trend = next(c.label for c in TREND_CHOICES if c.value == request.trend.value)
    symptoms = [pack.symptom_by_code[s].plain_words for s in request.symptoms]
    treatments = [pack.treatment_by_code[t].name for t in request.treatments_tried]
    yes_no = {True: "Yes", False: "No"}
    return [
        ("Surgery", f"{surgery_ago(answers)}, {region.lower()}"),
        ("Sciatica before surgery", yes_no[request.sciatica_before_surgery]),
        ("Leg pain", f"{request.leg_pain} out of 10"),
        ("Back pain", f"{request.back_pain} out of 10"),
        ("Pain over recent weeks", trend),
        ("Pain all the time", yes_no[request.constant_pain]),
        ("Symptoms", "; ".join(symptoms) or "None"),
        ("Treatments tried", "; ".join(treatments) or "None"),
    ]


def page_context(*, result: AssessmentResult, assessment_request: AssessmentRequest, answers: Answers, pack: Pack,
                 last_step_key: str) -> dict[str, Any]:
    """Everything assess_result.html shows. ``hidden`` carries the answers so 'Change my answers' (and later
    'Save this assessment') can post them back without the server keeping anything."""
    return {
        "result": result,
        "assessment_request": assessment_request,
        "banner": banner(result=result, pack=pack),
        "surgery_ago": surgery_ago(answers),
        "red_flag_words": red_flag_words(result=result, pack=pack),
        "what_to_say": [in_sentence(w) for w in red_flag_words(result=result, pack=pack)],
        "answer_summary": answer_summary(request=assessment_request, answers=answers, pack=pack),
        "specialty_names": {s.code.value: s.name for s in pack.specialties},
        "hidden": answers.items,
        "last_step_key": last_step_key,
    }
