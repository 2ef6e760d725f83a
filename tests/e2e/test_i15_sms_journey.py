"""Issue 15 item 4 in a real browser: `--verify sms` end to end. The resident presses
"send code", the worker delivers it through the file:// backend, the code is read back
from its JSON lines; a wrong code answers 422, a code after 10 minutes 422 (clock
injected), the 6th wrong try 429; the right code records the vote. No JavaScript."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from residents_vote.messages import outbox
from tests.helpers import Clock

from .browser import Requests, choose, make_vote, phone_context, receipt_text, screenshot

pytestmark = pytest.mark.browser




@pytest.fixture
def sms_live(live, tmp_path):
    path = tmp_path / "sms.jsonl"
    clock = Clock()
    saved = {k: live.app.config.get(k) for k in ("SMS_BACKEND", "CLOCK")}
    live.app.config.update(SMS_BACKEND=f"file://{path}", CLOCK=clock)
    try:
        yield live, path, clock
    finally:
        live.app.config.update(saved)


def latest_code(live, path, clock, to: str) -> str:
    """Run the worker once and read the newest code sent to `to`."""
    outbox.send_due(live.app.extensions["rv_db"].store, now=clock())
    sent = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    codes = [m for m in sent if m["to"] == to and m["kind"] == "code"]
    assert codes, sent
    return codes[-1]["params"]["code"]


def ask_for_code(page) -> None:
    page.locator("#sms-step button[type=submit]").tap()
    page.wait_for_url("**?code=sent")
    assert page.locator("#code-sent").is_visible()


def submit_with(page, code: str) -> int:
    """Tap the answers, type the code, submit: the status of the answer."""
    choose(page, 1, "agree")
    choose(page, 2, "oppose")
    page.locator("#sms_code").fill(code)
    with page.expect_navigation() as answer:
        page.locator("form:has(#sms_code) button[type=submit]").tap()
    return answer.value.status


def test_sms_code_journey(browser, sms_live):
    live, path, clock = sms_live
    vote = make_vote(live, households=2, verify="sms")
    context = phone_context(browser, live)
    requests = Requests().attach(context)
    page = context.new_page()

    # household 1-1-102: the code arrives and the vote is recorded
    page.goto(vote.links["1-1-102"])
    screenshot(page, "i15-sms-ballot")
    ask_for_code(page)
    code = latest_code(live, path, clock, "13800005678")
    screenshot(page, "i15-sms-code-sent")
    assert submit_with(page, code) == 200  # the confirmation step
    assert page.locator("input[type=hidden][name=sms_code]").get_attribute("value") == code
    page.locator("form:has(input[name=confirm]) button[type=submit]").tap()
    page.locator("#receipt").wait_for()
    assert receipt_text(page)
    screenshot(page, "i15-sms-receipt")

    # household 1-1-101: wrong, expired, then the 6th wrong try is refused
    link = vote.links["1-1-101"]
    page.goto(link)
    ask_for_code(page)
    code = latest_code(live, path, clock, "13800001234")
    wrong = "000000" if code != "000000" else "111111"
    assert submit_with(page, wrong) == 422
    assert page.locator(".problem[role=alert]").count() == 1
    screenshot(page, "i15-sms-wrong")
    clock.now += dt.timedelta(minutes=10, seconds=1)
    assert submit_with(page, code) == 422  # expired after 10 minutes
    page.goto(link)
    ask_for_code(page)
    fresh = latest_code(live, path, clock, "13800001234")
    for _ in range(3):
        assert submit_with(page, wrong) == 422  # failures 3, 4, 5
    assert submit_with(page, fresh) == 429  # the 6th try: locked for the hour, even right
    screenshot(page, "i15-sms-locked")
    requests.check(live.url)
    context.close()


def test_staff_message_page_on_a_phone(browser, live):
    """The staff Text messages page (outbox backend): send links, the hand-sending list."""
    import re

    from playwright.sync_api import expect

    from .browser import PASSWORD

    vote = make_vote(live, households=3)
    live.cli("user", "create", f"sms{vote.id}", "--role", "staff", "--community", vote.slug,
             input=PASSWORD + "\n")  # fmt: skip
    context = phone_context(browser, live)
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill(f"sms{vote.id}")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto(f"/staff/proposals/{vote.id}/messages")
    page.locator("form[action$='/messages/send'] button[type=submit]").click()
    expect(page.locator("#hand tbody tr")).to_have_count(3)
    screenshot(page, "i15-staff-messages")
    page.locator("#hand input[type=checkbox]").first.check()
    page.locator("form[action$='/mark-sent'] button[type=submit]").click()
    expect(page.locator("#hand tbody tr")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("*******1234")
    context.close()
