"""Recovery pages in real Chromium at 360 and 1280 px: the quick entry, the tracker's charts, no CSP errors."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from fusioncare.accounts.audit import Actor
from fusioncare.recovery import service
from fusioncare.recovery.schemas import DiaryEntryCreate, QuestionnaireCreate

pytestmark = pytest.mark.browser
_SHOT_DIR = os.environ.get("FUSIONCARE_SCREENSHOT_DIR")
SCREENSHOTS = Path(_SHOT_DIR) if _SHOT_DIR else None


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    """Pages behave the same on both databases (their routes are tested on both through TestClient)."""
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the page routes are covered on PostgreSQL in test_pages.py")


def _shot(page, name: str, *, selector: str | None = None) -> None:
    """Screenshots for a human to look at, only when FUSIONCARE_SCREENSHOT_DIR is set."""
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = page.locator(selector).first if selector else page
        kwargs = {} if selector else {"full_page": True}
        target.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kwargs)


def _watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _history(db, person) -> None:
    """Six weeks of diary: leg pain falling after physical therapy starts, back pain steady; two ODIs."""
    actor = Actor.of(person.user, "test")
    today = dt.date.today()
    for days_ago in range(42, 0, -2):
        leg = 7 if days_ago > 28 else (5 if days_ago > 14 else 3)
        service.save_entry(db, actor=actor, data=DiaryEntryCreate(
            date=today - dt.timedelta(days=days_ago), leg_pain=leg, back_pain=4 + days_ago % 3 // 2,
            treatments_started=["physical_therapy"] if days_ago == 28 else []))
    service.save_questionnaire(db, actor=actor, data=QuestionnaireCreate(instrument="odi", answers=[3] * 10))


@pytest.mark.parametrize("viewport", ["phone_page", "page"])
def test_patient_adds_a_quick_entry_and_sees_charts_without_csp_errors(viewport, request, live_server, make_person, db):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    person = make_person("walker")
    _history(db, person)

    page.goto(f"{live_server.url}/account/sign-in?next=/recovery/today")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("input[type=date]").input_value() == dt.date.today().isoformat(), "the day is filled in"
    # The daily entry is three taps: leg pain, back pain, save.
    page.locator("#leg_pain-3").click()
    page.locator("#back_pain-4").click()
    _shot(page, f"entry-{viewport}")
    page.get_by_role("button", name="Save", exact=True).click()

    today = dt.date.today()
    assert page.get_by_text(f"Saved your entry for {today:%A} {today.day} {today:%B}: the safety check found no new "
                            "warning sign").is_visible()
    charts = page.locator("svg.trend-chart")
    assert charts.count() == 3  # leg pain, back pain, ODI
    box = charts.first.bounding_box()
    assert box["width"] > 250 and box["height"] > 100
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], "no sideways scrolling"
    assert page.locator("li", has_text="Your leg pain has improved meaningfully").is_visible()
    _shot(page, f"tracker-{viewport}")
    _shot(page, f"chart-{viewport}", selector="figure.recovery-chart")
    assert problems == []


def test_visit_summary_prints_on_one_page_width(page, live_server, make_person, db):
    person = make_person("printer")
    _history(db, person)
    page.goto(f"{live_server.url}/account/sign-in?next=/recovery/summary")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert page.locator("li", has_text="Physical therapy: leg pain improved meaningfully").is_visible()
    _shot(page, "summary-print")
