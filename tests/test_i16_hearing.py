"""Issue 16 item 1: the hearing route on the command line (CONTRACT.md "Hearing route").

create (application stage only) → open (hearing notice, status `hearing`) → sign-in sheet
→ attendance → conclude with the signed minutes (hearing result posting, objection period)
→ an objection → finalize (final notice) → sign-off; a not-agreed hearing is not signed.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from residents_vote.models import AuditEvent, HearingAttendance
from residents_vote.services import audit, results
from tests import factories
from tests.helpers import cli, count, english, ok, pdf_text, public_id, read, refused, status_of

HEARING = [
    "proposal",
    "create",
    "hx",
    "--title",
    "申请改造",
    "--stage",
    "application",
    "--route",
    "hearing",
    "--place",
    "居委会会议室",
]


def _minutes(tmp_path):
    path = tmp_path / "minutes.pdf"
    path.write_bytes(factories.MINUTES_PDF)
    return path


def test_route_hearing_is_for_an_application_with_its_time_and_place(app, runner):
    factories.community(app, "hx")
    when = factories.ahead(days=7).isoformat()
    refused(
        cli(runner, *HEARING[:6], "design", *HEARING[7:], "--hearing-at", when),
        "Only an application can be decided by a hearing",
    )
    refused(cli(runner, *HEARING), "A hearing needs its time")
    refused(cli(runner, *HEARING[:-2], "--hearing-at", when), "A hearing needs its place")
    refused(cli(runner, *HEARING, "--hearing-at", when, "--route", "jury"), "Unknown route")
    pid = int(ok(cli(runner, *HEARING, "--hearing-at", when)).strip())
    assert status_of(app, pid) == "draft"


def test_the_hearing_route_end_to_end_on_the_command_line(app, runner, client, tmp_path):
    factories.community(app, "hx")
    factories.staff_user(app, "staff1", ("hx",))
    signers = factories.committee_users(app, "hx", 1)
    when = factories.ahead(days=3).isoformat()
    pid = int(ok(cli(runner, *HEARING, "--hearing-at", when, "--agenda", "听取意见")).strip())

    opened = cli(runner, "proposal", "open", pid)
    assert "hearing notice posted" in ok(opened)
    assert "fewer than 5 days" in opened.stderr  # a warning, not a refusal
    assert status_of(app, pid) == "hearing"
    english(client)
    pub = public_id(app, pid)
    notice = client.get(f"/r/{pub}/notice.pdf")
    assert notice.status_code == 200
    text = pdf_text(notice.data)
    assert "Hearing notice" in text and "居委会会议室" in text and "听取意见" in text

    sheet = tmp_path / "sheet.pdf"
    ok(cli(runner, "hearing", "sheet", pid, "--pdf", sheet))
    sheet_text = pdf_text(sheet.read_bytes())
    for code in ("1-1-101", "1-1-102", "2-1-201"):
        assert code in sheet_text

    tally = json.loads(ok(cli(runner, "proposal", "tally", pid)))
    assert tally["route"] == "hearing" and tally["outcome"] is None
    assert tally["questions"] == [] and tally["attendance"]["households"] == 0

    ok(cli(runner, "hearing", "attend", pid, "1-1-101", "--by", "staff1"))
    ok(cli(runner, "hearing", "attend", pid, "2-1-201", "--proxy-name", "张三", "--by", "staff1"))
    refused(cli(runner, "hearing", "attend", pid, "1-1-101", "--by", "staff1"), "already")
    refused(cli(runner, "hearing", "attend", pid, "9-9-999", "--by", "staff1"), "9-9-999")
    assert count(app, HearingAttendance) == 2

    minutes = _minutes(tmp_path)
    conclude = [
        "hearing",
        "conclude",
        pid,
        "--outcome",
        "agreed",
        "--minutes",
        minutes,
        "--by",
        "staff1",
    ]
    refused(cli(runner, *conclude), "can be concluded only after")  # before the hearing time
    factories.hearing_passes(app, pid, days=4)
    refused(cli(runner, *conclude[:4], "maybe", *conclude[5:]), "agreed or not-agreed")
    bad = tmp_path / "minutes.txt"
    bad.write_text("not a pdf")
    refused(cli(runner, *conclude[:6], bad, *conclude[7:]), "PDF")
    done = ok(cli(runner, *conclude, "--summary", "与会居民一致同意申请改造"))
    assert "2 of 3 households present" in done
    assert status_of(app, pid) == "publicity"
    refused(cli(runner, "hearing", "attend", pid, "1-1-102", "--by", "staff1"), "pending")

    public = client.get(f"/r/{pub}.json").get_json()
    assert public["route"] == "hearing" and public["outcome"] == "agreed"
    assert public["attendance"]["households"] == 2
    assert public["attendance"]["area"] == "207.65"
    assert public["attendance"]["share"] == {"households": "2/3", "area": "20765/29775"}
    assert [u["code"] for u in public["households"]] == ["1-1-101", "2-1-201"]
    assert "张三" not in json.dumps(public, ensure_ascii=False)
    posting = pdf_text(client.get(f"/r/{pub}/results.pdf").data)
    assert "Hearing result posting" in posting and "69.73" in posting  # 20765/29775 rounded down
    assert "与会居民一致同意申请改造" in posting
    with read(app) as s:
        verified = audit.verify(s)
        assert verified.ok, verified.problem
        assert verified.results == 1
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.proposal_id == pid)))
    assert actions.count("hearing.attend") == 2 and "hearing.conclude" in actions
    assert "evidence.upload" in actions

    # An objection handed in at the office, answered; the period ends; finalize; sign.
    with factories.write(app) as s:
        from residents_vote.services import proposals

        p = proposals.lock(s, pid)
        objection = results.file_objection(
            s,
            p,
            text="签到人数有误",
            household="1-1-102",
            name="王芳",
            channel="paper",
            actor="staff1",
        )
        oid = objection.id
    refused(cli(runner, "proposal", "finalize", pid), "objection period")
    factories.travel(app, pid, days=9)
    refused(cli(runner, "proposal", "finalize", pid), "not answered")
    results.answer_objection_as(
        app.extensions["rv_db"].store,
        oid,
        decision="rejected",
        answer="签到表已核对",
        correction=None,
        username="staff1",
    )
    ok(cli(runner, "proposal", "finalize", pid))
    assert status_of(app, pid) == "final"
    final = pdf_text(client.get(f"/r/{pub}/final.pdf").data)
    assert "Final notice of the hearing" in final and "签到表已核对" in final
    assert factories.do_sign(app, pid, signers[0]) is True
    assert status_of(app, pid) == "confirmed"


def test_a_not_agreed_hearing_is_not_signed(app, runner, tmp_path):
    world = factories.hearing_world(app)
    signers = factories.committee_users(app, "hx", 1)
    ok(cli(runner, "hearing", "attend", world.proposal_id, "1-1-101", "--by", "staff1"))
    factories.hearing_passes(app, world.proposal_id, days=8)
    done = cli(
        runner,
        "hearing",
        "conclude",
        world.proposal_id,
        "--outcome",
        "not-agreed",
        "--minutes",
        _minutes(tmp_path),
        "--by",
        "staff1",
    )
    ok(done)
    assert "fewer than half" in done.stderr  # 1 of 3: a warning
    factories.travel(app, world.proposal_id, days=9)
    ok(cli(runner, "proposal", "finalize", world.proposal_id))
    import pytest

    from residents_vote.services.errors import Conflict

    with pytest.raises(Conflict, match="did not pass"):
        factories.do_sign(app, world.proposal_id, signers[0])
    assert status_of(app, world.proposal_id) == "final"


def test_a_vote_tally_says_its_route(app, runner):
    world = factories.voting_world(app)
    tally = json.loads(ok(cli(runner, "proposal", "tally", world.proposal_id)))
    assert tally["route"] == "vote" and len(tally["questions"]) == 2


def test_the_demo_has_a_second_community_that_went_through_a_hearing(app, runner, client):
    from residents_vote.demo_vote import HEARING_SLUG
    from residents_vote.models import Community, Proposal

    out = ok(cli(runner, "demo"))
    assert HEARING_SLUG in out and "agreed" in out
    with read(app) as s:
        community = s.scalar(select(Community).where(Community.slug == HEARING_SLUG))
        proposal = s.scalar(select(Proposal).where(Proposal.community_id == community.id))
        assert proposal.route == "hearing" and proposal.outcome == "agreed"
        assert proposal.status == "final"
        verified = audit.verify(s)
        assert verified.ok, verified.problem
        pub = proposal.public_id
    english(client)
    data = client.get(f"/r/{pub}.json").get_json()
    assert data["route"] == "hearing" and data["attendance"]["households"] == 86
    assert client.get(f"/r/{pub}").status_code == 200
