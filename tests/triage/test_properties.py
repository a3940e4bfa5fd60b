"""Safety properties of the engine, checked over generated requests with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncare.knowledge.loader import get_pack
from fusioncare.triage.schemas import (
    AssessmentRequest,
    FusionRegion,
    Specialty,
    Symptom,
    Treatment,
    Trend,
    Urgency,
)
from fusioncare.triage.service import assess

TRENDS = [Trend.improving, Trend.stable, Trend.worsening]

requests = st.builds(
    AssessmentRequest,
    months_since_surgery=st.one_of(st.floats(min_value=0, max_value=600, allow_nan=False),
                                   st.sampled_from([0, 0.5, 2.9, 3, 5.9, 6, 12, 23.9, 24, 36, 600])),
    fusion_region=st.sampled_from(list(FusionRegion)),
    sciatica_before_surgery=st.booleans(),
    leg_pain=st.integers(0, 10),
    back_pain=st.integers(0, 10),
    trend=st.sampled_from(TRENDS),
    constant_pain=st.booleans(),
    symptoms=st.lists(st.sampled_from(list(Symptom)), max_size=5, unique=True),
    treatments_tried=st.lists(st.sampled_from(list(Treatment)), max_size=5, unique=True),
)

RUNS = settings(max_examples=300, deadline=None)


def rank(request: AssessmentRequest) -> int:
    return assess(request=request).urgency.rank


@RUNS
@given(requests, st.sampled_from(list(Symptom)))
def test_adding_any_symptom_never_lowers_urgency(request, symptom):
    more = request.model_copy(update={"symptoms": [*request.symptoms, symptom]})
    assert rank(more) >= rank(request)


@RUNS
@given(requests, st.integers(0, 10), st.integers(0, 10))
def test_raising_leg_or_back_pain_never_lowers_urgency(request, leg_rise, back_rise):
    worse = request.model_copy(update={"leg_pain": min(10, request.leg_pain + leg_rise),
                                       "back_pain": min(10, request.back_pain + back_rise)})
    assert rank(worse) >= rank(request)


@RUNS
@given(requests)
def test_a_worse_trend_never_lowers_urgency(request):
    for worse in TRENDS[TRENDS.index(request.trend):]:
        assert rank(request.model_copy(update={"trend": worse})) >= rank(request)


@RUNS
@given(requests)
def test_constant_pain_never_lowers_urgency(request):
    assert rank(request.model_copy(update={"constant_pain": True})) >= rank(request)


@RUNS
@given(requests)
def test_every_emergency_lists_its_red_flags_and_starts_with_the_emergency_department(request):
    result = assess(request=request)
    if result.urgency is Urgency.emergency:
        assert result.red_flags
        assert result.recommended_specialties[0].code is Specialty.emergency_department


@RUNS
@given(requests)
def test_red_flags_are_reported_symptoms_and_present_exactly_when_a_red_flag_rule_set_the_urgency(request):
    result = assess(request=request)
    pack = get_pack()
    rules = {rule.id: rule for rule in pack.rules}
    top_rule = rules[result.reasons[0].rule]
    assert set(result.red_flags) <= set(request.symptoms)
    assert bool(result.red_flags) == top_rule.red_flag
    assert bool(result.red_flags) == (result.urgency.rank >= Urgency.urgent.rank)
    warning_symptoms = {s for rule in pack.red_flag_rules for s in rule.when.symptom_codes}
    assert set(result.red_flags) <= warning_symptoms


@RUNS
@given(requests)
def test_every_reason_names_a_real_rule_and_its_sources(request):
    pack = get_pack()
    rules = {rule.id: rule for rule in pack.rules}
    result = assess(request=request)
    assert result.reasons
    for reason in result.reasons:
        rule = rules[reason.rule]
        assert reason.text == rule.reason
        assert reason.source == pack.source_names(rule.sources)
    assert rules[result.reasons[0].rule].urgency is result.urgency


@RUNS
@given(requests)
def test_lists_have_no_duplicates_and_tried_treatments_come_last(request):
    result = assess(request=request)
    for codes in ([s.code for s in result.recommended_specialties], [c.code for c in result.possible_contributors],
                  [t.code for t in result.treatment_options], result.red_flags, result.next_steps):
        assert len(codes) == len(set(codes))
    tried = [t.code in request.treatments_tried for t in result.treatment_options]
    assert tried == sorted(tried)
    assert result.recommended_specialties
