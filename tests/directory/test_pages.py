"""Directory pages in real Chromium: search form, results, errors beside fields, profile; phone and desktop."""

from __future__ import annotations

import pytest

from tests.directory.nppes_files import make_npi, provider_row

pytestmark = pytest.mark.browser


@pytest.fixture
def small_directory(db, nppes_file, run_import):
    run_import(nppes_file([
        provider_row(make_npi(1), first="ANA", last="RIVERA", credential="MD", postal="10011",
                     taxonomies=[("208VP0014X", True)], address="350 WEST 16TH STREET", phone="2125550142"),
        provider_row(make_npi(2), first="BEN", last="OKAFOR", credential="DO", postal="10001",
                     taxonomies=[("2081P2900X", True)]),
        provider_row(make_npi(3), first="CARA", last="NGUYEN", credential="MD", postal="90012",
                     taxonomies=[("208VP0014X", True)]),
    ]), is_demo=True)
    return [make_npi(1), make_npi(2)]


@pytest.mark.parametrize("viewport", ["phone_page", "page"])
def test_search_then_open_a_profile(request, viewport, live_server, small_directory, tmp_path):
    page = request.getfixturevalue(viewport)
    page.goto(f"{live_server.url}/doctors")
    page.get_by_label("Kind of doctor").select_option("pain_medicine")
    page.get_by_label("ZIP code").fill("10001")
    page.get_by_role("button", name="Search").click()

    heading = page.get_by_role("heading", level=2)
    assert "2 Pain medicine results within 25 miles of New York, NY 10001" in heading.inner_text()
    cards = page.locator(".provider-card")
    assert cards.count() == 2
    assert "Ben Okafor, DO" in cards.nth(0).inner_text() and "0.0 miles" in cards.nth(0).inner_text()
    assert "Demo data: not a real provider" in cards.nth(0).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.screenshot(path=str(tmp_path / f"directory-search-{viewport}.png"), full_page=True)

    page.get_by_role("link", name="Ana Rivera, MD", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ana Rivera, MD"
    assert page.get_by_role("link", name="Call (212) 555-0142").get_attribute("href") == "tel:2125550142"
    assert page.locator(".demo-label").is_visible()
    assert "not been confirmed by the provider" in page.inner_text("main")
    directions = page.get_by_role("link", name="Directions to Ana Rivera")
    assert directions.get_attribute("rel") == "noopener"
    assert directions.get_attribute("href") == ("https://www.openstreetmap.org/search?query="
                                                "350+West+16th+Street%2C+New+York%2C+NY+10011")
    assert "Accepting new patients" not in page.inner_text("main"), "an unconfirmed profile says only what is known"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.screenshot(path=str(tmp_path / f"directory-profile-{viewport}.png"), full_page=True)


def test_bad_zip_comes_back_with_the_message_beside_the_field(page, live_server, small_directory):
    page.goto(f"{live_server.url}/doctors?specialty=pain_medicine&near=00000")
    zip_input = page.get_by_label("ZIP code")
    assert zip_input.get_attribute("aria-invalid") == "true"
    assert zip_input.input_value() == "00000"
    described = zip_input.get_attribute("aria-describedby").split()
    assert "near-error" in described
    assert page.locator("#near-error").inner_text() == "00000 is not a US ZIP code we know"
    assert page.locator(".provider-card").count() == 0


def test_pages_carry_no_inline_script_or_style(client, small_directory):
    for url in ("/doctors", "/doctors?specialty=pain_medicine&near=10001", f"/doctors/{small_directory[0]}"):
        html = client.get(url).text
        assert "<script" not in html and "style=" not in html and "<style" not in html


def test_unknown_provider_page_is_a_404(client, small_directory):
    response = client.get(f"/doctors/{make_npi(99)}")
    assert response.status_code == 404 and "can't find that provider" in response.text
