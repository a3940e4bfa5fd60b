"""The assessment journey in real headless Chromium at 360 px and 1280 px: an emergency in the fewest pages,
Back/Forward/refresh at every step, the contract 1.1 questions, the result page's order, no answer in any
requested URL or server log line, a second browser seeing nothing, text contrast of every interactive element,
and screenshots of each page to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fusioncare.knowledge.loader import get_pack
from tests.support import page_screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
STEP_URL = re.compile(r"/assess/d/[\w-]{22}/step/[0-9a-f]{16}(\?notice=\w+)?$")
RESULT_URL = re.compile(r"/assess/d/[\w-]{22}/result$")
# Answers no URL or log line may hold (an age of 87, rare codes, the ZIP, the form's own field names).
MARKERS = [re.compile(r"(?<![\w-])87(?![\w-])"), re.compile(r"(?<![\w-])10016(?![\w-])"),
           re.compile(r"saddle_numbness|bladder_dysfunction|walking_leg_pain|diabetes|leg_pain|symptoms|near=")]


def screenshot(page: Page, name: str) -> None:
    page_screenshot(page, "web", name)


def watch(page: Page, base_url: str) -> tuple[list[str], list[str]]:
    """(problems, every requested URL): requests leaving our server and CSP violations are problems."""
    problems: list[str] = []
    urls: list[str] = []

    def on_request(request) -> None:
        urls.append(request.url)
        if not (request.url.startswith(base_url) or request.url.startswith("data:")):
            problems.append(f"request to {request.url}")

    page.on("request", on_request)
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return problems, urls


def assert_no_marker(lines: list[str], where: str) -> None:
    leaks = [(p.pattern, line) for line in lines for p in MARKERS if p.search(line)]
    assert leaks == [], where


def assert_fits_width(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"


SMALL_TARGETS = """() => {
  const small = [];
  const tall = (el) => el.getBoundingClientRect().height;
  for (const input of document.querySelectorAll('main input:not([type=hidden]), main select')) {
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    const height = Math.max(tall(input), label && input.type !== 'text' ? tall(label) : 0);
    if (height < 44) small.push(`${input.name}=${input.value}: ${height}px`);
  }
  for (const button of document.querySelectorAll('main button, main .button, main summary')) {
    if (tall(button) > 0 && tall(button) < 44) small.push(`${button.textContent.trim()}: ${tall(button)}px`);
  }
  return small;
}"""

# Text contrast of every interactive element against its own computed background (walking up through
# transparent ancestors, blending translucent ones), as the browser renders it; details are opened first.
CONTRAST = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const blend = (top, bottom) => { const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map(i => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]); };
  const background = (el) => { let colour = [0, 0, 0, 0];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      colour = blend(colour, parse(getComputedStyle(node).backgroundColor));
      if (colour[3] >= 0.999) return colour; }
    return blend(colour, [255, 255, 255, 1]); };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const low = [];
  const chosen = 'a[href], button, summary, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, '
    + 'input[type=radio] + label, input[type=checkbox] + label, .button';
  for (const el of document.querySelectorAll(chosen)) {
    const box = el.getBoundingClientRect(); const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (el.classList.contains('skip-link')) continue;
    const bg = background(el); const fg = blend(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const name = (el.textContent || el.value || '').trim().slice(0, 40);
    const colours = `${style.color} on rgb(${bg.slice(0, 3).map(Math.round)})`;
    if (ratio < 4.5) low.push(`${el.tagName.toLowerCase()} "${name}": ${ratio.toFixed(2)} (${colours})`);
  }
  return low;
}"""


def assert_contrast(page: Page) -> None:
    low = page.evaluate(CONTRAST)
    assert low == [], f"{page.url}: {low}"


def heading(page: Page) -> str:
    return page.locator("h1").first.inner_text().strip()


def step_number(page: Page) -> int:
    return int(re.search(r"Step (\d+) of", page.locator("#progress-label").inner_text()).group(1))


def continue_(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^(Continue|See my result)$")).click()


def pain(page: Page, which: str, score: int) -> None:
    group = page.get_by_role("group", name=re.compile(f"your {which} pain", re.I))
    group.get_by_role("radio", name=str(score), exact=True).check()


def answer_surgery(page: Page, *, amount: str, unit: str, region: str = "Lower back (lumbar)",
                   approach: str = "From the back", age: str = "") -> None:
    page.get_by_label("Number").fill(amount)
    page.get_by_label("Months or years").select_option(unit)
    page.get_by_role("radio", name=region).check()
    page.get_by_role("radio", name=approach).check()
    page.get_by_role("group", name=re.compile("sciatica")).get_by_role("radio", name="Yes").check()
    if age:
        page.get_by_label(re.compile("How old are you")).fill(age)
    continue_(page)


def answer_pain(page: Page, *, leg: int, back: int, trend: str, onset: str = "Over months or longer") -> None:
    pain(page, "leg", leg)
    pain(page, "back", back)
    page.get_by_role("radio", name=trend).check()
    page.get_by_role("group", name=re.compile("all the time")).get_by_role("radio", name="No").check()
    page.get_by_role("radio", name=onset).check()
    continue_(page)


def back_and_forward(page: Page, previous_title: str, title: str) -> None:
    """The browser's Back shows the previous step and Forward this one again: pages, never an error."""
    response = page.go_back()
    assert response is None or response.status < 400, page.url
    expect(page.locator("h1").first).to_have_text(previous_title)
    response = page.go_forward()
    assert response is None or response.status < 400, page.url
    expect(page.locator("h1").first).to_have_text(title)


@VIEWPORTS
def test_emergency_answer_on_step_3_is_followed_at_once_by_the_emergency_page_without_javascript(
        browser, pages_server, viewport):
    context = browser.new_context(java_script_enabled=False, **viewport)
    page = context.new_page()
    problems, urls = watch(page, pages_server.url)
    page.goto(pages_server.url + "/")
    page.get_by_role("link", name="Check my symptoms").first.click()
    pages = [page.url]
    answer_surgery(page, amount="2.5", unit="years", age="87")
    pages.append(page.url)
    answer_pain(page, leg=6, back=5, trend="Getting worse", onset="Over a few days")
    pages.append(page.url)
    assert step_number(page) == 3
    screenshot(page, "step-bladder")
    pack = get_pack()
    for code in ("saddle_numbness", "bladder_dysfunction"):
        page.get_by_label(pack.symptom_by_code[code].plain_words, exact=True).check()
    continue_(page)

    assert RESULT_URL.search(page.url), "the page right after the red-flag step is the emergency result"
    assert len(pages) == 3  # home's link, step 1, step 2, step 3, then the emergency: the fewest pages
    banner = page.locator(".urgency")
    expect(banner).to_have_class(re.compile("urgency-emergency"))
    expect(banner.get_by_role("heading", level=1)).to_have_text("Call 911 or go to the emergency department now")
    expect(banner.get_by_role("link", name="Call 911")).to_have_attribute("href", "tel:911")
    expect(banner.locator(".say")).to_contain_text("saddle area between my legs")
    expect(banner.locator(".say")).not_to_contain_text("bottom")
    assert page.locator("main > *").first.get_attribute("class").startswith("urgency")
    call = page.get_by_role("link", name="Call 911").bounding_box()
    assert call["y"] + call["height"] <= viewport["viewport"]["height"], "Call 911 is on the first screen"
    below = banner.bounding_box()
    assert page.locator(".find-doctors").bounding_box()["y"] > below["y"] + below["height"] - 1
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\nemergency result at {viewport['viewport']['width']} px: {height} px tall")
    assert_fits_width(page)
    screenshot(page, "result-emergency")
    assert_contrast(page)
    page.reload()

    # Back to step 3 and forward again; refresh the result.
    back_and_forward(page, "Bladder, bowel and groin", "Call 911 or go to the emergency department now")
    page.reload()
    expect(banner).to_have_class(re.compile("urgency-emergency"))
    # Continuing only adds details; the next step says what to do now.
    page.get_by_role("link", name="Answer the rest of the questions").click()
    expect(page.locator(".callout-now-emergency")).to_be_visible()
    screenshot(page, "step-after-emergency")
    assert_contrast(page)
    assert problems == []
    assert_no_marker(urls, "requested URLs")
    assert_no_marker(pages_server.log.lines, "server log")
    assert any("GET /assess/d/" in line for line in pages_server.log.lines), "the access log is captured"
    context.close()


@VIEWPORTS
def test_routine_journey_through_the_1_1_questions_with_back_forward_and_refresh_at_every_step(
        browser, pages_server, viewport):
    context = browser.new_context(**viewport)
    page = context.new_page()
    problems, urls = watch(page, pages_server.url)
    pack = get_pack()
    page.goto(pages_server.url + "/assess")
    assert STEP_URL.search(page.url)
    continue_(page)  # nothing answered: the problems in plain words
    expect(page.locator("#field-surgery_time_amount .field-error")).to_contain_text("Enter how long ago")
    assert_contrast(page)
    screenshot(page, "step-surgery-with-problems")
    answer_surgery(page, amount="2", unit="months", age="87")
    titles = ["Your surgery"]
    answer_pain_first = True
    while not RESULT_URL.search(page.url):
        title = heading(page)
        assert STEP_URL.search(page.url) and page.locator("#progress-label").is_visible()
        back_and_forward(page, titles[-1], title)
        page.reload()
        expect(page.locator("h1").first).to_have_text(title)
        assert_fits_width(page)
        assert page.evaluate(SMALL_TARGETS) == []
        assert_contrast(page)
        page.reload()  # the contrast check opened things; show the page as it comes
        screenshot(page, "step-" + re.sub(r"[^a-z]+", "-", title.lower()).strip("-"))
        titles.append(title)
        if answer_pain_first:
            answer_pain_first = False
            answer_pain(page, leg=3, back=3, trend="Getting better", onset="Over a few weeks")
            continue
        if title == "Your legs":
            page.get_by_label(pack.symptom_by_code["walking_leg_pain"].plain_words, exact=True).check()
        if title == "Your health":
            page.get_by_label(next(r.plain_words for r in pack.risk_factors if r.code == "diabetes")).check()
        continue_(page)
    neck = next(g.title for g in pack.question_groups if g.code == "neck")
    assert neck not in titles and "Your health" in titles and titles[-1] == "Treatments you have tried"

    banner = page.locator(".urgency")
    expect(banner).to_have_class(re.compile("urgency-(routine|soon)"))
    page.reload()
    expect(banner).to_have_class(re.compile("urgency-(routine|soon)"))
    find = page.locator(".find-doctors").bounding_box()
    height = page.evaluate("document.documentElement.scrollHeight")
    width = viewport["viewport"]["width"]
    print(f"\nroutine result at {width} px: {height} px tall, Find doctors at {find['y']:.0f} px")
    if viewport is PHONE:
        assert find["y"] < 2 * viewport["viewport"]["height"], "Find doctors is near the top on a phone"
    expect(page.get_by_text("When to get help at once")).to_be_visible()
    assert_fits_width(page)
    screenshot(page, "result-routine")
    assert_contrast(page)
    screenshot(page, "result-routine-opened")
    page.reload()
    page.get_by_label("Your ZIP code").fill("10016")
    page.get_by_role("button", name="Find doctors near me").click()
    page.wait_for_url(re.compile(r"/matches/[\w-]{22}$"))  # the redirect's page, loaded, before reloading it
    page.reload()
    assert_contrast(page)
    screenshot(page, "matches-empty-directory")
    assert problems == []
    assert_no_marker(urls, "requested URLs")
    assert_no_marker(pages_server.log.lines, "server log")
    context.close()


def test_neck_questions_appear_for_a_neck_fusion(browser, pages_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(pages_server.url + "/assess")
    answer_surgery(page, amount="6", unit="months", region="Neck (cervical)", approach="From the front (belly or neck)")
    answer_pain(page, leg=2, back=2, trend="About the same")
    titles = []
    while not RESULT_URL.search(page.url):
        titles.append(heading(page))
        continue_(page)
    pack = get_pack()
    assert next(g.title for g in pack.question_groups if g.code == "neck") in titles
    assert next(g.title for g in pack.question_groups if g.code == "belly") in titles
    context.close()


def test_a_second_browser_with_the_same_addresses_gets_a_fresh_start_not_the_answers(browser, pages_server):
    first = browser.new_context(**PHONE)
    page = first.new_page()
    page.goto(pages_server.url + "/assess")
    answer_surgery(page, amount="4", unit="months", age="87")
    step2 = page.url
    answer_pain(page, leg=7, back=2, trend="Getting worse")
    while not RESULT_URL.search(page.url):
        continue_(page)
    result = page.url
    second = browser.new_context(**PHONE)
    other = second.new_page()
    for url in (result, step2):
        other.goto(url)
        assert STEP_URL.search(other.url) and other.url.split("/")[5] != url.split("/")[5]
        expect(other.locator("h1").first).to_have_text("Your surgery")
        expect(other.get_by_label(re.compile("How old are you"))).to_have_value("")
        expect(other.get_by_text("fresh start")).to_be_visible()
    page.reload()
    expect(page.locator(".urgency")).to_be_visible()
    first.close()
    second.close()


def test_cookies_page_and_article_fit_and_read(browser, pages_server):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(pages_server.url + "/learn/treatments-for-sciatica-after-fusion")
    expect(page.get_by_role("heading", name="When to get help now")).to_be_visible()
    assert_fits_width(page)
    screenshot(page, "article")
    context.close()
    no_cookies = browser.new_context(**PHONE)
    page = no_cookies.new_page()
    page.goto(pages_server.url + "/assess?restart=1")  # what a browser that keeps no cookie ends up on
    expect(page.get_by_role("heading", level=1)).to_have_text("This check needs a cookie")
    assert_contrast(page)
    screenshot(page, "cookies-needed")
    no_cookies.close()


def test_the_contrast_check_finds_an_invisible_button_and_a_faint_link(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_content('<html lang="en"><body style="background:#fff"><main>'
                     '<button style="color:#fff;background:transparent">Invisible</button>'
                     '<a href="/x" class="button" style="color:#999;background:#fff">Faint</a>'
                     '<a href="/y" style="color:#0b5c8a">Fine</a></main></body></html>')
    low = page.evaluate(CONTRAST)
    context.close()
    assert len(low) == 2 and "Invisible" in low[0] and "Faint" in low[1]
