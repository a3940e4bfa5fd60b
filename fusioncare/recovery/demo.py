"""Demo recovery record: eight weeks of diary for the demo patient, physical therapy starting in week 3,
PEG/ODI/PGIC questionnaires, and a share with one demo physiatrist, so `make run` shows real charts and summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from rich.console import Console
from sqlalchemy.orm import Session

from fusioncare.accounts import service as accounts
from fusioncare.accounts.audit import Actor
from fusioncare.directory import service as directory
from fusioncare.directory.schemas import ProviderSearch
from fusioncare.recovery import service, sharing
from fusioncare.recovery.schemas import DiaryEntryCreate, QuestionnaireCreate, RecoveryProfileUpdate

DEMO_DAYS = 56  # eight weeks, ending yesterday
THERAPY_STARTS_DAYS_AGO = 42
# Small day-to-day wobble (repeating weekly), so the diary looks like a person's and not a straight line.
LEG_WOBBLE = [0, 1, 0, -1, 0, 0, -1]
BACK_WOBBLE = [0, 0, 1, 0, -1, 0, 0]
NOTES = {42: "First physical therapy session: core and glute exercises to do at home.",
         35: "Walked to the shop and back without stopping.", 21: "Stopped the ibuprofen; the therapist agreed.",
         9: "Slept through the night for the first time in weeks."}
# (days ago, instrument, answers)
QUESTIONNAIRES = [(55, "odi", [3, 2, 3, 2, 3, 2, 2, 3, 2, None]), (55, "peg", [7, 7, 6]),
                  (28, "odi", [2, 1, 2, 2, 2, 1, 2, 2, 1, None]), (28, "peg", [5, 5, 4]),
                  (2, "odi", [1, 1, 1, 1, 1, 1, 1, 2, 1, None]), (2, "peg", [3, 3, 2]), (2, "pgic", [2])]
SHARE_SPECIALTY, SHARE_NEAR = "physiatrist", "10001"
OPERATION_DAYS_AGO = 420  # about 14 months before today: the whole diary is after it
DEMO_PROFILE = {"full_name": "Dana Demo", "date_of_birth": date(1968, 4, 12), "fusion_levels": "L4-L5",
                "fusion_approach": "posterior", "surgeon": "Demo Spine Surgery (demo data)"}


def diary_day(days_ago: int, today: date) -> DiaryEntryCreate | None:
    """One believable day: leg pain easing from 7 to about 3 over five weeks of therapy, back pain 5 to 3."""
    if days_ago % 7 == 3:
        return None  # a missed day each week
    progress = min(1.0, max(0.0, (THERAPY_STARTS_DAYS_AGO - days_ago) / 35))
    leg = round(7 - 4 * progress) + LEG_WOBBLE[days_ago % 7]
    back = round(5 - 2 * progress) + BACK_WOBBLE[days_ago % 7]
    in_therapy = days_ago <= THERAPY_STARTS_DAYS_AGO
    return DiaryEntryCreate(
        date=today - timedelta(days=days_ago), leg_pain=leg, back_pain=back,
        symptoms=["walking_leg_pain"] if days_ago > 30 and days_ago % 4 == 0 else [],
        medications=["gabapentin 300 mg"] + (["ibuprofen 400 mg"] if days_ago > 21 else []),
        treatments_started=["physical_therapy"] if days_ago == THERAPY_STARTS_DAYS_AGO else [],
        exercise_minutes=min(35, 10 + (THERAPY_STARTS_DAYS_AGO - days_ago) // 2) if in_therapy else None,
        sleep_quality=2 if not in_therapy else (3 if days_ago > 14 else 4), note=NOTES.get(days_ago, ""))


def load(*, db: Session, console: Console, email: str) -> None:
    """Idempotent: an account that already has a diary keeps it; the share is made once."""
    user = accounts.get_user_by_email(db, email=email)
    if user is None:
        console.print("Demo recovery: no demo patient account; skipped.")
        return
    actor = Actor.of(user, "demo")
    if service.get_profile(db, owner_id=user.id) is None:
        operation = datetime.now(UTC).date() - timedelta(days=OPERATION_DAYS_AGO)
        service.save_profile(db, actor=actor, data=RecoveryProfileUpdate.model_validate(
            {**DEMO_PROFILE, "operation_date": operation}))
        console.print("Demo recovery: the demo patient's operation recorded.")
    if service.entries_newest_first(db, owner_id=user.id):
        console.print("Demo recovery: the demo patient already has a diary; left as it is.")
    else:
        today = datetime.now(UTC).date()
        days = [d for d in (diary_day(n, today) for n in range(DEMO_DAYS, 0, -1)) if d is not None]
        for day in days:
            service.save_entry(db, actor=actor, data=day)
        for days_ago, instrument, answers in QUESTIONNAIRES:
            response = service.save_questionnaire(db, actor=actor, data=QuestionnaireCreate(
                instrument=instrument, answers=answers))
            response.completed_at = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=UTC)
        db.commit()
        console.print(f"Demo recovery: {len(days)} diary days, {len(QUESTIONNAIRES)} questionnaires.")
    npi = _demo_physiatrist(db)
    if npi is not None:
        sharing.share(db, actor=actor, npi=npi)
        console.print(f"Demo recovery: shared with the demo physiatrist NPI {npi} (dr.{npi}@demo.fusioncare.test).",
                      highlight=False)


def _demo_physiatrist(db: Session) -> str | None:
    """The nearest demo physiatrist to New York with a verified account, if the directory demo is loaded."""
    found = directory.search_providers(db=db, params=ProviderSearch(specialty=SHARE_SPECIALTY, near=SHARE_NEAR,
                                                                    limit=10))
    return next((hit.provider.npi for hit in found.hits
                 if hit.provider.is_demo and accounts.has_verified_provider(db, npi=hit.provider.npi)), None)
