"""Objections during the posting period (CONTRACT.md "Resident pages", DOMAIN.md section 5).

`POST /r/<public_id>/objections`: 303 during the objection period; 403 outside it; 422 on
an empty text or an unknown receipt code (the household proves itself with it; issue 12,
more in tests/test_i12_objections.py). Staff enter paper
objections and answer every objection (accepted or rejected, with a reason); an accepted
objection that corrects a vote publishes a new result revision and restarts the period.
The result is finalized only after the period and once every objection is answered.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from residents_vote.domain import periods
from residents_vote.models import AuditEvent, Objection, Proposal, ResultRevision, User
from residents_vote.services import proposals, results
from residents_vote.services.errors import Conflict
from tests import factories
from tests.factories import travel
from tests.helpers import (
    any_csrf,
    count,
    csrf_token,
    english,
    flat,
    html_text,
    object_online,
    objection_end,
    objections_of,
    pdf_text,
    public_id,
    read,
    receipt_of,
    refused,
    staff_client,
    vote_online,
    write,
)

SH = ZoneInfo("Asia/Shanghai")


def posted_world(app, client, runner, **options):
    """Three households voted (1-1-101 online, the others on paper), the result posted."""
    world = factories.voting_world(app, closes=factories.ahead(days=3), **options)
    receipt = vote_online(client, world.tokens["1-1-101"], {1: "agree", 2: "agree"})
    factories.cast(app, world.proposal_id, "1-1-102", {1: "oppose", 2: "agree"})
    factories.cast(app, world.proposal_id, "2-1-201", {1: "agree", 2: "abstain"})
    result = runner.invoke(args=["proposal", "close", str(world.proposal_id)])
    assert result.exit_code == 0, result.stderr
    return world, public_id(app, world.proposal_id), receipt


def test_online_objection_during_the_period(app, client, runner):
    english(client)
    world, pub, _ = posted_world(app, client, runner)
    page = client.get(f"/r/{pub}").get_data(as_text=True)
    token = csrf_token(page, "/objections")  # the form on the page carries its token
    response = client.post(
        f"/r/{pub}/objections",
        data={
            "csrf_token": token,
            "name": "张先生",
            "receipt": receipt_of(app, pub, "1-1-102"),
            "contact": "13800001234",
            "text": "我家的表决票勾选的是同意，公示为反对。",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/{pub}?filed=1#objections")
    (objection,) = objections_of(app, world.proposal_id)
    assert (objection.name, objection.household_code, objection.channel) == (
        "张先生",
        "1-1-102",
        "online",
    )
    assert objection.status == "open" and objection.revision == 1
    shown = html_text(client.get(f"/r/{pub}?filed=1").get_data(as_text=True))
    assert "Your objection was received" in shown
    assert f"Objection {objection.id}: Awaiting an answer" in shown
    assert "张先生" not in shown and "13800001234" not in shown, "objectors are not published"
    with read(app) as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "objection.file"))
        assert "张先生" not in event.data and "13800001234" not in event.data


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, None),  # the name is optional: the receipt proves the household
        ({"text": ""}, "Please describe the objection"),
        ({"household": "9-9-999"}, "No vote of this proposal has this receipt code"),
        ({"household": "1-1-101 "}, None),  # trimmed: a known household is accepted
        ({"name": "x" * 101}, "The name is too long"),
    ],
)
def test_online_objection_is_checked(app, client, runner, fields, message):
    english(client)
    world, pub, _ = posted_world(app, client, runner)
    response = object_online(client, pub, **fields)
    if message is None:
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert message in html_text(response.get_data(as_text=True))
    assert objections_of(app, world.proposal_id) == []


def test_objection_without_csrf_token_is_400(app, client, runner):
    world, pub, _ = posted_world(app, client, runner)
    response = client.post(f"/r/{pub}/objections", data={"name": "a", "text": "b"})
    assert response.status_code == 400
    assert objections_of(app, world.proposal_id) == []


def test_objections_outside_the_period_are_403(app, client, runner):
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(days=3))
    pub = public_id(app, world.proposal_id)
    early = object_online(client, pub)
    assert early.status_code == 403
    assert "only during the objection period" in html_text(early.get_data(as_text=True))

    for code in ("1-1-101", "1-1-102", "2-1-201"):
        factories.cast(app, world.proposal_id, code)
    assert runner.invoke(args=["proposal", "close", str(world.proposal_id)]).exit_code == 0
    assert object_online(client, pub).status_code == 303
    travel(app, world.proposal_id, days=8)
    end = objection_end(app, world.proposal_id)
    late = object_online(client, pub)
    assert late.status_code == 403
    text = html_text(late.get_data(as_text=True))
    assert f"The objection period ended at {end}" in text and end.endswith("24:00")
    assert len(objections_of(app, world.proposal_id)) == 1
    page = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    assert "objections can no longer be filed" in page


def test_one_objection_day_still_takes_objections_after_the_posting(app, client, runner):
    """Issue 12: the shortest period is 1 day from the day after the posting (0 days used
    to end the period at the close and let `finalize` follow at once)."""
    english(client)
    world = factories.voting_world(app, closes=factories.ahead(days=3), objection_days=1)
    for code in ("1-1-101", "1-1-102", "2-1-201"):
        factories.cast(app, world.proposal_id, code)
    assert runner.invoke(args=["proposal", "close", str(world.proposal_id)]).exit_code == 0
    filed = object_online(client, public_id(app, world.proposal_id), household="1-1-101")
    assert filed.status_code == 303
    result = runner.invoke(args=["proposal", "finalize", str(world.proposal_id)])
    assert result.exit_code == 1 and "objection period ends" in result.stderr


def test_staff_enter_a_paper_objection_and_answer_it(app, client, runner):
    world, pub, _ = posted_world(app, client, runner)
    staff_client(app, client, world)
    dashboard = f"/staff/proposals/{world.proposal_id}"
    page = client.get(dashboard).get_data(as_text=True)
    response = client.post(
        f"{dashboard}/objections",
        data={
            "csrf_token": csrf_token(page, "/objections"),
            "name": "李女士",
            "household": "2-1-201",
            "text": "书面异议：对弃权票的统计有疑问。",
        },
    )
    assert response.status_code == 303
    (objection,) = objections_of(app, world.proposal_id)
    assert objection.channel == "paper" and objection.status == "open"

    page = client.get(dashboard).get_data(as_text=True)
    assert "书面异议" in page and "李女士" in page, "staff see the objection and who filed it"
    answer_url = f"/staff/objections/{objection.id}"
    token = csrf_token(page, answer_url)
    no_reason = client.post(
        answer_url, data={"csrf_token": token, "decision": "rejected", "answer": " "}
    )
    assert no_reason.status_code == 303
    assert "Please give the reason" in client.get(dashboard).get_data(as_text=True)
    assert objections_of(app, world.proposal_id)[0].status == "open"

    done = client.post(
        answer_url,
        data={"csrf_token": token, "decision": "rejected", "answer": "经核对纸质票，统计无误。"},
    )
    assert done.status_code == 303
    (objection,) = objections_of(app, world.proposal_id)
    assert objection.status == "rejected" and objection.answer == "经核对纸质票，统计无误。"
    assert objection.answered_by_id is not None
    again = client.post(
        answer_url, data={"csrf_token": token, "decision": "accepted", "answer": "再次"}
    )
    assert again.status_code == 303
    assert objections_of(app, world.proposal_id)[0].status == "rejected", "answered once"
    public = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    assert "Rejected — 经核对纸质票，统计无误。" in public
    assert count(app, ResultRevision, ResultRevision.proposal_id == world.proposal_id) == 1


def test_accepted_correction_publishes_a_new_revision_and_restarts_the_period(app, client, runner):
    english(client)
    world, pub, _ = posted_world(app, client, runner, objection_days=7)
    pid = world.proposal_id
    # Three days into the period the paper ballot of 1-1-102 turns out mis-entered.
    travel(app, pid, days=3)
    first_end = objection_end(app, pid)
    before = client.get(f"/r/{pub}.json").get_json()
    assert before["revision"] == 1 and before["questions"][0]["agree"]["persons"] == 2
    object_online(client, pub, household="1-1-102", text="纸质票上勾选的是同意")
    (objection,) = objections_of(app, pid)

    staff_client(app, client, world)
    page = client.get(f"/staff/proposals/{pid}").get_data(as_text=True)
    answer_url = f"/staff/objections/{objection.id}"
    response = client.post(
        answer_url,
        data={
            "csrf_token": csrf_token(page, answer_url),
            "decision": "accepted",
            "answer": "核对纸质票后更正为同意",
            "correct": "yes",
            "q1": "agree",
            "q2": "agree",
        },
    )
    assert response.status_code == 303
    corrected_at = dt.datetime.now(dt.UTC)

    after = client.get(f"/r/{pub}.json").get_json()
    assert after["revision"] == 2
    assert after["questions"][0]["agree"]["persons"] == 3
    assert after["questions"][0]["oppose"]["persons"] == 0
    assert after["participation"] == before["participation"]
    with read(app) as s:
        p = s.get(Proposal, pid)
        revisions = list(
            s.scalars(
                select(ResultRevision)
                .where(ResultRevision.proposal_id == pid)
                .order_by(ResultRevision.revision)
            )
        )
        assert [r.revision for r in revisions] == [1, 2]
        assert revisions[1].reason == f"correction after objection {objection.id}"
        assert json.loads(revisions[0].tally_json)["questions"][0]["agree"]["persons"] == 2, (
            "the earlier revision is kept as it was posted"
        )
        # The period starts again: 7 days from the day after the correction.
        assert p.objection_ends_at == periods.period_end(corrected_at, 7, SH)
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.proposal_id == pid).order_by(AuditEvent.id)
            )
        ]
        assert actions[-3:] == ["objection.answer", "vote.correct", "result.revise"]
    new_end = objection_end(app, pid)
    assert new_end > first_end
    page = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    assert "Result revision 2" in page and f"to {new_end}." in page
    doc = flat(pdf_text(client.get(f"/r/{pub}/results.pdf").data))
    assert "Result revision 2" in doc and f"to {new_end}." in doc

    # Finalizing waits for the restarted period, then names the correction.
    refused(runner.invoke(args=["proposal", "finalize", str(pid)]), new_end)
    travel(app, pid, days=8)
    assert runner.invoke(args=["proposal", "finalize", str(pid)]).exit_code == 0
    final = html_text(client.get(f"/r/{pub}").get_data(as_text=True))
    assert "Accepted" in final and "result corrected in revision 2" in final
    assert "核对纸质票后更正为同意" in final
    assert "result corrected in revision 2" in flat(
        pdf_text(client.get(f"/r/{pub}/final.pdf").data)
    )


def test_an_online_vote_is_not_corrected(app, client, runner):
    world, pub, _ = posted_world(app, client, runner)
    object_online(client, pub, household="1-1-101")
    with write(app) as s:
        objection = s.scalar(select(Objection))
        staff = s.scalar(select(User).where(User.username == world.staff))
        with pytest.raises(Conflict, match="voted online"):
            results.answer_objection(
                s, objection, "accepted", "更正", by=staff, correction={1: "oppose", 2: "oppose"}
            )
        s.rollback()
    assert count(app, ResultRevision) == 1


def test_finalize_waits_for_every_answer(app, client, runner):
    world, pub, _ = posted_world(app, client, runner)
    object_online(client, pub)
    object_online(client, pub, name="王先生")
    travel(app, world.proposal_id, days=10)
    refused(runner.invoke(args=["proposal", "finalize", str(world.proposal_id)]), "2 objection")
    with write(app) as s:
        staff = s.scalar(select(User).where(User.username == world.staff))
        first = s.scalar(select(Objection).order_by(Objection.id))
        results.answer_objection(s, first, "rejected", "无依据", by=staff)
    refused(runner.invoke(args=["proposal", "finalize", str(world.proposal_id)]), "1 objection")
    with write(app) as s:
        staff = s.scalar(select(User).where(User.username == world.staff))
        second = s.scalar(select(Objection).where(Objection.status == "open"))
        results.answer_objection(s, second, "accepted", "已向业主说明", by=staff)
    assert runner.invoke(args=["proposal", "finalize", str(world.proposal_id)]).exit_code == 0
    with read(app) as s:
        assert s.get(Proposal, world.proposal_id).status == "final"
    with write(app) as s, pytest.raises(Conflict):
        staff = s.scalar(select(User).where(User.username == world.staff))
        results.finalize(s, proposals.lock(s, world.proposal_id), actor="test")


def test_an_objection_is_the_first_request_after_the_announced_close(app, client):
    """The POST starts counting by itself (no lock wait on its own write transaction)."""
    import time

    world = factories.voting_world(
        app,
        opened_at=factories.ago(days=3),
        starts=factories.ago(days=3),
        closes=factories.ago(minutes=1),
    )
    token = world.tokens["1-1-101"]
    started = time.monotonic()
    response = client.post(
        f"/b/{token}/objections", data={"csrf_token": any_csrf(client), "text": "计票有误"}
    )
    assert time.monotonic() - started < 10
    with read(app) as s:  # issue 12: counting, nothing published, no objection period yet
        assert s.get(Proposal, world.proposal_id).status == "counting"
    assert response.status_code == 403
    assert len(objections_of(app, world.proposal_id)) == 0
