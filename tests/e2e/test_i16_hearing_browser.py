"""Issue 16 item 1 in a real browser: the hearing route from the draft to the signature.

Staff draft a hearing on the form, post the hearing notice (the page warns: fewer than 5
days remain), print the sign-in sheet (every household, read back with pypdf), record the
attendance, conclude with the signed minutes, enter and answer an objection, finalize;
a committee member signs and the application is confirmed. Screens at 390×844.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from residents_vote import db as dbmod
from residents_vote.models import Proposal

from .browser import PASSWORD, TINY_REGISTER, community_with_register, screenshot

pytestmark = pytest.mark.browser

MINUTES = b"%PDF-1.4\n% signed minutes of the hearing\n%%EOF\n"


def _set(live, proposal_id: int, **values) -> None:
    """A test's stand-in for waiting: move a stored time directly."""
    with dbmod.write_session(live.app.extensions["rv_db"].factory) as s:
        s.execute(update(Proposal).where(Proposal.id == proposal_id).values(**values))


def _login(context, username: str):
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def _phone(browser, live):
    return browser.new_context(
        base_url=live.url, viewport={"width": 390, "height": 844}, locale="zh-CN"
    )


def test_a_hearing_from_the_draft_to_the_signature(browser, live):
    slug = "hearing1"
    work = community_with_register(live, slug, "和平里小区")
    live.cli("user", "create", "hstaff", "--role", "staff", "--community", slug,
             input=PASSWORD + "\n")  # fmt: skip
    live.cli("user", "create", "hsign", "--role", "committee", "--community", slug,
             input=PASSWORD + "\n")  # fmt: skip
    codes = [f"{b}-{u}-{r}" for b, u, r, *_ in TINY_REGISTER]

    context = _phone(browser, live)
    page = _login(context, "hstaff")
    page.goto(f"/staff/c/{slug}/proposals/new")
    page.locator("#title").fill("和平里小区申请老旧小区改造")
    page.locator("#stage").select_option("application")
    page.locator("#route").select_option("hearing")
    when = (dt.datetime.now() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#hearing_at").fill(when)
    page.locator("#place").fill("和平里社区居委会会议室")
    page.locator("#agenda").fill("一、介绍改造政策；二、听取居民意见；三、形成统一意见")
    screenshot(page, "i16-hearing-form")
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    proposal_id = int(re.search(r"/staff/proposals/(\d+)", page.url).group(1))
    expect(page.locator("p.problem[role=alert]")).to_be_visible()  # fewer than 5 days
    page.locator("form[action$='/open'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("3")
    assert live.proposal(proposal_id).status == "hearing"
    expect(page.locator("#short-notice")).to_be_visible()
    expect(page.locator("#few-attended")).to_have_count(0)  # nobody recorded yet
    screenshot(page, "i16-hearing-staff-open")

    # The sign-in sheet: one row per household of the electorate.
    sheet = page.request.get(f"/staff/proposals/{proposal_id}/hearing/sheet.pdf")
    assert sheet.status == 200 and sheet.body().startswith(b"%PDF")
    (work / "sheet.pdf").write_bytes(sheet.body())
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(sheet.body())).pages
    text = "".join(p.extract_text() for p in pages).replace("\x00", "")
    for code in codes:
        assert code in text, code

    # Attendance by household code, one with a proxy.
    page.locator("#h-households").fill(codes[0])
    page.locator("form[action$='/hearing/attend'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("#few-attended")).to_be_visible()  # 1 of 3: a warning, not a block
    page.locator("#h-households").fill(codes[1])
    page.locator("form[action$='/hearing/attend'] button[type=submit]").click()
    expect(page.locator("#few-attended")).to_have_count(0)
    page.locator("#h-households").fill(codes[2])
    page.locator("#h-proxy").fill("赵代理")
    page.locator("form[action$='/hearing/attend'] button[type=submit]").click()
    expect(page.locator("#attendance")).to_contain_text("3")

    # The hearing took place: conclude with the signed minutes.
    _set(live, proposal_id, hearing_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    page.reload()
    minutes = work / "minutes.pdf"
    minutes.write_bytes(MINUTES)
    page.locator("#h-outcome").select_option("agreed")
    page.locator("#h-minutes").set_input_files(minutes)
    page.locator("#h-summary").fill("与会居民一致同意申请老旧小区改造。")
    page.locator("form[action$='/hearing/conclude'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    assert live.proposal(proposal_id).status == "publicity"
    public_id = live.proposal(proposal_id).public_id

    # An objection handed in at the office, then answered.
    page.locator("#o-name").fill("李建国")
    page.locator("#o-household").fill(codes[1])
    page.locator("#o-text").fill("我户未收到听评会通知。")
    page.locator("form[action$='/objections'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    page.locator("textarea[name=answer]").fill("通知已于公告栏张贴并入户送达。")
    page.locator("form[action*='/objections/'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    screenshot(page, "i16-hearing-staff-publicity")

    # The public posting: attendance and outcome, no names.
    public = context.new_page()
    public.goto(f"/r/{public_id}")
    expect(public.locator("#attendance")).to_contain_text("3")
    expect(public.locator("#units tbody tr")).to_have_count(3)
    expect(public.locator("main")).not_to_contain_text("赵代理")
    expect(public.locator("main")).not_to_contain_text("张秀英")
    screenshot(public, "i16-hearing-public-posting")
    data = public.request.get(f"/r/{public_id}.json").json()
    assert data["route"] == "hearing" and data["outcome"] == "agreed"
    assert data["attendance"]["households"] == 3

    # The objection period ends; finalize.
    _set(live, proposal_id, objection_ends_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    page.reload()
    page.locator("form[action$='/finalize'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    assert live.proposal(proposal_id).status == "final"
    final = page.request.get(f"/r/{public_id}/final.pdf")
    assert final.status == 200
    (work / "final.pdf").write_bytes(final.body())
    context.close()

    # The committee member signs: the application is confirmed.
    committee = _phone(browser, live)
    sign = _login(committee, "hsign")
    sign.goto(f"/committee/proposals/{proposal_id}")
    sign.locator("#sign-password").fill(PASSWORD)
    sign.locator(f"form[action$='/proposals/{proposal_id}/sign'] button[type=submit]").click()
    screenshot(sign, "i16-hearing-signed")
    assert live.proposal(proposal_id).status == "confirmed"
    committee.close()
