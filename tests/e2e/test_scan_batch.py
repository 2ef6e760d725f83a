"""Returned paper ballots through the office scanner, on a real browser.

The app prints the ballots of a six-household vote; the test marks them (pen ticks,
crosses, filled boxes; one page with two boxes ticked on a question, one unsigned) and
"scans" them into one multi-page PDF. Staff log in, upload it, see every page's reading
on the batch page, record the four `ok` pages with the one confirmation, record the
page with two marks after deciding its question and reject the unsigned one. The
database then holds five paper votes, each with its page kept as the vote's scan and
audited with the batch; uploading the same PDF again records nothing twice.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from residents_vote.models import Attachment, AuditEvent, ScanPage, Vote
from residents_vote.services import ballots, printing, proposals
from tests import scan_material as sm

from .browser import OFFICE, PASSWORD, screenshot

pytestmark = pytest.mark.browser

DPI = 200
ROWS = [("5", "1", str(room), f"{80 + room % 7}.25") for room in (101, 102, 201, 202, 301, 302)]
PLANS = [
    ({1: ("tick", "agree"), 2: ("cross", "oppose")}, True),
    ({1: ("fill", "agree"), 2: ("tick", "agree")}, True),
    ({1: ("cross", "oppose"), 2: ("tick", "abstain")}, True),
    ({1: ("tick", "agree"), 2: ("fill", "agree")}, True),
    ({1: ("two", "agree", "oppose"), 2: ("tick", "agree")}, True),  # a person decides q1
    ({1: ("tick", "agree"), 2: ("tick", "agree")}, False),  # unsigned: rejected
]


def _vote_with_printed_ballots(live, tmp_path) -> tuple[int, bytes]:
    live.cli("community", "create", "scan1", "--name", "幸福里小区五期", "--office", OFFICE)
    live.cli("user", "create", "zhaoli", "--role", "staff", "--community", "scan1",
             input=PASSWORD + "\n")  # fmt: skip
    register = tmp_path / "register.csv"
    lines = ["building,unit,room,area,owner_name,phone"]
    lines += [f"{b},{u},{r},{a},业主{i},1380000{i:04d}" for i, (b, u, r, a) in enumerate(ROWS)]
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")
    live.cli("households", "import", "scan1", str(register))
    out = live.cli("proposal", "create", "scan1", "--title", "5 栋楼道整治方案表决",
                   "--stage", "design", "--question", "是否同意 5 栋楼道整治方案？",
                   "--question", "是否同意按面积分摊费用？")  # fmt: skip
    proposal_id = int(out.strip().splitlines()[-1])
    live.cli("proposal", "open", str(proposal_id))
    factory = live.app.extensions["rv_db"].factory
    from residents_vote import db as dbmod

    with live.app.app_context(), dbmod.write_session(factory) as s:
        p = proposals.lock(s, proposal_id)
        issued = ballots.issue(s, p, actor="test")
        pdf = printing.ballots_pdf(s, p, issued)
        geometry = printing.ballot_geometry(s, p, issued)
    return proposal_id, sm.scanned_batch(pdf, geometry, DPI, PLANS, seed=11)


def _upload(page, proposal_id: int, path) -> None:
    page.goto(f"/staff/proposals/{proposal_id}")
    page.locator("#scan-files").set_input_files(path)
    page.locator("form[action$='/scans/upload'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/scans/\d+$"))


def test_staff_upload_a_scanned_batch_record_and_review(browser, live, tmp_path):
    proposal_id, blob = _vote_with_printed_ballots(live, tmp_path)
    stack = tmp_path / "scanner-batch.pdf"
    stack.write_bytes(blob)

    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.locator("#username").fill("zhaoli")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))

    _upload(page, proposal_id, stack)
    batch_url = page.url
    expect(page.locator(".flash.ok")).to_contain_text("6")
    rows = page.locator("tr[id^=page-]")
    expect(rows).to_have_count(6)
    for n in (1, 2, 3, 4):
        expect(page.locator(f"#page-{n} .problem")).to_have_count(0)
    expect(page.locator("#page-5 .problem")).to_be_visible()
    expect(page.locator("#page-5 img[src*='/crops/q1']")).to_have_count(1)
    expect(page.locator("#page-6 .problem")).to_be_visible()
    screenshot(page, "staff-scan-batch-desktop")

    # one confirmation records the four ok pages
    page.locator("form[action$='/record'] button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("4")
    expect(page.locator("form[action$='/record']")).to_have_count(0)

    # the page with two marks on question 1: the person reads it as "agree" and records it
    form = page.locator("#page-5 form[action$='/decide']")
    form.locator("label.choice:has(input[name=q1][value=agree])").click()
    expect(form.locator("input[name=q2][value=agree]")).to_be_checked()  # read from the page
    form.locator("button[type=submit]:not([name=reject])").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    # the unsigned page is rejected
    page.locator("#page-6 form[action$='/decide'] button[name=reject]").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("form[action$='/decide']")).to_have_count(0)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "staff-scan-batch-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    screenshot(page, "staff-scan-batch-decided")

    factory = live.app.extensions["rv_db"].factory
    with factory() as s:
        votes = s.scalars(select(Vote).where(Vote.proposal_id == proposal_id)).all()
        assert len(votes) == 5 and {v.channel for v in votes} == {"paper"}
        pages = s.scalars(select(ScanPage).order_by(ScanPage.number)).all()
        assert [p.decision for p in pages] == ["recorded"] * 5 + ["rejected"]
        q1 = {
            p.number: {a.question_number: a.answer for a in s.get(Vote, p.vote_id).answers}
            for p in pages[:5]
        }
        assert q1 == {
            1: {1: "agree", 2: "oppose"},
            2: {1: "agree", 2: "agree"},
            3: {1: "oppose", 2: "abstain"},
            4: {1: "agree", 2: "agree"},
            5: {1: "agree", 2: "agree"},
        }
        for p in pages[:5]:
            scan = s.scalar(select(Attachment).where(Attachment.vote_id == p.vote_id))
            assert scan is not None and scan.kind == "ballot_scan"
            assert scan.data == p.image and scan.data.startswith(b"\x89PNG")
        recorded = s.scalars(select(AuditEvent).where(AuditEvent.action == "scans.record")).all()
        assert sorted(json.loads(e.data)["page"] for e in recorded) == [1, 2, 3, 4, 5]
        assert {json.loads(e.data)["batch"] for e in recorded} == {pages[0].batch_id}
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "scans.reject")
            )
            == 1
        )

    # the same PDF again: the same batch, nothing recorded twice
    _upload(page, proposal_id, stack)
    assert page.url == batch_url
    expect(page.locator("form[action$='/record'], form[action$='/decide']")).to_have_count(0)
    with factory() as s:
        count = select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id)
        assert s.scalar(count) == 5
        scans = (
            select(func.count())
            .select_from(Attachment)
            .where(Attachment.proposal_id == proposal_id, Attachment.kind == "ballot_scan")
        )
        assert s.scalar(scans) == 5  # the live app is shared: count this proposal's only
    context.close()
