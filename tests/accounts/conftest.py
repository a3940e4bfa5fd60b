"""Builders for accounts tests: people with real accounts, their bearer tokens, saved assessments."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from fusioncare.accounts import service
from fusioncare.accounts.audit import Actor
from fusioncare.accounts.models import Role, User
from fusioncare.triage import records

PASSWORD = "sciatic nerve recovers slowly"


@dataclass
class Person:
    user: User
    email: str
    password: str

    @property
    def id(self) -> int:
        return self.user.id


@pytest.fixture
def make_person(db: Session):
    """make_person("ann") -> a patient account ann@example.org with the shared test password."""

    def build(name: str, *, role: Role = Role.patient, npi: str | None = None, verified: bool = False) -> Person:
        email = f"{name}@example.org"
        user = service.ensure_account(db, email=email, password=PASSWORD, role=role)
        if npi:
            service.claim_provider(db, user=user, npi=npi, client_address="test")
        if verified:
            admin = service.ensure_account(db, email="verifier@example.org", password=PASSWORD, role=Role.admin)
            service.verify_provider(db, admin=admin, user_id=user.id, client_address="test")
        return Person(user=user, email=email, password=PASSWORD)

    return build


@pytest.fixture
def bearer(client):
    """bearer(person) -> Authorization headers with a fresh token from POST /api/v1/tokens."""

    def issue(person: Person) -> dict[str, str]:
        response = client.post("/api/v1/tokens", json={"email": person.email, "password": person.password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return issue


ASSESSMENT_REQUEST = {"months_since_surgery": 4.0, "fusion_region": "lumbar", "sciatica_before_surgery": True,
                      "leg_pain": 6, "back_pain": 3, "trend": "improving", "constant_pain": False,
                      "symptoms": ["new_numbness"], "treatments_tried": ["physical_therapy"]}
ASSESSMENT_RESULT = {"urgency": "soon", "headline": "See your surgeon's team soon.", "red_flags": [], "reasons": [],
                     "possible_contributors": [], "recommended_specialties": [], "treatment_options": [],
                     "next_steps": ["Call your surgeon's office this week."],
                     "disclaimer": "Guidance, not a diagnosis."}


@pytest.fixture
def saved_assessment(db: Session):
    """saved_assessment(person) -> id of an assessment that person saved."""

    def save(person: Person) -> str:
        return records.save(db, actor=Actor.of(person.user, "test"), request=ASSESSMENT_REQUEST,
                            result=ASSESSMENT_RESULT).id

    return save


@pytest.fixture
def form_token():
    """form_token(html) -> the CSRF token the page's form carries."""

    def find(html: str) -> str:
        match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
        assert match, "the form should carry a CSRF token"
        return match.group(1)

    return find


@pytest.fixture(autouse=True)
def cheap_password_hashing():
    """argon2id with small parameters keeps the suite fast; test_passwords checks the production defaults."""
    from argon2 import PasswordHasher

    from fusioncare.accounts import passwords

    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    yield
    passwords.use_hasher(previous)


@pytest.fixture
def appointment(db: Session, tmp_path):
    """appointment(person) -> id of an appointment that person booked (scheduling's IDOR matrix rows)."""
    from datetime import UTC, datetime, time

    from fusioncare.directory.npi import with_check_digit
    from fusioncare.scheduling import service as scheduling
    from tests.scheduling.builders import bookable_provider, future_day

    npi = with_check_digit("170000009")
    bookable_provider(db, tmp_path, npi)

    def book(person: Person) -> str:
        start = datetime.combine(future_day(), time(14), tzinfo=UTC)
        booked, _ = scheduling.book(db=db, actor=Actor.of(person.user, "test"), npi=npi, start=start,
                                    type_code="telehealth")
        return str(booked.id)

    return book
