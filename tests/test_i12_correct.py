"""Issue 12 item 4: a vote cast online belongs to the household.

Staff correct a data-entry error in a paper or proxy entry only, while the vote is
`voting` or `counting` (before the preliminary result): on the staff page an online vote
answers 409 and on the command line `votes correct` exits 1, and nothing changes.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Proposal, Vote
from residents_vote.services import proposals
from tests import factories
from tests.factories import close_now
from tests.helpers import (
    BOTH_AGREE,
    answers_of,
    cli,
    count,
    english,
    login,
    ok,
    read,
    refused,
    staff_token,
    submit,
    write,
)

HOUSEHOLD = "1-1-101"


def corrections(app) -> int:
    return count(app, AuditEvent, AuditEvent.action == "vote.correct")


def correct_cli(runner, pid, household=HOUSEHOLD, answers="1=oppose,2=oppose", **opts):
    args = ["votes", "correct", pid, household, "--answers", answers]
    reason = opts.get("reason", "typed the wrong box")
    args += ["--reason", reason, "--by", opts.get("by", "staff1")]
    return cli(runner, *args)


@pytest.fixture
def online(app, client, world):
    """1-1-101 voted online (agree, agree) with its own ballot."""
    english(client)
    assert submit(client, world.url(HOUSEHOLD), BOTH_AGREE).status_code == 303
    assert answers_of(app, world.proposal_id) == {1: "agree", 2: "agree"}
    return world


# --- the staff page ------------------------------------------------------------------------


def test_staff_page_refuses_to_correct_an_online_vote(app, client, online):
    pid = online.proposal_id
    assert login(client, online.staff).status_code == 303
    url = f"/staff/proposals/{pid}/votes/{HOUSEHOLD}/correct"
    page = client.get(url)
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "online" in html
    assert 'name="reason"' not in html  # no correction form for an online vote
    posted = client.post(
        url,
        data={
            "csrf_token": staff_token(client, pid),
            "q1": "oppose",
            "q2": "oppose",
            "reason": "the owner says she meant to oppose",
        },
    )
    assert posted.status_code == 409
    assert answers_of(app, pid) == {1: "agree", 2: "agree"}
    assert corrections(app) == 0
    with read(app) as s:
        assert s.scalar(select(Vote.corrected_at)) is None


def test_staff_page_still_corrects_a_proxy_entry(app, client, world):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD, {1: "agree", 2: "agree"})
    with write(app) as s:
        from residents_vote.models import User
        from residents_vote.services import voting

        p = proposals.lock(s, pid)
        by = s.scalar(select(User).where(User.username == "staff1"))
        voting.record_paper(
            s, p, "1-1-102", {1: "oppose", 2: "oppose"}, channel="proxy", by=by, proxy_name="张三"
        )
    english(client)
    assert login(client, world.staff).status_code == 303
    url = f"/staff/proposals/{pid}/votes/1-1-102/correct"
    assert client.get(url).status_code == 200
    done = client.post(
        url,
        data={
            "csrf_token": staff_token(client, pid),
            "q1": "agree",
            "q2": "oppose",
            "reason": "entered the wrong box",
        },
    )
    assert done.status_code == 303
    assert answers_of(app, pid, "1-1-102") == {1: "agree", 2: "oppose"}


def test_staff_page_refuses_corrections_after_the_preliminary_result(app, client, world):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD, {1: "agree", 2: "agree"})
    close_now(app, pid)
    english(client)
    assert login(client, world.staff).status_code == 303
    url = f"/staff/proposals/{pid}/votes/{HOUSEHOLD}/correct"
    assert client.get(url).status_code == 409
    posted = client.post(
        url,
        data={
            "csrf_token": staff_token(client, pid),
            "q1": "oppose",
            "q2": "oppose",
            "reason": "typed the wrong box",
        },
    )
    assert posted.status_code == 409
    assert answers_of(app, pid) == {1: "agree", 2: "agree"}
    assert corrections(app) == 0


# --- votes correct (command line) -------------------------------------------------------------


def test_cli_refuses_to_correct_an_online_vote(app, runner, online):
    pid = online.proposal_id
    with read(app) as s:
        events = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    message = refused(correct_cli(runner, pid), HOUSEHOLD)
    assert "online" in message
    assert len(message.strip().splitlines()) == 1
    assert answers_of(app, pid) == {1: "agree", 2: "agree"}
    with read(app) as s:
        assert s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == events
        assert s.scalar(select(Vote.corrected_at)) is None


def test_cli_corrects_a_paper_entry_with_its_reason(app, runner, world):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD, {1: "agree", 2: "agree"})
    out = ok(correct_cli(runner, pid, answers="1=oppose,2=invalid", reason="wrong row typed"))
    assert HOUSEHOLD in out
    assert answers_of(app, pid) == {1: "oppose", 2: "invalid"}
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.correct"))
        assert event.actor == "staff1" and event.subject == HOUSEHOLD
        data = json.loads(event.data)
        assert data["reason"] == "wrong row typed"
        assert data["before"] == {"1": "agree", "2": "agree"}
        assert s.scalar(select(Vote.corrected_at)) is not None


@pytest.mark.parametrize(
    "case",
    ["no reason", "unknown household", "no vote", "bad answers", "not staff", "closed"],
)
def test_cli_correct_refusals_change_nothing(app, runner, world, case):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD, {1: "agree", 2: "agree"})
    factories.staff_user(app, "other", ())
    kwargs: dict = {}
    household = HOUSEHOLD
    answers = "1=oppose,2=oppose"
    if case == "no reason":
        kwargs["reason"] = "   "
    elif case == "unknown household":
        household = "9-9-999"
    elif case == "no vote":
        household = "1-1-102"
    elif case == "bad answers":
        answers = "1=maybe,2=oppose"
    elif case == "not staff":
        kwargs["by"] = "other"
    elif case == "closed":
        close_now(app, pid)
    before = count(app, AuditEvent)
    refused(correct_cli(runner, pid, household, answers, **kwargs))
    assert answers_of(app, pid) == {1: "agree", 2: "agree"}
    assert count(app, AuditEvent) == before
    with read(app) as s:
        status = s.get(Proposal, pid).status
    assert status == ("publicity" if case == "closed" else "voting")
