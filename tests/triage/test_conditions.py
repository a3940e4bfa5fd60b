"""Each kind of rule condition the engine compiles, at its boundaries, with values written from the pack schema's
descriptions (fusioncare/knowledge/schemas.py, Conditions): the engine is generic, so conditions that today's
pack uses rarely or not at all must still mean what the schema says."""

from __future__ import annotations

import pytest

from fusioncare.knowledge.schemas import Conditions
from fusioncare.triage import service
from fusioncare.triage.schemas import AssessmentRequest


def holds(conditions: dict, **answers) -> bool:
    base = {"months_since_surgery": 12, "leg_pain": 2, "back_pain": 2, "trend": "stable"}
    facts = service._Facts.of(AssessmentRequest.model_validate({**base, **answers}))
    return service._compile(Conditions.model_validate(conditions))(facts)


CASES = [
    # (conditions, answers, holds?)
    ({}, {}, True),  # an empty block always matches
    ({"any_pain_at_most": 3}, {"leg_pain": 3, "back_pain": 3}, True),
    ({"any_pain_at_most": 3}, {"leg_pain": 4, "back_pain": 0}, False),
    ({"any_pain_at_most": 3}, {"leg_pain": 0, "back_pain": 4}, False),
    ({"leg_pain_at_most": 3}, {"leg_pain": 3, "back_pain": 9}, True),
    ({"leg_pain_at_most": 3}, {"leg_pain": 4, "back_pain": 0}, False),
    ({"symptoms_none": ["saddle_numbness"]}, {"symptoms": []}, True),
    ({"symptoms_none": ["saddle_numbness"]}, {"symptoms": ["bladder_dysfunction"]}, True),
    ({"symptoms_none": ["saddle_numbness"]}, {"symptoms": ["saddle_numbness"]}, False),
    ({"age_at_least": 50}, {"age": 50}, True),
    ({"age_at_least": 50}, {"age": 49}, False),
    ({"age_at_least": 50}, {}, True),  # not known counts as old enough: the safe side
    ({"sciatica_before_surgery": True}, {"sciatica_before_surgery": True}, True),
    ({"sciatica_before_surgery": True}, {"sciatica_before_surgery": False}, False),
    ({"sciatica_before_surgery": False}, {"sciatica_before_surgery": False}, True),
    ({"sciatica_before_surgery": False}, {"sciatica_before_surgery": True}, False),
    ({"treatments_tried_any": ["medication", "injection"]}, {"treatments_tried": ["injection"]}, True),
    ({"treatments_tried_any": ["medication", "injection"]}, {"treatments_tried": ["tens"]}, False),
    ({"treatments_tried_any": ["medication", "injection"], "treatments_tried_at_least": 2},
     {"treatments_tried": ["injection", "tens"]}, False),
    ({"treatments_tried_any": ["medication", "injection"], "treatments_tried_at_least": 2},
     {"treatments_tried": ["injection", "medication"]}, True),
    ({"trend_at_most": "stable"}, {"trend": "stable"}, True),
    ({"trend_at_most": "stable"}, {"trend": "worsening"}, False),
    ({"trend_at_least": "stable"}, {"trend": "improving"}, False),
    ({"trend_at_least": "stable"}, {"trend": "worsening"}, True),
    ({"months_at_least": 6, "months_below": 24}, {"months_since_surgery": 6}, True),
    ({"months_at_least": 6, "months_below": 24}, {"months_since_surgery": 24}, False),
    ({"months_at_least": 6, "months_below": 24}, {"months_since_surgery": 5.9}, False),
    ({"any_pain_at_least": 7}, {"leg_pain": 0, "back_pain": 7}, True),
    ({"any_pain_at_least": 7}, {"leg_pain": 6, "back_pain": 6}, False),
    ({"leg_pain_at_least": 7, "back_pain_at_least": 5}, {"leg_pain": 7, "back_pain": 5}, True),
    ({"leg_pain_at_least": 7, "back_pain_at_least": 5}, {"leg_pain": 7, "back_pain": 4}, False),
    ({"symptoms_all": ["saddle_numbness", "bladder_dysfunction"]}, {"symptoms": ["saddle_numbness"]}, False),
    ({"symptoms_all": ["saddle_numbness", "bladder_dysfunction"]},
     {"symptoms": ["saddle_numbness", "bladder_dysfunction"]}, True),
    ({"any_of": [{"leg_pain_at_least": 9}, {"back_pain_at_least": 9}]}, {"leg_pain": 1, "back_pain": 9}, True),
    ({"any_of": [{"leg_pain_at_least": 9}, {"back_pain_at_least": 9}]}, {"leg_pain": 8, "back_pain": 8}, False),
]


@pytest.mark.parametrize(("conditions", "answers", "expected"), CASES)
def test_a_condition_holds_exactly_as_the_pack_schema_describes(conditions, answers, expected):
    assert holds(conditions, **answers) is expected


# ---- the assessment around the conditions ---------------------------------------------------------------------------

def _assess(**answers):
    base = {"months_since_surgery": 12, "leg_pain": 2, "back_pain": 2, "trend": "stable"}
    return service.assess(request=AssessmentRequest.model_validate({**base, **answers}))


def test_in_an_emergency_only_the_emergency_rules_say_whom_to_see():
    """Saddle numbness (cauda equina, emergency: emergency department, spine surgeon in rules.yaml) beside a new
    foot drop (urgent) and strong worsening pain at 8 months (soon rules naming pain medicine and physical
    therapy): only the emergency rule's specialists are listed."""
    result = _assess(months_since_surgery=8, leg_pain=9, back_pain=8, trend="worsening",
                     symptoms=["saddle_numbness", "foot_drop"])
    assert result.urgency == "emergency"
    assert [s.code for s in result.recommended_specialties] == ["emergency_department", "spine_surgeon"]


def test_an_urgent_result_lists_no_treatment_options():
    """A new foot drop (urgent, rf_new_foot_drop_or_weakness) beside strong worsening pain at 8 months, whose soon
    rules (worsening_pain_later, leg_pain_not_settling, ...) list physical therapy, medication and injections:
    contract 1.1, urgent and emergency results list no options (the person needs a clinician first)."""
    result = _assess(months_since_surgery=8, leg_pain=8, back_pain=7, trend="worsening", symptoms=["foot_drop"])
    assert result.urgency == "urgent"
    assert result.treatment_options == []


def test_warning_signs_to_watch_for_follow_their_conditions():
    """pack: cauda_equina and nerve_signs are always shown; bleed_on_nerves only in the first half month."""
    late = {s.code for s in _assess(months_since_surgery=12).warning_signs}
    early = {s.code for s in _assess(months_since_surgery=0.3).warning_signs}
    assert {"cauda_equina", "nerve_signs"} <= late and "bleed_on_nerves" not in late
    assert {"cauda_equina", "nerve_signs", "bleed_on_nerves"} <= early


def test_a_batch_is_assessed_with_the_pack_it_is_given(tmp_path):
    import shutil

    import yaml

    from fusioncare.knowledge.loader import DEFAULT_PACK_DIR, load_pack

    folder = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, folder)
    meta = yaml.safe_load((folder / "pack.yaml").read_text(encoding="utf-8"))
    meta["disclaimer"] = "Another pack's disclaimer, written for this test."
    (folder / "pack.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    requests = [AssessmentRequest.model_validate({"months_since_surgery": m, "leg_pain": 2, "back_pain": 2,
                                                  "trend": "stable"}) for m in (1, 30)]

    results = service.assess_many(requests=requests, pack=load_pack(folder))

    assert [r.disclaimer for r in results] == ["Another pack's disclaimer, written for this test."] * 2
