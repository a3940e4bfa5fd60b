"""Sharing in real Chromium at 360 and 1280 px: the patient shares on the sharing page, the chosen provider
finds them from the schedule and opens the visit summary; axe-core finds no serious or critical violation."""

from __future__ import annotations

import datetime as dt

import pytest

from fusioncare.accounts.audit import Actor
from fusioncare.directory.npi import with_check_digit
from fusioncare.scheduling import service as scheduling
from tests.accounts.conftest import PASSWORD
from tests.conftest import SHARED_NPI_NINE
from tests.matching.test_browser import AXE, axe_problems
from tests.recovery.test_browser import _history, _shot, _watch_console
from tests.scheduling.builders import bookable_provider, future_day
from tests.support import browser_sign_in

pytestmark = pytest.mark.browser
NPI = with_check_digit(SHARED_NPI_NINE)


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the page routes are covered on PostgreSQL in test_sharing.py")


@pytest.mark.parametrize("viewport", ["phone_page", "page"])
def test_patient_shares_and_the_provider_reads_the_summary(viewport, request, browser, live_server, make_person,
                                                           db, tmp_path):
    assert AXE.exists(), "run `make test` (it runs `npm ci` for axe-core)"
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    width = "phone" if viewport == "phone_page" else "desktop"
    bookable_provider(db, tmp_path, NPI)
    patient = make_person("sharer")
    _history(db, patient)
    start = dt.datetime.combine(future_day(), dt.time(14), tzinfo=dt.UTC)
    scheduling.book(db=db, actor=Actor.of(patient.user, "test"), npi=NPI, start=start, type_code="telehealth")
    found: list[str] = []

    browser_sign_in(page, live_server.url, patient.email, PASSWORD, "/recovery")
    page.get_by_role("link", name="Share with my doctor").click()
    found.extend(axe_problems(page))
    _shot(page, f"sharing-offer-{width}")
    page.get_by_role("radio", name=f"(NPI {NPI})").check()
    page.get_by_role("button", name="Share my recovery record").click()
    assert page.get_by_text("Shared. That provider can now read your recovery record.").is_visible()
    assert page.get_by_role("button", name="Stop sharing with").is_visible()
    found.extend(axe_problems(page))
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    _shot(page, f"sharing-{width}")

    context = browser.new_context(viewport=page.viewport_size)
    doctor = context.new_page()
    browser_sign_in(doctor, live_server.url, f"dr{NPI}@example.org", PASSWORD, "/provider/schedule")
    doctor.get_by_role("link", name="Patients sharing their recovery with you").click()
    assert doctor.get_by_text(patient.email).is_visible()
    found.extend(axe_problems(doctor))
    _shot(doctor, f"shared-with-me-{width}")
    doctor.get_by_role("link", name="Visit summary").click()
    assert doctor.locator("li", has_text="Physical therapy: leg pain improved meaningfully").is_visible()
    assert doctor.locator("svg.trend-chart").count() == 3  # every measure with records: leg and back pain, ODI
    assert doctor.evaluate("document.documentElement.scrollWidth") <= doctor.viewport_size["width"]
    found.extend(axe_problems(doctor))
    _shot(doctor, f"shared-summary-{width}")
    summary_url = doctor.url

    page.get_by_role("button", name="Stop sharing with").click()
    assert page.get_by_text("Only you.").is_visible()
    assert doctor.goto(summary_url).status == 404
    context.close()
    assert found == [] and problems == []
