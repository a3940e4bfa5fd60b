"""The pages in real headless Chromium: the questionnaire end to end on a 360 px phone (with and without
JavaScript), the result page's wording, nothing loaded from outside, and screenshots to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fusioncare.knowledge.loader import get_pack
from fusioncare.triage.schemas import AssessmentRequest
from fusioncare.triage.service import assess

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def screenshot(page: Page, name: str) -> None:
    """Writes NAME-WIDTH-actual.png (ignored by git); FUSIONCARE_UPDATE_SCREENSHOTS=1 also refreshes the
    committed reference NAME-WIDTH.png that reviewers look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    stem = f"{name}-{page.viewport_size['width']}"
    page.screenshot(path=SCREENSHOTS / f"{stem}-actual.png", full_page=True)
    if os.environ.get("FUSIONCARE_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=SCREENSHOTS / f"{stem}.png", full_page=True)


def watch(page: Page, base_url: str) -> list[str]:
    """Collects what should never happen: requests leaving our server and Content-Security-Policy violations."""
    problems: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base_url) or r.url.startswith("data:")
            else problems.append(f"request to {r.url}"))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return problems


def assert_fits_width(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"


SMALL_TARGETS = """() => {
  const small = [];
  const tall = (el) => el.getBoundingClientRect().height;
  for (const input of document.querySelectorAll('main input:not([type=hidden]), main select')) {
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    const height = Math.max(tall(input), label && input.type !== 'number' ? tall(label) : 0);
    if (height < 44) small.push(`${input.name}=${input.value}: ${height}px`);
  }
  for (const button of document.querySelectorAll('main button, main .button')) {
    if (tall(button) < 44) small.push(`${button.textContent.trim()}: ${tall(button)}px`);
  }
  return small;
}"""


def assert_touch_targets(page: Page) -> None:
    """Every control in the main content is at least 44 px tall to the finger (its label counts)."""
    assert page.evaluate(SMALL_TARGETS) == []


def at_step(page: Page, number: int) -> None:
    expect(page.locator("#progress-label")).to_have_text(re.compile(f"^Step {number} of \\d+$"))


def continue_(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^(Continue|See my result)$")).click()


def pain(page: Page, which: str, score: int) -> None:
    group = page.get_by_role("group", name=re.compile(f"your {which} pain", re.I))
    group.get_by_role("radio", name=str(score), exact=True).check()


def answer_questionnaire(page: Page, *, amount: str, unit: str, leg: int, back: int, trend: str,
                         symptoms: list[str], shoot: bool = False) -> None:
    pack = get_pack()
    at_step(page, 1)
    assert_touch_targets(page)
    page.get_by_label("Number").fill(amount)
    page.get_by_label("Months or years").select_option(unit)
    page.get_by_role("radio", name="Lower back (lumbar)").check()
    page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="Yes").check()
    continue_(page)

    at_step(page, 2)
    continue_(page)  # nothing answered yet: the page comes back with the problems beside the fields
    expect(page.locator("#field-leg_pain .field-error")).to_contain_text("Leg pain: this field is required")
    assert_touch_targets(page)
    if shoot:
        screenshot(page, "step-pain-with-problems")
    pain(page, "leg", leg)
    pain(page, "back", back)
    page.get_by_role("radio", name=trend).check()
    page.get_by_role("group", name=re.compile("all the time")).get_by_role("radio", name="No").check()
    continue_(page)

    wanted = {pack.symptom_by_code[code].plain_words for code in symptoms}
    assert_touch_targets(page)
    if shoot:
        screenshot(page, "step-symptoms")
    # Symptom steps until the treatments step; waiting for each step number means we never read the old page.
    step = 3
    while True:
        at_step(page, step)
        if page.get_by_role("heading", name="Treatments you have tried").count():
            break
        for words in wanted:
            box = page.get_by_label(words, exact=True)
            if box.count():
                box.check()
        continue_(page)
        step += 1
    continue_(page)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_routine_case_end_to_end_shows_a_routine_result(browser, pages_server, viewport):
    context = browser.new_context(**viewport)
    page = context.new_page()
    problems = watch(page, pages_server.url)
    page.goto(pages_server.url + "/")
    assert_fits_width(page)
    screenshot(page, "home")
    page.get_by_role("link", name="Check my symptoms").first.click()
    answer_questionnaire(page, amount="2", unit="months", leg=3, back=3, trend="Getting better", symptoms=[],
                         shoot=True)

    expected = assess(request=AssessmentRequest(months_since_surgery=2, leg_pain=3, back_pain=3, trend="improving",
                                                sciatica_before_surgery=True))
    assert expected.urgency == "routine"  # spec/assessment-examples.json, "early recovery, improving"
    banner = page.locator(".urgency")
    expect(banner).to_have_class(re.compile("urgency-routine"))
    expect(banner.get_by_role("heading", level=1)).to_have_text(expected.headline)
    expect(banner.locator(".urgency-level")).to_have_text("Routine")
    first = get_pack().specialty_by_code[expected.recommended_specialties[0].code].name
    expect(page.locator(".specialty-first")).to_contain_text(first)
    expect(page.get_by_text(expected.disclaimer)).to_be_visible()
    assert_fits_width(page)
    screenshot(page, "result-routine")
    assert problems == []
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_emergency_case_without_javascript_says_call_911_first(browser, pages_server, viewport):
    context = browser.new_context(java_script_enabled=False, **viewport)
    page = context.new_page()
    problems = watch(page, pages_server.url)
    page.goto(pages_server.url + "/assess")
    answer_questionnaire(page, amount="2.5", unit="years", leg=6, back=5, trend="Getting worse",
                         symptoms=["saddle_numbness", "bladder_dysfunction"])

    banner = page.locator(".urgency")
    expect(banner).to_have_class(re.compile("urgency-emergency"))
    expect(banner.get_by_role("heading", level=1)).to_have_text("Call 911 or go to the emergency department now")
    expect(banner.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    pack = get_pack()
    say = banner.locator(".say")
    expect(say).to_contain_text("2.5 years ago")
    expect(say).to_contain_text(pack.symptom_by_code["bladder_dysfunction"].plain_words[1:])
    expect(page.locator(".specialty-first")).to_contain_text("Emergency medicine")
    # The banner comes before everything else in the main content.
    assert page.locator("main > *").first.get_attribute("class").startswith("urgency")
    assert_fits_width(page)
    screenshot(page, "result-emergency")
    assert problems == []
    context.close()


def test_back_button_returns_to_the_previous_step_with_its_answers(browser, pages_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(pages_server.url + "/assess")
    page.get_by_label("Number").fill("7")
    page.get_by_label("Months or years").select_option("years")
    page.get_by_role("radio", name="Neck (cervical)").check()
    page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="No").check()
    continue_(page)
    pain(page, "leg", 8)
    page.get_by_role("button", name="Back").click()
    at_step(page, 1)
    expect(page.get_by_label("Number")).to_have_value("7")
    expect(page.get_by_label("Months or years")).to_have_value("years")
    expect(page.get_by_role("radio", name="Neck (cervical)")).to_be_checked()
    continue_(page)
    expect(page.get_by_role("group", name=re.compile("your leg pain", re.I)).get_by_role("radio", name="8",
                                                                                       exact=True)).to_be_checked()
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_article_and_error_pages_fit_the_screen_and_load_nothing_from_outside(browser, pages_server, viewport):
    context = browser.new_context(**viewport)
    page = context.new_page()
    problems = watch(page, pages_server.url)
    page.goto(pages_server.url + "/learn/treatments-for-sciatica-after-fusion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatments for sciatica after fusion")
    expect(page.get_by_role("heading", name="When to get help now")).to_be_visible()
    assert_fits_width(page)
    screenshot(page, "article")
    page.goto(pages_server.url + "/assess")
    screenshot(page, "step-surgery")
    response = page.goto(pages_server.url + "/learn/no-such-article")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_fits_width(page)
    assert problems == []
    context.close()
