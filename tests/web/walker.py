"""Fills and submits the questionnaire's forms over HTTP the way a browser without JavaScript does."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from .pagescan import Form, scan

HTML = {"accept": "text/html"}


def questionnaire_form(html: str) -> Form:
    return next(f for f in scan(html).forms if f.action == "/assess" and any(n == "step" for n, _ in f.hidden))


def submit(client: TestClient, response: Response, answers: dict[str, str | list[str]] | None = None,
           action: str = "next") -> Response:
    """Post the page's questionnaire form: hidden fields as they are, the test's answers for visible fields
    (a list ticks several checkboxes), what the page already had for the rest, and the button `action`."""
    answers = answers or {}
    form = questionnaire_form(response.text)
    data: list[tuple[str, str]] = list(form.hidden)
    for kind, name, value, checked in form.inputs:
        if name in answers:
            wanted = answers[name]
            if kind in ("radio", "checkbox"):
                if value in (wanted if isinstance(wanted, list) else [wanted]):
                    data.append((name, value))
            elif (name, str(wanted)) not in data:
                data.append((name, str(wanted)))
        elif kind in ("radio", "checkbox"):
            if checked:
                data.append((name, value))
        else:
            data.append((name, value))
    assert any(v == action for _, v, _ in form.buttons), f"the page has no {action!r} button"
    data.append(("action", action))
    return post(client, data)


def post(client: TestClient, pairs: list[tuple[str, str]]) -> Response:
    """POST form fields in order; repeated names (ticked checkboxes) stay repeated."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return client.post("/assess", data=data, headers=HTML)


def step_number(response: Response) -> int:
    text = scan(response.text).text
    marker = text.index("Step ")
    return int(text[marker + 5:].split()[0])


ROUTINE = {"surgery_time_amount": "2", "surgery_time_unit": "months", "fusion_region": "lumbar",
           "sciatica_before_surgery": "yes", "leg_pain": "3", "back_pain": "3", "trend": "improving",
           "constant_pain": "no"}


def walk(client: TestClient, answers: dict[str, str | list[str]]) -> Response:
    """From /assess to the result, answering every step with `answers` (symptoms/treatments as lists)."""
    response = client.get("/assess", headers=HTML)
    for _ in range(30):
        if "assess_result" in response.text or 'class="urgency ' in response.text:
            return response
        assert response.status_code == 200, scan(response.text).field_errors
        response = submit(client, response, answers)
    raise AssertionError("the questionnaire never reached a result")
