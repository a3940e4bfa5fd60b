"""POST /api/v1/assessments over the real app: results, every kind of bad input, and nothing stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import inspect, text

from fusioncare.triage.schemas import AssessmentRequest
from fusioncare.triage.service import assess

URL = "/api/v1/assessments"
GOOD = {"months_since_surgery": 12, "leg_pain": 2, "back_pain": 7, "trend": "stable"}


def test_assessment_returns_the_engine_result_with_the_contract_fields(client):
    response = client.post(URL, json=GOOD)
    assert response.status_code == 200
    body = response.json()
    assert body == assess(request=AssessmentRequest.model_validate(GOOD)).model_dump(mode="json")
    assert set(body) >= {"urgency", "headline", "red_flags", "reasons", "possible_contributors",
                         "recommended_specialties", "treatment_options", "next_steps", "disclaimer"}
    assert body["urgency"] == "soon"
    assert body["recommended_specialties"][0]["code"] == "spine_surgeon"
    assert set(body["reasons"][0]) == {"code", "text", "rule", "source"}


def test_emergency_over_real_http(live_server):
    response = httpx.post(
        f"{live_server.url}{URL}", json={**GOOD, "symptoms": ["saddle_numbness", "bladder_dysfunction"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["urgency"] == "emergency"
    assert body["red_flags"] == ["saddle_numbness", "bladder_dysfunction"]
    assert body["recommended_specialties"][0]["code"] == "emergency_department"


BAD_BODIES = [
    pytest.param(
        {k: v for k, v in GOOD.items() if k != "leg_pain"}, "leg_pain", "this field is required", id="missing"
    ),
    pytest.param({**GOOD, "leg_pain": 11}, "leg_pain", "a whole number from 0 to 10", id="pain_above_10"),
    pytest.param({**GOOD, "back_pain": -1}, "back_pain", "a whole number from 0 to 10", id="pain_below_0"),
    pytest.param(
        {**GOOD, "months_since_surgery": 601},
        "months_since_surgery",
        "a number from 0 to 600",
        id="months_out_of_range",
    ),
    pytest.param({**GOOD, "leg_pain": 3.5}, "leg_pain", "a whole number from 0 to 10", id="fractional_pain"),
    pytest.param({**GOOD, "leg_pain": "3"}, "leg_pain", "Input should be a valid integer", id="pain_as_text"),
    pytest.param(
        {**GOOD, "months_since_surgery": True}, "months_since_surgery", "a number from 0 to 600", id="months_as_bool"
    ),
    pytest.param({**GOOD, "constant_pain": "yes"}, "constant_pain", "true or false", id="bool_as_text"),
    pytest.param(
        {**GOOD, "symptoms": "fever"}, "symptoms", "a list of values from: saddle_numbness", id="list_as_text"
    ),
    pytest.param({**GOOD, "trend": "better"}, "trend", "'improving', 'stable' or 'worsening'", id="unknown_trend"),
    pytest.param(
        {**GOOD, "fusion_region": "sacral"}, "fusion_region", "'lumbar', 'thoracic' or 'cervical'", id="unknown_region"
    ),
    pytest.param(
        {**GOOD, "symptoms": ["fever", "tingly_toes"]}, "symptoms[1]", "'saddle_numbness'", id="unknown_symptom"
    ),
    pytest.param(
        {**GOOD, "treatments_tried": ["acupuncture"]}, "treatments_tried[0]", "'support_group'", id="unknown_treatment"
    ),
    pytest.param(
        {**GOOD, "weight_kg": 80}, "weight_kg", "allowed fields are: age, back_pain, constant_pain", id="unknown_field"
    ),
    # Contract 1.1 fields.
    pytest.param({**GOOD, "age": 12}, "age", "a whole number from 16 to 120", id="age_too_low"),
    pytest.param({**GOOD, "age": "fifty"}, "age", "a whole number from 16 to 120", id="age_as_text"),
    pytest.param({**GOOD, "onset": "years"}, "onset", "'months', 'weeks', 'days' or 'hours'", id="unknown_onset"),
    pytest.param(
        {**GOOD, "fusion_approach": "front"},
        "fusion_approach",
        "'posterior', 'anterior', 'lateral' or 'unknown'",
        id="unknown_approach",
    ),
    pytest.param(
        {**GOOD, "risk_factors": ["diabetes", "obesity"]},
        "risk_factors[1]",
        "'injecting_drug_use', 'weakened_immunity', 'diabetes', 'osteoporosis', 'blood_thinners', "
        "'active_cancer' or 'smoking'",
        id="unknown_risk_factor",
    ),
    pytest.param(
        {**GOOD, "symptoms": ["fever"], "long_standing_symptoms": ["foot_drop"]},
        "long_standing_symptoms",
        "foot_drop is not in symptoms: every code in long_standing_symptoms must also be listed in symptoms",
        id="long_standing_not_in_symptoms",
    ),
    pytest.param({**GOOD, "symptoms": ["sepsis_sign"]}, "symptoms[0]", "'sepsis_signs'", id="unknown_1_1_symptom"),
]


@pytest.mark.parametrize(("body", "field", "allowed"), BAD_BODIES)
def test_bad_input_is_422_naming_the_field_and_what_is_allowed(client, body, field, allowed):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    problem = next(p for p in detail if p["field"] == field)
    assert allowed in problem["msg"]
    assert f"{field}: " in response.json()["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        pytest.param("leg_pain=3", "application/json", "the body is not valid JSON", id="not_json"),
        pytest.param('{"leg_pain": 3,', "application/json", "the body is not valid JSON", id="truncated_json"),
        pytest.param(
            "",
            "application/json",
            "the request is empty; expected a JSON object; required fields are: months_since_surgery",
            id="empty",
        ),
        pytest.param("[1, 2]", "application/json", "expected a JSON object; required fields are", id="array"),
        pytest.param('"hello"', "application/json", "expected a JSON object", id="string"),
        pytest.param('{"months_since_surgery": 1}', "text/plain", "expected a JSON object", id="wrong_content_type"),
        pytest.param(
            '{"months_since_surgery": NaN, "leg_pain": 1, "back_pain": 1, "trend": "stable"}',
            "application/json",
            "finite number",
            id="nan",
        ),
    ],
)
def test_non_json_and_wrongly_shaped_bodies_are_422_with_a_plain_message(client, content, content_type, expected):
    response = client.post(URL, content=content, headers={"content-type": content_type})
    assert response.status_code == 422
    assert expected in response.json()["message"]


def test_assessing_stores_nothing(client, clean_engine):
    for body in (GOOD, {**GOOD, "symptoms": ["fever"]}, {**GOOD, "leg_pain": 99}):
        client.post(URL, json=body)
    with clean_engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        counts = {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
    assert all(count == 0 for count in counts.values()), counts
