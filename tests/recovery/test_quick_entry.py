"""The 30-second daily entry on a 360 px phone: the interactions a typical entry needs (taps, swipes to reach a
control, keystrokes) are counted, not timed; docs/recovery.md turns the count into a keystroke-level estimate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


COUNTER = Path(__file__).parent / "thumb_counter.js"


class Thumb:
    """The interactions the browser itself saw (thumb_counter.js): taps, swipes to bring a control into view,
    keystrokes. The test drives the page; only the page's trusted events are counted."""

    def __init__(self, page) -> None:
        self.events: list[tuple[str, str]] = []
        page.expose_binding("__fcThumb", lambda _source, kind, detail: self.events.append((kind, detail)))
        page.add_init_script(path=str(COUNTER))
        page.reload()  # the counter is in every page from here on

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.events if k == kind)

    @property
    def taps(self) -> int:
        return self.count("tap")

    @property
    def swipes(self) -> int:
        return self.count("swipe")

    @property
    def keystrokes(self) -> int:
        return self.count("keystroke")


def test_a_typical_daily_entry_takes_four_taps_on_a_phone(phone_page, live_server, make_person, db):
    page = phone_page
    problems = _watch_console(page)
    person = make_person("thumb")
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery")
    thumb = Thumb(page)

    page.locator("text=Add today's entry").tap()
    page.wait_for_url("**/recovery/today")
    _shot(page, "quick-entry-phone")
    assert axe_problems(page) == []
    page.locator("#leg_pain-4").tap()
    page.locator("#back_pain-2").tap()
    page.locator("button:text-is('Save')").tap()
    page.wait_for_url("**/recovery?saved=created&entry=*")

    entries = service.entries_newest_first(db, owner_id=person.id)
    assert [(e.entry_date, e.leg_pain, e.back_pain) for e in entries] == [(dt.date.today(), 4, 2)]
    # Open, leg pain, back pain, Save; the scales on one line keep Save above the fold at 360 x 740: no swipe.
    assert (thumb.taps, thumb.swipes, thumb.keystrokes) == (4, 0, 0), thumb.events
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert problems == []


def test_an_entry_with_a_medication_stays_under_twenty_interactions(phone_page, live_server, make_person, db):
    page = phone_page
    person = make_person("thumb2")
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery/today")
    thumb = Thumb(page)

    page.locator("#leg_pain-5").tap()
    page.locator("#back_pain-3").tap()
    page.locator("text=Medications, exercise, sleep, treatments, note").tap()
    page.locator("#medications").tap()
    page.keyboard.type("gabapentin")
    _shot(page, "quick-entry-medication-phone")
    page.locator("button:has-text('Save with these details')").tap()
    page.wait_for_url("**/recovery?saved=created&entry=*")

    entries = service.entries_newest_first(db, owner_id=person.id)
    assert [(e.leg_pain, e.back_pain, e.medications) for e in entries] == [(5, 3, ["gabapentin"])]
    # leg pain, back pain, open the details, the medications field, Save; "gabapentin" is 10 keys.
    assert (thumb.taps, thumb.keystrokes) == (5, 10) and thumb.swipes <= 2, thumb.events
