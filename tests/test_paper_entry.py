"""Paper and proxy ballots: `votes record` on the command line, and the staff pages
(proposal form, open, ballots PDF, paper entry with the scan as evidence).
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from residents_vote.models import Attachment, AuditEvent, Proposal, Vote, VoteAnswer
from tests import factories
from tests.helpers import (
    BOTH_AGREE,
    cli,
    count,
    csrf_token,
    element_text,
    english,
    login,
    make_community,
    make_user,
    ok,
    png_bytes,
    post_paper,
    read,
    refused,
    snapshot,
    submit,
    the_vote,
    votes_record,
)

# --- votes record (CLI) -------------------------------------------------------------------


def test_record_a_paper_ballot(app, runner, world):
    out = ok(
        votes_record(runner, world.proposal_id, "1-1-101", "1=agree,2=oppose", "--channel", "paper")
    )
    assert "1-1-101" in out
    vote = the_vote(app)
    assert vote.channel == "paper" and vote.proxy_name == ""
    assert vote.answer_list == [(1, "agree"), (2, "oppose")]
    assert vote.receipt_code[:4] in out.replace("-", "")
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.cast"))
        assert event.actor == "staff1" and event.subject == "1-1-101"


def test_record_a_proxy_ballot_needs_the_proxy_name(app, runner, world):
    pid = world.proposal_id
    refused(votes_record(runner, pid, "1-1-101", "1=agree,2=agree", "--channel", "proxy"))
    refused(
        votes_record(
            runner, pid, "1-1-101", "1=agree,2=agree", "--channel", "proxy", "--proxy-name", "   "
        )
    )
    assert count(app, Vote) == 0
    ok(
        votes_record(
            runner,
            pid,
            "1-1-101",
            "1=agree,2=agree",
            "--channel",
            "proxy",
            "--proxy-name",
            "张小伟",
        )
    )
    vote = the_vote(app)
    assert (vote.channel, vote.proxy_name) == ("proxy", "张小伟")


def test_record_invalid_and_abstain_answers(app, runner, world):
    ok(
        votes_record(
            runner, world.proposal_id, "1-1-101", "1=invalid, 2=ABSTAIN", "--channel", "paper"
        )
    )
    assert the_vote(app).answer_list == [(1, "invalid"), (2, "abstain")]


@pytest.mark.parametrize(
    "answers",
    ["1=agree", "1=agree,2=maybe", "1=agree,2=agree,3=agree", "agree,agree", "", "1=,2=agree"],
)
def test_record_bad_answers_exit_1(app, runner, world, answers):
    before = snapshot(app)
    refused(votes_record(runner, world.proposal_id, "1-1-101", answers, "--channel", "paper"))
    assert count(app, Vote) == 0
    assert snapshot(app) == before


def test_record_refusals(app, runner, world):
    pid = world.proposal_id
    make_community(app, "other")
    make_user(app, "committee1", "committee", ["hx"])
    make_user(app, "outsider", "staff", ["other"])
    make_user(app, "retired", "staff", ["hx"], active=False)
    cases = [
        (("9-9-999", "--channel", "paper"), "staff1", "9-9-999"),  # outside the electorate
        (("1-1-101", "--channel", "online"), "staff1", None),
        (("1-1-101", "--channel", "paper"), "committee1", "committee1"),
        (("1-1-101", "--channel", "paper"), "outsider", "outsider"),
        (("1-1-101", "--channel", "paper"), "retired", "retired"),
        (("1-1-101", "--channel", "paper"), "nobody", "nobody"),
    ]
    for (household, *options), by, fragment in cases:
        result = votes_record(runner, pid, household, "1=agree,2=agree", *options, by=by)
        refused(result, *([fragment] if fragment else []))
    refused(votes_record(runner, 999, "1-1-101", "1=agree", "--channel", "paper"))
    assert count(app, Vote) == 0
    # An admin may enter ballots for any community.
    make_user(app, "root", "admin")
    ok(votes_record(runner, pid, "1-1-101", "1=agree,2=agree", "--channel", "paper", by="root"))


def test_record_twice_exits_1(app, runner, world):
    pid = world.proposal_id
    ok(votes_record(runner, pid, "1-1-101", "1=agree,2=agree", "--channel", "paper"))
    refused(
        votes_record(
            runner,
            pid,
            "1-1-101",
            "1=oppose,2=oppose",
            "--channel",
            "proxy",
            "--proxy-name",
            "某人",
        )
    )
    assert count(app, Vote) == 1
    assert the_vote(app).answer_list == [(1, "agree"), (2, "agree")]


def test_record_when_voting_is_not_open_exits_1(app, runner):
    factories.community(app, "hx")
    factories.staff_user(app)
    draft = factories.proposal(app, open_vote=False)
    later = factories.proposal(app, starts=factories.ahead(days=1))
    closed = factories.proposal(
        app,
        opened_at=factories.ago(days=3),
        starts=factories.ago(days=3),
        closes=factories.ago(minutes=5),
    )
    cancelled = factories.proposal(app)
    ok(cli(runner, "proposal", "cancel", cancelled, "--reason", "取消"))
    for pid in (draft, later, closed, cancelled):
        refused(votes_record(runner, pid, "1-1-101", "1=agree,2=agree", "--channel", "paper"))
    assert count(app, Vote) == 0


def test_online_vote_then_paper_is_refused(app, runner, client, world):
    english(client)
    assert submit(client, world.url("1-1-101"), {"q1": "oppose", "q2": "oppose"}).status_code == 303
    refused(
        votes_record(runner, world.proposal_id, "1-1-101", "1=agree,2=agree", "--channel", "paper")
    )
    vote = the_vote(app)
    assert vote.channel == "online" and vote.answer_list == [(1, "oppose"), (2, "oppose")]


def test_paper_then_online_is_409_and_shows_the_paper_vote(app, runner, client, world):
    english(client)
    url = world.url("1-1-101")
    token = csrf_token(client.get(url).get_data(as_text=True))
    out = ok(
        votes_record(
            runner, world.proposal_id, "1-1-101", "1=oppose,2=abstain", "--channel", "paper"
        )
    )
    receipt = out.rsplit(" ", 1)[1].strip()
    response = client.post(url, data={"csrf_token": token, **BOTH_AGREE, "confirm": "yes"})
    assert response.status_code == 409
    assert element_text(response.get_data(as_text=True), "receipt") == receipt
    page = client.get(url)
    assert page.status_code == 200
    assert element_text(page.get_data(as_text=True), "receipt") == receipt
    assert count(app, Vote) == 1
    assert the_vote(app).answer_list == [(1, "oppose"), (2, "abstain")]


# --- staff pages ---------------------------------------------------------------------------


@pytest.fixture
def staff(app, client, world):
    english(client)
    assert login(client, world.staff, world.password).status_code == 303
    return client


def test_staff_create_open_and_print(app, staff, world):
    page = staff.get(f"/staff/c/{world.slug}/proposals/new")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    form = {
        "csrf_token": token,
        "title": "屋面防水改造",
        "stage": "application",
        "questions": "是否同意屋面防水改造？\n\n是否同意使用维修资金？\n",
        "rule": "seed",
        "objection_days": "5",
        "verify": "none",
    }
    bad = staff.post(f"/staff/c/{world.slug}/proposals/new", data={**form, "questions": ""})
    assert bad.status_code == 422
    created = staff.post(f"/staff/c/{world.slug}/proposals/new", data=form)
    assert created.status_code == 303
    with read(app) as s:
        p = s.scalar(select(Proposal).where(Proposal.title == "屋面防水改造"))
        assert p.status == "draft" and p.objection_days == 5
        assert [q.text for q in p.questions] == ["是否同意屋面防水改造？", "是否同意使用维修资金？"]
        pid = p.id
    assert created.headers["Location"].endswith(f"/staff/proposals/{pid}")
    dashboard = staff.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    opened = staff.post(
        f"/staff/proposals/{pid}/open",
        data={"csrf_token": csrf_token(dashboard, f"/staff/proposals/{pid}/open")},
    )
    assert opened.status_code == 303
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert p.status == "voting" and p.frozen_households == 3
    dashboard = staff.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    pdf = staff.post(
        f"/staff/proposals/{pid}/ballots",
        data={
            "csrf_token": csrf_token(dashboard, f"/staff/proposals/{pid}/ballots"),
            "mode": "issue",
        },
    )
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    # Nothing left to issue: back to the dashboard, no PDF.
    again = staff.post(
        f"/staff/proposals/{pid}/ballots",
        data={
            "csrf_token": csrf_token(dashboard, f"/staff/proposals/{pid}/ballots"),
            "mode": "issue",
        },
    )
    assert again.status_code == 303


def test_staff_action_without_csrf_is_400(app, staff, world):
    response = staff.post(f"/staff/proposals/{world.proposal_id}/cancel", data={"reason": "x"})
    assert response.status_code == 400
    with read(app) as s:
        assert s.get(Proposal, world.proposal_id).status == "voting"


def test_paper_entry_with_a_scan(app, staff, world):
    scan = png_bytes()
    response = post_paper(
        staff,
        world.proposal_id,
        household="1-1-102",
        q1="agree",
        q2="invalid",
        channel="paper",
        scan=(io.BytesIO(scan), "ballot.png"),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    vote = the_vote(app, "1-1-102")
    assert vote.channel == "paper" and vote.answer_list == [(1, "agree"), (2, "invalid")]
    # The receipt is shown to staff, to hand to the resident.
    assert "-".join(vote.receipt_code[i : i + 4] for i in range(0, 12, 4)) in html
    with read(app) as s:
        attachment = s.scalar(select(Attachment))
        assert attachment.kind == "ballot_scan"
        assert attachment.vote_id == vote.id
        assert attachment.content_type == "image/png"
        assert attachment.data == scan and attachment.size == len(scan)
        assert vote.entered_by_id is not None


def test_paper_entry_by_serial(app, staff, world):
    from residents_vote.models import Ballot, ElectorateEntry

    with read(app) as s:
        serial = s.scalar(
            select(Ballot.serial)
            .join(ElectorateEntry, ElectorateEntry.household_id == Ballot.household_id)
            .where(ElectorateEntry.code == "2-1-201")
        )
    response = post_paper(
        staff, world.proposal_id, serial=serial, q1="oppose", q2="oppose", channel="paper"
    )
    assert response.status_code == 200
    assert the_vote(app, "2-1-201").answer_list == [(1, "oppose"), (2, "oppose")]


def test_paper_entry_proxy_needs_a_name(app, staff, world):
    pid = world.proposal_id
    response = post_paper(
        staff, pid, household="1-1-101", q1="agree", q2="agree", channel="proxy", proxy_name=""
    )
    assert response.status_code == 422
    assert count(app, Vote) == 0
    # The form keeps what was entered.
    assert 'value="1-1-101"' in response.get_data(as_text=True)
    response = post_paper(
        staff,
        pid,
        household="1-1-101",
        q1="agree",
        q2="agree",
        channel="proxy",
        proxy_name="李四",
        proxy_doc=(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "委托书.pdf"),
    )
    assert response.status_code == 200
    vote = the_vote(app)
    assert (vote.channel, vote.proxy_name) == ("proxy", "李四")
    with read(app) as s:
        attachment = s.scalar(select(Attachment))
        assert (attachment.kind, attachment.content_type) == ("proxy_auth", "application/pdf")


@pytest.mark.parametrize(
    "upload",
    [
        (b"GIF89a\x01\x00\x01\x00", "scan.gif"),
        (b"<html><script>alert(1)</script>", "scan.png"),  # the name lies
        (b"MZ\x90\x00", "scan.pdf"),
    ],
)
def test_paper_entry_refuses_other_file_types(app, staff, world, upload):
    data, name = upload
    response = post_paper(
        staff,
        world.proposal_id,
        household="1-1-101",
        q1="agree",
        q2="agree",
        channel="paper",
        scan=(io.BytesIO(data), name),
    )
    assert 400 <= response.status_code < 500
    assert count(app, Vote) == 0
    assert count(app, Attachment) == 0


def test_paper_entry_refusals_record_nothing(app, staff, world):
    pid = world.proposal_id
    cases = [
        {"household": "9-9-999", "q1": "agree", "q2": "agree", "channel": "paper"},
        {"household": "1-1-101", "q1": "agree", "channel": "paper"},
        {"household": "1-1-101", "q1": "agree", "q2": "yes", "channel": "paper"},
        {"household": "1-1-101", "q1": "agree", "q2": "agree", "channel": "online"},
        {"serial": "no-such-serial", "q1": "agree", "q2": "agree", "channel": "paper"},
    ]
    for fields in cases:
        response = post_paper(staff, pid, **fields, scan=(io.BytesIO(png_bytes()), "s.png"))
        assert 400 <= response.status_code < 500, fields
    assert count(app, Vote) == 0
    assert count(app, Attachment) == 0
    assert count(app, VoteAnswer) == 0


def test_paper_entry_for_a_household_that_voted_online_is_409(app, staff, world):
    assert submit(staff, world.url("1-1-101"), BOTH_AGREE).status_code == 303
    response = post_paper(
        staff,
        world.proposal_id,
        household="1-1-101",
        q1="oppose",
        q2="oppose",
        channel="paper",
        scan=(io.BytesIO(png_bytes()), "s.png"),
    )
    assert response.status_code == 409
    assert the_vote(app).channel == "online"
    assert count(app, Attachment) == 0


def test_other_communities_staff_get_404(app, client, world):
    make_community(app, "other")
    make_user(app, "outsider", "staff", ["other"])
    assert login(client, "outsider").status_code == 303
    assert client.get(f"/staff/proposals/{world.proposal_id}/paper").status_code == 404
    assert client.get(f"/staff/proposals/{world.proposal_id}").status_code == 404


def test_paper_entry_by_the_serial_of_a_revoked_ballot_is_refused(app, staff, world):
    """A lost ballot is revoked and reissued: its printed copy no longer counts."""
    from residents_vote.models import Ballot, ElectorateEntry
    from residents_vote.services import ballots, proposals
    from tests.helpers import write

    with read(app) as s:
        old = s.scalar(
            select(Ballot.serial)
            .join(ElectorateEntry, ElectorateEntry.household_id == Ballot.household_id)
            .where(ElectorateEntry.code == "2-1-201")
        )
    with write(app) as s:
        new = ballots.reissue(s, proposals.lock(s, world.proposal_id), ["2-1-201"], actor="t")
        new_serial = new[0].serial
    response = post_paper(
        staff, world.proposal_id, serial=old, q1="agree", q2="agree", channel="paper"
    )
    assert 400 <= response.status_code < 500
    assert count(app, Vote) == 0
    response = post_paper(
        staff, world.proposal_id, serial=new_serial, q1="agree", q2="agree", channel="paper"
    )
    assert response.status_code == 200
    assert the_vote(app, "2-1-201") is not None


def dashboard_token(client, pid: int, action: str) -> str:
    html = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    return csrf_token(html, f"/staff/proposals/{pid}/{action}")


def test_staff_edit_a_draft_only(app, staff, world):
    pid = factories.proposal(app, open_vote=False)
    page = staff.get(f"/staff/proposals/{pid}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert factories.QUESTIONS[0] in html
    form = {
        "csrf_token": csrf_token(html),
        "title": "新标题",
        "stage": "design",
        "questions": "只有一个问题？",
        "rule": "civil-ordinary",
        "verify": "phone4",
    }
    assert staff.post(f"/staff/proposals/{pid}/edit", data=form).status_code == 303
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert (p.title, p.rule, p.headcount, p.verify) == (
            "新标题",
            "civil-ordinary",
            "owner",
            "phone4",
        )
        assert [q.text for q in p.questions] == ["只有一个问题？"]
    # An opened proposal can no longer be edited.
    response = staff.post(f"/staff/proposals/{world.proposal_id}/edit", data=form)
    assert 400 <= response.status_code < 500
    with read(app) as s:
        assert s.get(Proposal, world.proposal_id).title == factories.TITLE


def test_staff_extend_and_cancel(app, staff, world):
    pid = world.proposal_id
    response = staff.post(
        f"/staff/proposals/{pid}/extend",
        data={"csrf_token": dashboard_token(staff, pid, "extend"), "closes": "2099-01-01T08:00"},
    )
    assert response.status_code == 303
    with read(app) as s:
        closes = s.get(Proposal, pid).closes_at
    assert (closes.year, closes.month, closes.day, closes.hour) == (2099, 1, 1, 0)
    assert "2099-01-01 08:00" in staff.get(world.url("1-1-101")).get_data(as_text=True)
    # An earlier time is refused with a message; nothing changes.
    response = staff.post(
        f"/staff/proposals/{pid}/extend",
        data={"csrf_token": dashboard_token(staff, pid, "extend"), "closes": "2098-01-01T08:00"},
        follow_redirects=True,
    )
    with read(app) as s:
        assert s.get(Proposal, pid).closes_at == closes
    # Cancelling needs a reason.
    staff.post(
        f"/staff/proposals/{pid}/cancel",
        data={"csrf_token": dashboard_token(staff, pid, "cancel"), "reason": ""},
    )
    with read(app) as s:
        assert s.get(Proposal, pid).status == "voting"
    response = staff.post(
        f"/staff/proposals/{pid}/cancel",
        data={"csrf_token": dashboard_token(staff, pid, "cancel"), "reason": "方案调整"},
    )
    assert response.status_code == 303
    with read(app) as s:
        p = s.get(Proposal, pid)
        assert (p.status, p.cancel_reason) == ("cancelled", "方案调整")
    assert staff.get(world.url("1-1-101")).status_code == 403
    assert staff.get(f"/staff/proposals/{pid}").status_code == 200


def test_staff_dashboard_closes_a_vote_past_its_time(app, staff):
    """Voting stops by itself; the vote is counting until staff publish (issue 12)."""
    pid = factories.proposal(
        app,
        opened_at=factories.ago(days=3),
        starts=factories.ago(days=3),
        closes=factories.ago(minutes=5),
    )
    assert staff.get(f"/staff/proposals/{pid}").status_code == 200
    with read(app) as s:
        assert s.get(Proposal, pid).status == "counting"
