"""The filing inbox's rows of the lifecycle table (issue 16): submit, accept, return, and
what stays refused around them."""

from __future__ import annotations

import datetime as dt

import pytest

from residents_vote.domain.lifecycle import Action, Facts, Refused, Status, advance

S, A = Status, Action
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
PASSED = Facts(now=NOW, passed=True)


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (S.CONFIRMED, A.SUBMIT, S.SUBMITTED),
        (S.SUBMITTED, A.ACCEPT, S.FILED),
        (S.SUBMITTED, A.RETURN, S.CONFIRMED),
        (S.CONFIRMED, A.FILE, S.FILED),  # a community without a district, by hand
    ],
)
def test_inbox_transitions(start, action, end):
    assert advance(start, action, PASSED) is end


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (S.SUBMITTED, A.SUBMIT),  # already in the inbox
        (S.SUBMITTED, A.FILE),  # the district decides, not staff
        (S.CONFIRMED, A.ACCEPT),  # nothing submitted
        (S.CONFIRMED, A.RETURN),
        (S.FILED, A.RETURN),  # an accepted filing stays filed
        (S.FILED, A.SUBMIT),
        (S.FINAL, A.SUBMIT),  # not signed yet
        (S.SUBMITTED, A.CANCEL),
    ],
)
def test_refused_around_the_inbox(start, action):
    with pytest.raises(Refused):
        advance(start, action, PASSED)


def test_a_failed_proposal_is_never_submitted():
    with pytest.raises(Refused, match="not filed"):
        advance(S.CONFIRMED, A.SUBMIT, Facts(now=NOW, passed=False))


def test_return_then_resubmit_then_accept():
    status = S.CONFIRMED
    for action in (A.SUBMIT, A.RETURN, A.SUBMIT, A.ACCEPT):
        status = advance(status, action, PASSED)
    assert status is S.FILED


@pytest.mark.parametrize(
    ("action", "after"), [(Action.ACCEPT, "accepted"), (Action.RETURN, "returned")]
)
def test_a_waiting_inbox_item_is_decided_once(action, after):
    from residents_vote.domain.lifecycle import inbox_item_after

    assert inbox_item_after("waiting", action) == after
    for decided in ("accepted", "returned"):
        with pytest.raises(Refused):
            inbox_item_after(decided, action)
    with pytest.raises(Refused):
        inbox_item_after("waiting", Action.SUBMIT)
