"""The diary journey in real Chromium at 360 and 1280 px: a red flag saved for a past day is shown at once for that
day; opening a day shows its entry filled in and saving it keeps what was not changed; the operation page and the
questionnaires as radio scales; no console errors, no sideways scrolling, no axe problems."""

from __future__ import annotations

import datetime as dt

import pytest

from fusioncare.accounts.audit import Actor
from fusioncare.recovery import service
from fusioncare.recovery.schemas import DiaryEntryCreate, QuestionnaireCreate, RecoveryProfileUpdate
from tests.matching.test_browser import axe_problems
from tests.recovery.test_browser import _history, _shot, _watch_console
from tests.support import browser_sign_in
from tests.web.test_browser import SMALL_TARGETS, assert_contrast

pytestmark = pytest.mark.browser
VIEWPORTS = {"phone_page": 360, "page": 1280}


@pytest.fixture(autouse=True)
def _one_database_is_enough(db_engine):
    if db_engine.dialect.name != "sqlite":
        pytest.skip("browser runs use SQLite; the page routes are covered on PostgreSQL in test_journey.py")


def _looks_right(page) -> None:
    """Every interactive element readable (4.5:1 against its own computed background) and thumb-sized (44 px)."""
    assert page.evaluate(SMALL_TARGETS) == []
    assert_contrast(page)  # opens every <details>: call it last on a page


def _height(page) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def _no_sideways_scroll(page) -> bool:
    """Against the screen's width: on a phone, window.innerWidth grows with content that is too wide."""
    return int(page.evaluate("document.documentElement.scrollWidth")) <= page.viewport_size["width"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_red_flag_saved_for_a_past_day_shows_its_alert_at_once(viewport, request, live_server, make_person, db,
                                                                 record_property):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    person = make_person("pastday")
    today = dt.date.today()
    service.save_entry(db, actor=Actor.of(person.user, "test"), data=DiaryEntryCreate(
        date=today, leg_pain=3, back_pain=2))
    past = today - dt.timedelta(days=2)
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery/today")
    page.wait_for_url("**/recovery/today")
    page.fill("#date", past.isoformat())
    page.locator("#leg_pain-6").click()
    page.locator("#back_pain-4").click()
    page.get_by_text("Anything new? (symptoms)").click()
    page.locator("#symptoms-saddle_numbness").click()
    page.locator("#symptoms-bladder_dysfunction").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/recovery?saved=created&entry=*")

    notice = page.locator(".recovery-saved-note")
    assert (f"Saved your entry for {past:%A} {past.day} {past:%B}: it reports a warning sign; what to do is above"
            in notice.inner_text())
    assert page.locator(".account-notice").count() == 0, "no green 'saved' box beside a warning: it says all is well"
    alert = page.locator(".recovery-safety").first
    assert alert.is_visible() and "emergency" in alert.inner_text().lower()
    assert alert.bounding_box()["y"] < notice.bounding_box()["y"], "the warning comes first"
    assert f"{past:%A} {past.day} {past:%B %Y}" in alert.inner_text()
    box = alert.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"], "the alert is on the first screen"
    assert page.get_by_role("link", name="Call 911").is_visible()
    assert _no_sideways_scroll(page)
    assert axe_problems(page) == []
    _shot(page, f"past-day-alert-{VIEWPORTS[viewport]}")
    record_property("tracker_height_px", _height(page))
    _looks_right(page)

    page.get_by_role("button", name="I have read this").click()
    page.wait_for_url("**/recovery")
    assert page.locator(".recovery-safety").count() == 0
    assert problems == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_opening_a_day_shows_it_filled_in_and_saving_keeps_what_was_not_changed(viewport, request, live_server,
                                                                                make_person, db):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    person = make_person("editday")
    day = dt.date.today() - dt.timedelta(days=1)
    service.save_entry(db, actor=Actor.of(person.user, "test"), data=DiaryEntryCreate(
        date=day, leg_pain=7, back_pain=3, medications=["gabapentin"], exercise_minutes=20, sleep_quality=2,
        note="stiff in the morning"))
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery")
    page.wait_for_url("**/recovery")
    page.get_by_role("link", name=f"{day:%A} {day.day} {day:%B}").click()
    page.wait_for_url(f"**/recovery/today?day={day.isoformat()}")

    assert page.locator("h1").inner_text() == f"Your entry for {day:%A} {day.day} {day:%B %Y}"
    assert page.locator("#leg_pain-7").is_checked() and page.locator("#back_pain-3").is_checked()
    assert page.locator("#medications").input_value() == "gabapentin"
    assert page.locator("#exercise_minutes").input_value() == "20"
    assert page.locator("#sleep-2").is_checked()
    assert page.locator("#note").input_value() == "stiff in the morning"
    _shot(page, f"edit-day-{VIEWPORTS[viewport]}")
    assert page.evaluate(SMALL_TARGETS) == []
    page.locator("#leg_pain-5").click()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/recovery?saved=updated&entry=*")
    assert f"Updated your entry for {day:%A} {day.day} {day:%B}" in page.locator(".recovery-saved").inner_text()

    db.expire_all()
    entry = service.entries_newest_first(db, owner_id=person.id)[0]
    assert (entry.leg_pain, entry.back_pain, entry.medications, entry.exercise_minutes, entry.sleep_quality,
            entry.note) == (5, 3, ["gabapentin"], 20, 2, "stiff in the morning")
    assert _no_sideways_scroll(page)
    assert problems == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_questionnaires_are_radio_scales_on_one_line_and_the_operation_page_fits(viewport, request, live_server,
                                                                               make_person, db):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    person = make_person("scales")
    _history(db, person)
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery/questionnaires")
    page.wait_for_url("**/recovery/questionnaires")
    tops = {round(page.locator(f"label[for=peg_0-{n}]").bounding_box()["y"]) for n in range(11)}
    assert len(tops) == 1, "0 to 10 on one line"
    assert page.locator("#field-peg_0 .scale-ends").inner_text().replace("\n", " ").startswith("0: No pain")
    assert page.locator("input[name=pgic_0]").count() == 7
    assert page.locator("#field-odi_0 legend").inner_text() == "1. Pain intensity"
    assert page.locator("input[name=odi_9]").count() == 6
    assert _no_sideways_scroll(page)
    assert axe_problems(page) == []
    _shot(page, f"questionnaires-{VIEWPORTS[viewport]}")
    _looks_right(page)
    for label in ("peg_0-4", "peg_1-3", "peg_2-5"):
        page.locator(f"#{label}").click()
    page.get_by_role("button", name="Save PEG").click()
    page.wait_for_url("**/recovery?saved=questionnaire")
    assert "4 out of 10" in page.content()

    page.goto(f"{live_server.url}/recovery/operation")
    assert _no_sideways_scroll(page)
    assert axe_problems(page) == []
    _shot(page, f"operation-{VIEWPORTS[viewport]}")
    _looks_right(page)
    assert problems == []


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_visit_summary_reads_for_the_doctor_with_every_chart(viewport, request, live_server, make_person, db,
                                                               record_property):
    page = request.getfixturevalue(viewport)
    problems = _watch_console(page)
    person = make_person("summary")
    _history(db, person)
    actor = Actor.of(person.user, "test")
    service.save_questionnaire(db, actor=actor, data=QuestionnaireCreate(instrument="peg", answers=[5, 4, 4]))
    service.save_profile(db, actor=actor, data=RecoveryProfileUpdate(
        full_name="Ana Lima", date_of_birth=dt.date(1961, 5, 2), operation_date=dt.date.today() - dt.timedelta(days=90),
        fusion_levels="L4-L5", fusion_approach="posterior", surgeon="Dr Rao"))
    browser_sign_in(page, live_server.url, person.email, person.password, "/recovery/summary")
    page.wait_for_url("**/recovery/summary")
    facts = page.locator(".recovery-facts").first.inner_text()
    assert "Ana Lima" in facts and "2 May 1961" in facts
    assert page.locator("figure.recovery-chart").count() == 4
    assert "Your " not in page.locator("article").inner_text()
    assert _no_sideways_scroll(page)
    assert axe_problems(page) == []
    _shot(page, f"summary-{VIEWPORTS[viewport]}")
    record_property("summary_height_px", _height(page))
    _looks_right(page)
    assert problems == []


def test_a_long_e_mail_address_stays_inside_a_phone_screen_on_the_sign_up_confirmation(phone_page, live_server,
                                                                                        make_person, record_property):
    person = make_person("a.very.long.name.with.many.parts.for.testing.wrapping.on.phones")
    page = phone_page
    page.goto(f"{live_server.url}/account/sign-up")
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("text=You already have an account")
    assert page.locator("strong", has_text=person.email).is_visible()
    assert _no_sideways_scroll(page), page.evaluate("document.documentElement.scrollWidth")
    record_property("sign_up_done_width_px", page.evaluate("document.documentElement.scrollWidth"))
    _shot(page, "sign-up-done-360")
