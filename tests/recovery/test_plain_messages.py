"""Every message a patient can meet on the recovery forms is plain language that says what to do: each field of the
diary, questionnaire, operation, plan and sharing forms is sent empty, with the wrong type and out of range, and no
message may name a field path, speak Python or Pydantic, or say "Value error"; nothing is stored and no page is a
500."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from fusioncare.recovery.models import DiaryEntry, QuestionnaireResponse, RecoveryProfile, RecoveryShare
from tests.recovery.conftest import HTML
from tests.web.pagescan import scan
from tests.web.test_plain_messages import BAD_VALUES, FORBIDDEN, WRONG_TYPE

TODAY = dt.date.today()
BAD_DATES = ["", "yesterday", "2026-13-45", "0001-01-01", "1800-01-01", "1900-01-01", "9999-12-31",
             (TODAY + dt.timedelta(days=30)).isoformat(), "30/11/2026", "\x00"]
BAD_TEXTS = ["x" * 2500, "a\x00b"]
BAD_CODES = ["headache", "symptoms[1]", "SADDLE_NUMBNESS", "x" * 300, "", "None"]
PHRASES = ("Input should be", "Value error", "value_error", "got None", "allowed:", "Traceback", "ValidationError",
           "pydantic", "Field required", "answers[")
_MESSAGE_BLOCKS = re.compile(r'<p class="field-error"[^>]*>.*?</p>|<div class="error-summary".*?</div>'
                             r'|<p class="account-message"[^>]*>.*?</p>', re.S)


def messages_on(html: str) -> list[str]:
    return [scan(block).text.strip() for block in _MESSAGE_BLOCKS.findall(html)]


def assert_plain(response, where: str) -> list[str]:
    assert response.status_code in (200, 400), (where, response.status_code)
    found = messages_on(response.text)
    for message in found:
        assert not FORBIDDEN.search(message), f"{where}: {message!r}"
    text = scan(response.text).text
    for phrase in PHRASES:
        assert phrase.lower() not in text.lower(), f"{where}: the page says {phrase!r}"
    return found


def _post(client, token, path: str, data: dict):
    return client.post(path, headers=HTML, data={**data, "csrf_token": token(client.get(path, headers=HTML).text)})


def _walk(client, token, path: str, base: dict, fields: dict[str, list[str]], *, empty_is_valid: bool = False) -> int:
    """Each field in turn with each bad value, the others as in ``base``; then the form with nothing in it (unless
    that is a valid answer); returns how many messages were seen."""
    seen = 0
    for name, values in fields.items():
        for value in values:
            response = _post(client, token, path, {**base, name: value})
            messages = assert_plain(response, f"{path} {name}={value[:20]!r}")
            assert response.status_code == 400, f"{path} {name}={value[:20]!r} was taken"
            assert messages, f"{path} {name}={value[:20]!r}: refused without a message"
            seen += len(messages)
    if not empty_is_valid:
        nothing = _post(client, token, path, {})
        assert nothing.status_code == 400, f"{path}: an empty form was taken"
        seen += len(assert_plain(nothing, f"{path} empty"))
    return seen


def test_every_diary_field_speaks_plainly_whatever_is_sent(signed_in_client, db):
    client, token = signed_in_client
    base = {"date": TODAY.isoformat(), "leg_pain": "3", "back_pain": "2"}
    numbers = [*BAD_VALUES, "\x00"]
    optional = [v for v in numbers if v]  # an empty optional number is a valid answer
    seen = _walk(client, token, "/recovery/today", base, {
        "date": BAD_DATES, "leg_pain": numbers, "back_pain": numbers,
        "exercise_minutes": [*WRONG_TYPE, "-1", "-0.5", "3.7", "1441", "99999999999999999999", "\x00"],
        "sleep_quality": [*optional, "0", "6"], "symptoms": BAD_CODES, "treatments_started": BAD_CODES,
        "treatments_stopped": BAD_CODES, "medications": [("x" * 101), ", ".join(["a"] * 21), "a\x00b"],
        "note": BAD_TEXTS})
    assert seen > 60
    assert db.scalar(select(func.count()).select_from(DiaryEntry)) == 0


def test_every_questionnaire_speaks_plainly_whatever_is_sent(signed_in_client, db):
    client, token = signed_in_client
    path = "/recovery/questionnaires"
    seen = 0
    for instrument, count, good in (("peg", 3, "4"), ("pgic", 1, "2"), ("odi", 10, "2")):
        base = {"instrument": instrument, **{f"{instrument}_{i}": good for i in range(count)}}
        too_big = {"peg": ["11"], "pgic": ["8", "0"], "odi": ["6"]}[instrument]
        # Every value of BAD_VALUES is out of range for all three; a skipped ODI section is allowed (two of ten).
        fields = {f"{instrument}_{i}": [v for v in BAD_VALUES if v or instrument != "odi"] + too_big
                  for i in range(count)}
        seen += _walk(client, token, path, base, fields)
    for instrument in ("", "sf36", "x" * 300, "\x00"):
        seen += len(assert_plain(_post(client, token, path, {"instrument": instrument}), f"instrument {instrument!r}"))
    assert seen > 40
    assert db.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0


def test_every_operation_field_speaks_plainly_whatever_is_sent(signed_in_client, patient, db):
    client, token = signed_in_client
    seen = _walk(client, token, "/recovery/operation", {}, {
        "date_of_birth": [d for d in BAD_DATES if d] + [(TODAY - dt.timedelta(days=365 * 5)).isoformat()],
        "operation_date": [d for d in BAD_DATES if d], "fusion_region": ["pelvis", "x" * 300, "\x00"],
        "fusion_approach": ["sideways", "x" * 300], "long_standing_symptoms": [c for c in BAD_CODES if c],
        "full_name": ["x" * 201, "a\x00b"], "fusion_levels": ["x" * 101], "surgeon": ["x" * 201]},
        empty_is_valid=True)
    assert seen > 20
    assert db.get(RecoveryProfile, patient[0].id) is None


def test_the_plan_and_sharing_forms_speak_plainly_whatever_is_sent(signed_in_client, db):
    client, token = signed_in_client
    seen = _walk(client, token, "/recovery/plan", {}, {
        "adopted": [c for c in BAD_CODES if c], "check_in_walking": [v for v in BAD_VALUES if v],
        "check_in_low_impact_exercise": [v for v in BAD_VALUES if v]}, empty_is_valid=True)
    seen += _walk(client, token, "/recovery/sharing", {}, {
        "npi": [*BAD_VALUES, "1234567890", "123456789", "0000000000"], "choice": BAD_CODES})
    # A valid NPI of nobody in the directory, and of a provider without an account.
    seen += len(assert_plain(_post(client, token, "/recovery/sharing", {"npi": "1234567893"}), "unknown NPI"))
    assert seen > 10
    assert db.scalar(select(func.count()).select_from(RecoveryShare)) == 0


@pytest.mark.parametrize("value", ["", "abc", "11", "-1"])
def test_a_diary_message_says_what_to_enter(signed_in_client, value):
    client, token = signed_in_client
    response = _post(client, token, "/recovery/today", {"date": TODAY.isoformat(), "leg_pain": value,
                                                        "back_pain": "2"})
    assert "Choose a number from 0 to 10 for your leg pain" in messages_on(response.text)[0]
