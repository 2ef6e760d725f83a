"""A staff member's day at the office PC: log in, import the register, run a vote, close it.

The register file is the real-world shape (GBK CSV with Chinese headers, as Excel on a
Chinese Windows saves it); the vote covers building 8 (11 households), whose paper ballots
are entered from the command line before staff close the vote early on the page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .browser import OFFICE, PASSWORD, screenshot, shared_data

pytestmark = pytest.mark.browser

BUILDING_8 = [f"8-1-{room}" for room in (101, 102, 103, 104, 201, 202, 203, 204, 301, 302, 303)]


def test_staff_imports_register_runs_and_closes_a_vote(browser, live):
    register = shared_data() / "register-403-gbk.csv"
    if not register.is_file():
        pytest.skip(f"{register} missing")
    live.cli("community", "create", "xingfuli", "--name", "幸福里小区", "--office", OFFICE)
    live.cli("user", "create", "wangmin", "--role", "staff", "--community", "xingfuli",
             input=PASSWORD + "\n")  # fmt: skip

    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill("wangmin")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))

    # The register: upload, preview (nothing written yet), confirm.
    page.goto("/staff/c/xingfuli")
    page.locator("#file").set_input_files(register)
    page.locator("form[action$='/import'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("403")
    expect(page.locator(".problems")).to_have_count(0)
    screenshot(page, "staff-import-preview")
    page.locator("form[action$='/import/confirm'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("403")
    expect(page.locator("main dl.totals")).to_contain_text("403")

    # A draft for building 8, opened at once.
    page.locator("a[href$='/proposals/new']").click()
    page.locator("#title").fill("8 栋加装电梯申请")
    page.locator("#stage").select_option("application")
    page.locator("#questions").fill("是否同意 8 栋申请加装电梯？")
    page.locator("#scope").fill("8")
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    proposal_id = int(re.search(r"/staff/proposals/(\d+)", page.url).group(1))
    page.locator("form[action$='/open'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("11")
    screenshot(page, "staff-proposal-open")

    # Every household of building 8 hands in a paper ballot; then staff close early.
    for code in BUILDING_8:
        live.cli("votes", "record", str(proposal_id), code, "--answers", "1=agree",
                 "--channel", "paper", "--by", "wangmin")  # fmt: skip
    page.reload()
    page.locator("form[action$='/close'] input[name=confirm]").check()
    page.locator("form[action$='/close'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    assert live.proposal(proposal_id).status == "publicity"
    screenshot(page, "staff-proposal-closed")

    # The public page now shows the preliminary result for all 11 units, without names.
    public_id = live.proposal(proposal_id).public_id
    page.goto(f"/r/{public_id}")
    units = page.locator("#units tbody tr")
    expect(units).to_have_count(11)
    expect(page.locator("main")).not_to_contain_text("许霞军")
    context.close()
