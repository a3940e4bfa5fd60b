"""The triage engine: answers -> urgency, reasons, contributors, specialists, treatment options, warning signs.

Monotone by construction: urgency is the highest urgency of every rule that fires, and the loader only lets
rules that can never stop matching as answers get worse set more than routine: more symptoms, more pain, a
worse trend, a risk factor, a faster onset, a higher age, or a symptom said to be new rather than long-standing
(contract 1.1). So each of those can only add fired rules, never remove one that raised the urgency. A
long-standing symptom is left out only of ``new_symptoms_any`` conditions, which the loader allows only for the
stable nerve symptoms the pack marks. The engine is pure: it stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from fusioncare.knowledge.loader import Pack, get_pack
from fusioncare.knowledge.schemas import Conditions, Rule
from fusioncare.triage.schemas import (
    ONSET_UNKNOWN_RANK,
    AssessmentRequest,
    AssessmentResult,
    FusionApproach,
    FusionRegion,
    PossibleContributor,
    Reason,
    RecommendedSpecialty,
    RiskFactor,
    Specialty,
    Symptom,
    Treatment,
    TreatmentOption,
    Trend,
    Urgency,
    WarningSign,
)

T = TypeVar("T")

_TREND_RANK = {Trend.improving: 0, Trend.stable: 1, Trend.worsening: 2}


@dataclass(frozen=True, slots=True)
class _Facts:
    """The request reduced to what rule conditions look at."""

    symptoms: frozenset[Symptom]
    leg_pain: int
    back_pain: int
    trend_rank: int
    months: float
    constant_pain: bool
    sciatica_before_surgery: bool
    fusion_region: FusionRegion
    treatments_tried: frozenset[Treatment]
    new_symptoms: frozenset[Symptom]  # reported and not long-standing
    risk_factors: frozenset[RiskFactor]
    onset_rank: int  # months 0 < weeks < days < hours < not known
    age: int | None
    fusion_approach: FusionApproach

    @classmethod
    def of(cls, request: AssessmentRequest) -> _Facts:
        symptoms = frozenset(request.symptoms)
        return cls(
            symptoms=symptoms,
            new_symptoms=symptoms - frozenset(request.long_standing_symptoms),
            risk_factors=frozenset(request.risk_factors),
            onset_rank=request.onset.rank if request.onset is not None else ONSET_UNKNOWN_RANK,
            age=request.age,
            fusion_approach=request.fusion_approach,
            leg_pain=request.leg_pain,
            back_pain=request.back_pain,
            trend_rank=_TREND_RANK[request.trend],
            months=request.months_since_surgery,
            constant_pain=request.constant_pain,
            sciatica_before_surgery=request.sciatica_before_surgery,
            fusion_region=request.fusion_region,
            treatments_tried=frozenset(request.treatments_tried),
        )


Check = Callable[[_Facts], bool]


def _compile(when: Conditions) -> Check:
    """Turn a rule's conditions into one predicate (all conditions must hold)."""
    checks: list[Check] = []
    if when.symptoms_all:
        needed = frozenset(when.symptoms_all)
        checks.append(lambda f: needed <= f.symptoms)
    if when.symptoms_any:
        some = frozenset(when.symptoms_any)
        checks.append(lambda f: not some.isdisjoint(f.symptoms))
    if when.new_symptoms_any:
        new = frozenset(when.new_symptoms_any)
        checks.append(lambda f: not new.isdisjoint(f.new_symptoms))
    if when.risk_factors_any:
        risks = frozenset(when.risk_factors_any)
        checks.append(lambda f: not risks.isdisjoint(f.risk_factors))
    if when.onset_at_least is not None:
        fastest_needed = when.onset_at_least.rank
        checks.append(lambda f: f.onset_rank >= fastest_needed)
    if when.age_at_least is not None:
        age = when.age_at_least
        checks.append(lambda f: f.age is None or f.age >= age)  # not known counts as old enough: the safe side
    if when.fusion_approach_in:
        approaches = frozenset(when.fusion_approach_in)
        checks.append(lambda f: f.fusion_approach in approaches)
    if when.any_of:
        blocks = tuple(_compile(block) for block in when.any_of)
        checks.append(lambda f: any(block(f) for block in blocks))
    if when.leg_pain_at_least is not None:
        leg = when.leg_pain_at_least
        checks.append(lambda f: f.leg_pain >= leg)
    if when.back_pain_at_least is not None:
        back = when.back_pain_at_least
        checks.append(lambda f: f.back_pain >= back)
    if when.any_pain_at_least is not None:
        pain = when.any_pain_at_least
        checks.append(lambda f: max(f.leg_pain, f.back_pain) >= pain)
    if when.trend_at_least is not None:
        low = _TREND_RANK[when.trend_at_least]
        checks.append(lambda f: f.trend_rank >= low)
    if when.constant_pain:
        checks.append(lambda f: f.constant_pain)
    if when.months_at_least is not None:
        start = when.months_at_least
        checks.append(lambda f: f.months >= start)
    if when.months_below is not None:
        end = when.months_below
        checks.append(lambda f: f.months < end)
    if when.sciatica_before_surgery is not None:
        before = when.sciatica_before_surgery
        checks.append(lambda f: f.sciatica_before_surgery is before)
    if when.fusion_region_in:
        regions = frozenset(when.fusion_region_in)
        checks.append(lambda f: f.fusion_region in regions)
    if when.treatments_tried_any:
        tried = frozenset(when.treatments_tried_any)
        count = when.treatments_tried_at_least or 1
        checks.append(lambda f: len(tried & f.treatments_tried) >= count)
    if when.trend_at_most is not None:
        high = _TREND_RANK[when.trend_at_most]
        checks.append(lambda f: f.trend_rank <= high)
    if when.any_pain_at_most is not None:
        most = when.any_pain_at_most
        checks.append(lambda f: max(f.leg_pain, f.back_pain) <= most)
    if when.leg_pain_at_most is not None:
        leg_most = when.leg_pain_at_most
        checks.append(lambda f: f.leg_pain <= leg_most)
    if when.symptoms_none:
        excluded = frozenset(when.symptoms_none)
        checks.append(lambda f: excluded.isdisjoint(f.symptoms))
    return lambda f: all(check(f) for check in checks)


def _matched_symptoms(when: Conditions, facts: _Facts) -> list[Symptom]:
    """The reported symptoms that made a (matching) block hold: the red flags a rule reacted to. A long-standing
    symptom counts only where the block counts it (symptoms_any), never through new_symptoms_any."""
    found = [s for s in (*when.symptoms_all, *when.symptoms_any) if s in facts.symptoms]
    found += [s for s in when.new_symptoms_any if s in facts.new_symptoms]
    for block in when.any_of:
        if _compile(block)(facts):  # only for rules that fired: cheap, and keeps the pack models plain
            found += _matched_symptoms(block, facts)
    return found


@dataclass(frozen=True)
class _CompiledRule:
    """A rule with its predicate and its pieces of the answer built once."""

    rule: Rule
    matches: Check
    rank: int
    reason: Reason
    specialties: tuple[RecommendedSpecialty, ...]


@dataclass(frozen=True)
class _CompiledPack:
    rules: tuple[_CompiledRule, ...]  # priority order: red flags, triage rules
    default: _CompiledRule
    contributors: dict[str, PossibleContributor]
    treatments: dict[Treatment, TreatmentOption]
    treatment_limits: dict[Treatment, tuple[Check, ...]]  # never offered when any holds
    warning_signs: tuple[tuple[Check, WarningSign], ...]


@lru_cache(maxsize=8)
def _compiled(pack: Pack) -> _CompiledPack:
    def build(rule: Rule) -> _CompiledRule:
        # The rule's own words explain its first specialist; every other one keeps its own description, so a
        # sentence written for the surgeon never appears under the physical therapist.
        specialties = tuple(
            RecommendedSpecialty(code=code, name=pack.specialty_by_code[code].name,
                                 taxonomy_codes=list(pack.specialty_by_code[code].taxonomy_codes),
                                 why=(rule.specialty_why if index == 0 and rule.specialty_why
                                      else pack.specialty_by_code[code].description))
            for index, code in enumerate(rule.specialties)
        )
        reason = Reason(code=rule.id, text=rule.reason, rule=rule.id, source=pack.source_names(rule.sources))
        return _CompiledRule(rule=rule, matches=_compile(rule.when), rank=rule.urgency.rank, reason=reason,
                             specialties=specialties)

    return _CompiledPack(
        rules=tuple(build(r) for r in (*pack.red_flag_rules, *pack.triage_rules)),
        default=build(pack.default_rule),
        contributors={c.code: PossibleContributor(code=c.code, name=c.name, explanation=c.explanation)
                      for c in pack.contributors},
        treatments={t.code: TreatmentOption(code=t.code, name=t.name, specialties=list(t.specialties),
                                            summary=t.summary, evidence=t.evidence,
                                            cautions=list(t.cautions)) for t in pack.treatments},
        treatment_limits={t.code: tuple(_compile(limit.when) for limit in t.not_offered_when) for t in pack.treatments},
        warning_signs=tuple((_compile(w.when), WarningSign(code=w.code, text=w.text)) for w in pack.warning_signs),
    )


def _unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


def assess(*, request: AssessmentRequest, pack: Pack | None = None) -> AssessmentResult:
    """Assess one request against the pack (the built-in, cached pack unless one is given)."""
    pack = pack or get_pack()
    compiled = _compiled(pack)
    facts = _Facts.of(request)

    fired = [c for c in compiled.rules if c.matches(facts)] or [compiled.default]
    # Stable sort: most urgent first, and the file order (clinical priority) within the same urgency.
    fired.sort(key=lambda c: -c.rank)
    urgency = fired[0].rule.urgency
    if urgency.rank >= Urgency.urgent.rank:
        # Reassuring routine notes ("your pain is improving") must not sit beside a warning sign.
        fired = [c for c in fired if c.rank > Urgency.routine.rank]

    red_flags = _unique(s for c in fired if c.rule.red_flag for s in _matched_symptoms(c.rule.when, facts))

    # In an emergency only the emergency rules say whom to see: a therapist listed beside "call 911" could
    # only delay care.
    advising = [c for c in fired if c.rank == Urgency.emergency.rank] if urgency is Urgency.emergency else fired
    specialties: dict[Specialty, RecommendedSpecialty] = {}
    for c in advising:
        for specialty in c.specialties:
            specialties.setdefault(specialty.code, specialty)

    treatments: list[TreatmentOption] = []
    if urgency.rank < Urgency.urgent.rank:
        # Urgent and emergency results list no options (contract 1.1): the person needs a clinician first. An
        # option the sources advise against for this presentation is never listed.
        codes = [code for code in _unique(t for c in fired for t in c.rule.treatments)
                 if not any(limit(facts) for limit in compiled.treatment_limits[code])]
        untried = [code for code in codes if code not in facts.treatments_tried]
        tried = [code for code in codes if code in facts.treatments_tried]
        treatments = [compiled.treatments[code] for code in (*untried, *tried)]

    level = pack.urgency_levels[urgency]
    return AssessmentResult(
        urgency=urgency,
        headline=level.headline,
        red_flags=red_flags,
        reasons=[c.reason for c in fired],
        possible_contributors=[
            compiled.contributors[code] for code in _unique(k for c in fired for k in c.rule.contributors)
        ],
        recommended_specialties=list(specialties.values()),
        treatment_options=treatments,
        next_steps=_unique([*level.next_steps, *(step for c in fired for step in c.rule.next_steps)]),
        warning_signs=[sign for matches, sign in compiled.warning_signs if matches(facts)],
        disclaimer=pack.disclaimer,
    )


def assess_many(*, requests: Iterable[AssessmentRequest], pack: Pack | None = None) -> list[AssessmentResult]:
    """Assess a batch in order, with the pack looked up once."""
    pack = pack or get_pack()
    return [assess(request=request, pack=pack) for request in requests]
