"""Issue 12 item 5: void a paper or proxy entry made under the wrong household.

`votes void ID HOUSEHOLD --reason TEXT --by USERNAME` and a staff page, while the vote is
`voting` or `counting`: the household may vote again (its ballot link works again), the
entry, its scan and the reason stay in the evidence and the audit log, and the staff
dashboard counts voided entries. An online vote, or any other status: 409 / exit 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from residents_vote.models import (
    Attachment,
    AuditEvent,
    Ballot,
    Community,
    ElectorateEntry,
    Proposal,
    User,
    VoidedVote,
    Vote,
)
from residents_vote.services import audit, ballots, proposals, results, tally, voting
from tests import factories
from tests.factories import close_now, committee_users, do_sign, filing_package, signing_community
from tests.helpers import (
    BOTH_AGREE,
    answers_of,
    cli,
    count,
    csrf_token,
    english,
    login,
    ok,
    png_bytes,
    post_paper,
    read,
    refused,
    staff_token,
    status_of,
    submit,
    write,
)

HOUSEHOLD = "1-1-101"
REASON = "ballot of 1-1-102 entered under 1-1-101 by mistake"


def void_cli(runner, pid, household=HOUSEHOLD, reason=REASON, by="staff1"):
    return cli(runner, "votes", "void", pid, household, "--reason", reason, "--by", by)


def ballot_status(app, token: str) -> str:
    with read(app) as s:
        return s.scalar(select(Ballot.status).where(Ballot.token_hash == ballots.hash_token(token)))


def voided_rows(app) -> list[VoidedVote]:
    with read(app) as s:
        return list(s.scalars(select(VoidedVote).order_by(VoidedVote.id)))


def state(app) -> dict:
    """What a refused void must leave exactly as it was."""
    with read(app) as s:
        return {
            "votes": sorted(
                (v.household_id, v.channel, v.receipt_code, tuple(a.answer for a in v.answers))
                for v in s.scalars(select(Vote))
            ),
            "voided": s.scalar(select(VoidedVote.id).limit(1)),
            "ballots": sorted(tuple(r) for r in s.execute(select(Ballot.id, Ballot.status))),
            "events": s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)),
            "attachments": sorted(
                tuple(r) for r in s.execute(select(Attachment.id, Attachment.vote_id))
            ),
        }


# --- the household may vote again -------------------------------------------------------------


def test_void_lets_the_household_vote_again_online(app, runner, client, world):
    pid = world.proposal_id
    receipt = factories.cast(app, pid, HOUSEHOLD, {1: "oppose", 2: "oppose"})
    assert ballot_status(app, world.tokens[HOUSEHOLD]) == "used"
    english(client)
    assert 'name="q1"' not in client.get(world.url(HOUSEHOLD)).get_data(as_text=True)

    out = ok(void_cli(runner, pid))
    assert HOUSEHOLD in out and "voided" in out
    assert answers_of(app, pid) is None
    assert ballot_status(app, world.tokens[HOUSEHOLD]) == "live"
    (row,) = voided_rows(app)
    assert row.channel == "paper"
    assert json.loads(row.answers) == {"1": "oppose", "2": "oppose"}
    assert row.reason == REASON
    assert row.receipt_code == receipt.replace("-", "")
    with read(app) as s:
        assert s.get(User, row.voided_by_id).username == "staff1"
        assert s.get(User, row.entered_by_id).username == "staff1"
        live = tally.compute(s, s.get(Proposal, pid)).json
    assert live["participation"]["persons"] == 0

    # The same ballot link works again: the household votes online.
    page = client.get(world.url(HOUSEHOLD))
    assert page.status_code == 200 and 'name="q1"' in page.get_data(as_text=True)
    assert submit(client, world.url(HOUSEHOLD), BOTH_AGREE).status_code == 303
    assert answers_of(app, pid) == {1: "agree", 2: "agree"}
    with read(app) as s:
        assert s.scalar(select(Vote.channel)) == "online"
    assert ballot_status(app, world.tokens[HOUSEHOLD]) == "used"
    assert len(voided_rows(app)) == 1  # the voided entry stays


def test_void_lets_the_household_vote_again_on_paper(app, runner, world):
    pid = world.proposal_id
    first = factories.cast(app, pid, HOUSEHOLD, {1: "oppose", 2: "oppose"})
    ok(void_cli(runner, pid))
    second = factories.cast(app, pid, HOUSEHOLD, {1: "agree", 2: "abstain"})
    assert second != first
    assert answers_of(app, pid) == {1: "agree", 2: "abstain"}
    # Voided twice: both entries are kept.
    ok(void_cli(runner, pid, reason="again the wrong household"))
    assert [r.reason for r in voided_rows(app)] == [REASON, "again the wrong household"]
    factories.cast(app, pid, HOUSEHOLD)
    with read(app) as s:
        live = tally.compute(s, s.get(Proposal, pid)).json
    assert live["participation"]["persons"] == 1
    assert live["questions"][0]["agree"]["persons"] == 1


def test_void_of_an_entry_without_a_ballot(app, runner):
    world = factories.voting_world(app, issue=False)
    factories.cast(app, world.proposal_id, HOUSEHOLD, channel="paper")
    ok(void_cli(runner, world.proposal_id))
    assert count(app, Vote) == 0 and count(app, Ballot) == 0
    # The household gets a ballot when ballots are next issued.
    with write(app) as s:
        issued = ballots.issue(s, proposals.lock(s, world.proposal_id), actor="test")
    assert HOUSEHOLD in {i.code for i in issued}


# --- evidence, audit, dashboard ---------------------------------------------------------------


def test_void_on_the_staff_page_keeps_scan_reason_and_audit(app, client, world):
    pid = world.proposal_id
    english(client)
    assert login(client, world.staff).status_code == 303
    scan = png_bytes()
    proxy_doc = png_bytes() + b"authorisation"
    recorded = post_paper(
        client,
        pid,
        household=HOUSEHOLD,
        q1="agree",
        q2="oppose",
        channel="proxy",
        proxy_name="李四",
        scan=(io.BytesIO(scan), "ballot.png"),
        proxy_doc=(io.BytesIO(proxy_doc), "proxy.png"),
    )
    assert recorded.status_code == 200
    with read(app) as s:
        vote_id = s.scalar(select(Vote.id))

    url = f"/staff/proposals/{pid}/votes/{HOUSEHOLD}/void"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert HOUSEHOLD in html and 'name="reason"' in html
    token = csrf_token(html, url)

    missing = client.post(url, data={"csrf_token": token, "reason": "  "})
    assert missing.status_code == 422
    assert answers_of(app, pid) == {1: "agree", 2: "oppose"}

    done = client.post(url, data={"csrf_token": token, "reason": REASON})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/staff/proposals/{pid}")
    assert answers_of(app, pid) is None
    (row,) = voided_rows(app)
    assert row.channel == "proxy" and row.proxy_name == "李四" and row.vote_id == vote_id
    with read(app) as s:
        kept = list(s.scalars(select(Attachment).order_by(Attachment.id)))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "vote.void"))
    assert [(a.kind, a.vote_id, a.voided_vote_id) for a in kept] == [
        ("ballot_scan", None, row.id),
        ("proxy_auth", None, row.id),
    ]
    assert kept[0].data == scan and kept[1].data == proxy_doc
    assert event.actor == world.staff and event.subject == HOUSEHOLD
    data = json.loads(event.data)
    assert data["reason"] == REASON
    assert data["channel"] == "proxy"
    digest = audit.answers_digest(pid, HOUSEHOLD, {1: "agree", 2: "oppose"})
    assert data["answers_sha256"] == digest
    assert digest != audit.answers_digest(pid, HOUSEHOLD, {1: "agree", 2: "agree"})
    assert sorted(data["evidence"]) == sorted(
        hashlib.sha256(d).hexdigest() for d in (scan, proxy_doc)
    )
    assert "李四" not in event.data  # no personal data in the audit log

    # The dashboard counts (and lists) the voided entry.
    dashboard = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert 'id="voided-count">1<' in dashboard
    assert REASON in dashboard
    # The audit page describes the event.
    audit_page = client.get(f"/staff/proposals/{pid}/audit").get_data(as_text=True)
    assert "voided" in audit_page and REASON in audit_page


def test_dashboard_counts_voided_entries(app, runner, client, world):
    pid = world.proposal_id
    english(client)
    assert login(client, world.staff).status_code == 303
    assert 'id="voided-count">0<' in client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    for household in (HOUSEHOLD, "1-1-102"):
        factories.cast(app, pid, household)
        ok(void_cli(runner, pid, household))
    factories.cast(app, pid, HOUSEHOLD)
    dashboard = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    assert 'id="voided-count">2<' in dashboard


def test_voided_receipt_says_voided_not_counted(app, runner, client, world):
    pid = world.proposal_id
    receipt = factories.cast(app, pid, HOUSEHOLD, {1: "oppose", 2: "oppose"})
    ok(void_cli(runner, pid))
    with read(app) as s:
        public_id = s.get(Proposal, pid).public_id
    english(client)
    for code in (receipt, receipt.lower().replace("-", " ")):
        page = client.get(f"/r/{public_id}/receipt", query_string={"code": code})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "voided" in html
        assert 'id="receipt"' not in html
        assert "This is the vote that is counted" not in html
        assert "Oppose" not in html  # the old answers are not shown as valid


# --- refusals ---------------------------------------------------------------------------------


def test_void_refused_for_an_online_vote(app, runner, client, world):
    pid = world.proposal_id
    english(client)
    assert submit(client, world.url(HOUSEHOLD), BOTH_AGREE).status_code == 303
    before = state(app)
    message = refused(void_cli(runner, pid), HOUSEHOLD)
    assert "online" in message and len(message.strip().splitlines()) == 1
    assert state(app) == before

    assert login(client, world.staff).status_code == 303
    url = f"/staff/proposals/{pid}/votes/{HOUSEHOLD}/void"
    assert client.get(url).status_code == 409
    posted = client.post(url, data={"csrf_token": staff_token(client, pid), "reason": REASON})
    assert posted.status_code == 409
    assert state(app) == before


def test_void_refused_outside_voting(app, runner, client, world):
    pid = world.proposal_id
    for household in ("1-1-101", "1-1-102", "2-1-201"):
        factories.cast(app, pid, household)
    close_now(app, pid)
    before = state(app)
    refused(void_cli(runner, pid))
    assert state(app) == before
    english(client)
    assert login(client, world.staff).status_code == 303
    url = f"/staff/proposals/{pid}/votes/{HOUSEHOLD}/void"
    assert client.get(url).status_code == 409
    posted = client.post(url, data={"csrf_token": staff_token(client, pid), "reason": REASON})
    assert posted.status_code == 409
    assert state(app) == before


def test_void_refused_for_a_cancelled_vote(app, runner, world):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD)
    with write(app) as s:
        proposals.cancel(s, proposals.lock(s, pid), "wrong register", actor="test")
    before = state(app)
    refused(void_cli(runner, pid))
    assert state(app) == before


@pytest.mark.parametrize(
    "case",
    [
        "no reason",
        "long reason",
        "unknown household",
        "no vote",
        "not staff",
        "unknown user",
        "no id",
    ],
)
def test_void_cli_refusals_change_nothing(app, runner, world, case):
    pid = world.proposal_id
    factories.cast(app, pid, HOUSEHOLD)
    factories.staff_user(app, "other", ())
    args = {"pid": pid, "household": HOUSEHOLD, "reason": REASON, "by": "staff1"}
    if case == "no reason":
        args["reason"] = "  "
    elif case == "long reason":
        args["reason"] = "x" * 1001
    elif case == "unknown household":
        args["household"] = "9-9-999"
    elif case == "no vote":
        args["household"] = "1-1-102"
    elif case == "not staff":
        args["by"] = "other"
    elif case == "unknown user":
        args["by"] = "nobody"
    elif case == "no id":
        args["pid"] = 999999
    before = state(app)
    refused(void_cli(runner, **args))
    assert state(app) == before


# --- the filing package keeps the voided entry ------------------------------------------------


def test_filing_package_lists_the_voided_entry_and_its_scan(app):
    signing_community(app)
    names = committee_users(app, "hx", 3)
    t0 = factories.ago(days=40)
    hour = dt.timedelta(hours=1)
    scan = png_bytes() + b"signed ballot of 1-1-102"
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "hx"))
        by = s.scalar(select(User).where(User.username == "staff-hx"))
        p = proposals.create(
            s,
            c,
            proposals.Draft(
                title=factories.TITLE,
                stage="design",
                questions=list(factories.QUESTIONS),
                starts_at=t0,
                closes_at=t0 + dt.timedelta(days=10),
                objection_days=1,
            ),
            actor="test",
        )
        proposals.open_vote(s, p, actor="test", now=t0)
        cast = voting.record_paper(
            s, p, HOUSEHOLD, {1: "oppose", 2: "oppose"}, channel="paper", by=by, now=t0 + hour
        )
        s.add(
            Attachment(
                community_id=c.id,
                proposal_id=p.id,
                vote_id=cast.vote.id,
                kind="ballot_scan",
                filename="scan.png",
                content_type="image/png",
                data=scan,
                size=len(scan),
                sha256=hashlib.sha256(scan).hexdigest(),
                uploaded_by_id=by.id,
            )
        )
        s.flush()
        voting.void(s, p, HOUSEHOLD, REASON, by=by, now=t0 + 2 * hour)
        for code in ("1-1-101", "1-1-102", "2-1-201"):
            voting.record_paper(
                s, p, code, {1: "agree", 2: "agree"}, channel="paper", by=by, now=t0 + 3 * hour
            )
        results.close(s, p, actor="test", now=t0 + 4 * hour)
        results.finalize(s, p, actor="test", now=t0 + dt.timedelta(days=20))
        pid = p.id
    do_sign(app, pid, names[0])
    do_sign(app, pid, names[1])
    assert status_of(app, pid) == "confirmed"

    from residents_vote.services import filing

    package = filing_package(app, pid)
    assert filing.verify_package(package.data) == []
    with zipfile.ZipFile(io.BytesIO(package.data)) as zf:
        names_in_zip = set(zf.namelist())
        voided = list(csv.reader(io.StringIO(zf.read("voided.csv").decode("utf-8-sig"))))
        events = json.loads(zf.read("audit.json"))
        entry = next(a for a in package.manifest["attachments"] if a["kind"] == "ballot_scan")
        assert entry["household"] == HOUSEHOLD and entry["voided"] is True
        assert entry["file"] in names_in_zip
        assert zf.read(entry["file"]) == scan
        votes = list(csv.reader(io.StringIO(zf.read("votes.csv").decode("utf-8-sig"))))
    header, *rows = voided
    assert header[:3] == ["household", "channel", "answers"]
    assert "reason" in header and "voided_by" in header and "voided_at" in header
    (row,) = rows
    record = dict(zip(header, row, strict=True))
    assert record["household"] == HOUSEHOLD and record["channel"] == "paper"
    assert record["answers"] == "1=oppose;2=oppose"
    assert record["reason"] == REASON and record["voided_by"] == "staff-hx"
    assert record["evidence"] == entry["file"]
    assert sorted(r[0] for r in votes[1:]) == ["1-1-101", "1-1-102", "2-1-201"]
    assert all(r[2] == "1=agree;2=agree" for r in votes[1:])
    void_events = [e for e in events if e["action"] == "vote.void"]
    assert len(void_events) == 1 and json.loads(void_events[0]["data"])["reason"] == REASON


def test_purge_clears_the_proxy_name_of_a_voided_entry(app, runner, world):
    from residents_vote.services import privacy

    pid = world.proposal_id
    with write(app) as s:
        p = proposals.lock(s, pid)
        by = s.scalar(select(User).where(User.username == "staff1"))
        voting.record_paper(
            s, p, HOUSEHOLD, {1: "agree", 2: "agree"}, channel="proxy", by=by, proxy_name="李四"
        )
    ok(void_cli(runner, pid))
    with write(app) as s:
        proposals.cancel(s, proposals.lock(s, pid), "register was wrong", actor="test")
    later = factories.ahead(days=800)
    with write(app) as s:
        privacy.purge(s, s.get(Community, world.community_id), actor="test", now=later)
    (row,) = voided_rows(app)
    assert row.proxy_name == ""
    with read(app) as s:
        assert privacy.personal_data_left(s, s.get(Community, world.community_id)) == 0
        assert s.scalar(select(ElectorateEntry.code).limit(1))
