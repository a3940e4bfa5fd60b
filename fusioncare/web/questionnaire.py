"""The assessment questionnaire as server-side steps: works without JavaScript, answers ride along in hidden
fields from step to step, nothing is stored on the server."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from fusioncare.knowledge.loader import Pack
from fusioncare.triage.schemas import AssessmentRequest, FusionRegion, Trend
from fusioncare.validation import FieldProblem, problems_from

#: The answer fields a form may carry; anything else in a submission is ignored.
ANSWER_FIELDS = ("surgery_time_amount", "surgery_time_unit", "fusion_region", "sciatica_before_surgery",
                 "leg_pain", "back_pain", "trend", "constant_pain", "symptoms", "treatments_tried")
LIST_FIELDS = frozenset({"symptoms", "treatments_tried"})

# The contract's upper bound, read from the contract model so the form can never disagree with it.
MAX_MONTHS_SINCE_SURGERY = next(m.le for m in AssessmentRequest.model_fields["months_since_surgery"].metadata
                                if getattr(m, "le", None) is not None)


class SurgeryAnswers(BaseModel):
    """Step 'Your surgery'. The unit comes first so the amount's check can convert years to months."""

    model_config = ConfigDict(extra="ignore")

    surgery_time_unit: Literal["months", "years"] = Field(title="Months or years")
    surgery_time_amount: float = Field(ge=0, allow_inf_nan=False, title="How long ago your surgery was")
    fusion_region: FusionRegion = Field(title="Where your fusion is")
    sciatica_before_surgery: bool = Field(title="Sciatica before surgery")

    @field_validator("surgery_time_amount")
    @classmethod
    def _within_contract(cls, amount: float, info: ValidationInfo) -> float:
        months = amount * (12 if info.data.get("surgery_time_unit") == "years" else 1)
        if months > MAX_MONTHS_SINCE_SURGERY:
            raise PydanticCustomError(
                "less_than_equal", "must be at most {limit} months ({years} years)",
                {"limit": int(MAX_MONTHS_SINCE_SURGERY), "years": int(MAX_MONTHS_SINCE_SURGERY // 12)})
        return amount

    @property
    def months_since_surgery(self) -> float:
        return self.surgery_time_amount * (12 if self.surgery_time_unit == "years" else 1)


class PainAnswers(BaseModel):
    """Step 'Your pain now'."""

    model_config = ConfigDict(extra="ignore")

    leg_pain: int = Field(ge=0, le=10, title="Leg pain")
    back_pain: int = Field(ge=0, le=10, title="Back pain")
    trend: Trend = Field(title="How your pain has changed")
    constant_pain: bool = Field(title="Pain that never lets up")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Step:
    """One page of the questionnaire. ``fields`` are the answers it asks; ``choices`` limit a list field to
    the codes this step shows (a symptom step owns only its group's symptoms)."""

    key: str
    title: str
    kind: Literal["surgery", "pain", "checklist"]
    fields: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    hint: str = ""

    def owns(self, name: str, value: str) -> bool:
        if name not in self.fields:
            return False
        return not self.choices or any(c.value == value for c in self.choices)


FIXED_STEPS = (
    Step(key="surgery", title="Your surgery", kind="surgery",
         fields=("surgery_time_amount", "surgery_time_unit", "fusion_region", "sciatica_before_surgery")),
    Step(key="pain", title="Your pain now", kind="pain",
         fields=("leg_pain", "back_pain", "trend", "constant_pain")),
)


@lru_cache(maxsize=4)
def build_steps(pack: Pack) -> tuple[Step, ...]:
    """Surgery, pain, one step per question group of the pack (in pack order: the urgent groups come first),
    then the treatments tried."""
    symptom_steps = tuple(
        Step(key=f"symptoms-{group.code}", title=group.title, kind="checklist", fields=("symptoms",),
             choices=tuple(Choice(s.code.value, s.plain_words) for s in pack.symptoms_in_group(group.code)),
             hint=group.intro)
        for group in pack.question_groups
    )
    treatment_step = Step(key="treatments", title="Treatments you have tried", kind="checklist",
                          fields=("treatments_tried",),
                          choices=tuple(Choice(t.code.value, t.name) for t in pack.treatments),
                          hint="Tick any you have tried since your surgery.")
    return FIXED_STEPS + symptom_steps + (treatment_step,)


@dataclass
class Answers:
    """The answers so far, exactly as the forms sent them (name, value) in order; blanks count as unanswered."""

    items: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_form(cls, items: Iterable[tuple[str, Any]]) -> Answers:
        kept: list[tuple[str, str]] = []
        for name, value in items:
            if name in ANSWER_FIELDS and isinstance(value, str) and value.strip():
                pair = (name, value.strip())
                if name not in LIST_FIELDS or pair not in kept:
                    kept.append(pair)
        return cls(kept)

    def get(self, name: str) -> str | None:
        return next((v for k, v in reversed(self.items) if k == name), None)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def hidden_for(self, step: Step) -> list[tuple[str, str]]:
        """What the page for ``step`` carries in hidden fields: every answer that step does not ask."""
        return [(k, v) for k, v in self.items if not step.owns(k, v)]

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ANSWER_FIELDS:
            if name in LIST_FIELDS:
                out[name] = self.getlist(name)
            elif (value := self.get(name)) is not None:
                out[name] = value
        return out


@dataclass
class StepProblems:
    """Problems on one step: ``messages`` maps a form field to its message, naming the field in plain words."""

    step: Step
    messages: dict[str, str]


_STEP_MODELS: dict[str, type[BaseModel]] = {"surgery": SurgeryAnswers, "pain": PainAnswers}
# Where a contract field is asked on the form, so an error in the final request lands beside the right input.
_FORM_FIELD_FOR = {"months_since_surgery": "surgery_time_amount"}
_LIST_TITLES = {"symptoms": "Symptoms", "treatments_tried": "Treatments tried"}


def plain_title(form_field: str) -> str:
    """The words the page uses for a field, so a message names it as the person saw it."""
    for model in _STEP_MODELS.values():
        if (info := model.model_fields.get(form_field)) is not None and info.title:
            return info.title
    return _LIST_TITLES.get(form_field, form_field.replace("_", " "))


def _messages(found: list[FieldProblem]) -> dict[str, str]:
    """Messages for the page. Problems come without the model, so they say what went wrong in words that
    fit radio buttons and boxes ('this field is required') rather than the API's 'allowed: true or false'."""
    messages: dict[str, str] = {}
    for problem in found:
        name = str(problem.loc[0]) if problem.loc else ""
        form_field = _FORM_FIELD_FOR.get(name, name)
        messages.setdefault(form_field, f"{plain_title(form_field)}: {problem.message}")
    return messages


def check_step(step: Step, answers: Answers) -> StepProblems | None:
    model = _STEP_MODELS.get(step.kind)
    if model is None:  # checklists: ticking nothing is a valid answer; codes are checked in build_request
        return None
    try:
        model.model_validate(answers.data())
    except ValidationError as exc:
        return StepProblems(step=step, messages=_messages(problems_from(exc)))
    return None


def build_request(steps: Sequence[Step], answers: Answers) -> AssessmentRequest | StepProblems:
    """The contract request from all answers, or the problems of the first step that needs fixing."""
    for step in steps:
        if (found := check_step(step, answers)) is not None:
            return found
    data = answers.data()
    surgery = SurgeryAnswers.model_validate(data)
    pain = PainAnswers.model_validate(data)
    try:
        return AssessmentRequest.model_validate({
            "months_since_surgery": surgery.months_since_surgery,
            "fusion_region": surgery.fusion_region,
            "sciatica_before_surgery": surgery.sciatica_before_surgery,
            **pain.model_dump(),
            "symptoms": data["symptoms"],
            "treatments_tried": data["treatments_tried"],
        })
    except ValidationError as exc:
        # Only a hand-made submission gets here (the pages offer only valid codes): show the problem on the
        # step that asks the first bad field.
        messages = _messages(problems_from(exc))
        target = next((s for s in steps if any(f in s.fields for f in messages)), steps[0])
        return StepProblems(step=target, messages=messages)


@dataclass
class Outcome:
    """What to show next: a step (with problems if any) or the finished request."""

    step: Step | None = None
    problems: dict[str, str] = field(default_factory=dict)
    request: AssessmentRequest | None = None


def advance(*, steps: Sequence[Step], answers: Answers, step_key: str | None, action: str | None) -> Outcome:
    """Move through the questionnaire: 'back' never validates; 'next' checks every step so far, so a changed
    hidden field cannot slip past; after the last step the request is built."""
    index = next((i for i, s in enumerate(steps) if s.key == step_key), None)
    if index is None:
        return Outcome(step=steps[0])
    if action == "back":
        return Outcome(step=steps[max(index - 1, 0)])
    if action == "change":
        return Outcome(step=steps[index])
    for step in steps[: index + 1]:
        if (found := check_step(step, answers)) is not None:
            return Outcome(step=found.step, problems=found.messages)
    if index + 1 < len(steps):
        return Outcome(step=steps[index + 1])
    built = build_request(steps, answers)
    if isinstance(built, StepProblems):
        return Outcome(step=built.step, problems=built.messages)
    return Outcome(request=built)


# Plain words for the fixed steps' choices (user-interface wording; the clinical vocabulary is in the pack).
REGION_CHOICES = (Choice("lumbar", "Lower back (lumbar)"), Choice("thoracic", "Middle of the back (thoracic)"),
                  Choice("cervical", "Neck (cervical)"))
TREND_CHOICES = (Choice("improving", "Getting better"), Choice("stable", "About the same"),
                 Choice("worsening", "Getting worse"))
YES_NO_CHOICES = (Choice("yes", "Yes"), Choice("no", "No"))
UNIT_CHOICES = (Choice("months", "months ago"), Choice("years", "years ago"))
