"""Issue 12, item 3: counting (计票). At the announced close voting stops and the vote is
`counting` by itself; paper and proxy ballots received before the close can still be
entered with the time they were received; staff then publish the preliminary result
(DOMAIN.md "Periods", CONTRACT.md "(counting)").
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Proposal, ResultRevision, Vote
from residents_vote.services import proposals, results
from tests import factories
from tests.helpers import (
    BOTH_AGREE,
    cli,
    count,
    csrf_token,
    english,
    html_text,
    login,
    ok,
    png_bytes,
    public_id,
    read,
    refused,
    the_vote,
    votes_record,
    write,
)


def counting_world(app, closed_ago: dt.timedelta = dt.timedelta(hours=2)):
    """Voting opened three days before the close, which passed `closed_ago` ago."""
    closes = factories.utcnow() - closed_ago
    opened = closes - dt.timedelta(days=3)
    return factories.voting_world(app, opened_at=opened, starts=opened, closes=closes)


def status(app, pid: int) -> str:
    with read(app) as s:
        return s.get(Proposal, pid).status


def closes_at(app, pid: int) -> dt.datetime:
    with read(app) as s:
        return s.get(Proposal, pid).closes_at


def iso(value: dt.datetime) -> str:
    return value.isoformat()


# --- the automatic transition ----------------------------------------------------------------


def test_at_the_announced_close_the_vote_becomes_counting_by_itself(app, client):
    english(client)
    world = counting_world(app)
    pid, pub = world.proposal_id, public_id(app, world.proposal_id)
    response = client.get(world.url("1-1-101"))
    assert response.status_code == 403
    assert "Voting closed at" in html_text(response.get_data(as_text=True))
    assert status(app, pid) == "counting"
    assert count(app, ResultRevision) == 0, "nothing is published at the close"
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert p.closed_at == p.closes_at
        assert p.objection_ends_at is None
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.proposal_id == pid)))
        assert "proposal.counting" in actions and "proposal.close" not in actions
    # An online vote is refused while counting.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    posted = client.post(
        world.url("1-1-102"), data={"csrf_token": token, **BOTH_AGREE, "confirm": "yes"}
    )
    assert posted.status_code == 403
    assert count(app, Vote) == 0
    # The public side: counting in progress, no result yet.
    assert client.get(f"/r/{pub}.json").status_code == 404
    assert client.get(f"/r/{pub}/results.pdf").status_code == 404
    assert client.get(f"/r/{pub}/notice.pdf").status_code == 200
    page = client.get(f"/r/{pub}")
    assert page.status_code == 200
    text = html_text(page.get_data(as_text=True))
    assert "being counted" in text
    assert "Preliminary result posting" not in text


def test_the_public_page_alone_starts_counting(app, client):
    english(client)
    world = counting_world(app)
    page = client.get(f"/r/{public_id(app, world.proposal_id)}")
    assert page.status_code == 200
    assert status(app, world.proposal_id) == "counting"


def test_tally_during_counting_shows_the_status(app, runner):
    """`proposal tally` works during counting even before any page was opened."""
    world = counting_world(app)
    factories_cast_before(app, runner, world, "1-1-101")
    data = json.loads(ok(cli(runner, "proposal", "tally", world.proposal_id)))
    assert data["proposal"]["status"] == "counting"
    assert data["participation"]["persons"] == 1
    assert status(app, world.proposal_id) == "counting"


def factories_cast_before(app, runner, world, household: str, *, before=dt.timedelta(hours=1)):
    received = closes_at(app, world.proposal_id) - before
    return ok(
        votes_record(
            runner,
            world.proposal_id,
            household,
            "1=agree,2=oppose",
            "--channel",
            "paper",
            "--received",
            iso(received),
        )
    )


# --- paper ballots received before the close --------------------------------------------


def test_counting_accepts_a_paper_ballot_received_before_the_close(app, runner):
    world = counting_world(app)
    closes = closes_at(app, world.proposal_id)
    received = closes - dt.timedelta(minutes=30)
    out = ok(
        votes_record(
            runner,
            world.proposal_id,
            "1-1-101",
            "1=agree,2=oppose",
            "--channel",
            "paper",
            "--received",
            iso(received),
        )
    )
    assert "1-1-101" in out
    vote = the_vote(app, "1-1-101")
    assert vote.channel == "paper"
    assert vote.received_at == received
    assert vote.answer_list == [(1, "agree"), (2, "oppose")]
    assert status(app, world.proposal_id) == "counting"
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.cast"))
        assert received.isoformat() in event.data


def test_counting_accepts_a_proxy_ballot_with_local_received_time(app, runner):
    world = counting_world(app)
    closes = closes_at(app, world.proposal_id)
    received = (closes - dt.timedelta(hours=1)).astimezone(factories_zone())
    ok(
        votes_record(
            runner,
            world.proposal_id,
            "1-1-102",
            "1=agree,2=agree",
            "--channel",
            "proxy",
            "--proxy-name",
            "王小明",
            "--received",
            received.strftime("%Y-%m-%dT%H:%M"),  # local time, no offset
        )
    )
    vote = the_vote(app, "1-1-102")
    assert vote.channel == "proxy"
    assert vote.received_at == received.replace(second=0, microsecond=0).astimezone(dt.UTC)


def factories_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def test_counting_refuses_a_paper_ballot_received_after_the_close(app, runner):
    world = counting_world(app)
    closes = closes_at(app, world.proposal_id)
    for received in (closes + dt.timedelta(minutes=1), closes):
        refused(
            votes_record(
                runner,
                world.proposal_id,
                "1-1-101",
                "1=agree,2=oppose",
                "--channel",
                "paper",
                "--received",
                iso(received),
            ),
            "after",
        )
    assert count(app, Vote) == 0


def test_counting_needs_the_received_time(app, runner):
    world = counting_world(app)
    refused(
        votes_record(
            runner, world.proposal_id, "1-1-101", "1=agree,2=oppose", "--channel", "paper"
        ),
        "--received",
    )
    refused(
        votes_record(
            runner,
            world.proposal_id,
            "1-1-101",
            "1=agree,2=oppose",
            "--channel",
            "paper",
            "--received",
            "yesterday",
        )
    )
    assert count(app, Vote) == 0


def test_a_received_time_before_the_start_or_in_the_future_is_refused(app, runner):
    world = factories.voting_world(app)
    with read(app) as s:
        starts = s.get(Proposal, world.proposal_id).starts_at
    for received in (starts - dt.timedelta(hours=1), factories.ahead(hours=1)):
        refused(
            votes_record(
                runner,
                world.proposal_id,
                "1-1-101",
                "1=agree,2=oppose",
                "--channel",
                "paper",
                "--received",
                iso(received),
            )
        )
    assert count(app, Vote) == 0
    # While voting is open the received time is optional (the entry time is used).
    ok(votes_record(runner, world.proposal_id, "1-1-101", "1=agree,2=oppose", "--channel", "paper"))
    assert the_vote(app, "1-1-101").received_at is not None


def test_no_paper_ballot_after_publication(app, runner):
    world = counting_world(app)
    ok(cli(runner, "proposal", "close", world.proposal_id))
    refused(
        votes_record(
            runner,
            world.proposal_id,
            "1-1-101",
            "1=agree,2=oppose",
            "--channel",
            "paper",
            "--received",
            iso(closes_at(app, world.proposal_id) - dt.timedelta(hours=1)),
        )
    )
    assert count(app, Vote) == 0


# --- publishing ----------------------------------------------------------------------------


def test_proposal_close_publishes_during_counting(app, runner, client):
    english(client)
    world = counting_world(app)
    client.get(world.url("1-1-101"))  # the first visit starts counting
    assert status(app, world.proposal_id) == "counting"
    factories_cast_before(app, runner, world, "1-1-102")
    before = factories.utcnow()
    out = ok(cli(runner, "proposal", "close", world.proposal_id))
    assert "objections until" in out
    with read(app) as s:
        p = s.get(Proposal, world.proposal_id)
        assert p.status == "publicity"
        row = s.scalar(select(ResultRevision).where(ResultRevision.proposal_id == p.id))
        data = json.loads(row.tally_json)
        assert data["participation"]["persons"] == 1
        assert row.published_at >= before
        # The period runs from the day after the publication, not from the close.
        assert dt.datetime.fromisoformat(data["objection_period"]["start"]) > before
    assert client.get(f"/r/{public_id(app, world.proposal_id)}.json").status_code == 200


def test_proposal_close_is_refused_before_the_announced_close(app, runner):
    world = factories.voting_world(app, closes=factories.ahead(days=3))
    refused(cli(runner, "proposal", "close", world.proposal_id), "announced")
    assert status(app, world.proposal_id) == "voting"


def test_cancel_and_extend_are_refused_while_counting(app, runner, client):
    world = counting_world(app)
    client.get(world.url("1-1-101"))
    assert status(app, world.proposal_id) == "counting"
    refused(cli(runner, "proposal", "cancel", world.proposal_id, "--reason", "结果不理想"))
    refused(
        cli(
            runner,
            "proposal",
            "extend",
            world.proposal_id,
            "--closes",
            iso(factories.ahead(days=3)),
        )
    )
    assert status(app, world.proposal_id) == "counting"


def test_service_close_moves_counting_to_publicity(app):
    world = counting_world(app)
    now = factories.utcnow()
    with write(app) as s:
        p = proposals.lock(s, world.proposal_id)
        assert results.close_if_due(s, p, now=now)
        assert p.status == "counting"
        assert not results.close_if_due(s, p, now=now), "only once"
    with write(app) as s:
        p = proposals.lock(s, world.proposal_id)
        results.close(s, p, actor="test", now=now)
        assert p.status == "publicity"


# --- staff pages ---------------------------------------------------------------------------


@pytest.fixture
def staff(app, client):
    english(client)
    factories.community(app)
    factories.staff_user(app)
    assert login(client, "staff1").status_code == 303
    return client


def counting_proposal(app, closed_ago: dt.timedelta) -> int:
    closes = factories.utcnow() - closed_ago
    opened = closes - dt.timedelta(days=5)
    return factories.proposal(app, opened_at=opened, starts=opened, closes=closes)


WARNING = "counted for more than 3 days"


def test_staff_dashboard_warns_after_three_days_of_counting(app, staff):
    late = counting_proposal(app, dt.timedelta(days=3, hours=1))
    page = staff.get(f"/staff/proposals/{late}").get_data(as_text=True)
    assert status(app, late) == "counting"
    assert WARNING in html_text(page)
    recent = counting_proposal(app, dt.timedelta(days=2, hours=23))
    page = staff.get(f"/staff/proposals/{recent}").get_data(as_text=True)
    assert status(app, recent) == "counting"
    assert WARNING not in html_text(page)


def test_counting_overdue_service(app):
    factories.community(app)
    factories.staff_user(app)
    pid = counting_proposal(app, dt.timedelta(hours=1))
    with write(app) as s:
        p = proposals.lock(s, pid)
        results.close_if_due(s, p)
        closed = p.closed_at
        assert not results.counting_overdue(p, closed + dt.timedelta(days=3, seconds=-1))
        assert results.counting_overdue(p, closed + dt.timedelta(days=3))


def test_staff_publish_button_during_counting(app, staff):
    pid = counting_proposal(app, dt.timedelta(hours=2))
    html = staff.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert status(app, pid) == "counting"
    action = f"/staff/proposals/{pid}/close"
    token = csrf_token(html, action)
    text = html_text(html)
    assert "Publish the preliminary result" in text
    assert "Extend voting" not in text and "Cancel the vote" not in text
    response = staff.post(action, data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303
    assert status(app, pid) == "publicity"
    assert count(app, ResultRevision) == 1


def test_staff_paper_entry_during_counting_takes_the_received_time(app, staff):
    pid = counting_proposal(app, dt.timedelta(hours=2))
    staff.get(f"/staff/proposals/{pid}")
    closes = closes_at(app, pid)
    local = closes.astimezone(factories_zone())
    html = staff.get(f"/staff/proposals/{pid}/paper").get_data(as_text=True)
    assert 'name="received"' in html
    token = csrf_token(html)

    def post(household: str, received: str):
        return staff.post(
            f"/staff/proposals/{pid}/paper",
            data={
                "csrf_token": token,
                "household": household,
                "q1": "agree",
                "q2": "agree",
                "channel": "paper",
                "received": received,
                "scan": (__import__("io").BytesIO(png_bytes()), "scan.png"),
            },
            content_type="multipart/form-data",
        )

    after = (local + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    response = post("1-1-101", after)
    assert response.status_code == 422
    assert count(app, Vote) == 0
    missing = post("1-1-101", "")
    assert missing.status_code == 422
    before = (local - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    response = post("1-1-101", before)
    assert response.status_code == 200, html_text(response.get_data(as_text=True))
    vote = the_vote(app, "1-1-101")
    expected = (local - dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    assert vote.received_at == expected.astimezone(dt.UTC)
