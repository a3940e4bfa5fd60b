"""Object-level authorization: every route taking a health-data id answers 404 to anyone but the owner.

To cover a new route, add one line to HEALTH_DATA_ROUTES: (method, path with {id}, fixture that makes a
record for an owner and returns its id, the status the owner gets, and an id of the right shape that no record
has when "no-such-record" is not one). The matrix does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from fusioncare.accounts.models import AuditEvent


@dataclass(frozen=True)
class HealthRoute:
    method: str
    path: str
    make_record: str  # name of a fixture returning make(owner: Person) -> record id
    owner_status: int
    missing_id: str = "no-such-record"  # well-formed for the route, but no record has it


APPOINTMENT_ID_NOBODY_HAS = "2147483647"  # appointment ids are 32-bit integers: a malformed one is a 422


HEALTH_DATA_ROUTES = [
    HealthRoute("GET", "/api/v1/assessments/{id}", "saved_assessment", 200),
    HealthRoute("DELETE", "/api/v1/assessments/{id}", "saved_assessment", 204),
    HealthRoute("GET", "/api/v1/appointments/{id}", "appointment", 200, APPOINTMENT_ID_NOBODY_HAS),
    HealthRoute("GET", "/api/v1/appointments/{id}.ics", "appointment", 200, APPOINTMENT_ID_NOBODY_HAS),
    HealthRoute("DELETE", "/api/v1/appointments/{id}", "appointment", 200, APPOINTMENT_ID_NOBODY_HAS),
    HealthRoute("GET", "/api/v1/diary/entries/{id}", "diary_entry", 200),
    HealthRoute("POST", "/api/v1/diary/entries/{id}/safety-seen", "diary_entry", 200),
    HealthRoute("GET", "/api/v1/questionnaires/{id}", "questionnaire_response", 200),
    HealthRoute("DELETE", "/api/v1/recovery/shares/{id}", "recovery_share", 204),
    HealthRoute("GET", "/api/v1/provider/shared/{id}/trends", "recovery_share", 200),
    HealthRoute("GET", "/api/v1/provider/shared/{id}/entries", "recovery_share", 200),
    HealthRoute("GET", "/api/v1/provider/shared/{id}/questionnaires", "recovery_share", 200),
    HealthRoute("GET", "/api/v1/provider/shared/{id}/summary.pdf", "recovery_share", 200),
]

INTRUDERS = ["another_patient", "provider_without_booking", "admin", "anonymous"]


def _route_id(route: HealthRoute) -> str:
    return f"{route.method} {route.path}"


@pytest.fixture
def intruder_headers(make_person, bearer):
    def headers_for(kind: str) -> dict[str, str]:
        from fusioncare.accounts.models import Role

        if kind == "anonymous":
            return {}
        if kind == "another_patient":
            return bearer(make_person("mallory"))
        if kind == "provider_without_booking":
            return bearer(make_person("dr-nobody", npi="1234567893", verified=True))
        if kind == "admin":
            return bearer(make_person("root", role=Role.admin))
        raise AssertionError(kind)

    return headers_for


@pytest.mark.parametrize("route", HEALTH_DATA_ROUTES, ids=_route_id)
@pytest.mark.parametrize("intruder", INTRUDERS)
def test_health_data_route_is_not_found_for_anyone_but_the_owner(route, intruder, request, client, make_person,
                                                                  intruder_headers, db):
    owner = make_person("owner")
    record_id = request.getfixturevalue(route.make_record)(owner)
    path = route.path.format(id=record_id)

    response = client.request(route.method, path, headers=intruder_headers(intruder))

    assert response.status_code == 404, response.text
    missing = client.request(route.method, route.path.format(id=route.missing_id), headers=intruder_headers(intruder))
    assert response.json()["detail"] == missing.json()["detail"], "refused and missing must look the same"
    denied = db.scalars(select(AuditEvent).where(AuditEvent.record_id == record_id,
                                                 AuditEvent.outcome == "denied")).all()
    assert len(denied) == 1, "the refusal is audited"


@pytest.mark.parametrize("route", HEALTH_DATA_ROUTES, ids=_route_id)
def test_health_data_route_serves_its_owner(route, request, client, make_person, bearer, db):
    owner = make_person("owner")
    record_id = request.getfixturevalue(route.make_record)(owner)

    response = client.request(route.method, route.path.format(id=record_id), headers=bearer(owner))

    assert response.status_code == route.owner_status, response.text
    allowed = db.scalars(select(AuditEvent).where(AuditEvent.record_id == record_id,
                                                  AuditEvent.outcome == "allowed")).all()
    assert allowed, "the access is audited"
