"""Safety properties of the engine (contract 1.0 and 1.1 "Rules the engine must keep"), over generated requests."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fusioncare.knowledge.loader import get_pack
from fusioncare.triage.schemas import (
    AssessmentRequest,
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
from fusioncare.triage.service import assess

TRENDS = [Trend.improving, Trend.stable, Trend.worsening]



@st.composite
def requests(draw: st.DrawFn) -> AssessmentRequest:
    symptoms = draw(st.lists(st.sampled_from(list(Symptom)), max_size=6, unique=True))
    return AssessmentRequest(
        months_since_surgery=draw(
            st.one_of(
                st.floats(min_value=0, max_value=600, allow_nan=False),
                st.sampled_from([0, 0.49, 0.5, 0.99, 1, 1.49, 1.5, 2.9, 3, 5.9, 6, 12, 24]),
            )
        ),
        fusion_region=draw(st.sampled_from(list(FusionRegion))),
        sciatica_before_surgery=draw(st.booleans()),
        leg_pain=draw(st.integers(0, 10)),
        back_pain=draw(st.integers(0, 10)),
        trend=draw(st.sampled_from(TRENDS)),
        constant_pain=draw(st.booleans()),
        symptoms=symptoms,
        treatments_tried=draw(st.lists(st.sampled_from(list(Treatment)), max_size=5, unique=True)),
        age=draw(st.one_of(st.none(), st.integers(16, 120))),
        fusion_approach=draw(st.sampled_from(list(FusionApproach))),
        onset=draw(st.one_of(st.none(), st.sampled_from(list(Onset)))),
        long_standing_symptoms=draw(st.lists(st.sampled_from(symptoms), unique=True)) if symptoms else [],
        risk_factors=draw(st.lists(st.sampled_from(list(RiskFactor)), max_size=3, unique=True)),
    )


RUNS = settings(max_examples=300, deadline=None)


def rank(request: AssessmentRequest) -> int:
    return assess(request=request).urgency.rank


@RUNS
@given(requests(), st.sampled_from(list(Symptom)))
def test_adding_any_symptom_never_lowers_urgency(request, symptom):
    more = request.model_copy(update={"symptoms": [*request.symptoms, symptom]})
    assert rank(more) >= rank(request)


@RUNS
@given(requests(), st.integers(0, 10), st.integers(0, 10))
def test_raising_leg_or_back_pain_never_lowers_urgency(request, leg_rise, back_rise):
    worse = request.model_copy(
        update={"leg_pain": min(10, request.leg_pain + leg_rise), "back_pain": min(10, request.back_pain + back_rise)}
    )
    assert rank(worse) >= rank(request)


@RUNS
@given(requests())
def test_a_worse_trend_never_lowers_urgency(request):
    for worse in TRENDS[TRENDS.index(request.trend) :]:
        assert rank(request.model_copy(update={"trend": worse})) >= rank(request)


@RUNS
@given(requests())
def test_constant_pain_never_lowers_urgency(request):
    assert rank(request.model_copy(update={"constant_pain": True})) >= rank(request)


@RUNS
@given(requests())
def test_every_emergency_lists_its_red_flags_and_starts_with_the_emergency_department(request):
    result = assess(request=request)
    if result.urgency is Urgency.emergency:
        assert result.red_flags
        assert result.recommended_specialties[0].code is Specialty.emergency_department


@RUNS
@given(requests())
def test_red_flags_are_reported_warning_symptoms_listed_only_when_a_red_flag_set_the_urgency(request):
    result = assess(request=request)
    pack = get_pack()
    assert set(result.red_flags) <= set(request.symptoms)
    warning_symptoms = {s for rule in pack.red_flag_rules for s in rule.when.symptom_codes}
    assert set(result.red_flags) <= warning_symptoms
    if result.urgency.rank < Urgency.urgent.rank:
        assert result.red_flags == []
    if result.urgency is Urgency.emergency:
        assert result.red_flags  # every emergency rule reacts to something the person reported


@RUNS
@given(requests())
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
@given(requests())
def test_lists_have_no_duplicates_and_tried_treatments_come_last(request):
    result = assess(request=request)
    for codes in (
        [s.code for s in result.recommended_specialties],
        [c.code for c in result.possible_contributors],
        [t.code for t in result.treatment_options],
        result.red_flags,
        result.next_steps,
    ):
        assert len(codes) == len(set(codes))
    tried = [t.code in request.treatments_tried for t in result.treatment_options]
    assert tried == sorted(tried)
    assert result.recommended_specialties


# --- contract 1.1 ---------------------------------------------------------------------------------------


@RUNS
@given(requests(), st.sampled_from(list(RiskFactor)))
def test_adding_a_risk_factor_never_lowers_urgency(request, risk):
    more = request.model_copy(update={"risk_factors": list(dict.fromkeys([*request.risk_factors, risk]))})
    assert rank(more) >= rank(request)


ONSETS_SLOWEST_FIRST = [Onset.months, Onset.weeks, Onset.days, Onset.hours, None]  # None: not known, the fastest


@RUNS
@given(requests())
def test_a_faster_onset_never_lowers_urgency(request):
    for faster in ONSETS_SLOWEST_FIRST[ONSETS_SLOWEST_FIRST.index(request.onset) :]:
        assert rank(request.model_copy(update={"onset": faster})) >= rank(request)


@RUNS
@given(requests(), st.integers(0, 104))
def test_a_higher_age_never_lowers_urgency(request, rise):
    if request.age is not None:
        older = request.model_copy(update={"age": min(120, request.age + rise)})
        assert rank(older) >= rank(request)


@RUNS
@given(requests(), st.data())
def test_saying_a_symptom_is_new_never_lowers_urgency(request, data):
    if request.long_standing_symptoms:
        now_new = data.draw(st.sampled_from(request.long_standing_symptoms))
        newer = request.model_copy(
            update={"long_standing_symptoms": [s for s in request.long_standing_symptoms if s is not now_new]}
        )
        assert rank(newer) >= rank(request)


@RUNS
@given(requests(), st.sampled_from(list(Symptom)))
def test_adding_a_long_standing_symptom_never_lowers_urgency(request, symptom):
    """A newly reported symptom, even one said to be long-standing, never lowers urgency. (Re-labelling a
    symptom already reported as new may lower it: that is the contract's long-standing rule, tested below.)"""
    if symptom in request.symptoms:
        return
    more = request.model_copy(
        update={
            "symptoms": list(dict.fromkeys([*request.symptoms, symptom])),
            "long_standing_symptoms": list(dict.fromkeys([*request.long_standing_symptoms, symptom])),
        }
    )
    assert rank(more) >= rank(request)


@RUNS
@given(requests())
def test_long_standing_lowers_only_the_stable_nerve_symptoms(request):
    """Marking symptoms long-standing can at most take away the weight of the symptoms the pack allows (stable
    nerve deficits): the result is never lower than with those symptoms not reported at all. So it never lowers
    what a cauda equina, infection, clot, bleeding or airway sign sets."""
    may_be_old = get_pack().long_standing_symptoms
    dropped = {s for s in request.long_standing_symptoms if s in may_be_old}
    without = request.model_copy(
        update={
            "symptoms": [s for s in request.symptoms if s not in dropped],
            "long_standing_symptoms": [s for s in request.long_standing_symptoms if s not in dropped],
        }
    )
    assert rank(request) >= rank(without)


@RUNS
@given(requests())
def test_a_spinal_cord_sign_is_never_below_soon_even_when_long_standing(request):
    if {Symptom.hand_clumsiness, Symptom.unsteady_walking} & set(request.symptoms):
        assert assess(request=request).urgency.rank >= Urgency.soon.rank


@RUNS
@given(requests())
def test_urgent_and_emergency_results_offer_no_treatment_and_no_option_is_advised_against(request):
    result = assess(request=request)
    if result.urgency.rank >= Urgency.urgent.rank:
        assert result.treatment_options == []
    pack = get_pack()
    symptoms = set(request.symptoms)
    for option in result.treatment_options:
        if option.code is Treatment.injection:
            assert Symptom.walking_leg_pain not in symptoms and request.leg_pain > 3
        if option.code is Treatment.spinal_cord_stimulation:
            assert request.leg_pain > 3
        if option.code is Treatment.weight_management:
            assert Symptom.weight_loss not in symptoms
        assert pack.treatment_by_code[option.code].code is option.code


@RUNS
@given(requests())
def test_every_result_has_warning_signs_and_an_emergency_names_no_one_who_would_delay_care(request):
    result = assess(request=request)
    assert result.warning_signs
    assert len({w.code for w in result.warning_signs}) == len(result.warning_signs)
    if result.urgency is Urgency.emergency:
        assert {s.code for s in result.recommended_specialties} <= {
            Specialty.emergency_department,
            Specialty.spine_surgeon,
        }
