"""The proposal lifecycle table (domain/lifecycle.py): every allowed and every refused change.

DOMAIN.md section 2 / CONTRACT.md: "draft → voting → counting → publicity → final →
confirmed → submitted → filed; cancelled; the hearing route's hearing status".
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from residents_vote.domain.lifecycle import (
    BALLOT_TRANSITIONS,
    TRANSITIONS,
    Action,
    BallotEvent,
    BallotStatus,
    Facts,
    Refused,
    Status,
    advance,
    allowed_actions,
    ballot_after,
    target,
)

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

# Facts under which every guard agrees.
PERMISSIVE = Facts(
    now=T0,
    closes_at=T0 - HOUR,
    voted=10,
    electorate=10,
    objection_ends_at=T0 - HOUR,
    open_objections=0,
    passed=True,
    signatures=3,
    signatures_required=2,
    outcome_recorded=True,
)

S, A = Status, Action

ALLOWED = [
    # (from, action, route, to)
    (S.DRAFT, A.OPEN, "vote", S.VOTING),
    (S.DRAFT, A.OPEN, "hearing", S.HEARING),
    (S.VOTING, A.STOP, "vote", S.COUNTING),
    (S.VOTING, A.PUBLISH, "vote", S.PUBLICITY),
    (S.COUNTING, A.PUBLISH, "vote", S.PUBLICITY),
    (S.HEARING, A.PUBLISH, "hearing", S.PUBLICITY),
    (S.PUBLICITY, A.FINALIZE, "vote", S.FINAL),
    (S.FINAL, A.CONFIRM, "vote", S.CONFIRMED),
    (S.CONFIRMED, A.SUBMIT, "vote", S.SUBMITTED),
    (S.SUBMITTED, A.ACCEPT, "vote", S.FILED),
    (S.SUBMITTED, A.RETURN, "vote", S.CONFIRMED),
    (S.CONFIRMED, A.FILE, "vote", S.FILED),
    (S.DRAFT, A.CANCEL, "vote", S.CANCELLED),
    (S.VOTING, A.CANCEL, "vote", S.CANCELLED),
    (S.HEARING, A.CANCEL, "hearing", S.CANCELLED),
]


@pytest.mark.parametrize(("current", "action", "route", "to"), ALLOWED)
def test_allowed_transition(current, action, route, to):
    facts = PERMISSIVE if action is not A.CANCEL else Facts(now=T0, closes_at=T0 + HOUR)
    facts = Facts(**{**facts.__dict__, "route": route})
    assert advance(current, action, facts) is to


def test_table_has_exactly_the_documented_rows():
    assert {(c, a) for c, a, _, _ in ALLOWED} == set(TRANSITIONS)


REFUSED = [
    (current, action)
    for current, action in itertools.product(Status, Action)
    if (current, action) not in TRANSITIONS
]


@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_every_other_transition_is_refused(current, action):
    with pytest.raises(Refused, match="cannot"):
        advance(current, action, PERMISSIVE)


def test_ended_statuses_allow_nothing():
    assert allowed_actions(S.FILED) == []
    assert allowed_actions(S.CANCELLED) == []


GUARDED = [
    # DOMAIN.md "Periods": closing early only when every household has voted.
    (S.VOTING, A.PUBLISH, {"closes_at": T0 + HOUR, "voted": 9}, "every household"),
    # Counting starts only once the announced close has passed.
    (S.VOTING, A.STOP, {"closes_at": T0 + HOUR}, "not passed"),
    # A vote that has closed is counted and published, not cancelled.
    (S.VOTING, A.CANCEL, {"closes_at": T0 - HOUR}, "already closed"),
    # A hearing result needs its outcome.
    (S.HEARING, A.PUBLISH, {"route": "hearing", "outcome_recorded": False}, "outcome"),
    # The final notice only after the posting period, with every objection answered.
    (S.PUBLICITY, A.FINALIZE, {"objection_ends_at": T0 + HOUR}, "not ended"),
    (S.PUBLICITY, A.FINALIZE, {"open_objections": 1}, "answer"),
    # DOMAIN.md section 6: a proposal that failed is not signed; K signatures needed.
    (S.FINAL, A.CONFIRM, {"passed": False}, "did not pass"),
    (S.FINAL, A.CONFIRM, {"signatures": 1}, "Not enough"),
    (S.CONFIRMED, A.SUBMIT, {"passed": False}, "not filed"),
    (S.CONFIRMED, A.FILE, {"passed": False}, "not filed"),
]


@pytest.mark.parametrize(("current", "action", "changes", "reason"), GUARDED)
def test_guard_refuses(current, action, changes, reason):
    facts = Facts(**{**PERMISSIVE.__dict__, **changes})
    with pytest.raises(Refused, match=reason):
        advance(current, action, facts)


def test_early_close_allowed_when_everyone_voted():
    facts = Facts(**{**PERMISSIVE.__dict__, "closes_at": T0 + HOUR, "voted": 10})
    assert advance(S.VOTING, A.PUBLISH, facts) is S.PUBLICITY


def test_target_accepts_plain_strings():
    assert target("draft", "open") is S.VOTING
    assert Status("counting") == "counting"


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError):
        target("archived", "open")


# --- Ballots (DOMAIN.md section 4: used by a vote, revoked when replaced, live again
# when the entry that used it was voided) ---

BALLOT_ALLOWED = [
    (BallotStatus.LIVE, BallotEvent.USE, BallotStatus.USED),
    (BallotStatus.LIVE, BallotEvent.REVOKE, BallotStatus.REVOKED),
    (BallotStatus.USED, BallotEvent.REVOKE, BallotStatus.REVOKED),
    (BallotStatus.USED, BallotEvent.RESTORE, BallotStatus.LIVE),
]


@pytest.mark.parametrize(("current", "event", "to"), BALLOT_ALLOWED)
def test_ballot_transition_allowed(current, event, to):
    assert ballot_after(current, event) == to.value


def test_ballot_table_is_exactly_the_documented_rows():
    assert {(c, e) for c, e, _ in BALLOT_ALLOWED} == set(BALLOT_TRANSITIONS)


@pytest.mark.parametrize(
    ("current", "event"),
    [
        (c, e)
        for c, e in itertools.product(BallotStatus, BallotEvent)
        if (c, e) not in BALLOT_TRANSITIONS
    ],
)
def test_every_other_ballot_change_is_refused(current, event):
    with pytest.raises(Refused, match="cannot be"):
        ballot_after(current, event)
