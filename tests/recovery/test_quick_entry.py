"""The 30-second daily entry on a 360 px phone: the interactions a typical entry needs (taps, swipes to reach a
control, keystrokes) are counted, not timed; docs/recovery.md turns the count into a keystroke-level estimate."""

from __future__ import annotations

import datetime as dt

import pytest

from fusioncare.recovery import service
from tests.matching.test_browser import axe_problems
from tests.recovery.test_browser import _shot, _watch_console
from tests.support import browser_sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the page routes are covered on PostgreSQL in test_pages.py")


class Thumb:
    """Drives the page as a thumb would and counts each interaction: a tap, a swipe to bring a control into
    view when it is below the fold, a keystroke."""

    def __init__(self, page) -> None:
        self.page = page
        self.taps = self.swipes = self.keystrokes = 0

    @property
    def interactions(self) -> int:
        return self.taps + self.swipes + self.keystrokes

    def tap(self, selector: str) -> None:
        target = self.page.locator(selector)
        if not self._in_view(target):
            target.scroll_into_view_if_needed()
            self.swipes += 1
        target.tap()
        self.taps += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.keystrokes += len(text)

    def _in_view(self, target) -> bool:
        box = target.bounding_box()
        height = self.page.evaluate("window.innerHeight")
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_a_typical_daily_entry_takes_four_taps_on_a_phone(phone_page, live_server, make_person, db):
    page = phone_page
    problems = _watch_console(page)
    person = make_person("thumb")
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery")
    thumb = Thumb(page)

    thumb.tap("text=Add today's entry")
    page.wait_for_url("**/recovery/today")
    _shot(page, "quick-entry-phone")
    assert axe_problems(page) == []
    thumb.tap("#leg_pain-4")
    thumb.tap("#back_pain-2")
    thumb.tap("button:text-is('Save')")
    page.wait_for_url("**/recovery?saved=created&entry=*")

    entries = service.entries_newest_first(db, owner_id=person.id)
    assert [(e.entry_date, e.leg_pain, e.back_pain) for e in entries] == [(dt.date.today(), 4, 2)]
    assert (thumb.taps, thumb.swipes, thumb.keystrokes) == (4, 0, 0), "open, leg pain, back pain, save; no scrolling"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert problems == []


def test_an_entry_with_a_medication_stays_under_twenty_interactions(phone_page, live_server, make_person, db):
    page = phone_page
    person = make_person("thumb2")
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery/today")
    thumb = Thumb(page)

    thumb.tap("#leg_pain-5")
    thumb.tap("#back_pain-3")
    thumb.tap("text=Medications, exercise, sleep, treatments, note")
    thumb.tap("#medications")
    thumb.type("gabapentin")
    _shot(page, "quick-entry-medication-phone")
    thumb.tap("button:has-text('Save with these details')")
    page.wait_for_url("**/recovery?saved=created&entry=*")

    entries = service.entries_newest_first(db, owner_id=person.id)
    assert [(e.leg_pain, e.back_pain, e.medications) for e in entries] == [(5, 3, ["gabapentin"])]
    assert (thumb.taps, thumb.keystrokes) == (5, 10) and thumb.swipes <= 2, (thumb.taps, thumb.swipes, thumb.keystrokes)
