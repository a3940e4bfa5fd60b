"""How times, time zones and phone numbers are written for people: one format across pages, e-mails and files.

Clock times are 12-hour with am/pm ("9:00 am"), days are "Tue 3 Dec" or "Tuesday 3 December 2026", and a zone
is said in words ("Eastern Time"), never as its IANA name.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# US zone abbreviations without their Standard/Daylight letter ("EST", "EDT" -> "E") and what people call them.
_ZONE_WORDS = {"E": "Eastern Time", "C": "Central Time", "M": "Mountain Time", "P": "Pacific Time",
               "AK": "Alaska Time", "H": "Hawaii-Aleutian Time", "A": "Atlantic Time", "Ch": "Chamorro Time",
               "S": "Samoa Time"}


def clock(moment: datetime) -> str:
    """'9:00 am', '12:30 pm'."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M} {'am' if moment.hour < 12 else 'pm'}"


def clock_range(start: datetime, end: datetime) -> str:
    """'9:00 – 9:45 am', '11:30 am – 12:15 pm': am/pm said once when both ends share it."""
    first, last = clock(start), clock(end)
    if first[-2:] == last[-2:]:
        first = first[:-3]
    return f"{first} – {last}"


def day_short(moment: datetime) -> str:
    """'Tue 3 Dec'."""
    return f"{moment:%a} {moment.day} {moment:%b}"


def day_long(moment: datetime) -> str:
    """'Tuesday 3 December 2026'."""
    return f"{moment:%A} {moment.day} {moment:%B} {moment.year}"


def when_short(moment: datetime) -> str:
    """'Tue 3 Dec, 9:00 am': a slot as people say it, in the moment's own zone."""
    return f"{day_short(moment)}, {clock(moment)}"


def when_long(moment: datetime) -> str:
    """'Tuesday 3 December 2026 at 9:00 am'."""
    return f"{day_long(moment)} at {clock(moment)}"


def zone_words(zone: str | None, at: datetime | None = None) -> str:
    """'America/New_York' -> 'Eastern Time'; a zone outside the US table -> 'local time in Berlin'."""
    if not zone:
        return "the practice's local time"
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        return "the practice's local time"
    abbreviation = (at or datetime.now(tz)).astimezone(tz).tzname() or ""
    stem = abbreviation[:-2] if len(abbreviation) >= 3 and abbreviation[-2:] in ("ST", "DT") else ""
    if stem in _ZONE_WORDS:
        return _ZONE_WORDS[stem]
    return f"local time in {zone.rsplit('/', 1)[-1].replace('_', ' ')}"


def format_phone(digits: str | None) -> str:
    """'2125550100' -> '(212) 555-0100'; anything else as filed."""
    if not digits:
        return ""
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 and digits.isdigit() else digits
