"""Builders for scheduling tests: directory providers (through the real importer) that take bookings."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role
from fusioncare.directory.importer import import_nppes
from fusioncare.scheduling import service
from fusioncare.scheduling.schemas import AppointmentTypeCreate, WeeklyHoursCreate
from tests.directory.nppes_files import provider_row, write_nppes

PASSWORD = "sciatic nerve recovers slowly"
TYPES = [AppointmentTypeCreate(code="new_patient", name="New-patient consult", duration_minutes=45),
         AppointmentTypeCreate(code="follow_up", name="Follow-up", duration_minutes=20),
         AppointmentTypeCreate(code="telehealth", name="Telehealth visit", duration_minutes=30)]


def add_directory_provider(db: Session, tmp_path: Path, npi: str, *, postal: str = "10001") -> None:
    path = write_nppes(tmp_path / f"npidata_{npi}.csv", [provider_row(npi, postal=postal)])
    import_nppes(db=db, path=path)


def every_day(start: time = time(9), end: time = time(17)) -> list[WeeklyHoursCreate]:
    return [WeeklyHoursCreate(weekday=d, start=start, end=end) for d in range(7)]


def bookable_provider(db: Session, tmp_path: Path, npi: str, *, postal: str = "10001",
                      hours: list[WeeklyHoursCreate] | None = None, verified: bool = True) -> None:
    """A directory provider with weekly hours and types; verified unless told otherwise."""
    add_directory_provider(db, tmp_path, npi, postal=postal)
    user = accounts.ensure_account(db, email=f"dr{npi}@example.org", password=PASSWORD, role=Role.patient)
    accounts.claim_provider(db, user=user, npi=npi, client_address="test")
    if verified:
        admin = accounts.ensure_account(db, email="verifier@example.org", password=PASSWORD, role=Role.admin)
        accounts.verify_provider(db, admin=admin, user_id=user.id, client_address="test")
    service.set_availability(db=db, npi=npi, hours=hours or every_day(), appointment_types=TYPES)


def future_day(days_ahead: int = 10) -> date:
    return date.today() + timedelta(days=days_ahead)
