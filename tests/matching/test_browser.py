"""Every page of the product in real Chromium with axe-core (zero serious or critical violations at 360 px and
1280 px), screenshots of the result and match pages, and a newcomer's way from / to doctors near 10001."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from rich.console import Console

from fusioncare import migrate
from fusioncare.accounts import service as accounts
from fusioncare.accounts.models import Role
from fusioncare.db import make_engine, make_session_factory
from fusioncare.directory import demo
from fusioncare.knowledge.articles import get_library
from fusioncare.knowledge.loader import get_pack
from fusioncare.main import create_app
from fusioncare.scheduling import demo as scheduling_demo
from fusioncare.settings import Settings
from tests.support import LiveServer, page_screenshot

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
EMAIL, PASSWORD = "axe-walker@example.org", "slow walks every morning"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One real server with the demo directory, its demo hours (so matches show soonest openings) and one patient
    account (SQLite; page routes run on both databases through TestClient in test_pages.py)."""
    folder = tmp_path_factory.mktemp("matching-pages")
    settings = Settings(env="test", data_dir=folder, database_url=f"sqlite:///{folder / 'pages.sqlite3'}",
                        secret_key="test-secret-key-" + "x" * 32)
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as db:
        demo.load(db=db, console=Console(quiet=True))
        scheduling_demo.load(db=db, console=Console(quiet=True))
        accounts.ensure_account(db, email=EMAIL, password=PASSWORD, role=Role.patient)
        db.commit()
    with LiveServer(create_app(settings, engine=engine)) as server:
        server.engine = engine  # type: ignore[attr-defined]
        yield server
    engine.dispose()


def axe_problems(page: Page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now (axe evaluated, not a <script>: CSP)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{page.url} [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])}x: "
            f"{v['nodes'][0]['target']})" for v in violations if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    page_screenshot(page, "matching", name)


def show_result(page: Page, base: str, symptoms: tuple[str, ...] = ()) -> None:
    """The result page of a "soon" case (leg pain 6/10, eight months after a lumbar fusion from the back), answered
    the way a person does; `symptoms` are ticked by their plain words wherever they are asked."""
    pack = get_pack()
    page.goto(base + "/assess")
    page.get_by_label("Number").fill("8")
    page.get_by_role("radio", name="Lower back (lumbar)").check()
    page.get_by_role("radio", name="From the back").check()
    page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Continue").click()
    for group, score in (("leg", "6"), ("back", "3")):
        page.get_by_role("group", name=re.compile(f"your {group} pain", re.I)).get_by_role(
            "radio", name=score, exact=True).check()
    page.get_by_role("radio", name="About the same").check()
    page.get_by_role("group", name=re.compile("all the time")).get_by_role("radio", name="No").check()
    page.get_by_role("radio", name="Over months or longer").check()
    while not page.locator(".result-page").count():
        for code in symptoms:
            box = page.get_by_label(pack.symptom_by_code[code].plain_words, exact=True)
            if box.count():
                box.check()
        page.get_by_role("button", name=re.compile("^(Continue|See my result)$")).click()
    page.wait_for_selector(".result-page")


def find_doctors(page: Page, near: str) -> None:
    page.get_by_label("Your ZIP code").fill(near)
    page.get_by_role("button", name=re.compile("^Find (doctors near me|emergency departments)$")).click()


def first_npi(page: Page) -> str:
    href = page.locator(".provider-card a[href^='/doctors/']").first.get_attribute("href")
    return re.search(r"/doctors/(\d{10})", href).group(1)


@VIEWPORTS
def test_every_page_has_no_serious_or_critical_axe_violations(browser, demo_server, viewport):
    assert AXE.exists(), "run `make test` (it runs `npm ci` for axe-core)"
    context = browser.new_context(**viewport)
    page = context.new_page()
    base = demo_server.url
    found: list[str] = []

    def check(path: str) -> None:
        response = page.goto(base + path)
        assert response is not None and response.status < 500, path
        found.extend(axe_problems(page))

    articles = [f"/learn/{a.slug}" for a in get_library().articles]
    for path in ["/", "/learn", "/learn/about-this-content", *articles, "/doctors",
                 "/doctors?specialty=pain_medicine&near=10001", "/doctors?specialty=pain_medicine&near=00000",
                 "/doctors/0000000000", "/matches", "/account/sign-up", "/account/sign-in", "/account/reset",
                 "/nowhere"]:
        check(path)
    page.goto(base + "/doctors?specialty=pain_medicine&near=10001")
    check(f"/doctors/{first_npi(page)}?near=10001")

    # Every questionnaire step (first with its problems shown), then the result page and the match pages.
    page.goto(base + "/assess")
    found.extend(axe_problems(page))
    page.get_by_role("button", name="Continue").click()
    found.extend(axe_problems(page))
    page.get_by_label("Number").fill("8")
    page.get_by_role("radio", name="Lower back (lumbar)").check()
    page.get_by_role("radio", name="From the back").check()
    page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#progress-label")).to_have_text(re.compile("^Step 2 "))
    found.extend(axe_problems(page))
    for group, score in (("leg", "6"), ("back", "3")):
        page.get_by_role("group", name=re.compile(f"your {group} pain", re.I)).get_by_role(
            "radio", name=score, exact=True).check()
    page.get_by_role("radio", name="About the same").check()
    page.get_by_role("group", name=re.compile("all the time")).get_by_role("radio", name="No").check()
    page.get_by_role("radio", name="Over months or longer").check()
    for number in range(3, 99):
        page.get_by_role("button", name=re.compile("^(Continue|See my result)$")).click()
        if page.locator(".result-page").count():
            break
        expect(page.locator("#progress-label")).to_have_text(re.compile(f"^Step {number} "))
        found.extend(axe_problems(page))
    expect(page.locator(".result-page")).to_be_visible()
    found.extend(axe_problems(page))
    find_doctors(page, "10001")
    found.extend(axe_problems(page))
    page.get_by_label("ZIP code").fill("00000")
    page.get_by_role("button", name="Update the list").click()
    found.extend(axe_problems(page))

    # The account pages of a signed-in person.
    page.goto(base + "/account/sign-in")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    for path in ["/account", "/account/password", "/account/provider"]:
        check(path)
    context.close()
    assert found == []


@VIEWPORTS
def test_result_and_match_pages_screenshots(browser, demo_server, viewport):
    context = browser.new_context(**viewport)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(demo_server.url) else outside.append(r.url))
    show_result(page, demo_server.url)
    expect(page.get_by_role("heading", name=re.compile("^Find .* near you$"))).to_be_visible()
    screenshot(page, "result")
    find_doctors(page, "10001")
    expect(page.locator(".match-group").first).to_be_visible()
    expect(page.locator(".match-sketch svg")).to_be_visible()
    expect(page.locator(".soonest-opening").first).to_contain_text(re.compile(r"Soonest opening: \w{3} \d{1,2} \w{3}, "
                                                                              r"\d{1,2}:\d\d [ap]m"))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["viewport"]["width"]
    assert re.search(r"/matches/[\w-]{22}$", page.url)
    screenshot(page, "matches")
    page.get_by_label("ZIP code").fill("00000")
    page.get_by_role("button", name="Update the list").click()
    expect(page.locator("#match-near-error")).to_contain_text("We don't know the ZIP code 00000")
    screenshot(page, "matches-bad-zip")
    page.get_by_label("ZIP code").fill("10001")
    page.get_by_role("button", name="Find doctors").click()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Book this time")).first.click()
    assert re.search(r"/doctors/\d{10}/book\?type=\w+&start=", page.url), page.url
    expect(page.locator("input[name=start]:checked")).to_have_count(1)  # the opening shown is the one chosen
    show_result(page, demo_server.url, ("saddle_numbness",))
    find_doctors(page, "10001")
    expect(page.get_by_role("heading", name="Nearest emergency departments")).to_be_visible()
    screenshot(page, "matches-emergency")
    context.close()
    assert outside == []


def test_a_newcomer_gets_from_home_to_doctors_near_10001_in_under_a_minute_on_a_phone(browser, demo_server):
    """Only what a person sees: links and buttons by their visible words, the first answer that fits."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    clicks = 0

    def click(locator) -> None:
        nonlocal clicks
        locator.click()
        clicks += 1

    started = time.monotonic()
    page.goto(demo_server.url + "/")
    click(page.get_by_role("link", name="Check my symptoms").first)
    page.get_by_label("Number").fill("8")
    click(page.get_by_role("radio", name="Lower back (lumbar)"))
    click(page.get_by_role("radio", name="From the back"))
    click(page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="No"))
    click(page.get_by_role("button", name="Continue"))
    for group, score in (("leg", "6"), ("back", "3")):
        click(page.get_by_role("group", name=re.compile(f"your {group} pain", re.I)).get_by_role(
            "radio", name=score, exact=True))
    click(page.get_by_role("radio", name="About the same"))
    click(page.get_by_role("group", name=re.compile("all the time")).get_by_role("radio", name="No"))
    click(page.get_by_role("radio", name="Over months or longer"))
    while not page.locator(".result-page").count():
        click(page.get_by_role("button", name=re.compile("^(Continue|See my result)$")))
        page.wait_for_load_state()
    page.get_by_label("Your ZIP code").fill("10001")
    click(page.get_by_role("button", name="Find doctors near me"))
    assert "10001" not in page.url
    expect(page.locator(".match-group .provider-card").first).to_be_visible()
    elapsed = time.monotonic() - started
    print(f"\nnewcomer at 360 px: {clicks} clicks and 2 typed fields, {elapsed:.1f} s of browser time")
    assert page.locator(".match-group .provider-card").count() >= 3
    assert elapsed < 60
    context.close()


def test_the_axe_check_finds_a_serious_violation_when_there_is_one(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_content('<html lang="en"><body><main><input type="text" name="zip">'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></body></html>')
    found = axe_problems(page)
    context.close()
    assert any("label" in problem for problem in found) and any("image-alt" in problem for problem in found)


def test_a_signed_in_patient_saves_the_result_and_shares_it_when_booking(browser, demo_server):
    """Anonymous first: "Sign in to save" comes back to the same result (the draft survives sign-in), the save
    works, and the booking form's "Share my latest saved symptom check" then shares that saved result."""
    from sqlalchemy import select

    from fusioncare.scheduling.models import Appointment
    from fusioncare.triage.models import SavedAssessment

    context = browser.new_context(**PHONE)
    page = context.new_page()
    show_result(page, demo_server.url, ("walking_leg_pain",))
    result_url = page.url
    page.get_by_role("link", name="Sign in to save").click()
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.split("#")[0] == result_url
    page.get_by_role("button", name="Save to my account").click()
    expect(page.get_by_text("Saved to your account")).to_be_visible()
    screenshot(page, "result-saved")
    find_doctors(page, "10001")
    with page.expect_navigation():
        page.locator(".soonest-opening a").first.click()
    page.locator(".slot-choice label").first.click()
    share = page.get_by_label(re.compile("Share my latest saved symptom check"))
    share.check()
    page.get_by_label("Your full name").fill("Sam Example")
    page.get_by_role("button", name="Request this time").click()
    expect(page).to_have_url(re.compile(r"/appointments/\d+\?booked="))
    with demo_server.engine.connect() as conn:
        saved = conn.execute(select(SavedAssessment.id, SavedAssessment.request)).all()
        shared = conn.execute(select(Appointment.shared_assessment_id)).scalars().all()
    assert len(saved) == 1 and "walking_leg_pain" in saved[0].request["symptoms"]
    assert saved[0].id in shared
    context.close()
