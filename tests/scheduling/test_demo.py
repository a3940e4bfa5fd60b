"""Demo scheduling: every demo practitioner is bookable with open slots over the next 30 days; loading is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from sqlalchemy import func, select

from fusioncare.accounts.models import User
from fusioncare.directory import demo as directory_demo
from fusioncare.directory.models import Provider
from fusioncare.scheduling import demo, service
from fusioncare.scheduling.models import WeeklyHours


def test_demo_gives_every_demo_practitioner_a_verified_account_and_open_slots(db):
    quiet = Console(quiet=True)
    directory_demo.load(db=db, console=quiet)
    demo.load(db=db, console=quiet)
    counts = (db.scalar(select(func.count()).select_from(User)),
              db.scalar(select(func.count()).select_from(WeeklyHours)))
    demo.load(db=db, console=quiet)

    assert (db.scalar(select(func.count()).select_from(User)),
            db.scalar(select(func.count()).select_from(WeeklyHours))) == counts, "a second load adds nothing"
    practitioners = list(db.scalars(select(Provider.npi).where(Provider.is_demo.is_(True), Provider.entity_type == 1,
                                                               Provider.is_active.is_(True))))
    assert practitioners
    verified = set(db.scalars(select(User.provider_npi).where(User.provider_verified_at.is_not(None))))
    assert set(practitioners) <= verified
    now = datetime.now(UTC)
    for npi in practitioners[:3]:
        open_slots = service.free_slots(db=db, npi=npi, start=now, end=now + timedelta(days=30))
        assert {s.start.date() for s in open_slots} >= {(now + timedelta(days=d)).date() for d in (7, 8, 9, 10, 11)
                                                          if (now + timedelta(days=d)).weekday() < 5}
