"""POST /api/v1/matches through the real app, on a fixed hand-made directory."""

from __future__ import annotations

import pytest

from fusioncare.directory.schemas import ManagedFieldsUpdate
from fusioncare.directory.service import update_managed_fields
from fusioncare.triage.schemas import AssessmentRequest
from fusioncare.triage.service import assess
from tests.matching.conftest import EMERGENCY_ANSWERS, SOON_ANSWERS


def _match(client, **body):
    response = client.post("/api/v1/matches", json={"assessment": SOON_ANSWERS, "near": "10001", **body})
    assert response.status_code == 200, response.text
    return response.json()


def _npis(group: dict) -> list[str]:
    return [r["npi"] for r in group["results"]]


def test_groups_follow_the_recommended_specialty_order(client, directory):
    expected = [s.code.value for s in assess(request=AssessmentRequest(**SOON_ANSWERS)).recommended_specialties]
    body = _match(client)
    assert [g["specialty"]["code"] for g in body["groups"]] == expected
    assert expected[:3] == ["spine_surgeon", "pain_medicine", "physical_therapist"]
    groups = {g["specialty"]["code"]: g for g in body["groups"]}
    assert _npis(groups["spine_surgeon"]) == [directory.surgeon]
    assert _npis(groups["physical_therapist"]) == [directory.therapist]
    assert groups["physiatrist"]["results"] == []
    assert all(g["specialty"]["why"] for g in body["groups"])


def test_a_result_gives_the_same_groups_as_its_request(client, directory):
    result = client.post("/api/v1/assessments", json=SOON_ANSWERS).json()
    assert _match(client, assessment=result)["groups"] == _match(client)["groups"]


def test_ranking_within_a_group(client, directory):
    pain = next(g for g in _match(client)["groups"] if g["specialty"]["code"] == "pain_medicine")
    order = _npis(pain)
    # Offering a suggested treatment outranks an otherwise equal provider in the same ZIP (with a lower NPI).
    assert order.index(directory.pain_injection) < order.index(directory.pain_plain_16)
    # Otherwise equal: the closer one first.
    assert order.index(directory.pain_near) < order.index(directory.pain_far)
    # Primary taxonomy beats secondary at the same place.
    assert order.index(directory.pain_near) < order.index(directory.pain_secondary)
    # Never-confirmed profiles come last, even offering the treatment at distance 0; Los Angeles is out of range.
    assert order[-1] == directory.pain_unconfirmed
    assert directory.pain_los_angeles not in order and pain["total"] == 6
    scores = {r["npi"]: r["score"] for r in pain["results"]}
    assert scores[directory.pain_injection] > scores[directory.pain_plain_16]
    assert scores[directory.pain_near] > scores[directory.pain_far] > 0


def test_reasons_are_plain_language(client, directory):
    pain = next(g for g in _match(client, language="en")["groups"] if g["specialty"]["code"] == "pain_medicine")
    by_npi = {r["npi"]: r for r in pain["results"]}
    injection = by_npi[directory.pain_injection]
    assert injection["matching_services"] == ["injection"]
    assert any(r.startswith("Offers ") and r.endswith("which your assessment lists") for r in injection["reasons"])
    assert f"{injection['distance_miles']:.1f} miles away" in injection["reasons"]
    assert "Accepting new patients" in injection["reasons"] and "Speaks English" in injection["reasons"]
    assert any("not confirmed" in r for r in by_npi[directory.pain_unconfirmed]["reasons"])
    assert any("not their main one" in r for r in by_npi[directory.pain_secondary]["reasons"])


def test_insurance_filter_excludes_providers_without_the_plan(client, directory):
    groups = {g["specialty"]["code"]: g for g in _match(client, insurance="cigna")["groups"]}
    assert _npis(groups["pain_medicine"]) == [directory.pain_unconfirmed]
    assert groups["spine_surgeon"]["results"] == []
    reasons = groups["pain_medicine"]["results"][0]["reasons"]
    # The only match has not confirmed its profile: its plans may be out of date, so no reason claims the plan.
    assert "Accepts your plan (Cigna)" not in reasons
    assert reasons[-1].startswith("Profile not confirmed by the provider: call to check insurance")


def test_emergency_returns_no_doctors_and_the_nearest_emergency_departments(client, directory):
    body = _match(client, assessment=EMERGENCY_ANSWERS)
    assert body["urgency"] == "emergency" and body["groups"] == []
    assert [h["npi"] for h in body["emergency"]["hospitals"]] == [directory.hospital_near]
    assert body["emergency"]["next_steps"] and body["emergency"]["headline"]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"near": "00000"}, "near", "not a US ZIP code we know"),
    ({"near": "nowhere"}, "near", "5-digit US ZIP code"),
    ({"radius_miles": 0}, "radius_miles", "greater than or equal to 1"),
    ({"radius_miles": 500}, "radius_miles", "less than or equal to 100"),
    ({"assessment": {**SOON_ANSWERS, "leg_pain": 11}}, "assessment.request.leg_pain", "less than or equal to 10"),
    ({"assessment": {"months_since_surgery": 8}}, "assessment.request.leg_pain", "required"),
    ({"insurance": "acme"}, "insurance", "allowed values are"),
    ({"colour": "blue"}, "colour", "unknown field"),
])
def test_bad_input_is_a_422_naming_the_field(client, directory, body, field, words):
    response = client.post("/api/v1/matches", json={"assessment": SOON_ANSWERS, "near": "10001", **body})
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert any(p["field"] == field and words in p["msg"] for p in problems), problems


def test_speaking_the_asked_language_ranks_higher_without_excluding_others(client, db, directory):
    update_managed_fields(db=db, npi=directory.pain_far, fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], languages=["en", "es"], accepting_new=True, profile_confirmed=True))
    pain = next(g for g in _match(client, language="es")["groups"] if g["specialty"]["code"] == "pain_medicine")
    order = _npis(pain)
    assert order.index(directory.pain_far) < order.index(directory.pain_near)
    assert directory.pain_near in order
    near = next(r for r in pain["results"] if r["npi"] == directory.pain_near)
    assert "Has not said they speak Spanish" in near["reasons"]


def test_telehealth_true_keeps_only_providers_offering_it(client, db, directory):
    update_managed_fields(db=db, npi=directory.pain_far, fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], languages=["en"], telehealth=True, profile_confirmed=True))
    groups = {g["specialty"]["code"]: g for g in _match(client, telehealth=True)["groups"]}
    assert _npis(groups["pain_medicine"]) == [directory.pain_far]
    assert "Offers telehealth visits" in groups["pain_medicine"]["results"][0]["reasons"]
    assert groups["spine_surgeon"]["results"] == []
