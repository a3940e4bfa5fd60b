"""The management plan: knowledge-pack strategies the patient adopts, with a weekly check-in for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncare.accounts import audit
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.errors import InvalidInput
from fusioncare.knowledge.loader import get_pack
from fusioncare.knowledge.schemas import ManagementStrategy
from fusioncare.recovery.models import PlanItem

RECORD_TYPE = "plan_item"
CHECK_IN_WORDS = {"most_days": "Most days", "some_days": "Some days", "not_this_week": "Not this week"}


def current_week(today: date | None = None) -> date:
    """Monday of this week (UTC)."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=today.weekday())


@dataclass(frozen=True)
class PlanRow:
    strategy: ManagementStrategy
    source: str
    adopted: bool
    this_week: str | None
    weeks_kept: int  # weeks checked in as "most days"


def checklist(db: Session, *, owner_id: int, today: date | None = None) -> list[PlanRow]:
    pack = get_pack()
    items = {i.strategy_code: i for i in db.scalars(select(PlanItem).where(PlanItem.owner_id == owner_id))}
    week = current_week(today).isoformat()
    rows = []
    for strategy in pack.management_strategies:
        item = items.get(strategy.code)
        rows.append(PlanRow(strategy=strategy, source=pack.source_names([strategy.source]), adopted=item is not None,
                            this_week=item.check_ins.get(week) if item else None,
                            weeks_kept=sum(v == "most_days" for v in item.check_ins.values()) if item else 0))
    return rows


def checklist_for(db: Session, *, actor: Actor, today: date | None = None) -> list[PlanRow]:
    """The actor's own plan, audited like the other list reads."""
    if actor.user_id is None:
        raise ValueError("the management plan needs a signed-in owner")
    rows = checklist(db, owner_id=actor.user_id, today=today)
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.list", record_type=RECORD_TYPE, outcome=Outcome.allowed,
                 detail=f"{sum(r.adopted for r in rows)} strategies adopted")
    return rows


def update(db: Session, *, actor: Actor, adopted: list[str], check_ins: dict[str, str],
           today: date | None = None) -> None:
    """Adopt exactly ``adopted`` (dropping the rest) and record this week's check-ins for adopted strategies."""
    if actor.user_id is None:
        raise ValueError("the management plan needs a signed-in owner")
    known = {s.code for s in get_pack().management_strategies}
    for code in [*adopted, *check_ins]:
        if code not in known:
            raise InvalidInput("adopted", f"{code!r} is not a management strategy; allowed: {', '.join(sorted(known))}")
    for value in check_ins.values():
        if value not in CHECK_IN_WORDS:
            raise InvalidInput("check_in", f"{value!r} is not allowed; allowed: {', '.join(CHECK_IN_WORDS)}")
    week = current_week(today).isoformat()
    items = {i.strategy_code: i for i in db.scalars(select(PlanItem).where(PlanItem.owner_id == actor.user_id))}
    for code, item in items.items():
        if code not in adopted:
            db.delete(item)
    for code in dict.fromkeys(adopted):
        item = items.get(code) or PlanItem(owner_id=actor.user_id, strategy_code=code, check_ins={})
        if code in check_ins:
            item.check_ins = {**item.check_ins, week: check_ins[code]}
        db.add(item)
    db.commit()
    audit.record(db, actor=actor, action=f"{RECORD_TYPE}.update", record_type=RECORD_TYPE, outcome=Outcome.allowed,
                 detail=f"{len(set(adopted))} strategies adopted")
