"""The assessment questionnaire as server-side steps: which steps apply to these answers, what each step owns,
how a step's answers are checked (with messages in plain words), and the contract request they make.

No HTTP and no storage here: the pages keep the answers in a server-side draft (fusioncare.assessment_drafts)
and hand them in as ``Answers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from fusioncare.knowledge.loader import Pack
from fusioncare.knowledge.schemas import QuestionGroup
from fusioncare.triage.schemas import AssessmentRequest, FusionApproach, FusionRegion, Trend
from fusioncare.web.wording import OneOf, get_wording

#: The answer fields a form may carry; anything else in a submission is ignored.
ANSWER_FIELDS = ("surgery_time_amount", "surgery_time_unit", "fusion_region", "fusion_approach",
                 "sciatica_before_surgery", "age", "leg_pain", "back_pain", "trend", "constant_pain", "onset",
                 "symptoms", "long_standing_symptoms", "risk_factors", "treatments_tried")
LIST_FIELDS = frozenset({"symptoms", "long_standing_symptoms", "risk_factors", "treatments_tried"})
# Longest answer a field may hold; a longer one is not from our pages and is cut (the check then refuses it).
MAX_ANSWER_LENGTH = 40

# The contract's upper bound, read from the contract model so the form can never disagree with it.
MAX_MONTHS_SINCE_SURGERY = next(m.le for m in AssessmentRequest.model_fields["months_since_surgery"].metadata
                                if getattr(m, "le", None) is not None)
MIN_AGE, MAX_AGE = 16, 120
ONSET_NOT_SURE = "unknown"


class SurgeryAnswers(BaseModel):
    """Step 'Your surgery'. The unit comes first so the amount's check can convert years to months."""

    model_config = ConfigDict(extra="ignore")

    surgery_time_unit: Literal["months", "years"]
    surgery_time_amount: float = Field(ge=0, allow_inf_nan=False)
    fusion_region: FusionRegion
    fusion_approach: FusionApproach
    sciatica_before_surgery: bool
    age: int | None = Field(default=None, ge=MIN_AGE, le=MAX_AGE)

    @field_validator("surgery_time_amount")
    @classmethod
    def _within_contract(cls, amount: float, info: ValidationInfo) -> float:
        months = amount * (12 if info.data.get("surgery_time_unit") == "years" else 1)
        if months > MAX_MONTHS_SINCE_SURGERY:
            raise PydanticCustomError("less_than_equal", "too long ago")
        return amount

    @property
    def months_since_surgery(self) -> float:
        return self.surgery_time_amount * (12 if self.surgery_time_unit == "years" else 1)


class PainAnswers(BaseModel):
    """Step 'Your pain now'."""

    model_config = ConfigDict(extra="ignore")

    leg_pain: int = Field(ge=0, le=10)
    back_pain: int = Field(ge=0, le=10)
    trend: Trend
    constant_pain: bool
    onset: Literal["hours", "days", "weeks", "months", "unknown"]


# What a person reads when an answer needs fixing: plain words that say what to do, never the field's code or a
# validator's wording. "missing", "too_small", "too_big" or "invalid" (anything else: wrong type, unknown choice).
MESSAGES: dict[str, dict[str, str]] = {
    "surgery_time_amount": {
        "missing": "Enter how long ago your operation was, for example 3 months or 2 years",
        "invalid": "Enter how long ago your operation was as a number, for example 3 or 2.5",
        "too_small": "Enter a number that is 0 or more",
        "too_big": f"Enter a time of at most {int(MAX_MONTHS_SINCE_SURGERY) // 12} years "
                   f"({int(MAX_MONTHS_SINCE_SURGERY)} months)",
    },
    "surgery_time_unit": {"invalid": "Choose months or years"},
    "fusion_region": {"invalid": "Choose where in your spine the fusion is"},
    "fusion_approach": {"invalid": "Choose how the surgeon reached your spine, or choose “Not sure”"},
    "sciatica_before_surgery": {"invalid": "Choose Yes or No: did you have sciatica before the operation?"},
    "age": {"invalid": f"Enter your age in whole years, from {MIN_AGE} to {MAX_AGE}, or leave it empty"},
    "leg_pain": {"invalid": "Choose a number from 0 to 10 for your leg pain"},
    "back_pain": {"invalid": "Choose a number from 0 to 10 for your back pain"},
    "trend": {"invalid": "Choose how your pain has changed over the past few weeks"},
    "constant_pain": {"invalid": "Choose Yes or No: is the pain there all the time?"},
    "onset": {"invalid": "Choose how fast it came on, or choose “Not sure”"},
}
_KIND_OF_ERROR = {"missing": "missing", "greater_than_equal": "too_small", "greater_than": "too_small",
                  "less_than_equal": "too_big", "less_than": "too_big"}


def plain_message(form_field: str, error_type: str) -> str:
    messages = MESSAGES.get(form_field, {})
    kind = _KIND_OF_ERROR.get(error_type, "invalid")
    return messages.get(kind) or messages.get("invalid") or "Check this answer and choose again"


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
    kind: Literal["surgery", "pain", "checklist", "long_standing"]
    fields: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    hint: str = ""
    group: QuestionGroup | None = None
    one_of: tuple[OneOf, ...] = ()  # symptoms of this step asked as a single choice
    follows: str = ""  # a long_standing step: the key of the symptom step it asks about

    def owns(self, name: str, value: str) -> bool:
        if name not in self.fields:
            return False
        return not self.choices or any(c.value == value for c in self.choices)

    @property
    def boxes(self) -> tuple[Choice, ...]:
        """The choices shown as checkboxes (those not asked as a single choice)."""
        single = {o.code.value for group in self.one_of for o in group.options}
        return tuple(c for c in self.choices if c.value not in single)


SURGERY = Step(key="surgery", title="Your surgery", kind="surgery",
               fields=("surgery_time_amount", "surgery_time_unit", "fusion_region", "fusion_approach",
                       "sciatica_before_surgery", "age"))
PAIN = Step(key="pain", title="Your pain now", kind="pain",
            fields=("leg_pain", "back_pain", "trend", "constant_pain", "onset"))


@lru_cache(maxsize=4)
def all_steps(pack: Pack) -> tuple[Step, ...]:
    """Every step there can be, in order: surgery, pain, one step per question group of the pack (in pack order:
    the urgent groups come first), each followed by its "were these there before?" step when the group has
    symptoms that may be long-standing, then the person's health (risk factors) and the treatments tried."""
    wording = get_wording()
    steps: list[Step] = [SURGERY, PAIN]
    for group in pack.question_groups:
        symptoms = pack.symptoms_in_group(group.code)
        codes = {s.code for s in symptoms}
        one_of = tuple(o for o in wording.one_of if all(opt.code in codes for opt in o.options))
        key = f"symptoms-{group.code}"
        steps.append(Step(key=key, title=group.title, kind="checklist", fields=("symptoms",),
                          choices=tuple(Choice(s.code.value, s.plain_words) for s in symptoms),
                          hint=group.intro, group=group, one_of=one_of))
        old = [s for s in symptoms if s.may_be_long_standing]
        if old:
            steps.append(Step(
                key=f"before-{group.code}", title="Were any of these there before your operation?",
                kind="long_standing", fields=("long_standing_symptoms",),
                choices=tuple(Choice(s.code.value, s.plain_words) for s in old), follows=key,
                hint="Tick the ones you already had before the operation and that have not got worse since. "
                     "Leave the others: we count them as new."))
    steps.append(Step(key="health", title="Your health", kind="checklist", fields=("risk_factors",),
                      choices=tuple(Choice(r.code.value, r.plain_words) for r in pack.risk_factors),
                      hint="Some conditions and medicines change which signs need help quickly."))
    steps.append(Step(key="treatments", title="Treatments you have tried", kind="checklist",
                      fields=("treatments_tried",),
                      choices=tuple(Choice(t.code.value, t.name) for t in pack.treatments),
                      hint="Tick any you have tried since your surgery."))
    return tuple(steps)


@dataclass
class Answers:
    """The answers so far as (name, value) pairs in order; blanks count as unanswered."""

    items: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_form(cls, items: Iterable[tuple[str, Any]]) -> Answers:
        kept: list[tuple[str, str]] = []
        for name, value in items:
            if name in ANSWER_FIELDS and isinstance(value, str) and value.strip():
                pair = (name, value.strip()[:MAX_ANSWER_LENGTH])
                if name not in LIST_FIELDS or pair not in kept:
                    kept.append(pair)
        return cls(kept)

    @classmethod
    def from_stored(cls, stored: Iterable[Sequence[str]]) -> Answers:
        return cls.from_form((str(pair[0]), str(pair[1])) for pair in stored if len(pair) == 2)

    def get(self, name: str) -> str | None:
        return next((v for k, v in reversed(self.items) if k == name), None)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]

    def replaced(self, step: Step, submitted: Answers) -> Answers:
        """These answers with what ``step`` asks replaced by the submitted ones; anything else submitted is
        ignored, so a form can only change the answers of its own step."""
        kept = [(k, v) for k, v in self.items if not step.owns(k, v)]
        return Answers(kept + [(k, v) for k, v in submitted.items if step.owns(k, v)])

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ANSWER_FIELDS:
            if name in LIST_FIELDS:
                out[name] = self.getlist(name)
            elif (value := self.get(name)) is not None:
                out[name] = value
        return out


def _choice(enum: type[FusionRegion] | type[FusionApproach], value: str | None) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def applies(step: Step, answers: Answers) -> bool:
    """Whether to ask ``step`` for these answers: a group only where the pack says it matters (neck questions
    after a neck fusion...; an unanswered region or approach asks it, the safe side); a "before your operation?"
    step only when one of its symptoms is ticked."""
    if step.group is not None:
        return step.group.applies(_choice(FusionRegion, answers.get("fusion_region")),
                                  _choice(FusionApproach, answers.get("fusion_approach")))
    if step.kind == "long_standing":
        ticked = set(answers.getlist("symptoms"))
        return any(c.value in ticked for c in step.choices)
    return True


def steps_for(pack: Pack, answers: Answers) -> tuple[Step, ...]:
    every = all_steps(pack)
    asked = tuple(s for s in every if s.kind != "long_standing" and applies(s, answers))
    asked_keys = {s.key for s in asked}
    return tuple(s for s in every if s.key in asked_keys
                 or (s.kind == "long_standing" and s.follows in asked_keys and applies(s, answers)))


def step_by_key(pack: Pack, key: str) -> Step | None:
    return next((s for s in all_steps(pack) if s.key == key), None)


def next_step(pack: Pack, answers: Answers, after: Step) -> Step | None:
    """The first step asked for these answers that comes after ``after`` in the full order."""
    order = [s.key for s in all_steps(pack)]
    position = order.index(after.key)
    return next((s for s in steps_for(pack, answers) if order.index(s.key) > position), None)


def previous_step(pack: Pack, answers: Answers, before: Step) -> Step | None:
    order = [s.key for s in all_steps(pack)]
    position = order.index(before.key)
    earlier = [s for s in steps_for(pack, answers) if order.index(s.key) < position]
    return earlier[-1] if earlier else None


def asked_here_or_next(pack: Pack, answers: Answers, step: Step) -> Step:
    """``step`` if it is asked for these answers, else the next one that is (a stale link lands somewhere)."""
    if step in steps_for(pack, answers):
        return step
    return next_step(pack, answers, step) or steps_for(pack, answers)[-1]


@dataclass
class StepProblems:
    """Problems on one step: ``messages`` maps a form field to its message in plain words."""

    step: Step
    messages: dict[str, str]


_STEP_MODELS: dict[str, type[BaseModel]] = {"surgery": SurgeryAnswers, "pain": PainAnswers}


def check_step(step: Step, answers: Answers) -> StepProblems | None:
    model = _STEP_MODELS.get(step.kind)
    if model is None:  # checklists: ticking nothing is a valid answer, and only the step's own codes are kept
        return None
    try:
        model.model_validate(answers.data())
    except ValidationError as exc:
        messages: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            messages.setdefault(name, plain_message(name, error["type"]))
        return StepProblems(step=step, messages=messages)
    return None


def first_problem(steps: Sequence[Step], answers: Answers) -> StepProblems | None:
    for step in steps:
        if (found := check_step(step, answers)) is not None:
            return found
    return None


def _owned_codes(steps: Sequence[Step], answers: Answers, name: str) -> list[str]:
    """The codes of list field ``name`` that a step asked for these answers owns (answers to steps that no
    longer apply, e.g. neck questions after the region changed, are left out)."""
    owners = [s for s in steps if name in s.fields]
    return list(dict.fromkeys(v for v in answers.getlist(name) if any(s.owns(name, v) for s in owners)))


def build_request(pack: Pack, answers: Answers, *,
                  assume_long_standing: Iterable[str] = ()) -> AssessmentRequest | StepProblems:
    """The contract request from the answers so far, or the problems of the first step that needs fixing.

    ``assume_long_standing``: codes to count as long-standing although not (yet) said to be: the most favourable
    reading, used to decide whether an alert must come before the "were these there before?" question.
    """
    steps = steps_for(pack, answers)
    if (found := first_problem(steps, answers)) is not None:
        return found
    data = answers.data()
    surgery = SurgeryAnswers.model_validate(data)
    pain = PainAnswers.model_validate(data)
    symptoms = _owned_codes(steps, answers, "symptoms")
    long_standing = [c for c in dict.fromkeys([*_owned_codes(steps, answers, "long_standing_symptoms"),
                                               *assume_long_standing]) if c in symptoms]
    return AssessmentRequest.model_validate({
        "months_since_surgery": surgery.months_since_surgery,
        "fusion_region": surgery.fusion_region,
        "fusion_approach": surgery.fusion_approach,
        "sciatica_before_surgery": surgery.sciatica_before_surgery,
        "age": surgery.age,
        "leg_pain": pain.leg_pain,
        "back_pain": pain.back_pain,
        "trend": pain.trend,
        "constant_pain": pain.constant_pain,
        "onset": None if pain.onset == ONSET_NOT_SURE else pain.onset,
        "symptoms": symptoms,
        "long_standing_symptoms": long_standing,
        "risk_factors": _owned_codes(steps, answers, "risk_factors"),
        "treatments_tried": _owned_codes(steps, answers, "treatments_tried"),
    })


def favourable_codes(step: Step | None, answers: Answers) -> list[str]:
    """When ``step`` is a "were these there before?" step: its ticked symptoms, to count as long-standing."""
    if step is None or step.kind != "long_standing":
        return []
    ticked = set(answers.getlist("symptoms"))
    return [c.value for c in step.choices if c.value in ticked]


# Plain words for the fixed steps' choices (user-interface wording; the clinical vocabulary is in the pack).
REGION_CHOICES = (Choice("lumbar", "Lower back (lumbar)"), Choice("thoracic", "Middle of the back (thoracic)"),
                  Choice("cervical", "Neck (cervical)"))
APPROACH_CHOICES = (Choice("posterior", "From the back"), Choice("anterior", "From the front (belly or neck)"),
                    Choice("lateral", "From the side"), Choice("unknown", "Not sure"))
TREND_CHOICES = (Choice("improving", "Getting better"), Choice("stable", "About the same"),
                 Choice("worsening", "Getting worse"))
ONSET_CHOICES = (Choice("hours", "Within hours"), Choice("days", "Over a few days"),
                 Choice("weeks", "Over a few weeks"), Choice("months", "Over months or longer"),
                 Choice(ONSET_NOT_SURE, "Not sure"))
YES_NO_CHOICES = (Choice("yes", "Yes"), Choice("no", "No"))
UNIT_CHOICES = (Choice("months", "months ago"), Choice("years", "years ago"))

