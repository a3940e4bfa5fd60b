"""The matching pages through the real app: the result page's form, the results page, its errors."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

# The questionnaire's form fields for SOON_ANSWERS (what the result page carries as hidden fields).
SOON_FORM = [("surgery_time_amount", "8"), ("surgery_time_unit", "months"), ("fusion_region", "lumbar"),
             ("sciatica_before_surgery", "no"), ("leg_pain", "6"), ("back_pain", "3"), ("trend", "stable"),
             ("constant_pain", "no"), ("treatments_tried", "medication"), ("treatments_tried", "physical_therapy")]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"].append((a.get("name"), a.get("value"), a.get("type")))


def test_result_page_offers_find_doctors_near_a_zip_carrying_the_answers(client):
    page = client.post("/assess", content=urlencode([("step", "treatments"), *SOON_FORM]),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert page.status_code == 200 and "Find doctors for this near you" in page.text
    parser = _Forms()
    parser.feed(page.text)
    form = next(f for f in parser.forms if f["action"] == "/matches")
    assert form["method"] == "get"
    hidden = [(n, v) for n, v, t in form["fields"] if t == "hidden"]
    assert sorted(hidden) == sorted(SOON_FORM)
    assert ("near", None, "text") in form["fields"]


def test_results_page_shows_groups_reasons_and_profile_links(client, directory):
    page = client.get("/matches", params=[*SOON_FORM, ("near", "10001")])
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert text.index("Spine surgeon") < text.index("Pain medicine") < text.index("Physical therapist")
    assert f'href="/doctors/{directory.pain_injection}?near=10001"' in text
    assert "which your assessment lists" in text
    assert "Not confirmed by the provider" in text
    assert "<svg" in text and "A sketch, not a map" in text


def test_filters_narrow_the_results_page(client, directory):
    page = client.get("/matches", params=[*SOON_FORM, ("near", "10001"), ("insurance", "cigna")])
    assert directory.pain_unconfirmed in page.text and directory.pain_near not in page.text


def test_unknown_zip_comes_back_with_the_message_beside_the_field(client, directory):
    page = client.get("/matches", params=[*SOON_FORM, ("near", "00000")])
    assert page.status_code == 422
    assert 'id="match-near-error"' in page.text and "not a US ZIP code we know" in page.text
    assert 'value="00000"' in page.text


def test_missing_zip_asks_for_it(client, directory):
    page = client.get("/matches", params=SOON_FORM)
    assert page.status_code == 422 and "enter your 5-digit ZIP code" in page.text


def test_missing_answers_send_the_person_to_the_questionnaire(client, directory):
    page = client.get("/matches", params={"near": "10001"})
    assert page.status_code == 422 and "We need your answers first" in page.text and 'href="/assess"' in page.text


def test_emergency_answers_list_emergency_departments_not_doctors(client, directory):
    form = [*SOON_FORM, ("symptoms", "saddle_numbness"), ("symptoms", "bladder_dysfunction"), ("near", "10001")]
    page = client.get("/matches", params=form)
    assert page.status_code == 200
    assert "Nearest emergency departments" in page.text and "Midtown General Hospital" in page.text
    assert "Call 911" in page.text and directory.pain_near not in page.text


def test_nav_has_find_a_doctor(client):
    assert '<a href="/doctors">Find a doctor</a>' in client.get("/").text
