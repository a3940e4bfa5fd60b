"""Saving assessments: only on request, only for a signed-in person, readable only by them."""

from __future__ import annotations

from sqlalchemy import func, select

from fusioncare.triage.models import SavedAssessment

REQUEST = {"months_since_surgery": 8, "leg_pain": 6, "back_pain": 4, "trend": "worsening",
           "symptoms": ["new_numbness"]}


def _stored(db) -> int:
    return db.scalar(select(func.count()).select_from(SavedAssessment))


def test_save_true_with_a_bearer_token_stores_it_and_returns_its_id_with_the_result(client, make_person, bearer,
                                                                                     db):
    headers = bearer(make_person("ann"))
    plain = client.post("/api/v1/assessments", json=REQUEST)
    saved = client.post("/api/v1/assessments", params={"save": "true"}, json=REQUEST, headers=headers)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assessment_id = body.pop("id")
    assert body == plain.json(), "the same result, plus the id"
    assert len(assessment_id) >= 20

    again = client.get(f"/api/v1/assessments/{assessment_id}", headers=headers)
    assert again.status_code == 200
    assert again.json()["result"] == plain.json()
    assert again.json()["request"]["leg_pain"] == 6 and again.json()["request"]["fusion_region"] == "lumbar"
    assert [s["id"] for s in client.get("/api/v1/assessments", headers=headers).json()] == [assessment_id]
    assert _stored(db) == 1


def test_anonymous_assessment_stores_nothing_and_has_no_id(client, make_person, bearer, db):
    plain = client.post("/api/v1/assessments", json=REQUEST)
    with_token_no_save = client.post("/api/v1/assessments", json=REQUEST, headers=bearer(make_person("ann")))
    assert plain.status_code == with_token_no_save.status_code == 200
    assert "id" not in plain.json() and "id" not in with_token_no_save.json()
    assert _stored(db) == 0


def test_save_true_without_an_account_is_401_and_stores_nothing(client, db):
    response = client.post("/api/v1/assessments", params={"save": "true"}, json=REQUEST)
    assert response.status_code == 401
    assert "account" in response.json()["detail"]
    assert _stored(db) == 0


def test_owner_can_delete_a_saved_assessment(client, make_person, bearer, saved_assessment, db):
    ann = make_person("ann")
    assessment_id = saved_assessment(ann)
    headers = bearer(ann)
    assert client.delete(f"/api/v1/assessments/{assessment_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/assessments/{assessment_id}", headers=headers).status_code == 404
    assert _stored(db) == 0
