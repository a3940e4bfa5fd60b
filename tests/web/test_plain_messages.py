"""Every message a person can meet on the assessment and matching forms is plain language that says what to do:
each form is sent empty, with the wrong type and out of range, and no message may name a field path
(answers[0], symptoms[1]) or speak Python or Pydantic ("Input should be", "Value error", "got None", "allowed:")."""

from __future__ import annotations

import re

import pytest

from .pagescan import scan
from .walker import HTML, ROUTINE, csrf, fill, questionnaire_form, submit, walk

FORBIDDEN = re.compile(
    r"\w\[\d+\]|input should|value error|got none|allowed:|allowed values|field required|this field is required"
    r"|greater than|less than|valid (number|integer|boolean)|finite number|parsing|pydantic|\bNone\b|\bnull\b"
    r"|\b[a-z]+_[a-z_]+\b|\btrue or false\b", re.IGNORECASE)
EMPTY = [""]
WRONG_TYPE = ["abc", "ten", "1e999", "[]", "{}", "None", "true", "1,5", "½", "x" * 300]
OUT_OF_RANGE = ["-1", "-0.5", "11", "121", "15", "601", "99999999999999999999", "3.7"]
BAD_VALUES = EMPTY + WRONG_TYPE + OUT_OF_RANGE


def messages_on(html: str) -> list[str]:
    """The error summary and every message beside a field."""
    page = scan(html)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return [*page.field_errors.values(), *([scan(summary.group(0)).text] if summary else [])]


def assert_plain(html: str, where: str) -> None:
    for message in messages_on(html):
        assert not FORBIDDEN.search(message), f"{where}: {message!r}"
    text = scan(html).text
    for phrase in ("Input should be", "Value error", "got None", "allowed:", "Traceback"):
        assert phrase not in text, f"{where}: the page says {phrase!r}"


def step_fields(html: str) -> list[str]:
    return list(dict.fromkeys(name for _, name, _, _ in questionnaire_form(html).inputs))


@pytest.mark.parametrize("step", [1, 2])
def test_every_field_of_the_surgery_and_pain_steps_speaks_plainly_whatever_is_sent(client, step):
    page = client.get("/assess", headers=HTML)
    if step == 2:
        page = submit(client, page, ROUTINE)
    form = questionnaire_form(page.text)
    base = [(n, v) for n, v in fill(form, ROUTINE, "next") if n != "action"]
    seen = 0
    for name in step_fields(page.text):
        for value in BAD_VALUES:
            data: dict[str, list[str]] = {}
            for n, v in base:
                if n != name:
                    data.setdefault(n, []).append(v)
            data[name] = [value]
            data["action"] = ["next"]
            response = client.post(form.action, data=data, headers=HTML)
            assert response.status_code in (200, 422), (name, value, response.status_code)
            assert_plain(response.text, f"step {step}, {name}={value!r}")
            seen += len(messages_on(response.text))
    nothing = client.post(form.action, data={"csrf_token": csrf(page), "action": "next"}, headers=HTML)
    assert_plain(nothing.text, f"step {step} empty")
    assert seen > 20 and len(messages_on(nothing.text)) >= 4


def test_every_checklist_step_ignores_codes_it_does_not_show_and_speaks_plainly(client):
    response = client.get("/assess", headers=HTML)
    response = submit(client, submit(client, response, ROUTINE), ROUTINE)
    for _ in range(20):
        if "/result" in response.url.path:
            break
        form = questionnaire_form(response.text)
        name = next(n for _, n, _, _ in form.inputs)
        data = {"csrf_token": [csrf(response)], "action": ["next"], name: ["headache", "symptoms[1]", "", "x" * 300]}
        response = client.post(form.action, data=data, headers=HTML)
        assert response.status_code == 200
        assert_plain(response.text, f"checklist {name}")
    assert "/result" in response.url.path


@pytest.mark.parametrize("field", ["near", "radius_miles", "insurance", "language", "telehealth"])
def test_every_field_of_the_find_doctors_form_speaks_plainly_whatever_is_sent(client, field):
    result = walk(client, ROUTINE)
    action = next(f.action for f in scan(result.text).forms if f.action.startswith("/matches/"))
    for value in BAD_VALUES + ["00000", "1234", "40.7,-200"]:
        data = {"csrf_token": csrf(result), "near": "10001", field: value}
        response = client.post(action, data=data, headers=HTML)
        assert response.status_code in (200, 422), (field, value)
        assert_plain(response.text, f"find doctors, {field}={value!r}")
