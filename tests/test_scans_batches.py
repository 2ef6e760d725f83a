"""Scan batches in the database: upload and read, record every ok page on one
confirmation (the page image becomes the ballot's scan), decide review pages, and an
upload made twice records nothing twice."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from sqlalchemy import func, select

from residents_vote.models import Attachment, AuditEvent, Community, ScanBatch, ScanPage, Vote
from residents_vote.services import audit_log, ballots, printing, privacy, proposals, scans
from residents_vote.services.errors import Conflict, Forbidden, Invalid
from tests import factories
from tests import scan_material as sm
from tests.helpers import read, write

DPI = 200


def print_ballots(app, proposal_id):
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        issued = ballots.issue(s, p, actor="test")
        shares = printing.share_texts(s, p)
        pdf = printing.ballots_pdf(s, p, issued, shares=shares)
        geo = printing.ballot_geometry(s, p, issued, shares=shares)
    return {i.code: (img, geo) for i, img in zip(issued, sm.render(pdf, DPI), strict=True)}


mark = partial(sm.marked, dpi=DPI)
as_pdf = partial(sm.pdf_of, dpi=DPI)


def store(app):
    return app.extensions["rv_db"].store


@pytest.fixture
def stack(app):
    """A 3-page scan: two clear signed ballots and one unsigned with a blank question."""
    world = factories.voting_world(app, issue=False)
    pages = print_ballots(app, world.proposal_id)
    blob = as_pdf(
        mark(pages["1-1-101"]),
        mark(pages["1-1-102"], {1: ("fill", "abstain"), 2: ("tick", "agree")}),
        mark(pages["2-1-201"], {1: ("blank",), 2: ("tick", "agree")}, signed=False),
    )
    return world, blob


def upload(app, world, blob, username="staff1"):
    with app.app_context():
        return scans.upload_batch(
            store(app), world.proposal_id, [("stack.pdf", blob)], username=username
        )


def votes(app, pid):
    with read(app) as s:
        return {
            (v.household_id, v.channel): {a.question_number: a.answer for a in v.answers}
            for v in s.scalars(select(Vote).where(Vote.proposal_id == pid))
        }


def test_upload_confirm_records_ok_pages_with_their_scans(app, stack):
    world, blob = stack
    batch = upload(app, world, blob)
    assert (batch.pages, batch.ok, batch.review, batch.existing) == (3, 2, 1, False)
    with read(app) as s:
        pages = s.scalars(select(ScanPage).order_by(ScanPage.number)).all()
        assert [p.household for p in pages] == ["1-1-101", "1-1-102", "2-1-201"]
        assert all(p.decision == "pending" and p.image.startswith(b"\x89PNG") for p in pages)
        assert set(scans.page_crops(pages[2])) >= {"q1", "signature"}
        assert scans.page_reasons(pages[2]) == ["blank", "unsigned"]
    with app.app_context():
        done = scans.record_ok_pages(store(app), batch.batch_id, username="staff1")
    assert (done.recorded, done.held) == (2, 0)
    got = votes(app, world.proposal_id)
    assert sorted(got.values(), key=str) == sorted(
        [{1: "agree", 2: "oppose"}, {1: "abstain", 2: "agree"}], key=str
    )
    assert all(channel == "paper" for _h, channel in got)
    with read(app) as s:
        scans_kept = s.scalars(select(Attachment).where(Attachment.kind == "ballot_scan")).all()
        assert len(scans_kept) == 2 and all(a.vote_id for a in scans_kept)
        assert all(a.content_type == "image/png" for a in scans_kept)
        recorded = s.scalars(select(ScanPage).where(ScanPage.decision == "recorded")).all()
        assert {p.vote_id for p in recorded} == {a.vote_id for a in scans_kept}
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = [e.action for e in events]
        assert actions.count("scans.record") == 2 and "scans.upload" in actions
        with app.test_request_context():
            said = [audit_log.describe(e) for e in events if e.action.startswith("scans.")]
        assert f"扫描批次 {batch.batch_id} 已识别：共 3 页，其中 2 页无疑问。" in said  # zh default
        assert f"扫描批次 {batch.batch_id} 第 1 页已录入为 1-1-101 的纸质表决票。" in said
    # confirming again records nothing more
    with app.app_context():
        again = scans.record_ok_pages(store(app), batch.batch_id, username="staff1")
    assert (again.recorded, again.held) == (0, 0)
    assert len(votes(app, world.proposal_id)) == 2


def test_the_same_upload_again_is_the_same_batch(app, stack):
    world, blob = stack
    first = upload(app, world, blob)
    with app.app_context():
        scans.record_ok_pages(store(app), first.batch_id, username="staff1")
    second = upload(app, world, blob)
    assert second.batch_id == first.batch_id and second.existing
    with app.app_context():
        again = scans.record_ok_pages(store(app), second.batch_id, username="staff1")
    assert again.recorded == 0
    with read(app) as s:
        assert s.scalar(select(func.count()).select_from(ScanBatch)) == 1
        assert s.scalar(select(func.count()).select_from(ScanPage)) == 3
    assert len(votes(app, world.proposal_id)) == 2


def test_a_household_that_voted_since_the_reading_is_held_for_review(app, stack):
    world, blob = stack
    batch = upload(app, world, blob)
    factories.cast(app, world.proposal_id, "1-1-101", {1: "oppose", 2: "oppose"})
    with app.app_context():
        done = scans.record_ok_pages(store(app), batch.batch_id, username="staff1")
    assert (done.recorded, done.held) == (1, 1)
    with read(app) as s:
        page = s.scalar(select(ScanPage).where(ScanPage.household == "1-1-101"))
        assert (page.status, page.decision) == ("review", "pending")
        assert scans.page_reasons(page) == ["already-voted"]
        with app.app_context(), pytest.raises(Conflict):
            scans.decide_page(
                store(app), page.id, username="staff1", answers={1: "agree", 2: "agree"}
            )


def test_a_review_page_is_recorded_with_the_staff_answers_or_rejected(app, stack):
    world, blob = stack
    batch = upload(app, world, blob)
    with read(app) as s:
        page_id = s.scalar(select(ScanPage.id).where(ScanPage.household == "2-1-201"))
    with app.app_context():
        with pytest.raises(Invalid):  # every question needs an answer
            scans.decide_page(store(app), page_id, username="staff1", answers={2: "agree"})
        assert (
            scans.decide_page(
                store(app), page_id, username="staff1", answers={1: "abstain", 2: "agree"}
            )
            == "recorded"
        )
        with pytest.raises(Conflict):
            scans.decide_page(store(app), page_id, username="staff1", reject=True)
    assert {1: "abstain", 2: "agree"} in votes(app, world.proposal_id).values()
    with read(app) as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Attachment).where(Attachment.kind == "ballot_scan")
            )
            == 1
        )
    # a second batch with a white page: nothing to record, only reject
    white = as_pdf(np.full((2300, 1650), 255, np.uint8))
    with app.app_context():
        other = scans.upload_batch(
            store(app), world.proposal_id, [("w.pdf", white)], username="staff1"
        )
    with read(app) as s:
        white_id = s.scalar(select(ScanPage.id).where(ScanPage.batch_id == other.batch_id))
    with app.app_context():
        with pytest.raises(Invalid):
            scans.decide_page(
                store(app), white_id, username="staff1", answers={1: "agree", 2: "agree"}
            )
        assert scans.decide_page(store(app), white_id, username="staff1", reject=True) == "rejected"
    assert batch.batch_id != other.batch_id


def test_staff_of_another_community_may_not_upload(app, stack):
    world, blob = stack
    factories.community(app, "other")
    factories.staff_user(app, "stranger", ("other",))
    with pytest.raises(Forbidden):
        upload(app, world, blob, username="stranger")


def test_while_counting_a_page_counts_as_received_at_its_upload(app):
    world = factories.voting_world(app, issue=False)
    pages = print_ballots(app, world.proposal_id)
    blob = as_pdf(mark(pages["1-1-101"]))
    batch = upload(app, world, blob)
    later = factories.ahead(days=15)  # the vote closed since the upload
    with app.app_context():
        done = scans.record_ok_pages(store(app), batch.batch_id, username="staff1", now=later)
    assert done.recorded == 1
    with read(app) as s:
        vote = s.scalar(select(Vote))
        uploaded = s.scalar(select(ScanBatch.created_at))
        assert vote.received_at == uploaded


def test_a_privacy_purge_removes_the_scanned_page_images(app, runner):
    factories.signing_community(app)
    pid = factories.final_proposal(app, at=factories.ago(days=400))
    png = sm.png(np.full((40, 30), 255, np.uint8))
    with write(app) as s:
        s.add(
            ScanBatch(
                proposal_id=pid,
                sha256="1" * 64,
                pages=[
                    ScanPage(
                        number=1, status="review", reasons="[]", image=png, crops='{"q1": "AA=="}'
                    )
                ],
            )
        )
    with read(app) as s:
        community = s.scalar(select(Community))
        assert privacy.personal_data_left(s, community) > 0
    result = runner.invoke(args=["privacy", "purge", community.slug])
    assert result.exit_code == 0, result.output
    with read(app) as s:
        page = s.scalar(select(ScanPage))
        assert page.image is None and page.crops == "{}"
        assert privacy.personal_data_left(s, s.scalar(select(Community))) == 0
