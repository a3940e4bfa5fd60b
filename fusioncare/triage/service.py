"""The triage engine: answers -> urgency, reasons, contributors, specialists and treatment options.

Monotone by construction: urgency is the highest urgency of every rule that fires, and the loader only lets
rules that can never stop matching as answers get worse (more symptoms, more pain, a worse trend) set more
than routine. So adding a symptom, raising pain or reporting a worse trend can only add fired rules, never
remove one that raised the urgency. The engine is pure: it stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from fusioncare.knowledge.loader import Pack, get_pack
from fusioncare.knowledge.schemas import Conditions, Rule
from fusioncare.triage.schemas import (
    AssessmentRequest,
    AssessmentResult,
    FusionRegion,
    PossibleContributor,
    Reason,
    RecommendedSpecialty,
    Specialty,
    Symptom,
    Treatment,
    TreatmentOption,
    Trend,
    Urgency,
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

    @classmethod
    def of(cls, request: AssessmentRequest) -> _Facts:
        return cls(
            symptoms=frozenset(request.symptoms),
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
    if when.symptoms_none:
        excluded = frozenset(when.symptoms_none)
        checks.append(lambda f: excluded.isdisjoint(f.symptoms))
    return lambda f: all(check(f) for check in checks)


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


@lru_cache(maxsize=8)
def _compiled(pack: Pack) -> _CompiledPack:
    def build(rule: Rule) -> _CompiledRule:
        specialties = tuple(
            RecommendedSpecialty(code=code, name=pack.specialty_by_code[code].name,
                                 taxonomy_codes=list(pack.specialty_by_code[code].taxonomy_codes),
                                 why=rule.specialty_why or pack.specialty_by_code[code].description)
            for code in rule.specialties
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
                                            summary=t.summary, evidence=t.evidence) for t in pack.treatments},
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

    red_flags = _unique(s for c in fired if c.rule.red_flag for s in c.rule.when.symptom_codes if s in facts.symptoms)

    specialties: dict[Specialty, RecommendedSpecialty] = {}
    for c in fired:
        for specialty in c.specialties:
            specialties.setdefault(specialty.code, specialty)

    treatments: list[TreatmentOption] = []
    if urgency is not Urgency.emergency:
        # In an emergency the only thing to do is go; options come later, with the doctors.
        codes = _unique(t for c in fired for t in c.rule.treatments)
        untried = [code for code in codes if code not in facts.treatments_tried]
        tried = [code for code in codes if code in facts.treatments_tried]
        treatments = [compiled.treatments[code] for code in (*untried, *tried)]

    level = pack.urgency_levels[urgency]
    return AssessmentResult(
        urgency=urgency,
        headline=level.headline,
        red_flags=red_flags,
        reasons=[c.reason for c in fired],
        possible_contributors=[compiled.contributors[code] for code in _unique(k for c in fired for k in c.rule.contributors)],
        recommended_specialties=list(specialties.values()),
        treatment_options=treatments,
        next_steps=_unique([*level.next_steps, *(step for c in fired for step in c.rule.next_steps)]),
        disclaimer=pack.disclaimer,
    )


def assess_many(*, requests: Iterable[AssessmentRequest], pack: Pack | None = None) -> list[AssessmentResult]:
    """Assess a batch in order, with the pack looked up once."""
    pack = pack or get_pack()
    return [assess(request=request, pack=pack) for request in requests]
