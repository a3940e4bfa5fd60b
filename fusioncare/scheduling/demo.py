"""Demo availability: every demo practitioner gets a verified provider account, weekday hours and three types."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fusioncare.accounts.models import Role, User
from fusioncare.accounts.passwords import hash_password
from fusioncare.directory.models import Provider
from fusioncare.scheduling.models import AppointmentType, WeeklyHours

DEMO_PROVIDER_PASSWORD = "demo-provider-fusion-2026"
DEMO_HOURS = [(weekday, 9 * 60, 17 * 60) for weekday in range(5)]  # Monday-Friday 09:00-17:00 local
DEMO_TYPES = [("new_patient", "New-patient consult", 45), ("follow_up", "Follow-up", 20),
              ("telehealth", "Telehealth visit", 30)]


def demo_provider_email(npi: str) -> str:
    return f"dr.{npi}@demo.fusioncare.test"


def load(*, db: Session, console: Console) -> None:
    """Idempotent and fast: bulk inserts; one password hash shared by every demo provider account.

    Accounts are made here directly (not through accounts' sign-up) because hashing a password per provider
    would take minutes; they are demo data only, created in development only by fusioncare/demo.py.
    """
    providers = db.execute(select(Provider.npi, Provider.time_zone).where(
        Provider.is_demo.is_(True), Provider.is_active.is_(True), Provider.entity_type == 1,
        Provider.time_zone.is_not(None))).all()
    verified = set(db.scalars(select(User.provider_npi).where(User.provider_verified_at.is_not(None))))
    emails = set(db.scalars(select(User.email).where(User.email.like("dr.%@demo.fusioncare.test"))))
    with_hours = set(db.scalars(select(WeeklyHours.npi).distinct()))
    now = datetime.now(UTC)
    password_hash = hash_password(DEMO_PROVIDER_PASSWORD)
    accounts = [{"email": demo_provider_email(npi), "password_hash": password_hash, "role": Role.provider,
                 "provider_npi": npi, "provider_verified_at": now, "created_at": now, "password_changed_at": now}
                for npi, _ in providers if npi not in verified and demo_provider_email(npi) not in emails]
    hours = [{"npi": npi, "weekday": d, "start_minute": s, "end_minute": e, "time_zone": zone}
             for npi, zone in providers if npi not in with_hours for d, s, e in DEMO_HOURS]
    types = [{"npi": npi, "code": code, "name": name, "duration_minutes": minutes}
             for npi, _ in providers if npi not in with_hours for code, name, minutes in DEMO_TYPES]
    for table, rows in ((User, accounts), (WeeklyHours, hours), (AppointmentType, types)):
        if rows:
            db.execute(insert(table), rows)
    db.commit()
    console.print(f"Demo scheduling: {len(accounts)} provider accounts, {len(hours) // len(DEMO_HOURS)} providers "
                  f"given weekday hours 09:00-17:00; sign in as dr.<NPI>@demo.fusioncare.test / "
                  f"{DEMO_PROVIDER_PASSWORD}", highlight=False)
