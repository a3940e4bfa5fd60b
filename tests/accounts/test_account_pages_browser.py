"""Account pages in real Chromium: sign up, sign in, my account, sign out; readable at 360 px with no CSP errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    """Pages behave the same on both databases (their routes are tested on both through TestClient)."""
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the page routes are covered on PostgreSQL in test_account_pages.py")

_SHOT_DIR = os.environ.get("FUSIONCARE_SCREENSHOT_DIR")
SCREENSHOTS = Path(_SHOT_DIR) if _SHOT_DIR else None


def _shot(page, name: str) -> None:
    """Screenshots for a human to look at, only when FUSIONCARE_SCREENSHOT_DIR is set."""
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _watch_console(page) -> list[str]:
    """Script errors and Content-Security-Policy violations (HTTP statuses of pages are checked elsewhere)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


@pytest.mark.parametrize("viewport", ["page", "phone_page"])
def test_a_person_signs_up_signs_in_sees_their_account_and_signs_out(viewport, request, live_server):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    base = live_server.url

    page.goto(f"{base}/account/sign-up")
    _shot(page, f"sign-up-{viewport}")
    page.get_by_label("E-mail address").fill("walker@example.org")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Create account").click()
    assert page.locator("#password-error").is_visible(), "a common password is explained beside the field"
    _shot(page, f"sign-up-error-{viewport}")
    page.get_by_label("Password").fill("slow walks every morning")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_role("heading", name="My account", exact=True).is_visible(), "signed in at once"
    assert page.get_by_text("Your account is ready and you are signed in.").is_visible()
    page.get_by_role("button", name="Sign out").click()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill("walker@example.org")
    page.get_by_label("Password").fill("slow walks every morning")
    _shot(page, f"sign-in-{viewport}")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="My account", exact=True).is_visible()
    assert page.get_by_text("walker@example.org").is_visible()
    _shot(page, f"account-{viewport}")

    cookie = next(c for c in page.context.cookies() if c["name"] == "fc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    button = page.get_by_role("button", name="Delete my account")
    box = button.bounding_box()
    assert box["height"] >= 44, "touch targets are big enough"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "no sideways scrolling"

    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_text("You are signed out.").is_visible()
    page.goto(f"{base}/account")
    assert page.get_by_role("heading", name="Sign in", exact=True).is_visible()
    assert problems == [], problems


def test_admin_verifies_a_provider_and_filters_the_audit_log_on_a_phone(phone_page, live_server, make_person):
    from fusioncare.accounts.models import Role

    page = phone_page
    problems = _watch_console(page)
    make_person("doc", npi="1234567893")
    boss = make_person("boss", role=Role.admin)

    page.goto(f"{live_server.url}/account/sign-in?next=/admin/providers")
    page.get_by_label("E-mail address").fill(boss.email)
    page.get_by_label("Password").fill(boss.password)
    page.get_by_role("button", name="Sign in").click()
    _shot(page, "admin-providers-phone_page")
    page.get_by_role("button", name="Verify NPI 1234567893").click()
    assert page.get_by_text("Provider verified.").is_visible()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("provider.verify")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.account-table tbody tr")
    assert rows.count() == 1 and "provider.verify" in rows.first.inner_text()
    _shot(page, "admin-audit-phone_page")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the table scrolls inside its box"
    assert problems == [], problems
