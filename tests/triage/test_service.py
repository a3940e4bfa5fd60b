"""The triage engine against the contract examples, the pack's vignettes and its ordering rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusioncare.knowledge.loader import DEFAULT_PACK_DIR, get_pack
from fusioncare.triage import vignettes
from fusioncare.triage.schemas import AssessmentRequest, Specialty, Symptom, Treatment, Urgency
from fusioncare.triage.service import assess, assess_many

HERE = Path(__file__).parent
SPEC_EXAMPLES = HERE / "assessment-examples.json"
SHARED_EXAMPLES = Path("/work/shared/spec/assessment-examples.json")
PACK_VIGNETTES = DEFAULT_PACK_DIR / "vignettes.yaml"


def request(**fields) -> AssessmentRequest:
    base = {"months_since_surgery": 12, "leg_pain": 2, "back_pain": 2, "trend": "stable"}
    return AssessmentRequest.model_validate({**base, **fields})


@pytest.mark.parametrize("path", [SPEC_EXAMPLES, PACK_VIGNETTES], ids=["spec_examples", "pack_vignettes"])
def test_every_vignette_passes(path):
    outcomes = vignettes.run(vignettes.load_vignettes(path))
    failures = {o.vignette.name: o.problems for o in outcomes if not o.passed}
    assert outcomes and not failures


def test_copied_spec_examples_match_the_shared_contract_file():
    if not SHARED_EXAMPLES.exists():
        pytest.skip("the shared spec folder is not on this machine")
    assert SPEC_EXAMPLES.read_text() == SHARED_EXAMPLES.read_text()


def test_every_rule_fires_in_at_least_one_pack_vignette():
    outcomes = vignettes.run(vignettes.load_vignettes(PACK_VIGNETTES))
    fired = {reason.rule for o in outcomes for reason in o.result.reasons}
    assert {rule.id for rule in get_pack().rules} - fired == set()


def test_every_red_flag_symptom_is_shown_as_a_red_flag_in_some_pack_vignette():
    outcomes = vignettes.run(vignettes.load_vignettes(PACK_VIGNETTES))
    shown = {flag for o in outcomes for flag in o.result.red_flags}
    red_flag_symptoms = {s for rule in get_pack().red_flag_rules for s in rule.when.symptom_codes}
    assert red_flag_symptoms - shown == set()


def test_validate_reports_a_wrong_expectation_as_a_failure():
    case = vignettes.Vignette.model_validate({"name": "deliberately wrong", "request": request().model_dump(),
                                              "expect": {"urgency": ["emergency"], "first_specialty": ["neurologist"],
                                                         "red_flags": ["fever"], "rules_include": ["rf_trauma"]}})
    [outcome] = vignettes.run([case])
    assert not outcome.passed
    assert outcome.problems == [
        "UNDER-TRIAGE: urgency routine, expected emergency",
        "first specialty physical_therapist, expected neurologist",
        "red flags [], expected ['fever']",
        "rule rf_trauma did not fire",
    ]


def test_reasons_name_their_rule_and_the_rules_sources_by_name():
    result = assess(request=request(symptoms=["saddle_numbness"]))
    first = result.reasons[0]
    assert first.rule == "rf_cauda_equina" and first.code == "rf_cauda_equina"
    assert "National suspected cauda equina syndrome pathway" in first.source
    assert "NHS: Cauda equina syndrome" in first.source


def test_reasons_are_ordered_most_urgent_first():
    result = assess(
        request=request(
            months_since_surgery=30, leg_pain=6, trend="worsening", symptoms=["recent_trauma", "chest_pain_breathless"]
        )
    )
    ranks = [next(r for r in get_pack().rules if r.id == reason.rule).urgency.rank for reason in result.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert result.reasons[0].rule == "rf_chest_pain_or_breathless"


def test_emergency_result_leads_with_the_emergency_department_and_offers_no_treatments_yet():
    result = assess(
        request=request(symptoms=["leg_weakness_progressive"], treatments_tried=["physical_therapy", "medication"])
    )
    assert result.urgency is Urgency.emergency
    assert result.recommended_specialties[0].code is Specialty.emergency_department
    assert result.treatment_options == []
    assert result.headline.startswith("Go to an emergency department")


def test_reassuring_routine_notes_are_left_out_when_a_warning_sign_is_present():
    result = assess(request=request(months_since_surgery=1, trend="improving", symptoms=["calf_pain_swelling"]))
    assert result.urgency is Urgency.urgent
    rules = [r.rule for r in result.reasons]
    assert "improving_pain" not in rules and "early_recovery" not in rules


def test_specialties_are_deduplicated_and_keep_their_first_reason():
    result = assess(
        request=request(months_since_surgery=30, leg_pain=6, trend="worsening", symptoms=["walking_leg_pain"])
    )
    codes = [s.code for s in result.recommended_specialties]
    assert len(codes) == len(set(codes))
    surgeon = result.recommended_specialties[0]
    assert surgeon.code is Specialty.spine_surgeon
    assert surgeon.taxonomy_codes == ["207XS0117X", "207T00000X", "207X00000X"]
    assert surgeon.why


def test_treatments_already_tried_come_after_those_not_yet_tried():
    tried = ["physical_therapy", "medication", "injection"]
    result = assess(request=request(months_since_surgery=40, leg_pain=6, treatments_tried=tried))
    codes = [t.code.value for t in result.treatment_options]
    first_tried = min(codes.index(code) for code in tried if code in codes)
    assert all(code not in tried for code in codes[:first_tried])
    assert all(code in tried for code in codes[first_tried:])


def test_each_treatment_option_lists_the_specialties_that_provide_it_and_its_evidence():
    pack = get_pack()
    result = assess(
        request=request(months_since_surgery=40, leg_pain=6, treatments_tried=["physical_therapy", "medication"])
    )
    assert result.treatment_options
    for option in result.treatment_options:
        assert option.specialties == pack.treatment_by_code[option.code].specialties
        assert option.evidence == pack.treatment_by_code[option.code].evidence


def test_next_steps_start_with_the_urgency_level_steps_then_add_rule_specific_ones():
    result = assess(request=request(symptoms=["saddle_numbness"]))
    level_steps = get_pack().urgency_levels[Urgency.emergency].next_steps
    assert result.next_steps[: len(level_steps)] == level_steps
    assert any("cauda equina" in step for step in result.next_steps[len(level_steps) :])


def test_duplicate_symptoms_in_a_request_count_once():
    once = assess(request=request(symptoms=["fever"]))
    twice = assess(request=request(symptoms=["fever", "fever"]))
    assert twice == once
    assert twice.red_flags == [Symptom.fever]


def test_batch_keeps_request_order():
    requests = [request(symptoms=["chest_pain_breathless"]), request(), request(back_pain=7)]
    assert [r.urgency for r in assess_many(requests=requests)] == [Urgency.emergency, Urgency.routine, Urgency.soon]


def test_result_says_it_is_not_a_diagnosis_and_how_to_get_emergency_help():
    disclaimer = assess(request=request()).disclaimer
    assert "not a diagnosis" in disclaimer and "emergency number" in disclaimer


def test_tens_and_other_codes_in_requests_are_accepted_as_tried():
    result = assess(request=request(treatments_tried=[t.value for t in Treatment]))
    assert result.urgency is Urgency.routine


# Words a rule's specialty_why would use to talk about each specialist, so the first specialist's explanation
# never describes another one (it is shown under the first specialist only).
SPECIALIST_WORDS = {
    Specialty.neurologist: "neurologist", Specialty.physical_therapist: "physical therapist",
    Specialty.pain_medicine: "pain medicine", Specialty.primary_care: "family doctor",
    Specialty.physiatrist: "rehabilitation doctor", Specialty.pain_psychologist: "psychologist",
    Specialty.chiropractor: "chiropractor", Specialty.emergency_department: "emergency department",
}


def test_a_rules_specialist_explanation_speaks_only_of_its_first_specialist():
    for rule in get_pack().rules:
        if not rule.specialties or not rule.specialty_why:
            continue
        others = {SPECIALIST_WORDS[s] for s in rule.specialties[1:] if s in SPECIALIST_WORDS} - (
            {SPECIALIST_WORDS[rule.specialties[0]]} if rule.specialties[0] in SPECIALIST_WORDS else set())
        named = [word for word in others if word in rule.specialty_why.lower()]
        assert not named, (rule.id, rule.specialty_why)


def test_each_recommended_specialist_carries_its_own_explanation():
    result = assess(request=request(months_since_surgery=30, leg_pain=6, trend="worsening",
                                    symptoms=["walking_leg_pain"]))
    pack = get_pack()
    first, *rest = result.recommended_specialties
    assert rest
    for specialty in rest:
        assert specialty.why == pack.specialty_by_code[specialty.code].description
    assert first.why != rest[0].why
