"""In real Chromium: a patient books from the profile page, gets the calendar file, cancels; the provider sees it."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.scheduling.builders import PASSWORD
from tests.support import browser_sign_in

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ["FUSIONCARE_SCREENSHOT_DIR"]) if os.environ.get("FUSIONCARE_SCREENSHOT_DIR") else None


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the scheduling routes are covered on PostgreSQL through TestClient")


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, base: str, email: str, target: str) -> None:
    browser_sign_in(page, base, email, PASSWORD, target)


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_patient_books_downloads_the_calendar_cancels_and_the_provider_sees_it(viewport, request, live_server,
                                                                               provider, make_person, browser):
    page = request.getfixturevalue(viewport)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    patient = make_person("ann")
    base = live_server.url

    _sign_in(page, base, patient.email, f"/doctors/{provider}")
    page.get_by_role("link", name="See all open times").click()
    page.get_by_label("Kind of visit").select_option("telehealth")
    page.get_by_role("button", name="Show times").click()
    page.locator(".slot-choice label").first.click()
    page.get_by_label("Your full name").fill("Ann Example")
    _shot(page, f"book-{viewport}")
    page.get_by_role("button", name="Request this time").click()

    assert page.get_by_role("heading", name="Request sent").is_visible()
    assert page.get_by_text("Waiting for the practice to confirm").is_visible()
    _shot(page, f"mine-{viewport}")
    ics_href = page.get_by_role("link", name="Add to my calendar (.ics)").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    ics = httpx.get(f"{base}{ics_href}", cookies=cookies)
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text and "BEGIN:VALARM" in ics.text

    doctor = browser.new_context(viewport=page.viewport_size).new_page()
    _sign_in(doctor, base, f"dr{provider}@example.org", "/provider")
    assert doctor.get_by_role("heading", name="My dashboard").is_visible()
    assert doctor.locator("#appointment-1 h3").filter(has_text="Ann Example").is_visible()
    _shot(doctor, f"schedule-{viewport}")

    page.get_by_role("link", name="Cancel this appointment").click()
    assert page.get_by_role("heading", name="Cancel this appointment?").is_visible(), "it asks first"
    _shot(page, f"cancel-{viewport}")
    page.get_by_role("button", name="Yes, cancel it").click()
    assert page.get_by_text("Cancelled by you").is_visible()
    start_day = ics.text.split("DTSTART:")[1][:8]
    doctor.goto(f"{base}/provider/schedule?view=week&day={start_day[:4]}-{start_day[4:6]}-{start_day[6:]}")
    assert doctor.get_by_text("Cancelled by the patient").is_visible(), "the provider sees the cancellation"
    doctor.context.close()
    assert not problems, problems
