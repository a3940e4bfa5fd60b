"""In real Chromium on the demo data: from a /doctors result to a booked appointment, counting what the person does
(browser events, not the test's calls) for a signed-in patient and for a newcomer who signs up on the way, at
360 px; every button's computed contrast at 360 and 1280 px on the pages of the funnel and the provider's
dashboard; axe-core on each; screenshots of each (tests/support.py's page_screenshot, kept out of git)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect
from rich.console import Console
from sqlalchemy import select

from fusioncare import migrate
from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role
from fusioncare.db import make_engine, make_session_factory
from fusioncare.directory import demo
from fusioncare.main import create_app
from fusioncare.scheduling import demo as scheduling_demo
from fusioncare.scheduling.models import Appointment
from fusioncare.settings import Settings
from tests.matching.test_browser import axe_problems
from tests.support import LiveServer, page_screenshot

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
COUNTER = HERE / "interaction_counter.js"
CONTRAST = (HERE / "contrast.js").read_text(encoding="utf-8")
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PATIENT, PASSWORD = "returning@example.org", "slow walks every morning"
SEARCH = "/doctors?specialty=pain_medicine&near=10001"
FIGURES = Path(os.environ.get("FUSIONCARE_FUNNEL_FIGURES", "")) if os.environ.get("FUSIONCARE_FUNNEL_FIGURES") \
    else None


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[tuple[LiveServer, object]]:
    folder = tmp_path_factory.mktemp("funnel")
    settings = Settings(env="test", data_dir=folder, database_url=f"sqlite:///{folder / 'funnel.sqlite3'}",
                        secret_key="test-secret-key-" + "x" * 32, outbox_worker="off")
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as db:
        demo.load(db=db, console=Console(quiet=True))
        scheduling_demo.load(db=db, console=Console(quiet=True))
        accounts.ensure_account(db, email=PATIENT, password=PASSWORD, role=Role.patient)
        db.commit()
    with LiveServer(create_app(settings, engine=engine)) as server:
        yield server, make_session_factory(engine)
    engine.dispose()


def screenshot(page: Page, name: str) -> None:
    page_screenshot(page, "scheduling", name)


def low_contrast(page: Page) -> list[str]:
    found = page.evaluate(CONTRAST)
    assert found, f"no buttons found on {page.url}"
    return [f"{page.url} {f['text']!r}: {f['color']} on {f['background']} = {f['ratio']}" for f in found
            if f["ratio"] < 4.5]


class Counter:
    """The interactions the page reports through interaction_counter.js."""

    def __init__(self, page: Page) -> None:
        self.events: list[tuple[str, str]] = []
        page.expose_binding("__fcCount", lambda _source, kind, detail: self.events.append((kind, detail)))
        page.add_init_script(path=str(COUNTER))

    @property
    def total(self) -> int:
        return len(self.events)


def _first_bookable_card(page: Page):
    card = page.locator(".provider-card").filter(has=page.get_by_role("link", name=re.compile("^Book"))).first
    expect(card).to_be_visible()
    link = card.get_by_role("link", name=re.compile("^Book"))
    start = parse_qs(urlparse(link.get_attribute("href")).query)["start"][0]
    return link, datetime.fromisoformat(start)


def _booked_start(factory, email: str) -> datetime:
    with factory() as db:
        user = accounts.get_user_by_email(db, email=email)
        return db.scalar(select(Appointment.starts_at).where(Appointment.patient_id == user.id))


def _record(name: str, counter: Counter) -> None:
    print(f"\n{name}: {counter.total} interactions: " + "; ".join(f"{k} {d}" for k, d in counter.events))
    if FIGURES:
        figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        figures[name] = {"interactions": counter.total, "events": counter.events}
        FIGURES.write_text(json.dumps(figures, indent=2))


def test_a_signed_in_patient_books_from_a_search_result_in_three_interactions(browser, demo_server):
    server, factory = demo_server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/account/sign-in")
    page.get_by_label("E-mail address").fill(PATIENT)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(server.url + SEARCH)
    counter = Counter(page)
    page.reload()  # the counter is in every page from here on

    book, chosen = _first_bookable_card(page)
    book.tap()
    expect(page.locator("input[name=start]:checked")).to_have_count(1)
    # The rest of the week is folded away: the name field follows the chosen time's day, not four more days of
    # buttons (about 1,000 px at 360 px wide).
    day, name = page.locator("fieldset.slot-day").first.bounding_box(), page.get_by_label("Your full name")
    gap = name.bounding_box()["y"] - (day["y"] + day["height"])
    assert 0 < gap < 200, gap
    page.get_by_label("Your full name").tap()
    page.get_by_label("Your full name").fill("Rita Returning")
    page.get_by_role("button", name="Request this time").tap()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()

    _record("signed-in patient", counter)
    assert counter.total == 3, counter.events
    assert _booked_start(factory, PATIENT) == chosen, "the slot chosen in the results is the one booked"
    context.close()


def test_a_newcomer_signs_up_on_the_way_and_books_the_time_chosen_first(browser, demo_server):
    server, factory = demo_server
    context = browser.new_context(**PHONE)
    page = context.new_page()
    counter = Counter(page)
    page.goto(server.url + SEARCH)

    book, chosen = _first_bookable_card(page)
    book.tap()
    expect(page.locator("input[name=start]:checked")).to_have_count(1)
    page.get_by_role("button", name="Create an account and book").tap()
    expect(page.get_by_role("heading", name="Create an account to book")).to_be_visible()
    page.get_by_label("E-mail address").tap()
    page.get_by_label("E-mail address").fill("newcomer@example.org")
    page.get_by_label("Password").tap()
    page.get_by_label("Password").fill("my knees prefer the stairs")
    page.get_by_role("button", name="Create account").tap()
    expect(page.locator("input[name=start]:checked")).to_have_count(1)
    page.get_by_label("Your full name").tap()
    page.get_by_label("Your full name").fill("Nora Newcomer")
    page.get_by_role("button", name="Request this time").tap()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()

    _record("newcomer who signs up", counter)
    assert counter.total == 7, counter.events
    assert _booked_start(factory, "newcomer@example.org") == chosen
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_every_button_on_the_funnel_and_dashboard_pages_has_contrast_and_axe_finds_nothing(browser, demo_server,
                                                                                          viewport):
    server, factory = demo_server
    width = viewport["viewport"]["width"]
    context = browser.new_context(**viewport)
    page = context.new_page()
    problems, outside = [], []
    page.on("request", lambda r: None if r.url.startswith(server.url) else outside.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    def check(name: str) -> None:
        assert axe_problems(page) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, name
        problems.extend(low_contrast(page))
        screenshot(page, name)

    page.goto(server.url + SEARCH)
    check("doctors")
    card = page.locator(".provider-card").filter(has=page.get_by_role("link", name=re.compile("^Book"))).first
    card.locator("h3 a").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check("profile")
    page.get_by_role("link", name="See all open times").click()
    page.locator(".slot-choice label").nth(2).click()
    check("book-anonymous")
    # Long enough that an unbreakable address on the confirmation page would widen a 360 px page (it did).
    email = f"cora.contrast.newpatient{width}@example.org"  # no hyphen: no place to break
    page.get_by_role("button", name="Create an account and book").click()
    check("sign-up-to-book")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("my knees prefer the stairs")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("input[name=start]:checked")).to_have_count(1)
    page.get_by_label("Your full name").fill(f"Cora Contrast {width}")
    page.get_by_label("What would you like help with?").fill(f"Pain down the left leg ({width})")
    check("book")
    page.get_by_role("button", name="Request this time").click()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()
    check("confirmation")
    page.get_by_role("link", name="My appointments", exact=True).click()
    check("appointments")
    page.get_by_role("link", name=re.compile("^Cancel this appointment")).first.click()
    expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    check("cancel-asks-first")
    page.get_by_role("link", name="No, keep it").click()
    expect(page.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(page.get_by_text("Waiting for the practice to confirm")).to_be_visible()
    page.get_by_role("link", name="All my appointments").click()
    page.get_by_role("link", name=re.compile("^Change the time")).first.click()
    check("reschedule")

    with factory() as db:
        npi = db.scalar(select(Appointment.npi).where(Appointment.patient_name == f"Cora Contrast {width}"))
    doctor = browser.new_context(**viewport).new_page()
    doctor.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    doctor.goto(f"{server.url}/account/sign-in")
    doctor.get_by_label("E-mail address").fill(scheduling_demo.demo_provider_email(npi))
    doctor.get_by_label("Password").fill(scheduling_demo.DEMO_PROVIDER_PASSWORD)
    doctor.get_by_role("button", name="Sign in").click()
    expect(doctor.get_by_role("heading", name="My dashboard")).to_be_visible()
    expect(doctor.get_by_text(f"Pain down the left leg ({width})")).to_be_visible()
    page, previous = doctor, page
    check("dashboard")
    doctor.get_by_role("button", name=re.compile(f"^Confirm Cora Contrast {width}")).click()
    expect(doctor.get_by_role("status")).to_contain_text("Confirmed")
    check("dashboard-confirmed")
    page = previous
    page.goto(f"{server.url}/appointments")
    expect(page.get_by_text("Confirmed", exact=True).first).to_be_visible()
    doctor.context.close()
    context.close()
    assert problems == [] and outside == []
