"""Demo availability: every demo practitioner gets a verified provider account, weekday hours and three types."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fusioncare.accounts import service as accounts
from fusioncare.directory import service as directory
from fusioncare.scheduling.models import AppointmentType, WeeklyHours

DEMO_PROVIDER_PASSWORD = "demo-provider-fusion-2026"
DEMO_HOURS = [(weekday, 9 * 60, 17 * 60) for weekday in range(5)]  # Monday-Friday 09:00-17:00 local
DEMO_TYPES = [("new_patient", "New-patient consult", 45), ("follow_up", "Follow-up", 20),
              ("telehealth", "Telehealth visit", 30)]


def demo_provider_email(npi: str) -> str:
    return f"dr.{npi}@demo.fusioncare.test"


def load(*, db: Session, console: Console) -> None:
    """Idempotent and fast: accounts' bulk demo accounts (one shared password hash), then bulk hours and types."""
    providers = directory.demo_practitioner_zones(db=db)
    made = accounts.ensure_demo_provider_accounts(
        db, emails_by_npi={npi: demo_provider_email(npi) for npi, _ in providers}, password=DEMO_PROVIDER_PASSWORD)
    with_hours = set(db.scalars(select(WeeklyHours.npi).distinct()))
    hours = [{"npi": npi, "weekday": d, "start_minute": s, "end_minute": e, "time_zone": zone}
             for npi, zone in providers if npi not in with_hours for d, s, e in DEMO_HOURS]
    types = [{"npi": npi, "code": code, "name": name, "duration_minutes": minutes}
             for npi, _ in providers if npi not in with_hours for code, name, minutes in DEMO_TYPES]
    for table, rows in ((WeeklyHours, hours), (AppointmentType, types)):
        if rows:
            db.execute(insert(table), rows)
    db.commit()
    console.print(f"Demo scheduling: {made} provider accounts, {len(hours) // len(DEMO_HOURS)} providers "
                  f"given weekday hours 09:00-17:00; sign in as dr.<NPI>@demo.fusioncare.test / "
                  f"{DEMO_PROVIDER_PASSWORD}", highlight=False)
