"""Issue 13 item 7: the vote path's statements run on SQLite's own cursor
(services/prepared.py) read and write exactly what the same statements do through Core."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, insert, select

from residents_vote.models import AuditEvent, Ballot, Community, Vote
from residents_vote.services import audit, ballots, prepared, vote_path, voting
from tests import factories
from tests.helpers import read

AGREE_OPPOSE = {"q1": "agree", "q2": "oppose", "confirm": "yes"}


@pytest.fixture
def world(app):
    return factories.voting_world(app)


def engine(app):
    return app.extensions["rv_db"].engine


@contextlib.contextmanager
def through_core(app):
    """Watch the engine's statements: a watched connection always takes the Core path."""
    seen: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):  # noqa: ARG001
        seen.append(statement)

    event.listen(engine(app), "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine(app), "before_cursor_execute", before)


def test_a_ballot_row_is_the_same_through_both_paths(app, world):
    for token in world.tokens.values():
        token_hash = ballots.hash_token(token)
        with engine(app).connect() as conn:
            fast = vote_path.ballot_row(conn, token_hash)
        with through_core(app) as seen, engine(app).connect() as conn:
            core = vote_path.ballot_row(conn, token_hash)
        assert seen, "the watched connection ran its statement through Core"
        assert fast == core
        assert fast.closes_at.tzinfo is not None and isinstance(fast.has_plan, bool)


def test_a_vote_written_on_the_cursor_is_the_vote_core_writes(app, world):
    store = app.extensions["rv_db"].store
    fast_token, core_token = world.tokens["1-1-101"], world.tokens["1-1-102"]
    assert voting.submit_ballot(store, fast_token, AGREE_OPPOSE).outcome == voting.RECORDED
    with through_core(app) as seen:
        assert voting.submit_ballot(store, core_token, AGREE_OPPOSE).outcome == voting.RECORDED
    assert any(s.lstrip().upper().startswith("INSERT INTO VOTE ") for s in seen), seen
    with read(app) as s:
        votes = s.scalars(select(Vote).order_by(Vote.id)).all()
        assert [v.channel for v in votes] == ["online", "online"]
        for v in votes:
            assert v.cast_at.tzinfo is not None and v.received_at == v.cast_at
            assert {a.question_number: a.answer for a in v.answers} == {1: "agree", 2: "oppose"}
        used = s.scalars(select(Ballot.status).where(Ballot.id.in_([v.ballot_id for v in votes])))
        assert set(used) == {"used"}
        cast = s.scalars(select(AuditEvent).where(AuditEvent.action == "vote.cast")).all()
        assert [e.subject for e in cast] == ["1-1-101", "1-1-102"]
        assert audit.verify(s).ok  # the chain, and each vote against its event


def test_a_statement_with_a_python_default_goes_through_core(app, world):
    # community.created_at has a Python-side default: only Core computes it
    statement = prepared.Prepared(insert(Community.__table__))
    with engine(app).begin() as conn:
        conn.info["settings"] = app.extensions["rv_db"].store.settings
        new_id = statement.write(
            conn, {"slug": "prepared-test", "name": "x", "signatory": "owner-committee"}
        ).lastrowid
    assert statement._compiled.get(("name", "signatory", "slug")) is None  # Core was chosen
    with read(app) as s:
        assert s.get(Community, new_id).created_at is not None


def test_an_update_that_matches_nothing_changes_nothing(app, world):
    with engine(app).begin() as conn:
        assert vote_path.BALLOT_USED.write(conn, {"ballot_id": 10**9}).rowcount == 0
