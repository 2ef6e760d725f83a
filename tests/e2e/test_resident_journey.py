"""A resident's whole journey on a phone: printed QR code → ballot → receipt → result.

CONTRACT.md "Resident pages": the QR code encodes BASE_URL + "/b/" + token; after
voting the ballot page shows the receipt (#receipt, the code and nothing else); the
public receipt page shows the recorded answers for that code. Every page works
without JavaScript and loads nothing but the app's own files.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import (
    ANSWER_ZH,
    Requests,
    choose,
    end_voting,
    make_vote,
    phone_context,
    qr_link,
    receipt_text,
    screenshot,
    vote_on_phone,
)

pytestmark = pytest.mark.browser


def check_receipt(page, vote, code: str, answers: dict[int, str], shots: str) -> None:
    """On the public page: type the receipt code into the check form and read the answers."""
    page.goto(vote.public_url)
    screenshot(page, f"{shots}-public-result")
    expect(page.locator("#code")).to_be_visible()
    page.locator("#code").fill(code.lower().replace("-", " "))  # case and dashes don't matter
    page.locator("form.search button[type=submit]").tap()
    expect(page).to_have_url(re.compile(rf"/r/{re.escape(vote.public_id)}/receipt\?code="))
    expect(page.locator("#receipt")).to_have_text(code)
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(len(answers))
    for number, answer in answers.items():
        expect(rows.nth(number - 1).locator("td")).to_have_text(ANSWER_ZH[answer])
    screenshot(page, f"{shots}-receipt-check")


@pytest.mark.parametrize("viewport", ["360x740", "390x844"])
def test_vote_from_printed_qr_code_then_check_receipt(browser, live, viewport):
    """Both households vote on their phones; staff close early; the receipt checks out."""
    vote = make_vote(live, households=2)
    link = qr_link(vote.pdf, page=1)
    assert link.startswith(live.url + "/b/")
    assert link in vote.links.values()
    context = phone_context(browser, live, viewport)
    requests = Requests().attach(context)
    page = context.new_page()
    shots = f"js-{viewport}"

    answers = {1: "agree", 2: "oppose"}
    code = vote_on_phone(page, link, answers, shots=shots)
    expect(page.locator("h1")).to_have_text("幸福里小区老旧小区改造方案表决")
    # Reloading the link later shows the same receipt and the recorded answers.
    page.goto(link)
    assert receipt_text(page) == code
    expect(page.locator("table.list td")).to_have_text(["同意", "反对"])

    page.goto(vote.public_url)
    expect(page.locator("h1")).to_have_text("幸福里小区老旧小区改造方案表决")
    screenshot(page, f"{shots}-public-voting")

    # The neighbour votes too (second page of the printed ballots); then staff close early.
    other = qr_link(vote.pdf, page=2)
    assert other != link
    vote_on_phone(page, other, {1: "agree", 2: "abstain"})
    live.cli("proposal", "close", str(vote.id))

    page.goto(link)
    assert receipt_text(page) == code  # still there after the close
    check_receipt(page, vote, code, answers, shots)
    requests.check(live.url)
    context.close()


def test_deadline_passes_then_ballot_link_is_closed(browser, live):
    """A household that did not vote in time sees when voting closed (403), not a ballot."""
    vote = make_vote(live, households=2)
    links = [qr_link(vote.pdf, page=n) for n in (1, 2)]
    context = phone_context(browser, live, "360x740")
    requests = Requests().attach(context)
    page = context.new_page()
    answers = {1: "abstain", 2: "agree"}
    code = vote_on_phone(page, links[0], answers)
    end_voting(live, vote)

    response = page.goto(links[1])
    assert response.status == 403
    expect(page.locator("form")).to_have_count(0)
    expect(page.locator("[role=alert]")).to_be_visible()
    screenshot(page, "js-360x740-closed")
    # Voting stopped by itself at the deadline; staff then publish the result (issue 12).
    assert live.proposal(vote.id).status == "counting"
    live.cli("proposal", "close", str(vote.id))
    check_receipt(page, vote, code, answers, "deadline-360x740")
    requests.check(live.url)
    context.close()


def test_whole_journey_without_javascript(browser, live):
    """Older phones and locked-down WeChat settings: everything works with JS off."""
    vote = make_vote(live, households=2)
    link = qr_link(vote.pdf, page=1)
    context = phone_context(browser, live, "360x740", java_script_enabled=False)
    requests = Requests().attach(context)
    page = context.new_page()
    answers = {1: "oppose", 2: "abstain"}
    code = vote_on_phone(page, link, answers, shots="nojs-360x740")

    # "Change my choices" on the confirmation page goes back with the answers kept.
    other = qr_link(vote.pdf, page=2)
    page.goto(other)
    choose(page, 1, "agree")
    choose(page, 2, "agree")
    page.locator("form button[type=submit]").last.tap()
    page.locator("form:has(input[name=edit]) button[type=submit]").tap()
    expect(page.locator("input[name=q1][value=agree]")).to_be_checked()
    choose(page, 2, "oppose")
    page.locator("form button[type=submit]").last.tap()
    page.locator("form:has(input[name=confirm]) button[type=submit]").tap()
    expect(page.locator("table.list td")).to_have_text(["同意", "反对"])

    live.cli("proposal", "close", str(vote.id))
    check_receipt(page, vote, code, answers, "nojs-360x740")
    requests.check(live.url)
    context.close()


def test_language_switch_sticks_without_javascript(browser, live):
    """The English/中文 link works without JS and the choice is kept in a cookie."""
    vote = make_vote(live, households=1)
    link = vote.links["1-1-101"]
    context = phone_context(browser, live, "390x844", java_script_enabled=False)
    page = context.new_page()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("label.choice").first).to_have_text("同意")
    page.locator("header a[lang=en]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label.choice").first).to_have_text("Agree")
    screenshot(page, "en-390x844-ballot")
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    assert cookies.get("lang") == "en"

    page.goto(link)  # no ?lang= any more: the cookie keeps English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(vote.public_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("header a[lang=zh-CN]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto(link)
    expect(page.locator("label.choice").first).to_have_text("同意")
    context.close()
