"""Issue 16 item 1 in a real browser: attendance by the staff phone.

A hearing is opened and its invitation cards printed (`ballots issue`); the camera's part
is played by decoding a card's QR code from the rendered PDF. A resident opening the link
sees the household's hearing notice and no form; the staff member's phone (390×844,
signed in) opens the same link, records the household present with one button, and the
page then says so. Screens at 390×844.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .browser import (
    PASSWORD,
    community_with_register,
    phone_context,
    qr_link,
    screenshot,
)

pytestmark = pytest.mark.browser


def test_staff_phone_records_attendance_from_a_card(browser, live):
    slug = "hearing-cards"
    work = community_with_register(live, slug, "和平里小区")
    live.cli("user", "create", "cstaff", "--role", "staff", "--community", slug,
             input=PASSWORD + "\n")  # fmt: skip
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat(timespec="minutes")
    out = live.cli(
        "proposal", "create", slug, "--title", "和平里小区申请老旧小区改造",
        "--stage", "application", "--route", "hearing", "--hearing-at", when,
        "--place", "和平里社区居委会会议室",
    )  # fmt: skip
    proposal_id = int(out.strip().splitlines()[-1])
    live.cli("proposal", "open", str(proposal_id))
    cards = work / "cards.pdf"
    assert "hearing cards" in live.cli("ballots", "issue", str(proposal_id), "--pdf", str(cards))
    link = qr_link(cards, page=2)  # the second household's card, as the phone camera reads it
    path = re.sub(r"^https?://[^/]+", "", link)
    assert path.startswith("/b/")

    # The resident: the household's notice, no banner, no form, no script.
    resident = phone_context(browser, live)
    page = resident.new_page()
    page.goto(path)
    expect(page.locator("#card-household")).to_have_text("1-1-102")
    expect(page.locator("#card-attendance")).to_contain_text("尚未登记")
    expect(page.locator("#attend-banner")).to_have_count(0)
    expect(page.locator("form")).to_have_count(0)
    screenshot(page, "i16-hearing-card-resident")

    # The staff phone: signed in, the same link shows the banner with one button.
    staff = phone_context(browser, live)
    phone = staff.new_page()
    phone.goto("/login")
    phone.locator("#username").fill("cstaff")
    phone.locator("#password").fill(PASSWORD)
    phone.locator("form.stack button[type=submit]").click()
    expect(phone).not_to_have_url(re.compile(r"/login"))
    phone.goto(path)
    expect(phone.locator("#attend-banner")).to_be_visible()
    screenshot(phone, "i16-hearing-card-staff")
    phone.locator("#attend-banner button[type=submit]").click()
    expect(phone.locator(".flash.ok")).to_contain_text("1-1-102")
    expect(phone.locator("#attend-state")).to_be_visible()
    expect(phone.locator("#attend-banner button")).to_have_count(0)
    screenshot(phone, "i16-hearing-card-recorded")

    staff_page = staff.new_page()
    staff_page.goto(f"/staff/proposals/{proposal_id}")
    expect(staff_page.locator("#attendance")).to_contain_text("1")

    page.reload()
    expect(page.locator("#card-attendance")).to_contain_text("已登记")
    expect(page.locator("#attend-banner")).to_have_count(0)
    resident.close()
    staff.close()
