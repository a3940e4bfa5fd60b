"""Fills and submits the questionnaire's forms over HTTP the way a browser without JavaScript does."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from .pagescan import Form, scan

HTML = {"accept": "text/html"}
STEP_PATH = re.compile(r"^/assess/d/[\w-]+/step/[0-9a-f]{16}$")
RESULT_PATH = re.compile(r"^/assess/d/[\w-]+/result$")


def questionnaire_form(html: str) -> Form:
    return next(f for f in scan(html).forms if f.action.startswith("/assess/d/") and "/step/" in f.action)


def is_result(response: Response) -> bool:
    return bool(RESULT_PATH.match(response.url.path))


def fill(form: Form, answers: dict[str, str | list[str]] | None, action: str) -> list[tuple[str, str]]:
    """The form's fields as a browser sends them: hidden fields as they are, the test's answers for visible fields
    (a list ticks several checkboxes), what the page already had for the rest, and the button `action`."""
    answers = answers or {}
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
    return data


def submit(client: TestClient, response: Response, answers: dict[str, str | list[str]] | None = None,
           action: str = "next") -> Response:
    form = questionnaire_form(response.text)
    return post(client, form.action, fill(form, answers, action))


def post(client: TestClient, path: str, pairs: list[tuple[str, str]]) -> Response:
    """POST form fields in order (repeated names stay repeated) and follow the 303 like a browser."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return client.post(path, data=data, headers=HTML)


def step_number(response: Response) -> int:
    text = scan(response.text).text
    marker = text.index("Step ")
    return int(text[marker + 5:].split()[0])


def csrf(response: Response) -> str:
    return next(v for f in scan(response.text).forms for n, v in f.hidden if n == "csrf_token")


ROUTINE = {"surgery_time_amount": "2", "surgery_time_unit": "months", "fusion_region": "lumbar",
           "fusion_approach": "posterior", "sciatica_before_surgery": "yes", "leg_pain": "3", "back_pain": "3",
           "trend": "improving", "constant_pain": "no", "onset": "months"}


def walk(client: TestClient, answers: dict[str, str | list[str]], *, start: Response | None = None) -> Response:
    """From /assess to the final result, answering every step with `answers` (lists for checklists). An early
    result (the answers so far call for urgent care) is walked past with "Answer the rest of the questions"."""
    response = start or client.get("/assess", headers=HTML)
    for _ in range(40):
        if is_result(response):
            follow = re.search(r'href="(/assess/d/[\w-]+/step/[0-9a-f]{16})">Answer the rest', response.text)
            if follow is None:
                return response
            response = client.get(follow.group(1), headers=HTML)
            continue
        assert response.status_code == 200, scan(response.text).field_errors
        response = submit(client, response, answers)
    raise AssertionError("the questionnaire never reached a result")
