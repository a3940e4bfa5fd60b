"""No health answer reaches a URL or a log line: marker answers (an age of 87, rare symptom and risk codes, a
ZIP) go through the whole journey, Find doctors and saving, while every log record and every request line is
captured; none may hold a marker."""

from __future__ import annotations

import logging
import re

import httpx

from .pagescan import scan
from .walker import HTML, ROUTINE, csrf, walk

MARKER_SYMPTOMS = ["postural_headache", "clear_wound_fluid", "upper_back_pain"]
MARKER_RISKS = ["injecting_drug_use", "osteoporosis"]
MARKERS = [re.compile(r"(?<![\w-])87(?![\w-])"), re.compile(r"(?<![\w-])10016(?![\w-])"),
           *(re.compile(code) for code in MARKER_SYMPTOMS + MARKER_RISKS),
           re.compile(r"leg_pain|back_pain|symptoms=|risk_factors|surgery_time")]


def test_marker_answers_never_appear_in_a_url_or_a_log_record(client, caplog, make_person):
    person = make_person("cal")
    requests: list[str] = []
    client.event_hooks["request"] = [lambda r: requests.append(f'{r.method} {r.url.raw_path.decode()} HTTP/1.1')]
    caplog.set_level(logging.DEBUG)

    page = client.get("/account/sign-in", headers=HTML)
    client.post("/account/sign-in", data={"email": person.email, "password": person.password, "next": "/",
                                          "csrf_token": csrf(page)}, headers=HTML)
    answers = {**ROUTINE, "age": "87", "surgery_time_amount": "5", "surgery_time_unit": "years",
               "symptoms": MARKER_SYMPTOMS, "risk_factors": MARKER_RISKS}
    result = walk(client, answers)
    assert "87" in scan(result.text).text  # the markers really were answered
    saved = client.post(result.url.path.replace("/result", "/save"), data={"csrf_token": csrf(result)},
                        headers=HTML)
    assert "Saved to your account" in saved.text
    action = next(f.action for f in scan(result.text).forms if f.action.startswith("/matches/"))
    found = client.post(action, data={"csrf_token": csrf(result), "near": "10016"}, headers=HTML)
    assert found.status_code in (200, 422)
    for path in re.findall(r'href="(/[^"]*)"', found.text):
        if path.startswith(("/doctors/", "/assess/")):
            client.get(path, headers=HTML)

    lines = [*requests, *(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)]
    assert len(requests) > 20 and any("/assess/d/" in line for line in lines)
    leaks = [(pattern.pattern, line) for line in lines for pattern in MARKERS if pattern.search(line)]
    assert leaks == []


def test_the_marker_check_would_see_answers_in_a_url():
    """The check itself: an old-style address with answers in it is caught."""
    line = "GET " + str(httpx.URL("/matches", params={"age": "87", "symptoms": "postural_headache"}))
    assert any(pattern.search(line) for pattern in MARKERS)
