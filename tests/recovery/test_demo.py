"""Demo recovery record: eight believable weeks that show real trends, no false alarm, a share; idempotent."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import func, select

from fusioncare.accounts import service as accounts
from fusioncare.accounts.audit import Actor
from fusioncare.accounts.models import Role
from fusioncare.directory import demo as directory_demo
from fusioncare.recovery import demo, service, sharing
from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse
from fusioncare.scheduling import demo as scheduling_demo

EMAIL = "patient@demo.fusioncare.test"


def test_demo_patient_gets_eight_weeks_that_show_meaningful_improvement_and_a_share(db):
    quiet = Console(quiet=True)
    directory_demo.load(db=db, console=quiet)
    scheduling_demo.load(db=db, console=quiet)
    user = accounts.ensure_account(db, email=EMAIL, password="demo-patient-sciatica-2026", role=Role.patient)

    demo.load(db=db, console=quiet, email=EMAIL)
    counts = (db.scalar(select(func.count()).select_from(DiaryEntry)),
              db.scalar(select(func.count()).select_from(QuestionnaireResponse)))
    demo.load(db=db, console=quiet, email=EMAIL)

    assert (db.scalar(select(func.count()).select_from(DiaryEntry)),
            db.scalar(select(func.count()).select_from(QuestionnaireResponse))) == counts, "a second load adds nothing"
    entries = service.entries_newest_first(db, owner_id=user.id)
    assert 40 <= len(entries) <= 56 and (entries[0].entry_date - entries[-1].entry_date).days >= 50
    assert all(e.safety is None for e in entries), "believable recovery data raises no safety alarm"
    trends = {t.measure: t for t in service.trends(db, owner_id=user.id).measures}
    assert trends["leg_pain"].judgement == "improved" and trends["odi"].judgement == "improved"
    assert trends["peg"].judgement == "improved" and len(trends["leg_pain"].weekly) >= 8
    summary = service.visit_summary(db, owner_id=user.id)
    assert any("Physical therapy: leg pain improved meaningfully" in e.summary for e in summary.treatment_effects)
    assert {r.instrument for r in summary.latest_scores} == {"odi", "peg", "pgic"}
    assert summary.current_medications == ["gabapentin 300 mg"]
    operation = dict(summary.operation)
    assert operation["Region and levels"] == "Lumbar, L4-L5" and "months ago" in operation["Date of the operation"]
    assert dict(summary.patient)["Name"] == "Dana Demo"
    shares = sharing.list_shares(db, actor=Actor.of(user, "test"))
    assert len(shares) == 1 and accounts.has_verified_provider(db, npi=shares[0].npi)
