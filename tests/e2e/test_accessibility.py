"""Every resident and public page is usable by an older resident on a cheap phone.

For each page: axe-core finds no serious or critical violation (this covers contrast AA,
labels, language, names of links and buttons); no text is smaller than 18 px; every
link, button and field is at least 48 × 48 px; every field has a label; nothing is wider
than the screen at 200 % zoom (a 390 px phone zoomed in is a 195 px wide page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .browser import (
    Vote,
    choose,
    end_voting,
    make_vote,
    phone_context,
    screenshot,
    vote_on_phone,
)

pytestmark = pytest.mark.browser

MIN_TEXT_PX = 18
MIN_TARGET_PX = 48
ZOOMED = {"width": 195, "height": 422}  # 390 × 844 at 200 % zoom

SMALL_TEXT = """(min) => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el) continue;
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (rect.width <= 1 || rect.height <= 1 || style.visibility === 'hidden') continue;
    const size = parseFloat(style.fontSize);
    const text = node.textContent.trim().slice(0, 30);
    if (size < min) found.push(`${el.tagName}.${el.className} ${size}px "${text}"`);
  }
  return found;
}"""

SMALL_TARGETS = """(min) => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + 'label.choice';
  return [...document.querySelectorAll(sel)]
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && getComputedStyle(el).visibility !== 'hidden')
    .filter(([el, r]) => r.width < min || r.height < min)
    .map(([el, r]) => {
      const name = (el.innerText || el.name || '').trim().slice(0, 30);
      return `${el.tagName} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`;
    });
}"""

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 80))"""

OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
    .filter(el => !el.closest('.scroll'))
    .map(el => `${el.tagName}.${el.className}`);
  return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide.slice(0, 5)};
}"""


@dataclass
class Scenario:
    open: Vote  # voting open; household 1-1-102 has voted
    phone: Vote  # voting open, owner check with the phone's last four digits
    closed: Vote  # deadline passed, result posted, objection period running
    scheduled: Vote  # voting starts tomorrow
    receipt: str  # the receipt code of the vote cast in `closed`


@pytest.fixture(scope="module")
def scenario(browser, live) -> Scenario:
    open_vote = make_vote(live, households=3)
    phone = make_vote(live, households=1, verify="phone4")
    closed = make_vote(live, households=2)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    scheduled = make_vote(live, households=1, starts=tomorrow)
    context = phone_context(browser, live)
    page = context.new_page()
    vote_on_phone(page, open_vote.links["1-1-102"], {1: "agree", 2: "agree"})
    receipt = vote_on_phone(page, closed.links["1-1-101"], {1: "agree", 2: "oppose"})
    context.close()
    end_voting(live, closed)
    live.cli("proposal", "close", str(closed.id))  # staff publish: the objection period runs
    return Scenario(open_vote, phone, closed, scheduled, receipt)


def _go(page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response.status)


def _missing_answers(page, s: Scenario) -> None:
    _go(page, s.open.links["1-1-101"])
    choose(page, 1, "agree")
    page.locator("form").first.evaluate("form => { form.noValidate = true; }")
    page.locator("form button[type=submit]").last.tap()
    expect(page.locator("[role=alert]")).to_be_visible()


def _confirm(page, s: Scenario) -> None:
    _go(page, s.open.links["1-1-101"])
    choose(page, 1, "agree")
    choose(page, 2, "abstain")
    page.locator("form button[type=submit]").last.tap()
    expect(page.locator("input[name=confirm]")).to_have_count(1)


def _objection_refused(page, s: Scenario) -> None:
    _go(page, s.closed.public_url)
    page.locator("#receipt").fill("AAAA-BBBB-CCCC")  # no household's receipt: refused, 422
    page.locator("#name").fill("张秀英")
    page.locator("#text").fill("我家的投票没有被计入。")
    page.locator("form[action$=objections] button[type=submit]").tap()
    expect(page.locator("[role=alert]")).to_be_visible()


PAGES = {
    "ballot": lambda page, s: _go(page, s.open.links["1-1-101"]),
    "ballot-phone4": lambda page, s: _go(page, s.phone.links["1-1-101"]),
    "ballot-missing-answers": _missing_answers,
    "confirm": _confirm,
    "voted": lambda page, s: _go(page, s.open.links["1-1-102"]),
    "closed": lambda page, s: _go(page, s.closed.links["1-1-102"], 403),
    "not-started": lambda page, s: _go(page, s.scheduled.links["1-1-101"], 403),
    "unknown-ballot": lambda page, s: _go(page, "/b/no-such-ballot-token-000000", 404),
    "public-voting": lambda page, s: _go(page, s.open.public_url),
    "public-result": lambda page, s: _go(page, s.closed.public_url),
    "receipt-form": lambda page, s: _go(page, s.closed.public_url + "/receipt"),
    "receipt-found": lambda page, s: _go(page, f"{s.closed.public_url}/receipt?code={s.receipt}"),
    "receipt-unknown": lambda page, s: _go(page, s.closed.public_url + "/receipt?code=ZZZZ", 404),
    "objection-refused": _objection_refused,
}
CASES = [(name, "zh_CN") for name in PAGES] + [
    (name, "en") for name in ("ballot", "confirm", "voted", "public-result", "receipt-found")
]


@pytest.fixture(scope="module")
def phone(browser, live):
    context = phone_context(browser, live)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize(("name", "lang"), CASES, ids=[f"{n}-{lang}" for n, lang in CASES])
def test_page_is_accessible(phone, live, scenario, name, lang):
    page = phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live.url}])
    PAGES[name](page, scenario)
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")

    violations = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)
    assert not page.evaluate(SMALL_TEXT, MIN_TEXT_PX), "text below 18 px"
    assert not page.evaluate(SMALL_TARGETS, MIN_TARGET_PX), "touch targets below 48 px"
    assert not page.evaluate(UNLABELLED), "fields without a label"

    page.set_viewport_size(ZOOMED)
    overflow = page.evaluate(OVERFLOW)
    screenshot(page, f"zoom200-{name}-{lang}")
    assert overflow["scroll"] <= overflow["client"], f"wider than the screen at 200 %: {overflow}"


def test_answer_buttons_work_with_the_keyboard_and_show_focus(phone, scenario):
    """The radios hidden inside the big buttons still take focus, show it, and answer."""
    page = phone
    page.set_viewport_size({"width": 390, "height": 844})
    _go(page, scenario.open.links["1-1-101"])
    first = page.locator("#question-1 input[value=agree]")
    for _ in range(30):
        page.keyboard.press("Tab")
        if first.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the first answer cannot be reached with the Tab key")
    outline = first.evaluate(
        "el => { const s = getComputedStyle(el.nextElementSibling);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, f"no visible focus: {outline}"
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.keyboard.press("ArrowDown")  # moves within the question and chooses
    expect(page.locator("#question-1 input[value=oppose]")).to_be_checked()
    box = page.locator("#question-1 label.choice").first.bounding_box()
    assert box["height"] >= 56 and box["width"] >= 300, box
