"""/doctors over TestClient on both databases: the filters of /matches (insurance, language, video visits, new
patients), each card's soonest opening with a Book button that carries the slot, Directions on every card, and
cards that say only what a confirmed profile says."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from fusioncare.directory.schemas import ManagedFieldsUpdate
from fusioncare.directory.service import update_managed_fields
from fusioncare.scheduling import service as scheduling
from fusioncare.scheduling.schemas import AppointmentTypeCreate
from tests.accounts.conftest import cheap_password_hashing, make_person  # noqa: F401
from tests.directory.nppes_files import make_npi, provider_row
from tests.scheduling.builders import every_day

PAIN = ("208VP0014X", True)
SEARCH = "/doctors?specialty=pain_medicine&near=10001"


@pytest.fixture
def doctors(db, nppes_file, run_import, make_person):  # noqa: F811 - the fixture imported above
    npis = {"bookable": make_npi(31), "spanish": make_npi(32), "unconfirmed": make_npi(33)}
    run_import(nppes_file([provider_row(npi, last=name.upper(), taxonomies=[PAIN], address="350 WEST 16TH STREET")
                           for name, npi in npis.items()]))
    update_managed_fields(db=db, npi=npis["bookable"], fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], languages=["en"], telehealth=True, accepting_new=True, profile_confirmed=True))
    update_managed_fields(db=db, npi=npis["spanish"], fields=ManagedFieldsUpdate(
        insurance_plans=["cigna"], languages=["es"], telehealth=False, accepting_new=False, profile_confirmed=True))
    update_managed_fields(db=db, npi=npis["unconfirmed"], fields=ManagedFieldsUpdate(
        insurance_plans=["aetna"], accepting_new=True, profile_confirmed=False))
    for name in ("bookable", "unconfirmed"):
        make_person(name, npi=npis[name], verified=True)
        scheduling.set_availability(db=db, npi=npis[name], hours=every_day(), appointment_types=[
            AppointmentTypeCreate(code="new_patient", name="New-patient consult", duration_minutes=45),
            AppointmentTypeCreate(code="follow_up", name="Follow-up", duration_minutes=20)])
    return npis


def _cards(html: str) -> dict[str, str]:
    cards = re.findall(r'<li class="provider-card[^"]*">(.*?)</li>\s*(?=<li class="provider-card|</ol>)', html, re.S)
    return {re.search(r'href="/doctors/(\d{10})\?', card).group(1): card for card in cards}


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"bookable", "spanish", "unconfirmed"}),
    ("&insurance=cigna", {"spanish"}),
    ("&language=es", {"spanish"}),
    ("&telehealth=true", {"bookable"}),
    ("&accepting_new=true", {"bookable", "unconfirmed"}),
    ("&insurance=aetna&accepting_new=true", {"bookable", "unconfirmed"}),
])
def test_the_filters_of_matches_narrow_doctors(client, doctors, query, expected):
    page = client.get(SEARCH + query)
    assert page.status_code == 200
    assert set(_cards(page.text)) == {doctors[name] for name in expected}
    if query:
        assert "<details class=\"match-more\" open>" in page.text, "a filter in use is shown open"


def test_unknown_filter_values_come_back_beside_the_field(client, doctors):
    page = client.get(SEARCH + "&insurance=nope")
    assert page.status_code == 422 and 'id="insurance-error"' in page.text


def test_each_card_shows_the_soonest_opening_a_book_button_with_that_slot_and_directions(client, doctors):
    cards = _cards(client.get(SEARCH).text)
    bookable = cards[doctors["bookable"]]
    assert "Soonest opening:" in bookable and "(Eastern Time)" in bookable
    link = re.search(r'<a class="button button-primary" href="([^"]+)">Book', bookable).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert urlparse(link).path == f"/doctors/{doctors['bookable']}/book" and query["type"] == ["new_patient"]
    for card in cards.values():
        assert 'rel="noopener"' in card and "https://www.openstreetmap.org/search?query=350+West+16th+Street" in card
    spanish = cards[doctors["spanish"]]  # no account here: nothing to book, the phone and the way there
    assert "Soonest opening" not in spanish and ">Book<" not in spanish
    assert "Not taking new patients at the moment" in spanish and "Speaks Spanish" in spanish


def test_an_unconfirmed_card_says_only_what_is_known(client, doctors):
    card = _cards(client.get(SEARCH).text)[doctors["unconfirmed"]]
    assert "the provider has not confirmed this profile" in card
    assert "You can book a time here" in card and "whether they see new patients" not in card
    assert "Accepting new patients" not in card and "Takes Aetna" not in card
    confirmed = _cards(client.get(SEARCH).text)[doctors["bookable"]]
    assert "Accepting new patients" in confirmed and "Takes Aetna" in confirmed
