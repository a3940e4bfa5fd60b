"""CMS public data on the pages, in real Chromium at 360 px: the profile's "Procedures for Medicare patients" and
Medicare sections with their source lines, and the one evidence line on a match card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.matching.test_browser import axe_problems, find_doctors, screenshot, show_result

pytestmark = pytest.mark.browser


def test_profile_shows_procedures_practices_and_medicare_facts_with_sources_on_a_phone(phone_page, live_server,
                                                                                       cms_data):
    page = phone_page
    page.goto(f"{live_server.url}/doctors/{cms_data.pain_far}")

    procedures = page.locator("section.medicare-evidence")
    expect(procedures.get_by_role("heading", level=2)).to_have_text("Procedures for Medicare patients (2024)")
    items = procedures.locator("li")
    expect(items.first).to_have_text(re.compile(r"^Epidural steroid injections through the side of the spine, lower "
                                                r"back: 212 times for 160 patients \(code 64483\)$"))
    expect(items).to_have_count(2)  # 2024 only; 2023 stays in the API
    expect(procedures.locator(".caveat")).to_contain_text("not a measure of how well")
    expect(procedures.locator(".source-line")).to_have_text(
        "Source: Medicare Physician & Other Practitioners - by Provider and Service (CMS), 2024 data.")

    medicare = page.locator("section.medicare-facts")
    expect(medicare).to_contain_text("Yes, always")
    expect(medicare.get_by_role("link", name="Call (212) 555-0199 (own practice)")).to_have_attribute(
        "href", "tel:2125550199")
    expect(medicare.locator(".practice-list li")).to_have_count(2)
    expect(medicare.locator(".source-line")).to_contain_text("Doctors and Clinicians National Downloadable File")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_problems(page) == []
    screenshot(page, "profile-medicare")


def test_a_match_card_shows_the_procedure_evidence_with_its_caveat_on_a_phone(phone_page, live_server, cms_data):
    page = phone_page
    show_result(page, live_server.url)
    find_doctors(page, "10001")

    card = page.locator(".provider-card", has=page.get_by_role("link", name=re.compile("^Jane Far")))
    evidence = card.locator(".procedure-evidence")
    expect(evidence).to_contain_text("Did 212 spinal injections for Medicare patients in 2024")
    expect(evidence).to_contain_text("Medicare patients only. How many is not how well.")
    expect(card.locator(".match-reasons")).not_to_contain_text("Did 212")  # said once, not twice
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_problems(page) == []
    screenshot(page, "matches-medicare-evidence")


def test_the_doctors_page_filters_on_medicare_assignment_with_a_checkbox(page, live_server, cms_data):
    page.goto(f"{live_server.url}/doctors?specialty=pain_medicine&near=10001")
    expect(page.locator(".provider-card")).to_have_count(6)
    page.locator("details.match-more summary").click()
    page.get_by_label(re.compile("^Only doctors who accept the Medicare-approved amount")).check()
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".provider-card")).to_have_count(1)
    expect(page.locator(".provider-card")).to_contain_text("Jane Far")
