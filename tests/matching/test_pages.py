"""The matching pages through the real app: "Find doctors" on the result page posts the ZIP to the draft's match
page; the answers and the ZIP stay server-side, never in an address; problems come back beside the fields."""

from __future__ import annotations

import re

from tests.web.pagescan import scan
from tests.web.walker import HTML, csrf, walk

# The questionnaire's answers for conftest.SOON_ANSWERS (eight months, leg pain 6, stable).
SOON_FORM = {"surgery_time_amount": "8", "surgery_time_unit": "months", "fusion_region": "lumbar",
             "fusion_approach": "posterior", "sciatica_before_surgery": "no", "leg_pain": "6", "back_pain": "3",
             "trend": "stable", "constant_pain": "no", "onset": "months",
             "treatments_tried": ["medication", "physical_therapy"]}


def find_doctors(client, answers=None, **filters):
    """Walk the check, then post the result page's "Find doctors" form with these fields."""
    result = walk(client, answers or SOON_FORM)
    form = next(f for f in scan(result.text).forms if f.action.startswith("/matches/"))
    return client.post(form.action, data={"csrf_token": csrf(result), **filters}, headers=HTML)


def test_result_page_posts_find_doctors_to_the_drafts_match_page_with_no_answers_in_it(client):
    result = walk(client, SOON_FORM)
    words = scan(result.text).text
    assert "Find doctors near you" in words
    assert "Whom to see first: Spine surgeon" in words and 'then the others listed under "Whom to see" below' in words
    form = next(f for f in scan(result.text).forms if f.action.startswith("/matches/"))
    assert form.method == "post" and re.fullmatch(r"/matches/[\w-]{22}", form.action)
    assert [n for n, _ in form.hidden] == ["csrf_token"]
    assert [name for _, name, _, _ in form.inputs] == ["near"]


def test_results_page_shows_groups_reasons_and_profile_links_at_an_address_without_the_zip(client, directory):
    page = find_doctors(client, near="10001")
    assert page.status_code == 200 and re.fullmatch(r"/matches/[\w-]{22}", page.url.path) and not page.url.query
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert text.index("Spine surgeon") < text.index("Pain medicine") < text.index("Physical therapist")
    draft_id = page.url.path.rsplit("/", 1)[1]
    assert f'href="/doctors/{directory.pain_injection}?matches={draft_id}"' in text
    profile = client.get(f"/doctors/{directory.pain_injection}?matches={draft_id}", headers=HTML).text
    assert f'<a href="/matches/{draft_id}">Back to your list of doctors</a>' in profile, "the list, not a search"
    for odd in ("%2F%2Fevil.example", "..%2Fx", "a%00b"):
        other = client.get(f"/doctors/{directory.pain_injection}?matches={odd}", headers=HTML).text
        assert ">Back to search</a>" in other and "/matches/" not in other
    assert "which your assessment lists" in text
    assert "the provider has not confirmed this profile" in text
    unconfirmed = text[text.index(f'href="/doctors/{directory.pain_unconfirmed}?'):]
    unconfirmed = unconfirmed[:unconfirmed.index("</li>\n    \n    <li") if "</li>\n    \n    <li" in unconfirmed
                              else unconfirmed.index("</li>")]
    assert "Accepting new patients" not in unconfirmed, "an unconfirmed card says only what is known"
    assert "<svg" in text and "A sketch, not a map" in text
    assert client.get(page.url.path, headers=HTML).text.count("provider-card") == text.count("provider-card")


def test_filters_narrow_the_results_page(client, directory):
    page = find_doctors(client, near="10001")
    narrowed = client.post(page.url.path, data={"csrf_token": csrf(page), "near": "10001", "insurance": "cigna"},
                           headers=HTML)
    assert directory.pain_unconfirmed in narrowed.text and directory.pain_near not in narrowed.text


def test_unknown_zip_comes_back_with_a_plain_message_beside_the_field(client, directory):
    page = find_doctors(client, near="00000")
    assert page.status_code == 422
    assert scan(page.text).field_errors["match-near"] == (
        "Error: We don't know the ZIP code 00000. Check it, or try a ZIP code nearby")
    assert 'value="00000"' in page.text


def test_missing_zip_asks_for_it(client, directory):
    page = find_doctors(client, near="")
    assert page.status_code == 422 and "Enter your 5-digit ZIP code, for example 10001" in page.text


def test_the_old_address_with_answers_in_the_query_ignores_them_and_sends_the_person_to_the_check(client):
    page = client.get("/matches", params={"leg_pain": "6", "near": "10001"}, headers=HTML)
    assert page.status_code == 200 and "We need your answers first" in page.text and 'href="/assess"' in page.text


def test_emergency_answers_list_emergency_departments_not_doctors(client, directory):
    page = find_doctors(client, {**SOON_FORM, "symptoms": ["saddle_numbness", "bladder_dysfunction"]}, near="10001")
    assert page.status_code == 200
    assert "Nearest emergency departments" in page.text and "Midtown General Hospital" in page.text
    assert "Call 911" in page.text and directory.pain_near not in page.text
    directions = re.search(r'<a class="button button-primary" href="([^"]+)" rel="noopener">Directions'
                           r'<span class="visually-hidden"> to Midtown General Hospital', page.text)
    assert directions and directions.group(1).startswith("https://www.openstreetmap.org/search?query=")


def test_every_doctor_card_has_directions(client, directory):
    text = find_doctors(client, near="10001").text
    assert text.count('<li class="provider-card') > 0
    assert text.count('rel="noopener">Directions') >= text.count('<li class="provider-card')


def test_nav_has_find_a_doctor(client):
    assert '<a href="/doctors">Find a doctor</a>' in client.get("/").text
