"""Recovery tracker forms: form fields -> the recovery schemas, and every problem in plain words that say what to
do (never a field path, a validator's wording or a code). No HTTP and no storage here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from fusioncare.inputs import form_number, parse_day
from fusioncare.recovery.schemas import DiaryEntryCreate, RecoveryProfileUpdate

LIST_FIELDS = ("symptoms", "treatments_started", "treatments_stopped")
PAIN_FIELDS = ("leg_pain", "back_pain")
OPTIONAL_NUMBERS = ("exercise_minutes", "sleep_quality")
SLEEP_WORDS = {1: "Very poor", 2: "Poor", 3: "Fair", 4: "Good", 5: "Very good"}

# One message per field of the diary and the operation forms: what to enter, in words.
MESSAGES: dict[str, str] = {
    "date": "Choose the day this entry is about, today or an earlier day",
    "leg_pain": "Choose a number from 0 to 10 for your leg pain",
    "back_pain": "Choose a number from 0 to 10 for your back pain",
    "symptoms": "Tick only the symptoms listed",
    "medications": "Write each medication in up to 100 letters, separated by commas (at most 20)",
    "treatments_started": "Tick only the treatments listed",
    "treatments_stopped": "Tick only the treatments listed",
    "exercise_minutes": "Enter the minutes of exercise as a whole number from 0 to 1440, or leave it empty",
    "sleep_quality": "Choose how you slept, from Very poor to Very good, or leave it empty",
    "note": "Write a note of up to 2000 characters",
    "full_name": "Write your name in up to 200 characters",
    "date_of_birth": "Enter your date of birth as a date, for example 1960-04-25, or leave it empty",
    "operation_date": "Enter the date of your operation, for example 2025-03-14, or leave it empty",
    "fusion_region": "Choose where in your spine the fusion is",
    "fusion_levels": "Write the levels in up to 100 characters, for example L4-L5",
    "fusion_approach": "Choose how the surgeon reached your spine, or choose Not sure",
    "surgeon": "Write the surgeon's or the practice's name in up to 200 characters",
    "long_standing_symptoms": "Tick only the symptoms listed",
    "adopted": "Tick only the habits listed on this page",
    "check_in": "Choose how the week went from the list, or leave it as Not checked in yet",
}
FALLBACK = "Check this answer"
QUESTIONNAIRE_MESSAGES = {
    "peg": "Choose a number from 0 to 10 for each of the three questions",
    "pgic": "Choose one of the seven answers",
    "odi": "Choose a number from 0 to 5 for at least 8 of the 10 sections",
}


def plain_problems(exc: ValidationError) -> dict[str, str]:
    """{field: plain message} for the fields a validation error is about (the first message per field)."""
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        found.setdefault(name if name in MESSAGES else "", MESSAGES.get(name, FALLBACK))
    return found


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _texts(form: Any, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def diary_data(form: Any) -> dict[str, Any]:
    """Form fields -> the DiaryEntryCreate fields this save sets.

    A form opened filled in with the day's entry (``loaded_for`` is that day) sets every field: an empty one was
    cleared by the patient. Otherwise (a new day, or the date changed to a day that has an entry) only the fields
    given a value are set, so saving never erases what the patient did not clear. Numbers stay text when they are
    not whole numbers, so the schema refuses them for their field.
    """
    day = _text(form, "date").strip()
    everything = bool(day) and _text(form, "loaded_for") == day
    data: dict[str, Any] = {"date": day}
    for name in PAIN_FIELDS:
        raw = _text(form, name).strip()
        data[name] = form_number(raw) if raw else None
    for name in OPTIONAL_NUMBERS:
        raw = _text(form, name).strip()
        if raw or everything:
            data[name] = form_number(raw) if raw else None
    for name in LIST_FIELDS:
        values = _texts(form, name)
        if values or everything:
            data[name] = values
    medications = [m.strip() for m in _text(form, "medications").split(",") if m.strip()]
    if medications or everything:
        data["medications"] = medications
    note = _text(form, "note")
    if note.strip() or everything:
        data["note"] = note
    return data


def parse_diary(form: Any) -> tuple[DiaryEntryCreate | None, dict[str, Any], dict[str, str]]:
    """(the entry to save or None, the values to show again, the problems in plain words)."""
    data = diary_data(form)
    values = {**data, "medications": _text(form, "medications"), "loaded_for": _text(form, "loaded_for")}
    try:
        return DiaryEntryCreate.model_validate(data), values, {}
    except ValidationError as exc:
        return None, values, plain_problems(exc)


def entry_values(entry: Any) -> dict[str, Any]:
    """A stored entry as form values, to open that day's entry filled in."""
    return {"date": entry.entry_date.isoformat(), "loaded_for": entry.entry_date.isoformat(),
            "leg_pain": entry.leg_pain, "back_pain": entry.back_pain, "symptoms": list(entry.symptoms),
            "medications": ", ".join(entry.medications), "treatments_started": list(entry.treatments_started),
            "treatments_stopped": list(entry.treatments_stopped),
            "exercise_minutes": "" if entry.exercise_minutes is None else entry.exercise_minutes,
            "sleep_quality": entry.sleep_quality, "note": entry.note}


def parse_profile(form: Any) -> tuple[RecoveryProfileUpdate | None, dict[str, Any], dict[str, str]]:
    """The operation form -> RecoveryProfileUpdate (every field: the form shows them all filled in)."""
    data: dict[str, Any] = {name: _text(form, name).strip()
                            for name in ("full_name", "fusion_levels", "surgeon", "fusion_region", "fusion_approach")}
    for name in ("date_of_birth", "operation_date"):
        data[name] = _text(form, name).strip() or None
    data["fusion_region"] = data["fusion_region"] or "lumbar"
    data["fusion_approach"] = data["fusion_approach"] or "unknown"
    data["long_standing_symptoms"] = _texts(form, "long_standing_symptoms")
    try:
        return RecoveryProfileUpdate.model_validate(data), data, {}
    except ValidationError as exc:
        return None, data, plain_problems(exc)


def day_label(iso_day: Any) -> str:
    """'Monday 30 November 2026' for a YYYY-MM-DD text; '' for anything else."""
    day = parse_day(iso_day) if isinstance(iso_day, str) and iso_day else None
    return f"{day:%A} {day.day} {day:%B %Y}" if day else ""


def questionnaire_answers(form: Mapping[str, Any], instrument: str) -> tuple[list[int | None] | None, list[str]]:
    """(the whole-number answers with None for an unanswered item, or None when an answer is not a whole number;
    the raw texts to show again). Something that is not a number is refused, never counted as skipped."""
    count = {"peg": 3, "pgic": 1, "odi": 10}.get(instrument, 0)
    raw = [_text(form, f"{instrument}_{i}").strip() for i in range(count)]
    answers = [form_number(a) if a else None for a in raw]
    if any(isinstance(a, str) for a in answers):
        return None, raw
    return [a if isinstance(a, int) else None for a in answers], raw
