"""`flask privacy purge SLUG` (DOMAIN.md section 8): refused before one year after the
last decision, then owner names, phones and evidence files go; the anonymous record
stays and still verifies."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select

from residents_vote.models import (
    Attachment,
    AuditEvent,
    Community,
    Household,
    Objection,
    Proposal,
    ResultRevision,
    Vote,
)
from residents_vote.services import privacy
from tests import factories
from tests.factories import final_proposal, signing_community
from tests.helpers import read, snapshot, write

ZONE = ZoneInfo("Asia/Shanghai")
SCAN = b"\x89PNG\r\n\x1a\n" + b"signed ballot" * 30


def add_scan_and_objection(app, pid: int) -> None:
    with write(app) as s:
        p = s.get(Proposal, pid)
        vote = s.scalar(select(Vote).where(Vote.proposal_id == pid).order_by(Vote.id))
        vote.proxy_name = "王小明"
        for kind, data in (("ballot_scan", SCAN), ("plan", b"%PDF-1.4 plan")):
            s.add(
                Attachment(
                    community_id=p.community_id,
                    proposal_id=pid,
                    vote_id=vote.id if kind == "ballot_scan" else None,
                    kind=kind,
                    filename=f"{kind}.bin",
                    content_type="image/png" if kind == "ballot_scan" else "application/pdf",
                    data=data,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
        s.add(
            Objection(
                proposal_id=pid,
                revision=1,
                name="李娜",
                household_code="2-1-201",
                contact="13912345678",
                text="请核对",
                status="rejected",
                answer="已核对",
            )
        )


def purge(runner, slug: str = "hx"):
    return runner.invoke(args=["privacy", "purge", slug])


def test_refused_within_a_year_naming_the_date(app, runner):
    signing_community(app)
    pid = final_proposal(app)
    add_scan_and_objection(app, pid)
    with read(app) as s:
        finalized = s.get(Proposal, pid).finalized_at
    before = snapshot(app)
    result = purge(runner)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    day = finalized.astimezone(ZONE).date()
    possible = dt.date(day.year + 1, day.month, day.day) + dt.timedelta(days=1)
    assert f"from {possible.isoformat()} 00:00" in result.stderr, result.stderr
    assert f"proposal {pid}" in result.stderr
    assert snapshot(app) == before  # nothing changed, nothing audited
    with read(app) as s:
        assert s.scalar(select(Attachment.data).where(Attachment.kind == "ballot_scan")) == SCAN
        assert s.scalar(select(Community.personal_data_purged_at)) is None


def test_refused_while_a_vote_is_undecided(app, runner):
    signing_community(app)
    final_proposal(app, at=factories.ago(days=800))
    open_id = factories.proposal(app)
    result = purge(runner)
    assert result.exit_code == 1
    assert f"proposal {open_id}" in result.stderr and "not decided" in result.stderr
    status = runner.invoke(args=["privacy", "status", "hx"])
    assert status.exit_code == 0 and "not decided" in status.stdout


def test_purge_after_a_year_keeps_the_anonymous_record(app, runner):
    signing_community(app)
    pid = final_proposal(app, at=factories.ago(days=400))
    add_scan_and_objection(app, pid)
    with write(app) as s:  # an older vote, cancelled: its decision date counts too
        c = s.scalar(select(Community))
        from residents_vote.services import proposals

        p = proposals.create(
            s,
            c,
            proposals.Draft(title="旧议题", stage="other", questions=["?"]),
            actor="test",
        )
        proposals.cancel(s, p, "重复", actor="test")
        p.cancelled_at = factories.ago(days=700)
    with read(app) as s:
        revisions = [(r.sha256, r.tally_json) for r in s.scalars(select(ResultRevision))]
        scan_sha = s.scalar(select(Attachment.sha256).where(Attachment.kind == "ballot_scan"))
    result = purge(runner)
    assert result.exit_code == 0, result.output
    assert "3 households" in result.stdout and "1 evidence files" in result.stdout
    with read(app) as s:
        assert all(h.owner_name == "" and h.phone == "" for h in s.scalars(select(Household)))
        assert [h.code for h in s.scalars(select(Household).order_by(Household.code))] == sorted(
            factories.code(r) for r in factories.HOUSEHOLDS
        )
        scan = s.scalar(select(Attachment).where(Attachment.kind == "ballot_scan"))
        assert scan.data is None and scan.sha256 == scan_sha and scan.size == len(SCAN)
        plan = s.scalar(select(Attachment).where(Attachment.kind == "plan"))
        assert plan.data is not None  # the plan is a public document, not personal data
        objection = s.scalar(select(Objection))
        assert (objection.name, objection.contact) == ("", "")
        assert objection.household_code == "2-1-201" and objection.text == "请核对"
        assert s.scalar(select(Vote.proxy_name).where(Vote.proxy_name != "")) is None
        assert s.scalar(select(Community.personal_data_purged_at)) is not None
        assert [(r.sha256, r.tally_json) for r in s.scalars(select(ResultRevision))] == revisions
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.purge"))
        assert json.loads(event.data) == {
            "households": 3,
            "objections": 1,
            "proxies": 1,
            "attachments": 1,
        }
        c = s.scalar(select(Community))
        assert privacy.personal_data_left(s, c) == 0
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # a second purge finds nothing left, and says so
    again = purge(runner)
    assert again.exit_code == 0 and "0 households" in again.stdout


def test_unknown_community(app, runner):
    result = purge(runner, "nope")
    assert result.exit_code == 1 and "nope" in result.stderr


def test_one_year_period_end():
    # decided 2025-03-10 15:00 Beijing time: the year ends 2026-03-10 24:00 Beijing time
    decided = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
    end = privacy.one_year_after(decided, ZONE)
    assert end == dt.datetime(2026, 3, 11, 0, 0, tzinfo=ZONE).astimezone(dt.UTC)
    # 29 February -> 28 February of the next year
    leap = dt.datetime(2024, 2, 29, 12, 0, tzinfo=ZONE)
    assert privacy.one_year_after(leap, ZONE) == dt.datetime(2025, 3, 1, tzinfo=ZONE).astimezone(
        dt.UTC
    )
    # a public holiday on the last day moves the end to the next working day
    holiday = {dt.date(2026, 10, 1), dt.date(2026, 10, 2)}
    oct1 = dt.datetime(2025, 10, 1, 9, 0, tzinfo=ZONE)
    assert privacy.one_year_after(oct1, ZONE, holiday) == dt.datetime(
        2026, 10, 4, tzinfo=ZONE
    ).astimezone(dt.UTC)
