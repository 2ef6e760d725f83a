"""Issue 13, slice A: proposal, ballot and result writes are use cases that open and
commit their own transaction (services/unit.Store) and return plain values."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from residents_vote.models import Attachment, AuditEvent, Ballot, Proposal
from residents_vote.services import (
    attachments,
    costs,
    notices,
    printing,
    proposals,
    results,
)
from residents_vote.services.errors import Conflict, Invalid, ServiceError
from tests import factories
from tests.helpers import count, read

PDF = b"%PDF-1.4\n%plan\n"


def _store(app):
    return app.extensions["rv_db"].store


def _status(app, proposal_id: int) -> str:
    with read(app) as s:
        return s.get(Proposal, proposal_id).status


def test_stop_if_due_moves_a_closed_vote_to_counting_once(app):
    factories.community(app)
    pid = factories.proposal(
        app,
        opened_at=factories.ago(days=2),
        starts=factories.ago(days=2),
        closes=factories.ago(hours=1),
    )
    with read(app) as s:
        assert proposals.due_to_stop(s.get(Proposal, pid))
    assert proposals.stop_if_due(_store(app), pid) is True
    assert _status(app, pid) == "counting"
    assert proposals.stop_if_due(_store(app), pid) is False
    with read(app) as s:
        assert not proposals.due_to_stop(s.get(Proposal, pid))
        events = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "proposal.counting")
        ).all()
    assert events == ["proposal.counting"]


def test_stop_if_due_leaves_an_open_vote_alone(app):
    world = factories.voting_world(app)
    assert proposals.stop_if_due(_store(app), world.proposal_id) is False
    assert _status(app, world.proposal_id) == "voting"


def test_extend_without_a_time_is_refused_and_writes_nothing(app):
    world = factories.voting_world(app)
    before = count(app, AuditEvent)
    with pytest.raises(ServiceError, match="Give the new closing time"):
        proposals.extend_voting(_store(app), world.proposal_id, "  ", actor="t")
    assert count(app, AuditEvent) == before


def test_extend_returns_the_new_closing_time(app):
    world = factories.voting_world(app)
    extended = proposals.extend_voting(
        _store(app), world.proposal_id, "2099-01-02T10:00", actor="t"
    )
    assert extended.closes_text == "2099-01-02 10:00"
    with read(app) as s:
        assert s.get(Proposal, world.proposal_id).notice_revision == 2


def test_cancel_vote_needs_a_reason(app):
    world = factories.voting_world(app)
    with pytest.raises(Invalid):
        proposals.cancel_vote(_store(app), world.proposal_id, " ", actor="t")
    proposals.cancel_vote(_store(app), world.proposal_id, "wrong register", actor="t")
    assert _status(app, world.proposal_id) == "cancelled"


def test_issue_ballots_rolls_back_when_the_caller_cannot_take_the_files(app):
    pid = factories.voting_world(app, issue=False).proposal_id

    def refuse(printed: printing.Printed) -> None:
        assert printed.count == 3 and printed.pdf.startswith(b"%PDF")
        raise OSError("disk full")

    with app.app_context(), pytest.raises(OSError):
        printing.issue_ballots(_store(app), pid, mode="new", actor="t", before_commit=refuse)
    assert count(app, Ballot, Ballot.proposal_id == pid) == 0
    with app.app_context():
        printed = printing.issue_ballots(_store(app), pid, mode="new", links=True, actor="t")
        assert printed.count == 3
        assert printed.links.decode().splitlines()[0] == "household,serial,url"
        assert printing.issue_ballots(_store(app), pid, mode="new", actor="t") is None


def test_reissue_by_household_needs_codes(app):
    world = factories.voting_world(app)
    with pytest.raises(ServiceError, match="Give the household codes"):
        printing.issue_ballots(_store(app), world.proposal_id, mode="households", actor="t")


def test_upload_is_accepted_by_its_content_not_its_name(app):
    assert attachments.accept("plan.pdf", PDF).content_type == "application/pdf"
    with pytest.raises(ServiceError, match="Only PDF, JPEG or PNG"):
        attachments.accept("plan.pdf", b"MZ\x90\x00")
    with pytest.raises(ServiceError, match="too large"):
        attachments.accept("big.pdf", b"%PDF" + b"0" * attachments.MAX_UPLOAD)
    with pytest.raises(ServiceError, match="Only PDF"):
        attachments.accept("photo.png", b"\x89PNG....", ("application/pdf",))


def test_save_plan_only_on_a_draft_and_audits_the_file(app):
    factories.community(app)
    factories.staff_user(app)
    draft = factories.proposal(app, open_vote=False)
    with app.app_context():
        costs.save_plan(_store(app), draft, plan=("plan.pdf", PDF), items=None, username="staff1")
    with read(app) as s:
        kept = s.scalars(select(Attachment).where(Attachment.proposal_id == draft)).all()
        assert [(a.kind, a.uploaded_by_id is not None) for a in kept] == [("plan", True)]
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.upload"))
    opened = factories.proposal(app)
    with pytest.raises(ServiceError, match="Only a draft can be edited"):
        costs.save_plan(_store(app), opened, plan=("plan.pdf", PDF), items=None, username="staff1")
    assert count(app, Attachment, Attachment.proposal_id == opened) == 0


def test_posting_with_photo_is_one_transaction(app):
    world = factories.voting_world(app)
    photo = attachments.accept("p.png", b"\x89PNG\r\n\x1a\n")
    with pytest.raises(Invalid):  # a bad posting keeps no photo either
        notices.record_posting_as(
            _store(app),
            world.proposal_id,
            stage="notice",
            place="",
            posted_at="2020-01-01T10:00",
            username=world.staff,
            photo=photo,
        )
    assert count(app, Attachment) == 0
    with read(app) as s:
        opened = s.get(Proposal, world.proposal_id).opened_at
    posting_id = notices.record_posting_as(
        _store(app),
        world.proposal_id,
        stage="notice",
        place="Building 1 door",
        posted_at=opened.isoformat(),
        username=world.staff,
        photo=photo,
    )
    with read(app) as s:
        proposal_id, kept = notices.posting_photo(s, posting_id)
        assert proposal_id == world.proposal_id and kept.kind == "notice_photo"
        page = notices.postings_page(s, s.get(Proposal, world.proposal_id))
        assert [p.id for p in page.rows] == [posting_id]
        assert set(page.recorders.values()) == {world.staff}


def test_close_and_finalize_return_plain_results(app):
    world = factories.voting_world(app)
    for household in world.tokens:
        factories.cast(app, world.proposal_id, household)
    with app.app_context():
        closed = results.publish_preliminary(_store(app), world.proposal_id, actor="t")
        assert (closed.revision, bool(closed.objections_until_text)) == (1, True)
        with pytest.raises(Conflict, match="objection period ends"):
            results.finalize_result(_store(app), world.proposal_id, actor="t")
        data = results.live_tally(_store(app), world.proposal_id)
    assert data["proposal"]["status"] == "publicity"


def test_live_tally_refuses_a_draft(app):
    factories.community(app)
    draft = factories.proposal(app, open_vote=False)
    with pytest.raises(Invalid, match="is a draft"):
        results.live_tally(_store(app), draft)
