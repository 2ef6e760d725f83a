"""Issue 13 item 7: the resident's vote path as use cases on Core statements.

The use cases (voting.ballot_page, voting.submit_ballot) return plain values; the fast
path checks outside the write lock and records in a short transaction, falling back to
the careful path when anything changed in between; the audit append in Core writes the
same hash chain as the ORM one.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Ballot, Vote
from residents_vote.services import audit, ballots, proposals, vote_path, voting
from tests import factories
from tests.helpers import count, read, write

BOTH_AGREE = {"q1": "agree", "q2": "agree", "confirm": "yes"}


@pytest.fixture
def world(app):
    return factories.voting_world(app)


def store(app):
    return app.extensions["rv_db"].store


def token_of(world, household: str) -> str:
    return world.tokens[household]


def test_the_page_is_plain_values(app, world):
    page = voting.ballot_page(store(app), token_of(world, "1-1-101"))
    assert page.phase == "open" and page.vote is None and page.receipt == ""
    assert page.entry.code == "1-1-101"
    assert [q.number for q in page.proposal.questions] == [1, 2]
    for value in (page, page.proposal, page.community, page.entry):
        assert dataclasses.is_dataclass(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.title = "x"  # type: ignore[misc]


def test_unknown_and_replaced_tokens_are_ballot_refusals(app, world):
    with pytest.raises(voting.UnknownBallot) as unknown:
        voting.ballot_page(store(app), "no-such-token-xxxxxxxx")
    assert unknown.value.status == 404
    with write(app) as s:
        proposal = proposals.lock(s, world.proposal_id)
        ballots.reissue(s, proposal, ["1-1-101"], actor="test")
    with pytest.raises(voting.ReplacedBallot) as gone:
        voting.submit_ballot(store(app), token_of(world, "1-1-101"), BOTH_AGREE)
    assert gone.value.status == 410
    assert count(app, Vote) == 0


def test_a_confirmed_vote_is_recorded_with_its_audit_event(app, world):
    token = token_of(world, "1-1-101")
    done = voting.submit_ballot(store(app), token, BOTH_AGREE)
    assert done.outcome == voting.RECORDED and done.page is None
    again = voting.submit_ballot(store(app), token, BOTH_AGREE)
    assert again.outcome == voting.ALREADY_VOTED
    assert [a.answer for a in again.page.vote.answers] == ["agree", "agree"]
    with read(app) as s:
        ballot = s.scalar(select(Ballot).where(Ballot.token_hash == ballots.hash_token(token)))
        assert ballot.status == "used"
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.cast"))
        assert event.subject == "1-1-101" and event.actor == "household 1-1-101"
        result = audit.verify(s)
    assert result.ok, result.problem
    assert result.votes == 1


def test_the_core_append_continues_the_orm_chain(app, world):
    """ORM events, then a Core vote event, then ORM again: one unbroken chain."""
    voting.submit_ballot(store(app), token_of(world, "1-1-101"), BOTH_AGREE)
    factories.cast(app, world.proposal_id, "1-1-102", by=world.staff)
    voting.submit_ballot(store(app), token_of(world, "2-1-201"), BOTH_AGREE)
    with read(app) as s:
        result = audit.verify(s)
    assert result.ok, result.problem
    assert result.votes == 3


def test_a_ballot_revoked_after_the_read_records_nothing(app, world):
    """The fast path's write re-checks: a stale row (ballot revoked meanwhile) writes
    nothing and lets the careful path decide."""
    token = token_of(world, "1-1-101")
    with store(app).connect() as conn:
        row = vote_path.ballot_row(conn, ballots.hash_token(token))
    with write(app) as s:
        ballots.reissue(s, proposals.lock(s, world.proposal_id), ["1-1-101"], actor="test")
    assert voting._record_fast(store(app), row, {1: "agree", 2: "agree"}) is False
    assert count(app, Vote) == 0
    with read(app) as s:
        assert not s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.cast"))


def test_a_vote_cancelled_after_the_read_records_nothing(app, world):
    token = token_of(world, "1-1-101")
    with store(app).connect() as conn:
        row = vote_path.ballot_row(conn, ballots.hash_token(token))
    with write(app) as s:
        proposals.cancel(s, proposals.lock(s, world.proposal_id), "wrong plan", actor="test")
    assert voting._record_fast(store(app), row, {1: "agree", 2: "agree"}) is False
    done = voting.submit_ballot(store(app), token, BOTH_AGREE)
    assert done.outcome == voting.CLOSED and done.page.phase == "cancelled"
    assert count(app, Vote) == 0


@pytest.mark.parametrize(
    ("form", "outcome", "errors"),
    [
        ({"q1": "agree"}, voting.UNANSWERED, (2,)),
        ({"q1": "agree", "q2": "maybe", "confirm": "yes"}, voting.UNANSWERED, (2,)),
        ({"q1": "agree", "q2": "oppose", "edit": "1"}, voting.EDIT, ()),
        ({"q1": "agree", "q2": "oppose"}, voting.CONFIRM, ()),
    ],
)
def test_each_step_before_the_vote_records_nothing(app, world, form, outcome, errors):
    done = voting.submit_ballot(store(app), token_of(world, "1-1-101"), form)
    assert done.outcome == outcome
    assert done.errors == errors
    assert done.page is not None and done.page.vote is None
    assert count(app, Vote) == 0


def test_questions_are_kept_once_read(app, world):
    kept = store(app).frozen
    page = voting.ballot_page(store(app), token_of(world, "1-1-101"))
    expected = tuple((q.number, q.text) for q in page.proposal.questions)
    assert expected == tuple((n, t) for n, t in zip((1, 2), factories.QUESTIONS, strict=True))
    assert kept[("questions", world.proposal_id)] == expected
