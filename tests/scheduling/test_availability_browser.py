"""In real Chromium at 360 px and 1280 px: a verified provider goes from the schedule to the availability page,
gets an error beside the field, fixes it, saves a split day, adds time off and removes it; axe-core finds nothing
serious."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fusioncare.scheduling import service
from tests.matching.test_browser import axe_problems
from tests.scheduling.builders import PASSWORD, future_day
from tests.support import page_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the availability page is covered on PostgreSQL through TestClient")


def _screenshot(page, name: str) -> None:
    page_screenshot(page, "scheduling", name)


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_provider_sets_a_split_day_and_time_off_with_errors_beside_the_fields(viewport, request, live_server,
                                                                             provider, db):
    page = request.getfixturevalue(viewport)
    problems: list[str] = []
    # The error page answers 422 on purpose; Chromium logs that as a console error, anything else is a problem.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "status of 422" not in m.text
            else None)
    width = page.viewport_size["width"]
    page.goto(f"{live_server.url}/account/sign-in?next=/provider/schedule")
    page.get_by_label("E-mail address").fill(f"dr{provider}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Set my hours, kinds of visit and time off").click()
    expect(page.get_by_role("heading", name="My hours and kinds of visit")).to_be_visible()
    assert axe_problems(page) == []

    monday = page.get_by_role("group", name="Monday")
    monday.get_by_label("Closes").first.fill("12:00")
    monday.get_by_label("Opens").nth(1).fill("13:00")  # the second window, closing time forgotten
    page.get_by_role("button", name="Save hours and kinds of visit").click()
    error = page.locator("#hours-0-1-end-error")
    expect(error).to_have_text("Needs a closing time too.")
    expect(page.locator("#hours-0-1-end")).to_have_attribute("aria-invalid", "true")
    assert axe_problems(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    _screenshot(page, "availability-error")

    page.get_by_role("group", name="Monday").get_by_label("Closes").nth(1).fill("17:00")
    page.get_by_role("button", name="Save hours and kinds of visit").click()
    expect(page.get_by_role("status")).to_have_text("Your hours and kinds of visit are saved.")
    db.expire_all()
    assert [(h.start_minute, h.end_minute) for h in service.weekly_hours(db=db, npi=provider) if h.weekday == 0] == [
        (540, 720), (780, 1020)]

    day = future_day().isoformat()
    page.get_by_label("Time off (no bookings)").check()
    page.get_by_label("From").fill(f"{day}T09:00")
    page.get_by_label("Until").fill(f"{day}T12:00")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".availability-exceptions li")).to_have_count(1)
    assert axe_problems(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    _screenshot(page, "availability")

    page.get_by_role("button", name="Remove Time off (no bookings)").click()
    expect(page.get_by_role("status")).to_have_text("Removed.")
    expect(page.locator(".availability-exceptions li")).to_have_count(0)
    expect(page.get_by_text("None coming up.")).to_be_visible()
    db.expire_all()
    assert service.upcoming_exceptions(db=db, npi=provider) == []
    assert not problems, problems
