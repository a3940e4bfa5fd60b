"""Bounded input types shared by every way in (API bodies, path and query parameters, page forms).

Each bounds a value to what the database and the date arithmetic behind it can always handle, so bad input is
a 422 naming the field in plain words before it reaches a query, never a 500 from deep inside one: dates and
times within 1900..2200, ids as ASCII digits within the 32-bit integers the database stores, record keys in the
alphabet our random ids use, and text without NUL characters (PostgreSQL cannot store them).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
MAX_ROW_ID = 2_147_483_647  # integer ids are 32-bit in the database
_DIGITS = re.compile(r"[0-9]{1,10}")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _day_in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError("date_out_of_range", "must be a date from {earliest} to {latest}",
                                  {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()})
    return value


def _moment_in_range(value: datetime) -> datetime:
    # Checked on the value as given: years 1 and 9999 are where converting to UTC or adding a day overflows.
    _day_in_range(value.date())
    if value.tzinfo is not None:
        _day_in_range(value.astimezone(UTC).date())
    return value


def _row_id(value: object) -> object:
    """Only ASCII digits: int() would also take '١٢', '1_000' and ' 7 ', and a 20-digit id overflows the column."""
    if isinstance(value, bool):
        raise PydanticCustomError("row_id", "must be a whole number written with the digits 0-9")
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise PydanticCustomError("row_id", "must be a whole number from 1 to {largest}, written with the "
                                                "digits 0-9", {"largest": MAX_ROW_ID})
        return int(value)
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain a NUL character (\\x00)")
    return value


Day = Annotated[date, AfterValidator(_day_in_range)]
"""A calendar date from 1900-01-01 to 2200-12-31."""

Moment = Annotated[AwareDatetime, AfterValidator(_moment_in_range)]
"""A date and time with its UTC offset, from 1900 to 2200."""

FilterMoment = Annotated[datetime, AfterValidator(_moment_in_range)]
"""A date and time, with or without an offset (without one it is taken as UTC), from 1900 to 2200."""

RowId = Annotated[int, BeforeValidator(_row_id), Field(ge=1, le=MAX_ROW_ID)]
"""A database row id: ASCII digits, 1 to 2147483647."""

_RECORD_KEY = r"^[A-Za-z0-9_-]{1,32}$"
RecordKey = Annotated[str, Field(min_length=1, max_length=32, pattern=_RECORD_KEY)]
"""The opaque id of a health record (URL-safe base64 letters, as ``secrets.token_urlsafe`` makes them)."""


def is_record_key(value: str) -> bool:
    """Whether ``value`` has the form of a RecordKey: for a hint in a query string that is ignored when it does not
    (a NUL byte in it reached PostgreSQL, which refuses NUL in text, as a 500)."""
    return re.fullmatch(_RECORD_KEY, value) is not None


Text = Annotated[str, AfterValidator(_no_nul)]
"""Text without NUL characters; give it a ``Field(max_length=...)`` where it is used."""


def parse_day(value: str) -> date | None:
    """A YYYY-MM-DD text within the bounds, or None (for forms and filters that ignore what they cannot use)."""
    try:
        return _day_in_range(date.fromisoformat(value))
    except (ValueError, PydanticCustomError):
        return None


def parse_moment(value: str) -> datetime | None:
    """An ISO 8601 date and time with its offset, within the bounds, or None."""
    try:
        moment = datetime.fromisoformat(value)
        return _moment_in_range(moment) if moment.tzinfo is not None else None
    except (ValueError, PydanticCustomError):
        return None


def parse_row_id(value: str) -> int | None:
    """The id a text names, or None when it is not ASCII digits within 1..2147483647."""
    return int(value) if _DIGITS.fullmatch(value) and 1 <= int(value) <= MAX_ROW_ID else None


def form_number(raw: str) -> int | str:
    """A form field as a whole number when it is one (ASCII digits, an optional minus, at most 9 digits); else the
    text itself, so the schema refuses it naming the field ('²', '١', 5,000 digits, '3.5')."""
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else raw
