"""Proposals and ballots on the command line (CONTRACT.md "Command line"):
`proposal create/open/extend/cancel`, `ballots issue/reissue`, and the frozen electorate.

Paper entry (`votes record`) is in test_paper_entry.py, the PDF contents in
test_ballot_pdf.py.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Ballot, ElectorateEntry, Proposal
from tests import factories
from tests.helpers import PROPOSAL_CREATE, cli, count, links, ok, read, refused, snapshot, token_of


def proposal_row(app, proposal_id: int) -> Proposal:
    with read(app) as s:
        return s.get(Proposal, proposal_id)


@pytest.fixture
def hx(app):
    factories.community(app, "hx")
    factories.staff_user(app, "staff1", ("hx",))
    return "hx"


# --- proposal create -------------------------------------------------------------------


def test_create_prints_the_id_alone(app, runner, hx):
    out = ok(cli(runner, *PROPOSAL_CREATE))
    assert out.strip().isdigit() and out == out.strip() + "\n"
    p = proposal_row(app, int(out))
    assert (p.status, p.rule, p.headcount, p.verify, p.objection_days) == (
        "draft",
        "seed",
        "household",
        "none",
        7,
    )
    assert p.title == "加装电梯" and p.scope == ""
    second = ok(cli(runner, *PROPOSAL_CREATE, "--question", "第二个问题"))
    assert int(second) == int(out) + 1


def test_create_options(app, runner, hx):
    out = ok(
        cli(
            runner,
            *PROPOSAL_CREATE,
            "--rule",
            "civil-major",
            "--scope",
            "1, 2",
            "--objection-days",
            "1",
            "--verify",
            "phone4",
        )
    )
    p = proposal_row(app, int(out))
    assert (p.rule, p.headcount, p.scope_buildings, p.objection_days, p.verify) == (
        "civil-major",
        "owner",
        ["1", "2"],
        1,
        "phone4",
    )


@pytest.mark.parametrize(
    "extra",
    [
        ["--stage", "nonsense"],
        ["--rule", "unanimity"],
        ["--headcount", "person"],
        ["--verify", "sms"],
        ["--objection-days", "-1"],
        ["--closes", "not a time"],
        ["--scope", "1-2"],
    ],
)
def test_create_bad_options_exit_1(app, runner, hx, extra):
    before = snapshot(app)
    refused(cli(runner, *PROPOSAL_CREATE, *extra))
    assert count(app, Proposal) == 0
    assert snapshot(app) == before


def test_create_in_unknown_community_exits_1(app, runner, hx):
    refused(
        cli(
            runner,
            "proposal",
            "create",
            "nowhere",
            "--title",
            "T",
            "--stage",
            "design",
            "--question",
            "Q",
        )
    )
    assert count(app, Proposal) == 0


# --- proposal open ---------------------------------------------------------------------


def test_open_freezes_the_electorate(app, runner, hx):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE)))
    out = ok(cli(runner, "proposal", "open", pid))
    assert "3 households" in out
    p = proposal_row(app, pid)
    assert p.status == "voting" and p.frozen_households == 3
    assert (p.closes_at - p.starts_at).days == 14
    assert count(app, ElectorateEntry, ElectorateEntry.proposal_id == pid) == 3


def test_open_of_a_non_draft_exits_1(app, runner, hx):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE)))
    ok(cli(runner, "proposal", "open", pid))
    before = snapshot(app)
    refused(cli(runner, "proposal", "open", pid), str(pid))
    assert snapshot(app) == before
    assert count(app, ElectorateEntry) == 3
    ok(cli(runner, "proposal", "cancel", pid, "--reason", "重新表决"))
    refused(cli(runner, "proposal", "open", pid))
    refused(cli(runner, "proposal", "open", 999))


def test_open_with_a_later_start(app, runner, client, hx):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE)))
    starts = factories.ahead(days=1).replace(microsecond=0)
    ok(cli(runner, "proposal", "open", pid, "--starts", starts.isoformat()))
    p = proposal_row(app, pid)
    assert p.starts_at == starts
    tokens = factories.issue_ballots(app, pid)
    assert client.get(f"/b/{tokens['1-1-101']}").status_code == 403


def test_open_with_an_empty_scope_exits_1(app, runner, hx):
    refused(cli(runner, *PROPOSAL_CREATE, "--scope", "99"), "99")  # not in the register: refused
    pid = int(ok(cli(runner, *PROPOSAL_CREATE, "--scope", "2")))
    # Building 2 leaves the register after drafting: opening names it.
    factories.import_register(app, "hx", factories.HOUSEHOLDS[:2], remove_missing=True)
    refused(cli(runner, "proposal", "open", pid), "2")
    assert proposal_row(app, pid).status == "draft"
    assert count(app, ElectorateEntry) == 0


# --- ballots issue / reissue ------------------------------------------------------------


def test_issue_before_open_exits_1_and_writes_nothing(app, runner, hx, tmp_path):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE)))
    pdf, csv_path = tmp_path / "b.pdf", tmp_path / "b.csv"
    refused(cli(runner, "ballots", "issue", pid, "--pdf", pdf, "--links", csv_path))
    assert not pdf.exists() and not csv_path.exists()
    assert count(app, Ballot) == 0


def test_issue_writes_the_pdf_and_the_links(app, runner, client, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    pdf, csv_path = tmp_path / "b.pdf", tmp_path / "b.csv"
    out = ok(cli(runner, "ballots", "issue", pid, "--pdf", pdf, "--links", csv_path))
    assert "3" in out
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = links(csv_path)
    assert [r["household"] for r in rows] == ["1-1-101", "1-1-102", "2-1-201"]
    assert len({r["serial"] for r in rows}) == 3
    assert all(client.get(f"/b/{token_of(r)}").status_code == 200 for r in rows)
    assert count(app, Ballot, Ballot.status == "live") == 3


def test_second_issue_has_nothing_to_issue(app, runner, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    # Without --links only the PDF is written.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ok(cli(runner, "ballots", "issue", pid, "--pdf", out_dir / "1.pdf"))
    assert [p.name for p in out_dir.iterdir()] == ["1.pdf"]
    assert (out_dir / "1.pdf").read_bytes().startswith(b"%PDF")
    audit = count(app, AuditEvent)
    pdf, csv_path = tmp_path / "2.pdf", tmp_path / "2.csv"
    out = ok(cli(runner, "ballots", "issue", pid, "--pdf", pdf, "--links", csv_path))
    assert out.strip() == "no ballots to issue"
    assert not pdf.exists() and not csv_path.exists()
    assert count(app, Ballot) == 3
    assert count(app, AuditEvent) == audit


def test_issue_skips_households_that_voted(app, runner, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    factories.cast(app, pid, "1-1-101")
    csv_path = tmp_path / "b.csv"
    ok(cli(runner, "ballots", "issue", pid, "--pdf", tmp_path / "b.pdf", "--links", csv_path))
    assert [r["household"] for r in links(csv_path)] == ["1-1-102", "2-1-201"]


def test_reissue_a_household_revokes_its_old_link(app, runner, client, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    old = factories.issue_ballots(app, pid)
    with read(app) as s:
        serials = set(s.scalars(select(Ballot.serial)))
    again = tmp_path / "2.csv"
    pdf = tmp_path / "2.pdf"
    ok(cli(runner, "ballots", "reissue", pid, "1-1-102", "--pdf", pdf, "--links", again))
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = links(again)
    assert [r["household"] for r in rows] == ["1-1-102"]
    assert client.get(f"/b/{old['1-1-102']}").status_code == 410
    assert client.get(f"/b/{token_of(rows[0])}").status_code == 200
    assert client.get(f"/b/{old['1-1-101']}").status_code == 200
    assert rows[0]["serial"] not in serials
    with read(app) as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["ballots.revoke", "ballots.issue"]


def test_reissue_unvoted(app, runner, client, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    old = factories.issue_ballots(app, pid)
    factories.cast(app, pid, "2-1-201")
    csv_path = tmp_path / "u.csv"
    ok(
        cli(
            runner,
            "ballots",
            "reissue",
            pid,
            "--unvoted",
            "--pdf",
            tmp_path / "u.pdf",
            "--links",
            csv_path,
        )
    )
    rows = links(csv_path)
    assert [r["household"] for r in rows] == ["1-1-101", "1-1-102"]
    assert client.get(f"/b/{old['1-1-101']}").status_code == 410
    assert client.get(f"/b/{old['1-1-102']}").status_code == 410
    assert client.get(f"/b/{old['2-1-201']}").status_code == 200  # voted: shows the receipt
    assert all(client.get(f"/b/{token_of(r)}").status_code == 200 for r in rows)


def test_reissue_refusals(app, runner, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    factories.issue_ballots(app, pid)
    factories.cast(app, pid, "1-1-101")
    pdf = tmp_path / "r.pdf"
    before = snapshot(app)
    refused(cli(runner, "ballots", "reissue", pid, "1-1-101", "--pdf", pdf), "1-1-101")
    refused(cli(runner, "ballots", "reissue", pid, "9-9-999", "--pdf", pdf), "9-9-999")
    refused(cli(runner, "ballots", "reissue", pid, "--pdf", pdf))
    refused(cli(runner, "ballots", "reissue", pid, "1-1-102", "--unvoted", "--pdf", pdf))
    assert not pdf.exists()
    assert snapshot(app) == before
    assert count(app, Ballot, Ballot.status == "revoked") == 0


# --- extend / cancel ---------------------------------------------------------------------


def test_extend_moves_the_closing_time(app, runner, client, hx):
    pid = factories.proposal(app, "hx")
    tokens = factories.issue_ballots(app, pid)
    closes = proposal_row(app, pid).closes_at
    later = (closes + dt.timedelta(days=7)).replace(microsecond=0)
    out = ok(cli(runner, "proposal", "extend", pid, "--closes", later.isoformat()))
    shown = later.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert shown in out
    p = proposal_row(app, pid)
    assert p.closes_at == later and p.notice_revision == 2
    assert shown in client.get(f"/b/{tokens['1-1-101']}").get_data(as_text=True)
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.extend"))
        assert event is not None
    # Earlier than the current close, or not open: refused.
    refused(cli(runner, "proposal", "extend", pid, "--closes", closes.isoformat()))
    refused(cli(runner, "proposal", "extend", pid, "--closes", "soon"))
    draft = int(ok(cli(runner, *PROPOSAL_CREATE)))
    refused(cli(runner, "proposal", "extend", draft, "--closes", later.isoformat()))
    assert proposal_row(app, pid).closes_at == later


def test_extend_a_time_without_offset_is_local(app, runner, hx):
    pid = factories.proposal(app, "hx")
    ok(cli(runner, "proposal", "extend", pid, "--closes", "2099-01-01T08:00"))
    closes = proposal_row(app, pid).closes_at
    assert (closes.year, closes.month, closes.day, closes.hour) == (2099, 1, 1, 0)


def test_cancel_with_a_reason(app, runner, client, hx, tmp_path):
    pid = factories.proposal(app, "hx")
    tokens = factories.issue_ballots(app, pid)
    refused(cli(runner, "proposal", "cancel", pid, "--reason", "  "))
    assert proposal_row(app, pid).status == "voting"
    ok(cli(runner, "proposal", "cancel", pid, "--reason", "方案需要修改"))
    p = proposal_row(app, pid)
    assert (p.status, p.cancel_reason) == ("cancelled", "方案需要修改")
    response = client.get(f"/b/{tokens['1-1-101']}")
    assert response.status_code == 403
    assert "方案需要修改" in response.get_data(as_text=True)
    refused(cli(runner, "proposal", "cancel", pid, "--reason", "again"))
    refused(cli(runner, "ballots", "issue", pid, "--pdf", tmp_path / "never.pdf"))
    assert not (tmp_path / "never.pdf").exists()
    tally = json.loads(ok(cli(runner, "proposal", "tally", pid)))
    assert tally["proposal"]["status"] == "cancelled"


def test_cancel_a_draft(app, runner, hx):
    pid = int(ok(cli(runner, *PROPOSAL_CREATE)))
    ok(cli(runner, "proposal", "cancel", pid, "--reason", "不再需要"))
    assert proposal_row(app, pid).status == "cancelled"


# --- the frozen electorate ----------------------------------------------------------------


def test_register_changes_after_opening_do_not_change_the_electorate(
    app, runner, client, hx, tmp_path
):
    pid = factories.proposal(app, "hx")
    tokens = factories.issue_ballots(app, pid)
    before = json.loads(ok(cli(runner, "proposal", "tally", pid)))["electorate"]
    assert before == {"households": 3, "persons": 3, "area": "297.75"}
    factories.import_register(
        app,
        "hx",
        [
            ("1", "1", "101", "99.99", "张伟", ""),  # area changed
            ("1", "1", "102", "90.10", "王芳", "13900005678"),
            ("3", "1", "301", "70.00", "新业主", ""),  # new; 2-1-201 removed
        ],
        remove_missing=True,
    )
    assert json.loads(ok(cli(runner, "proposal", "tally", pid)))["electorate"] == before
    page = client.get(f"/b/{tokens['1-1-101']}").get_data(as_text=True)
    assert "87.65" in page and "99.99" not in page
    assert client.get(f"/b/{tokens['2-1-201']}").status_code == 200
    # The new household gets no ballot and cannot vote in this proposal.
    pdf = tmp_path / "new.pdf"
    assert ok(cli(runner, "ballots", "issue", pid, "--pdf", pdf)).strip() == "no ballots to issue"
    assert not pdf.exists()
    refused(
        cli(
            runner,
            "votes",
            "record",
            pid,
            "3-1-301",
            "--answers",
            "1=agree,2=agree",
            "--channel",
            "paper",
            "--by",
            "staff1",
        ),
        "3-1-301",
    )
    # Votes by the changed and the removed household count with their frozen area.
    factories.cast(app, pid, "1-1-101")
    factories.cast(app, pid, "2-1-201")
    tally = json.loads(ok(cli(runner, "proposal", "tally", pid)))
    assert tally["electorate"] == before
    assert tally["participation"]["area"] == "207.65"
    # A proposal opened now freezes the new register.
    pid2 = factories.proposal(app, "hx")
    electorate = json.loads(ok(cli(runner, "proposal", "tally", pid2)))["electorate"]
    assert electorate == {"households": 3, "persons": 3, "area": "260.09"}


def test_cancel_after_the_announced_close_exits_1(app, runner, hx):
    """Voting closes by itself at the announced time: a closed vote cannot be cancelled."""
    pid = factories.proposal(
        app,
        opened_at=factories.ago(days=3),
        starts=factories.ago(days=3),
        closes=factories.ago(minutes=5),
    )
    refused(cli(runner, "proposal", "cancel", pid, "--reason", "结果不理想"))
    assert proposal_row(app, pid).status != "cancelled"


def test_issue_that_fails_writes_nothing(app, runner, hx, tmp_path):
    """A --links path that cannot be written: exit 1, no ballots, and no PDF left behind."""
    pid = factories.proposal(app, "hx")
    pdf = tmp_path / "b.pdf"
    result = cli(
        runner, "ballots", "issue", pid, "--pdf", pdf, "--links", tmp_path / "missing" / "b.csv"
    )
    refused(result)
    assert count(app, Ballot) == 0
    assert not pdf.exists()
