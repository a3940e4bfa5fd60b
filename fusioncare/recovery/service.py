"""Recovery tracker: diary entries with the safety re-check, questionnaires, trends, CSV export, export/erase.

Registered with accounts' personal-data registry, so "download my data" and "delete my account" include it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fusioncare.accounts import audit, personal_data
from fusioncare.accounts.audit import Actor, Outcome
from fusioncare.accounts.models import utcnow
from fusioncare.accounts.permissions import Action, authorize
from fusioncare.db import rowcount
from fusioncare.errors import InvalidInput
from fusioncare.knowledge.loader import get_pack
from fusioncare.recovery import scoring
from fusioncare.recovery.measures import Measure, get_measures
from fusioncare.recovery.models import DiaryEntry, PlanItem, QuestionnaireResponse, RecoveryProfile, RecoveryShare
from fusioncare.recovery.schemas import (
    DiaryEntryCreate,
    MeasureTrend,
    QuestionnaireCreate,
    RecoveryProfileUpdate,
    TreatmentMarker,
    TrendsRead,
    WeeklyAverage,
    latest_possible_today,
)
from fusioncare.triage import records as saved_assessments
from fusioncare.triage.schemas import (
    AssessmentRequest,
    AssessmentResult,
    FusionApproach,
    FusionRegion,
    Trend,
    Urgency,
)
from fusioncare.triage.service import assess

DIARY_ENTRY = "diary_entry"
QUESTIONNAIRE = "questionnaire_response"
PROFILE = "recovery_profile"
# With no operation date recorded, the diary takes days back to this many years ago (a sane lower bound).
DIARY_YEARS_BACK_WHEN_UNKNOWN = 10
MIN_AGE_YEARS, MAX_AGE_YEARS = 16, 120
# The assessment contract takes months_since_surgery up to 600: 50 years.
MAX_YEARS_SINCE = 50
# The worsening check compares an entry with the week that ended two weeks before it (days 14 to 20 earlier).
WORSENING_WINDOW_DAYS = (14, 20)
DAYS_PER_MONTH = 365.25 / 12


def _require_owner(actor: Actor) -> int:
    if actor.user_id is None:
        raise ValueError("the recovery tracker needs a signed-in owner")
    return actor.user_id


def shared_npis(db: Session, *, owner_id: int) -> list[str]:
    """The NPIs of the providers the owner shares their recovery record with now (see recovery.sharing)."""
    return list(db.scalars(select(RecoveryShare.npi).where(RecoveryShare.owner_id == owner_id)))


# --- diary entries -------------------------------------------------------------------------------


def _entries(db: Session, *, owner_id: int) -> list[DiaryEntry]:
    return list(db.scalars(select(DiaryEntry).where(DiaryEntry.owner_id == owner_id)
                           .order_by(DiaryEntry.entry_date)))


def pain_trend(*, history: Sequence[DiaryEntry], entry_date: date, leg_pain: float, back_pain: float) -> Trend:
    """Worsening when leg or back pain rose by at least the MCID against the week ending two weeks earlier."""
    first, last = WORSENING_WINDOW_DAYS
    window = [e for e in history
              if entry_date - timedelta(days=last) <= e.entry_date <= entry_date - timedelta(days=first)]
    if not window:
        return Trend.stable
    measures = get_measures()
    changes = [scoring.judge(measures.measure("leg_pain"), baseline=fmean(e.leg_pain for e in window),
                             current=leg_pain),
               scoring.judge(measures.measure("back_pain"), baseline=fmean(e.back_pain for e in window),
                             current=back_pain)]
    if scoring.Change.worsened in changes:
        return Trend.worsening
    return Trend.improving if scoring.Change.improved in changes else Trend.stable


def _months_since_surgery(db: Session, *, owner_id: int, on: date, profile: RecoveryProfile | None) -> float:
    """From the operation date the patient recorded; else from their latest saved assessment (moved on by the time
    since); 0 when neither is known.

    0 keeps the early-recovery rules (wound infection, clots) in play, the cautious choice when unknown.
    """
    if profile is not None and profile.operation_date is not None:
        return max(0.0, min(600.0, (on - profile.operation_date).days / DAYS_PER_MONTH))
    saved = saved_assessments.export_for_owner(db=db, user_id=owner_id)
    if not saved:
        return 0.0
    latest = saved[-1]
    since = (on - datetime.fromisoformat(latest["created_at"]).date()).days / DAYS_PER_MONTH
    return max(0.0, min(600.0, float(latest["request"].get("months_since_surgery", 0.0)) + since))


def safety_check(db: Session, *, owner_id: int, data: DiaryEntryCreate,
                 history: Sequence[DiaryEntry]) -> AssessmentResult | None:
    """Run the assessment with the entry's data when it reports a red-flag symptom or a meaningful worsening; the
    result is kept when it has something to act on (a warning sign, the worsening, or any urgency above routine:
    some of the pack's red-flag symptoms send a patient to a doctor soon through an ordinary rule, with no red
    flag listed, e.g. belly swelling, night pain, weight loss or new numbness three months out).

    Runs for every save, whatever the day: the entry is compared with the diary around its own date. The recovery
    profile's operation (date, region, approach) and long-standing symptoms go to the engine too (contract 1.1).
    """
    red_flags = set(data.symptoms) & set(get_pack().red_flag_symptoms)
    others = [e for e in history if e.entry_date != data.date]
    trend = pain_trend(history=others, entry_date=data.date, leg_pain=data.leg_pain, back_pain=data.back_pain)
    if not red_flags and trend is not Trend.worsening:
        return None
    tried = ({t for e in others if e.entry_date <= data.date for t in e.treatments_started}
             | set(data.treatments_started))
    profile = db.get(RecoveryProfile, owner_id)
    old = set(profile.long_standing_symptoms) if profile else set()
    request = AssessmentRequest(
        months_since_surgery=_months_since_surgery(db, owner_id=owner_id, on=data.date, profile=profile),
        fusion_region=FusionRegion(profile.fusion_region) if profile else FusionRegion.lumbar,
        fusion_approach=FusionApproach(profile.fusion_approach) if profile else FusionApproach.unknown,
        leg_pain=data.leg_pain, back_pain=data.back_pain, trend=trend, symptoms=list(data.symptoms),
        long_standing_symptoms=[c for c in data.symptoms if c in old],
        treatments_tried=sorted(tried),
    )
    result = assess(request=request)
    # A routine result with no warning sign and no worsening leaves nothing to act on (for instance a symptom the
    # patient had before the operation and that is no worse, contract 1.1): the check ran, nothing to list.
    if result.red_flags or trend is Trend.worsening or result.urgency is not Urgency.routine:
        return result
    return None


def _day_words(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def earliest_diary_date(db: Session, *, owner_id: int, today: date) -> tuple[date, bool]:
    """The first day the diary takes, and whether it is the recorded operation date (else a sane lower bound)."""
    profile = db.get(RecoveryProfile, owner_id)
    if profile is not None and profile.operation_date is not None:
        return profile.operation_date, True
    return today.replace(year=today.year - DIARY_YEARS_BACK_WHEN_UNKNOWN, day=min(today.day, 28)), False


def check_diary_date(db: Session, *, owner_id: int, day: date) -> None:
    """Refuses a day in the future or before the operation (before the lower bound when that date is unknown)."""
    today = latest_possible_today()
    if day > today:
        raise InvalidInput("date", "Choose today or an earlier day: that day has not come yet")
    earliest, is_operation = earliest_diary_date(db, owner_id=owner_id, today=today)
    if day < earliest:
        if is_operation:
            raise InvalidInput("date", f"Choose a day on or after your operation ({_day_words(earliest)}); "
                                       "if the operation date is wrong, correct it under My operation")
        raise InvalidInput("date", f"Choose a day from {_day_words(earliest)} to today; to go further back, "
                                   "record your operation date under My operation")


def _merged(entry: DiaryEntry | None, data: DiaryEntryCreate) -> DiaryEntryCreate:
    """The day's entry after this save: the fields sent replace the stored ones; fields not sent keep theirs."""
    if entry is None:
        return data
    kept = {name: getattr(entry, name) for name in DiaryEntryCreate.model_fields
            if name != "date" and name not in data.model_fields_set}
    return DiaryEntryCreate.model_validate({**kept, **data.model_dump(include=data.model_fields_set)})


def save_entry(db: Session, *, actor: Actor, data: DiaryEntryCreate) -> tuple[DiaryEntry, bool]:
    """Create the day's entry, or update the one already saved for that day; returns (entry, updated_existing).

    An update changes only the fields ``data`` sets (``model_fields_set``): a save never erases what the patient
    did not send. The safety re-check runs on the entry as it stands after the save, whatever its date; a result
    is listed on the tracker until the patient has seen it.

    Parallel saves of a day with no entry yet race to insert it: the unique (owner, day) constraint lets one win,
    and each loser updates the winner's row instead (the insert becomes an update, never a 500).
    """
    owner_id = _require_owner(actor)
    check_diary_date(db, owner_id=owner_id, day=data.date)
    history = _entries(db, owner_id=owner_id)
    entry = next((e for e in history if e.entry_date == data.date), None)
    updated = entry is not None
    merged = _merged(entry, data)
    safety = safety_check(db, owner_id=owner_id, data=merged, history=history)
    if entry is None:
        entry = DiaryEntry(owner_id=owner_id, entry_date=data.date)
        db.add(entry)
    _fill(entry, merged, safety)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        entry = db.scalar(select(DiaryEntry).where(DiaryEntry.owner_id == owner_id,
                                                   DiaryEntry.entry_date == data.date))
        if entry is None:  # not a lost race after all: let the caller see the real error
            raise
        updated = True
        merged = _merged(entry, data)
        _fill(entry, merged, safety_check(db, owner_id=owner_id, data=merged, history=_entries(db, owner_id=owner_id)))
        db.commit()
    _recheck_later_days(db, owner_id=owner_id, day=data.date)
    audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.{'update' if updated else 'create'}", record_type=DIARY_ENTRY,
                 record_id=entry.id, outcome=Outcome.allowed)
    return entry, updated


def _recheck_later_days(db: Session, *, owner_id: int, day: date) -> None:
    """Re-check the entries whose worsening test looks back at ``day`` (14 to 20 days after it): filling in an
    earlier day can show that a later one was a meaningful worsening; its new result is listed until read."""
    first, last = WORSENING_WINDOW_DAYS
    history = _entries(db, owner_id=owner_id)
    later = [e for e in history if day + timedelta(days=first) <= e.entry_date <= day + timedelta(days=last)]
    for entry in later:
        as_saved = _merged(entry, DiaryEntryCreate(date=entry.entry_date, leg_pain=entry.leg_pain,
                                                   back_pain=entry.back_pain))
        _set_safety(entry, safety_check(db, owner_id=owner_id, data=as_saved, history=history))
    if later:
        db.commit()


def _fill(entry: DiaryEntry, data: DiaryEntryCreate, safety: AssessmentResult | None) -> None:
    for name, value in data.model_dump(exclude={"date"}, mode="json").items():
        setattr(entry, name, value)
    _set_safety(entry, safety)
    entry.updated_at = utcnow()


def _set_safety(entry: DiaryEntry, safety: AssessmentResult | None) -> None:
    result = safety.model_dump(mode="json") if safety else None
    if result != entry.safety:  # a new or changed result is to be seen again
        entry.safety_seen_at = None
    entry.safety = result


def get_entry(db: Session, *, entry_id: str) -> DiaryEntry | None:
    """Unchecked lookup; routes use ``read_entry``."""
    return db.get(DiaryEntry, entry_id) if len(entry_id) <= 32 else None


def read_entry(db: Session, *, actor: Actor, entry_id: str) -> DiaryEntry:
    entry = get_entry(db, entry_id=entry_id)
    authorize(db, actor=actor, action=Action.read, record_type=DIARY_ENTRY, record_id=entry_id,
              owner_id=entry.owner_id if entry else None,
              shared_with_npis=shared_npis(db, owner_id=entry.owner_id) if entry else ())
    assert entry is not None  # authorize raised NotFound for a missing one
    return entry


def own_entry(db: Session, *, actor: Actor, entry_id: str) -> DiaryEntry | None:
    """The actor's own entry with this id, or None (someone else's is as unknown as a missing one); audited."""
    entry = get_entry(db, entry_id=entry_id) if entry_id else None
    if entry is None or entry.owner_id != _require_owner(actor):
        return None
    audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.read", record_type=DIARY_ENTRY, record_id=entry.id,
                 outcome=Outcome.allowed)
    return entry


def entry_on(db: Session, *, actor: Actor, day: date) -> DiaryEntry | None:
    """The actor's own entry for ``day``, if any (to open it filled in for editing); audited as a read."""
    owner_id = _require_owner(actor)
    entry = db.scalar(select(DiaryEntry).where(DiaryEntry.owner_id == owner_id, DiaryEntry.entry_date == day))
    if entry is not None:
        audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.read", record_type=DIARY_ENTRY, record_id=entry.id,
                     outcome=Outcome.allowed)
    return entry


def entries_newest_first(db: Session, *, owner_id: int) -> list[DiaryEntry]:
    """Unchecked and unaudited; callers audit (``list_entries``, recovery.sharing)."""
    return list(reversed(_entries(db, owner_id=owner_id)))


def list_entries(db: Session, *, actor: Actor) -> list[DiaryEntry]:
    """The actor's own diary, newest first."""
    entries = entries_newest_first(db, owner_id=_require_owner(actor))
    audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.list", record_type=DIARY_ENTRY, outcome=Outcome.allowed,
                 detail=f"{len(entries)} records")
    return entries


def unseen_safety(db: Session, *, owner_id: int) -> list[tuple[DiaryEntry, AssessmentResult]]:
    """Every entry whose safety re-check result the patient has not yet said they read, most urgent first,
    then the newest day first: whatever the entry's date, none is hidden behind a later one."""
    found = [(e, AssessmentResult.model_validate(e.safety)) for e in reversed(_entries(db, owner_id=owner_id))
             if e.safety is not None and e.safety_seen_at is None]
    return sorted(found, key=lambda pair: -pair[1].urgency.rank)


def mark_safety_seen(db: Session, *, actor: Actor, entry_id: str) -> DiaryEntry:
    """The patient has read this entry's re-check result: the tracker stops listing it (the result is kept)."""
    entry = get_entry(db, entry_id=entry_id)
    authorize(db, actor=actor, action=Action.update, record_type=DIARY_ENTRY, record_id=entry_id,
              owner_id=entry.owner_id if entry else None)
    assert entry is not None  # authorize raised NotFound for a missing one
    if entry.safety_seen_at is None:
        entry.safety_seen_at = utcnow()
        db.commit()
    return entry


# --- recovery profile: the operation, recorded once ----------------------------------------------


def get_profile(db: Session, *, owner_id: int) -> RecoveryProfile | None:
    return db.get(RecoveryProfile, owner_id)


def profile_for(db: Session, *, actor: Actor) -> RecoveryProfile | None:
    """The actor's own recovery profile, audited as a read."""
    profile = get_profile(db, owner_id=_require_owner(actor))
    audit.record(db, actor=actor, action=f"{PROFILE}.read", record_type=PROFILE, outcome=Outcome.allowed,
                 detail="found" if profile else "none")
    return profile


def save_profile(db: Session, *, actor: Actor, data: RecoveryProfileUpdate) -> RecoveryProfile:
    """Create or update the profile; fields ``data`` does not set keep what is stored. Checked before storing."""
    owner_id = _require_owner(actor)
    today = latest_possible_today()
    if data.operation_date is not None and data.operation_date > today:
        raise InvalidInput("operation_date", "Enter the date of an operation you have had: that day has not come yet")
    if data.operation_date is not None and data.operation_date < today.replace(year=today.year - MAX_YEARS_SINCE,
                                                                               day=1):
        raise InvalidInput("operation_date", f"Enter the date of your operation: it can be at most {MAX_YEARS_SINCE} "
                                             "years ago")
    if data.date_of_birth is not None and not (date(today.year - MAX_AGE_YEARS, 1, 1) <= data.date_of_birth
                                               <= today.replace(year=today.year - MIN_AGE_YEARS, day=1)):
        raise InvalidInput("date_of_birth", f"Enter your date of birth: you need to be {MIN_AGE_YEARS} to "
                                            f"{MAX_AGE_YEARS} years old")
    if data.operation_date is not None and data.date_of_birth is not None and data.operation_date < data.date_of_birth:
        raise InvalidInput("operation_date", "Enter an operation date after your date of birth")
    allowed = get_pack().long_standing_symptoms
    if unknown := [c for c in data.long_standing_symptoms if c not in allowed]:
        raise InvalidInput("long_standing_symptoms", "Choose only from the symptoms listed"
                           + (" (this one cannot be counted as long-standing)" if len(unknown) == 1 else ""))
    profile = db.get(RecoveryProfile, owner_id)
    created = profile is None
    if profile is None:
        profile = RecoveryProfile(owner_id=owner_id)
        db.add(profile)
        fields = set(RecoveryProfileUpdate.model_fields)
    else:
        fields = set(data.model_fields_set)
    for name, value in data.model_dump(mode="json", include=fields).items():
        setattr(profile, name, value if name not in ("date_of_birth", "operation_date")
                else getattr(data, name))
    profile.updated_at = utcnow()
    db.commit()
    audit.record(db, actor=actor, action=f"{PROFILE}.{'create' if created else 'update'}", record_type=PROFILE,
                 outcome=Outcome.allowed)
    return profile


# --- questionnaires ------------------------------------------------------------------------------


def save_questionnaire(db: Session, *, actor: Actor, data: QuestionnaireCreate) -> QuestionnaireResponse:
    owner_id = _require_owner(actor)
    result = scoring.score(data.instrument, data.answers)  # raises AnswersInvalid before anything is stored
    response = QuestionnaireResponse(owner_id=owner_id, instrument=data.instrument.value, answers=list(data.answers),
                                     score=result.score, band=result.band, interpretation=result.interpretation,
                                     completed_at=utcnow())
    db.add(response)
    db.commit()
    audit.record(db, actor=actor, action=f"{QUESTIONNAIRE}.create", record_type=QUESTIONNAIRE,
                 record_id=response.id, outcome=Outcome.allowed)
    return response


def read_questionnaire(db: Session, *, actor: Actor, response_id: str) -> QuestionnaireResponse:
    response = db.get(QuestionnaireResponse, response_id) if len(response_id) <= 32 else None
    authorize(db, actor=actor, action=Action.read, record_type=QUESTIONNAIRE, record_id=response_id,
              owner_id=response.owner_id if response else None,
              shared_with_npis=shared_npis(db, owner_id=response.owner_id) if response else ())
    assert response is not None  # authorize raised NotFound for a missing one
    return response


def _responses(db: Session, *, owner_id: int) -> list[QuestionnaireResponse]:
    return list(db.scalars(select(QuestionnaireResponse).where(QuestionnaireResponse.owner_id == owner_id)
                           .order_by(QuestionnaireResponse.completed_at)))


def latest_responses(db: Session, *, owner_id: int) -> dict[str, QuestionnaireResponse]:
    return {r.instrument: r for r in _responses(db, owner_id=owner_id)}


def list_questionnaires(db: Session, *, owner_id: int) -> list[QuestionnaireResponse]:
    """Newest first; callers audit (see recovery.sharing)."""
    return list(reversed(_responses(db, owner_id=owner_id)))


def latest_responses_for(db: Session, *, actor: Actor) -> dict[str, QuestionnaireResponse]:
    """The actor's own latest score per instrument, audited as a list read."""
    found = latest_responses(db, owner_id=_require_owner(actor))
    audit.record(db, actor=actor, action=f"{QUESTIONNAIRE}.list", record_type=QUESTIONNAIRE, outcome=Outcome.allowed,
                 detail=f"{len(found)} records")
    return found


# --- trends --------------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_averages(points: Iterable[tuple[date, float]]) -> list[WeeklyAverage]:
    """Mean per week (Monday to Sunday), oldest first: smooths day-to-day noise."""
    weeks: dict[date, list[float]] = defaultdict(list)
    for day, value in points:
        weeks[week_start(day)].append(value)
    return [WeeklyAverage(week_start=w, value=round(fmean(v), 1), entries=len(v)) for w, v in sorted(weeks.items())]


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def describe(measure: Measure, *, baseline: float, baseline_date: date, latest: float, unit: str,
             to_owner: bool = True) -> tuple[str, scoring.Change]:
    """The judgement in words: "Your leg pain ..." to the patient, "Leg pain ..." to a provider they share with."""
    judgement = scoring.judge(measure, baseline=baseline, current=latest)
    suffix = "%" if unit == "percent" else ""
    since = f"{baseline_date.day} {baseline_date:%B %Y}"
    points = f"{_fmt(measure.min_points)} point{'' if measure.min_points == 1 else 's'}"
    rule = points + (f" or {_fmt(measure.min_percent)}%" if measure.min_percent else "")
    numbers = f"from {_fmt(baseline)}{suffix} to {_fmt(latest)}{suffix}; a change of {rule} is meaningful"
    subject = f"Your {measure.name}" if to_owner else measure.name[:1].upper() + measure.name[1:]
    words = {
        scoring.Change.improved: f"{subject} has improved meaningfully since {since}",
        scoring.Change.worsened: f"{subject} is meaningfully worse than on {since}",
        scoring.Change.no_meaningful_change: f"{subject} has not changed meaningfully since {since}",
    }
    return f"{words[judgement]} ({numbers}).", judgement


def _trend(measure: Measure, unit: str, points: list[tuple[date, float]], current: float | None, *,
           to_owner: bool) -> MeasureTrend:
    """Baseline: the first value; latest: ``current`` (a smoothed value) or the last value."""
    source = get_measures().source(measure.source)
    base = MeasureTrend(measure=measure.code, name=measure.name, unit=unit, baseline=None, baseline_date=None,
                        latest=None, latest_date=None, change=None, judgement=None,
                        summary=f"No {measure.name} recorded yet.", meaningful_change_points=measure.min_points,
                        meaningful_change_percent=measure.min_percent,
                        source=f"{source.title} ({source.year})", weekly=weekly_averages(points))
    if not points:
        return base
    (first_day, first), (last_day, last) = points[0], points[-1]
    latest = round(current if current is not None else last, 1)
    base.baseline, base.baseline_date, base.latest, base.latest_date = first, first_day, latest, last_day
    if len(points) == 1:
        base.summary = f"One {measure.name} record so far ({_fmt(first)}); the next ones will show the trend."
        return base
    base.change = round(latest - first, 1)
    base.summary, base.judgement = describe(measure, baseline=first, baseline_date=first_day, latest=latest, unit=unit,
                                            to_owner=to_owner)
    return base


def trends(db: Session, *, owner_id: int, baseline_from: date | None = None, to_owner: bool = True) -> TrendsRead:
    """Each measure's change from baseline judged against its MCID, with weekly averages and treatment markers.

    For daily pain the latest value is the mean of the last 7 days of entries, so one bad day does not
    decide the judgement. ``baseline_from`` lets the patient pick the baseline: the first record on or after it.
    ``to_owner`` False words the sentences for a provider reading a shared record.
    """
    measures = get_measures()
    entries = [e for e in _entries(db, owner_id=owner_id) if baseline_from is None or e.entry_date >= baseline_from]
    result: list[MeasureTrend] = []
    for code in ("leg_pain", "back_pain"):
        points = [(e.entry_date, float(getattr(e, code))) for e in entries]
        recent = [v for d, v in points if points and d > points[-1][0] - timedelta(days=7)]
        result.append(_trend(measures.measure(code), "points", points, fmean(recent) if recent else None,
                             to_owner=to_owner))
    responses = [r for r in _responses(db, owner_id=owner_id)
                 if baseline_from is None or r.completed_at.date() >= baseline_from]
    for code, unit in (("odi", "percent"), ("peg", "points")):
        points = [(r.completed_at.date(), r.score) for r in responses if r.instrument == code]
        result.append(_trend(measures.measure(code), unit, points, None, to_owner=to_owner))
    markers = [TreatmentMarker(date=e.entry_date, treatment=t, event=event)
               for e in entries
               for event, codes in (("started", e.treatments_started), ("stopped", e.treatments_stopped))
               for t in codes]
    return TrendsRead(measures=result, treatments=markers)


def trends_for(db: Session, *, actor: Actor, baseline_from: date | None = None) -> TrendsRead:
    """The actor's own trends, audited like the other list reads."""
    found = trends(db, owner_id=_require_owner(actor), baseline_from=baseline_from)
    audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.trends", record_type=DIARY_ENTRY, outcome=Outcome.allowed,
                 detail=f"{len(found.measures)} measures")
    return found


# --- CSV export ----------------------------------------------------------------------------------

CSV_COLUMNS = ["date", "leg_pain", "back_pain", "symptoms", "medications", "treatments_started", "treatments_stopped",
               "exercise_minutes", "sleep_quality", "note"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(value)
    text = str(value)
    # A spreadsheet would run a cell starting with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def diary_csv(db: Session, *, actor: Actor) -> str:
    owner_id = _require_owner(actor)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    entries = _entries(db, owner_id=owner_id)
    for e in entries:
        writer.writerow([e.entry_date.isoformat()] + [_cell(getattr(e, c)) for c in CSV_COLUMNS[1:]])
    audit.record(db, actor=actor, action=f"{DIARY_ENTRY}.export", record_type=DIARY_ENTRY, outcome=Outcome.allowed,
                 detail=f"{len(entries)} records as CSV")
    return out.getvalue()


# --- personal data -------------------------------------------------------------------------------


def export_entries(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    return [{"id": e.id, "date": e.entry_date.isoformat(), "leg_pain": e.leg_pain, "back_pain": e.back_pain,
             "symptoms": e.symptoms, "medications": e.medications, "treatments_started": e.treatments_started,
             "treatments_stopped": e.treatments_stopped, "exercise_minutes": e.exercise_minutes,
             "sleep_quality": e.sleep_quality, "note": e.note, "safety": e.safety,
             "safety_seen_at": e.safety_seen_at.isoformat() if e.safety_seen_at else None,
             "created_at": e.created_at.isoformat(), "updated_at": e.updated_at.isoformat()}
            for e in _entries(db, owner_id=user_id)]


def export_questionnaires(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    return [{"id": r.id, "instrument": r.instrument, "answers": r.answers, "score": r.score, "band": r.band,
             "interpretation": r.interpretation, "completed_at": r.completed_at.isoformat()}
            for r in _responses(db, owner_id=user_id)]


def export_plan(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    return [{"id": p.id, "strategy_code": p.strategy_code, "adopted_at": p.adopted_at.isoformat(),
             "check_ins": p.check_ins}
            for p in db.scalars(select(PlanItem).where(PlanItem.owner_id == user_id).order_by(PlanItem.adopted_at))]


def export_shares(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    return [{"id": s.id, "npi": s.npi, "created_at": s.created_at.isoformat()}
            for s in db.scalars(select(RecoveryShare).where(RecoveryShare.owner_id == user_id)
                                .order_by(RecoveryShare.created_at))]


def export_profile(*, db: Session, user_id: int) -> list[dict[str, Any]]:
    profile = db.get(RecoveryProfile, user_id)
    if profile is None:
        return []
    return [{"full_name": profile.full_name,
             "date_of_birth": profile.date_of_birth.isoformat() if profile.date_of_birth else None,
             "operation_date": profile.operation_date.isoformat() if profile.operation_date else None,
             "fusion_region": profile.fusion_region, "fusion_levels": profile.fusion_levels,
             "fusion_approach": profile.fusion_approach, "surgeon": profile.surgeon,
             "long_standing_symptoms": profile.long_standing_symptoms, "updated_at": profile.updated_at.isoformat()}]


def _eraser(table: type[DiaryEntry] | type[QuestionnaireResponse] | type[PlanItem] | type[RecoveryShare]
            | type[RecoveryProfile]):
    def erase(*, db: Session, user_id: int) -> int:
        return rowcount(db.execute(delete(table).where(table.owner_id == user_id)))
    return erase


personal_data.register("diary_entries", export=export_entries, erase=_eraser(DiaryEntry))
personal_data.register("questionnaire_responses", export=export_questionnaires, erase=_eraser(QuestionnaireResponse))
personal_data.register("plan_items", export=export_plan, erase=_eraser(PlanItem))
personal_data.register("recovery_shares", export=export_shares, erase=_eraser(RecoveryShare))
personal_data.register("recovery_profiles", export=export_profile, erase=_eraser(RecoveryProfile))


# --- visit summary -------------------------------------------------------------------------------

# A treatment's effect: leg pain in the two weeks before it started against weeks 2 to 6 after.
EFFECT_BEFORE_DAYS, EFFECT_AFTER_DAYS = 14, (14, 42)


@dataclass(frozen=True)
class TreatmentEffect:
    treatment: str
    started: date
    summary: str


@dataclass(frozen=True)
class VisitSummary:
    """What the doctor reads, in the third person. ``patient`` and ``operation`` are (label, value) rows as the
    patient entered them; ``latest_red_flags`` and ``latest_warning_signs`` are plain words."""

    trends: TrendsRead
    latest_scores: list[QuestionnaireResponse]
    treatment_effects: list[TreatmentEffect]
    current_medications: list[str]
    latest_assessment: AssessmentResult | None
    latest_assessment_date: date | None
    entry_count: int
    first_date: date | None
    last_date: date | None
    patient: list[tuple[str, str]] = field(default_factory=list)
    operation: list[tuple[str, str]] = field(default_factory=list)
    latest_red_flags: list[str] = field(default_factory=list)
    latest_warning_signs: list[str] = field(default_factory=list)
    prepared_on: date | None = None


NOT_RECORDED = "Not recorded"
_APPROACH_WORDS = {"posterior": "Posterior (from the back)", "anterior": "Anterior (from the front)",
                   "lateral": "Lateral (from the side)", "unknown": "Not known to the patient"}


def _long_date(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else NOT_RECORDED


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def patient_rows(profile: RecoveryProfile | None, *, today: date) -> tuple[list[tuple[str, str]],
                                                                           list[tuple[str, str]]]:
    """(patient rows, operation rows) for the visit summary, as the patient entered them."""
    if profile is None:
        return ([("Name", NOT_RECORDED), ("Date of birth", NOT_RECORDED)],
                [("Details", "Not recorded by the patient")])
    born = profile.date_of_birth
    age = f" (age {_months_between(born, today) // 12})" if born else ""
    symptoms = {s.code.value: s.plain_words for s in get_pack().symptoms}
    operation_date = _long_date(profile.operation_date)
    if profile.operation_date:
        months = _months_between(profile.operation_date, today)
        operation_date += f" ({months} month{'' if months == 1 else 's'} ago)"
    old = "; ".join(symptoms.get(c, c) for c in profile.long_standing_symptoms) or "None reported"
    return ([("Name", profile.full_name or NOT_RECORDED), ("Date of birth", _long_date(born) + age)],
            [("Date of the operation", operation_date),
             ("Region and levels", f"{profile.fusion_region.capitalize()}"
              + (f", {profile.fusion_levels}" if profile.fusion_levels else ", levels not recorded")),
             ("Approach", _APPROACH_WORDS.get(profile.fusion_approach, profile.fusion_approach)),
             ("Surgeon or practice", profile.surgeon or NOT_RECORDED),
             ("Long-standing symptoms", old)])


def pgic_points() -> list[Any]:
    return list(get_measures().pgic_points)


def treatment_effects(entries: Sequence[DiaryEntry]) -> list[TreatmentEffect]:
    leg = get_measures().measure("leg_pain")
    effects = []
    for marker in [(t, e.entry_date) for e in entries for t in e.treatments_started]:
        treatment, start = marker
        before = [e.leg_pain for e in entries if start - timedelta(days=EFFECT_BEFORE_DAYS) <= e.entry_date < start]
        after = [e.leg_pain for e in entries
                 if start + timedelta(days=EFFECT_AFTER_DAYS[0])
                 <= e.entry_date <= start + timedelta(days=EFFECT_AFTER_DAYS[1])]
        name = treatment.replace("_", " ").capitalize()
        if not before or not after:
            summary = f"{name}: not enough diary entries before and 2 to 6 weeks after to judge its effect yet."
        else:
            b, a = fmean(before), fmean(after)
            words = {scoring.Change.improved: "leg pain improved meaningfully",
                     scoring.Change.worsened: "leg pain got meaningfully worse",
                     scoring.Change.no_meaningful_change: "no meaningful change in leg pain"}
            summary = (f"{name}: {words[scoring.judge(leg, baseline=b, current=a)]} "
                       f"(average {_fmt(b)} in the 2 weeks before, {_fmt(a)} in weeks 2 to 6 after).")
        effects.append(TreatmentEffect(treatment=treatment, started=start, summary=summary))
    return effects


def visit_summary(db: Session, *, owner_id: int, to_owner: bool = True,
                  with_assessments: bool = True) -> VisitSummary:
    """What the doctor needs on one page (``to_owner`` False: worded for a provider reading it from a share;
    ``with_assessments`` False: without the latest assessment, for a provider the patient did not let see them)."""
    entries = _entries(db, owner_id=owner_id)
    with_safety = [e for e in entries if e.safety]
    latest_result, latest_date = None, None
    if not with_assessments:
        pass
    elif with_safety:
        latest_result, latest_date = AssessmentResult.model_validate(with_safety[-1].safety), with_safety[-1].entry_date
    else:
        saved = saved_assessments.export_for_owner(db=db, user_id=owner_id)
        if saved:
            latest_result = AssessmentResult.model_validate(saved[-1]["result"])
            latest_date = datetime.fromisoformat(saved[-1]["created_at"]).date()
    recent = [e for e in entries if entries and e.entry_date > entries[-1].entry_date - timedelta(days=7)]
    medications = list(dict.fromkeys(m for e in recent for m in e.medications))
    today = datetime.now(UTC).date()
    patient, operation = patient_rows(db.get(RecoveryProfile, owner_id), today=today)
    words = {s.code.value: s.plain_words for s in get_pack().symptoms}
    return VisitSummary(trends=trends(db, owner_id=owner_id, to_owner=to_owner),
                        latest_scores=list(latest_responses(db, owner_id=owner_id).values()),
                        treatment_effects=treatment_effects(entries), current_medications=medications,
                        latest_assessment=latest_result, latest_assessment_date=latest_date, entry_count=len(entries),
                        first_date=entries[0].entry_date if entries else None,
                        last_date=entries[-1].entry_date if entries else None,
                        patient=patient, operation=operation,
                        latest_red_flags=[words.get(c, c) for c in latest_result.red_flags] if latest_result else [],
                        latest_warning_signs=[w.text for w in latest_result.warning_signs] if latest_result else [],
                        prepared_on=today)


def visit_summary_for(db: Session, *, actor: Actor) -> VisitSummary:
    """The actor's own visit summary, audited as an export of their diary."""
    summary = visit_summary(db, owner_id=_require_owner(actor), to_owner=False)
    audit.record(db, actor=actor, action="visit_summary.export", record_type=DIARY_ENTRY, outcome=Outcome.allowed,
                 detail=f"{summary.entry_count} records")
    return summary
