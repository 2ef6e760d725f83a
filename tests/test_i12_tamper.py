"""Issue 12 item 11: tamper evidence that leaves the database.

Every vote's audit event records a digest of its answers; `audit verify` checks every
stored vote against its latest event, every published head against the chain and every
published result against a recount; `audit head SLUG`; every notice (page and PDF) prints
the chain head as it was at publication.

The attacks are made as an attacker with database access would make them: SQL on the
tables, and for a "rewritten chain" every hash after the edited event recomputed with the
application's own hash function, so the chain itself verifies.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select, text

from residents_vote.models import (
    AuditEvent,
    AuditHead,
    Ballot,
    ElectorateEntry,
    Objection,
    Proposal,
    ResultRevision,
    User,
    Vote,
)
from residents_vote.services import audit, proposals, results, voting
from tests import factories
from tests.helpers import engine, flat, login, pdf_text, public_id, read, refused, write

AGREE = {1: "agree", 2: "agree"}
MIXED = {1: "oppose", 2: "abstain"}


# --------------------------------------------------------------------------- helpers


def sql(app, statement: str, **params) -> None:
    with engine(app).begin() as conn:
        conn.execute(text(statement), params)


def chain_of(app, community_id: int) -> list[AuditEvent]:
    with read(app) as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain == audit.chain_for(community_id))
                .order_by(AuditEvent.seq)
            )
        )


def head_of(app, community_id: int) -> tuple[int, str]:
    with read(app) as s:
        head = s.get(AuditHead, audit.chain_for(community_id))
        return head.seq, head.hash


def rewrite_chain(app, community_id: int) -> None:
    """Recompute every link and hash of a community's chain, and its head, as a forger
    who knows the hash function would after editing an event."""
    with write(app) as s:
        chain = audit.chain_for(community_id)
        prev = audit.GENESIS
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        )
        for e in events:
            e.prev_hash = prev
            e.hash = audit.event_hash(
                prev,
                e.chain,
                e.seq,
                e.at,
                e.actor,
                e.action,
                e.community_id,
                e.proposal_id,
                e.subject,
                e.data,
            )
            prev = e.hash
        head = s.get(AuditHead, chain)
        head.hash = prev


def vote_event(app, proposal_id: int, household: str) -> AuditEvent:
    with read(app) as s:
        return s.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.proposal_id == proposal_id,
                AuditEvent.subject == household,
                AuditEvent.action.in_(("vote.cast", "vote.correct")),
            )
            .order_by(AuditEvent.seq.desc())
        ).first()


def vote_id(app, proposal_id: int, household: str) -> int:
    with read(app) as s:
        return s.scalar(
            select(Vote.id)
            .join(
                ElectorateEntry,
                (ElectorateEntry.proposal_id == Vote.proposal_id)
                & (ElectorateEntry.household_id == Vote.household_id),
            )
            .where(Vote.proposal_id == proposal_id, ElectorateEntry.code == household)
        )


def flip_answer(app, proposal_id: int, household: str, number: int, answer: str) -> None:
    sql(
        app,
        "UPDATE vote_answer SET answer = :a WHERE vote_id = :v AND question_number = :n",
        a=answer,
        v=vote_id(app, proposal_id, household),
        n=number,
    )


def cast_online(app, proposal_id: int, household: str, answers: dict[int, str]) -> None:
    with write(app) as s:
        entry = s.scalar(
            select(ElectorateEntry).where(
                ElectorateEntry.proposal_id == proposal_id, ElectorateEntry.code == household
            )
        )
        ballot = s.scalar(
            select(Ballot).where(
                Ballot.proposal_id == proposal_id,
                Ballot.household_id == entry.household_id,
                Ballot.status == "live",
            )
        )
        voting.cast_online(s, ballot, answers)


def cast_proxy(app, proposal_id: int, household: str, answers: dict, by: str) -> None:
    with write(app) as s:
        user = s.scalar(select(User).where(User.username == by))
        voting.record_paper(
            s,
            proposals.lock(s, proposal_id),
            household,
            answers,
            channel="proxy",
            by=user,
            proxy_name="李娜的女儿",
        )


def all_voted_and_closed(app) -> factories.World:
    """Three households vote (one online), then the preliminary result is published."""
    world = factories.voting_world(app)
    cast_online(app, world.proposal_id, "1-1-101", AGREE)
    factories.cast(app, world.proposal_id, "1-1-102", MIXED)
    cast_proxy(app, world.proposal_id, "2-1-201", AGREE, world.staff)
    close(app, world.proposal_id)
    return world


def close(app, proposal_id: int) -> None:
    with write(app) as s:
        results.close(s, proposals.lock(s, proposal_id), actor="test")


def verify(app) -> audit.VerifyResult:
    with read(app) as s:
        return audit.verify(s)


def far_future() -> dt.datetime:
    return factories.ahead(days=60)


# --------------------------------------------------------------------------- digests


def test_every_vote_event_records_its_answers_digest(app):
    world = factories.voting_world(app)
    pid = world.proposal_id
    cast_online(app, pid, "1-1-101", AGREE)
    factories.cast(app, pid, "1-1-102", MIXED)
    cast_proxy(app, pid, "2-1-201", AGREE, world.staff)
    for household, answers in (("1-1-101", AGREE), ("1-1-102", MIXED), ("2-1-201", AGREE)):
        event = vote_event(app, pid, household)
        assert event.action == "vote.cast"
        data = json.loads(event.data)
        assert data["answers_sha256"] == audit.answers_digest(pid, household, answers)
    # The digest is of proposal, household and answers: none of them can be swapped.
    assert audit.answers_digest(pid, "1-1-101", AGREE) != audit.answers_digest(
        pid, "1-1-102", AGREE
    )
    assert audit.answers_digest(pid, "1-1-101", AGREE) != audit.answers_digest(
        pid + 1, "1-1-101", AGREE
    )
    assert audit.answers_digest(pid, "1-1-101", {2: "agree", 1: "agree"}) == (
        audit.answers_digest(pid, "1-1-101", AGREE)
    )
    with write(app) as s:
        vote = s.get(Vote, vote_id(app, pid, "1-1-102"))
        user = s.scalar(select(User).where(User.username == world.staff))
        voting.correct(s, vote, {1: "agree", 2: "agree"}, "entered wrongly", by=user)
    event = vote_event(app, pid, "1-1-102")
    assert event.action == "vote.correct"
    assert json.loads(event.data)["answers_sha256"] == audit.answers_digest(
        pid, "1-1-102", {1: "agree", 2: "agree"}
    )
    result = verify(app)
    assert result.ok, result.problem
    assert result.votes == 3


# --------------------------------------------------------------------------- votes vs events


def test_answer_changed_in_the_database_fails_audit_verify(app, runner):
    world = factories.voting_world(app)
    pid = world.proposal_id
    factories.cast(app, pid, "1-1-101", AGREE)
    cast_online(app, pid, "1-1-102", MIXED)
    good = runner.invoke(args=["audit", "verify"])
    assert good.exit_code == 0, good.output
    flip_answer(app, pid, "1-1-102", 1, "agree")
    event = vote_event(app, pid, "1-1-102")
    bad = runner.invoke(args=["audit", "verify"])
    refused(bad, f"vote 1-1-102 of proposal {pid} does not match audit event #{event.id}")
    assert len(bad.stderr.strip().splitlines()) == 1
    flip_answer(app, pid, "1-1-102", 1, "oppose")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_deleted_or_smuggled_vote_fails_audit_verify(app):
    world = factories.voting_world(app)
    pid = world.proposal_id
    factories.cast(app, pid, "1-1-101", AGREE)
    vid = vote_id(app, pid, "1-1-101")
    sql(app, "DELETE FROM vote_answer WHERE vote_id = :v", v=vid)
    sql(app, "DELETE FROM vote WHERE id = :v", v=vid)
    result = verify(app)
    assert not result.ok
    assert f"vote 1-1-101 of proposal {pid}" in result.problem
    assert "missing" in result.problem


def test_rewritten_chain_is_caught_by_the_vote_cross_check(app):
    """The forger changes the recorded answers in the log and rehashes the chain: the
    chain verifies, but the stored vote no longer matches its event."""
    world = factories.voting_world(app)
    pid = world.proposal_id
    factories.cast(app, pid, "1-1-101", AGREE)
    factories.cast(app, pid, "1-1-102", AGREE)
    event = vote_event(app, pid, "1-1-101")
    data = json.loads(event.data)
    data["answers_sha256"] = audit.answers_digest(pid, "1-1-101", MIXED)
    sql(
        app,
        "UPDATE audit_event SET data = :d WHERE id = :id",
        d=json.dumps(data, sort_keys=True, separators=(",", ":")),
        id=event.id,
    )
    assert not verify(app).ok  # the plain chain check sees the edit...
    rewrite_chain(app, world.community_id)
    result = verify(app)  # ...and after the rewrite, the cross-check does
    assert not result.ok
    assert f"vote 1-1-101 of proposal {pid} does not match audit event #{event.id}" in (
        result.problem
    )


def test_rewritten_chain_with_vote_is_caught_by_the_published_head(app):
    """Vote and event changed together and the chain rehashed: the head printed on the
    preliminary result posting no longer exists in the chain."""
    world = all_voted_and_closed(app)
    pid = world.proposal_id
    assert verify(app).ok
    event = vote_event(app, pid, "1-1-102")
    data = json.loads(event.data)
    data["answers_sha256"] = audit.answers_digest(pid, "1-1-102", AGREE)
    sql(
        app,
        "UPDATE audit_event SET data = :d WHERE id = :id",
        d=json.dumps(data, sort_keys=True, separators=(",", ":")),
        id=event.id,
    )
    flip_answer(app, pid, "1-1-102", 1, "agree")
    flip_answer(app, pid, "1-1-102", 2, "agree")
    rewrite_chain(app, world.community_id)
    result = verify(app)
    assert not result.ok
    assert f"result revision 1 of proposal {pid}" in result.problem
    assert "audit head" in result.problem


def test_rewritten_chain_before_opening_is_caught_by_the_voting_notice_head(app):
    world = factories.voting_world(app)
    first = chain_of(app, world.community_id)[0]
    sql(app, "UPDATE audit_event SET subject = 'forged' WHERE id = :id", id=first.id)
    rewrite_chain(app, world.community_id)
    result = verify(app)
    assert not result.ok
    assert f"voting notice of proposal {world.proposal_id}" in result.problem
    assert "audit head" in result.problem


# --------------------------------------------------------------------------- recount


def _edit_revision(app, proposal_id: int, revision: int, fix_hash: bool) -> None:
    with write(app) as s:
        row = s.scalar(
            select(ResultRevision).where(
                ResultRevision.proposal_id == proposal_id, ResultRevision.revision == revision
            )
        )
        data = json.loads(row.tally_json)
        q = data["questions"][0]
        q["agree"]["persons"] += 1
        q["oppose"]["persons"] -= 1
        row.tally_json = results.canonical(data)
        if fix_hash:
            import hashlib

            row.sha256 = hashlib.sha256(row.tally_json.encode("utf-8")).hexdigest()


def test_edited_result_json_is_caught_by_the_recount(app, runner):
    world = all_voted_and_closed(app)
    pid = world.proposal_id
    result = verify(app)
    assert result.ok, result.problem
    assert result.results == 1
    _edit_revision(app, pid, 1, fix_hash=True)
    bad = runner.invoke(args=["audit", "verify"])
    refused(bad, f"result revision 1 of proposal {pid}", "recount")


def test_result_recount_follows_the_published_status_and_ignores_dates(app):
    """Publishing dates and the live status are not counted parts: a later status change
    (final) does not break the check."""
    world = all_voted_and_closed(app)
    with write(app) as s:
        results.finalize(s, proposals.lock(s, world.proposal_id), actor="t", now=far_future())
    result = verify(app)
    assert result.ok, result.problem


def test_earlier_revision_is_recounted_from_the_votes_it_was_computed_from(app):
    """A correction after an objection publishes revision 2; revision 1 still equals a
    recount of the answers as they were before the correction."""
    world = all_voted_and_closed(app)
    pid = world.proposal_id
    with write(app) as s:
        p = proposals.lock(s, pid)
        objection = Objection(
            proposal_id=pid,
            revision=1,
            name="王芳",
            household_code="1-1-102",
            text="我的选票录错了",
            channel="office",
            status="open",
        )
        s.add(objection)
        s.flush()
        user = s.scalar(select(User).where(User.username == world.staff))
        results.answer_objection(
            s,
            objection,
            "accepted",
            "录入错误，已更正",
            by=user,
            correction={1: "agree", 2: "agree"},
        )
        assert p.result_revision == 2
    result = verify(app)
    assert result.ok, result.problem
    assert result.results == 2
    _edit_revision(app, pid, 1, fix_hash=True)
    result = verify(app)
    assert not result.ok
    assert f"result revision 1 of proposal {pid}" in result.problem


# --------------------------------------------------------------------------- audit head


def test_audit_head_prints_seq_and_hash(app, runner):
    world = factories.voting_world(app)
    out = runner.invoke(args=["audit", "head", world.slug])
    assert out.exit_code == 0, out.output
    assert re.fullmatch(r"\d+ [0-9a-f]{64}\n", out.stdout), out.stdout
    seq, digest = head_of(app, world.community_id)
    assert out.stdout == f"{seq} {digest}\n"
    assert chain_of(app, world.community_id)[-1].hash == digest
    factories.cast(app, world.proposal_id, "1-1-101", AGREE)
    later = runner.invoke(args=["audit", "head", world.slug])
    assert later.stdout.split()[0] == str(seq + 1)
    refused(runner.invoke(args=["audit", "head", "nowhere"]), "nowhere")


# --------------------------------------------------------------------------- notices


def test_notices_print_the_head_at_publication(app, client):
    client.set_cookie("lang", "en")
    world = factories.voting_world(app, issue=False)
    pid = world.proposal_id
    pub = public_id(app, pid)
    opened = head_of(app, world.community_id)  # the proposal.open event is the last one
    assert chain_of(app, world.community_id)[-1].action == "proposal.open"
    factories.issue_ballots(app, pid)  # later events
    page = client.get(f"/r/{pub}").get_data(as_text=True)
    assert f"Audit log at publication: entry {opened[0]}" in flat(page)
    assert opened[1] in page
    notice_pdf = flat(pdf_text(client.get(f"/r/{pub}/notice.pdf").data))
    assert f"entry {opened[0]}" in notice_pdf and opened[1] in notice_pdf

    factories.cast(app, pid, "1-1-101", AGREE)
    factories.cast(app, pid, "1-1-102", MIXED)
    factories.cast(app, pid, "2-1-201", AGREE)
    close(app, pid)
    posted = head_of(app, world.community_id)
    assert posted != opened
    with write(app) as s:  # a later event
        audit.record(s, "test.later", actor="t", community_id=world.community_id)
    page = flat(client.get(f"/r/{pub}").get_data(as_text=True))
    assert f"Audit log at publication: entry {posted[0]}" in page and posted[1] in page
    results_pdf = flat(pdf_text(client.get(f"/r/{pub}/results.pdf").data))
    assert f"entry {posted[0]}" in results_pdf and posted[1] in results_pdf

    with write(app) as s:
        results.finalize(s, proposals.lock(s, pid), actor="t", now=far_future())
    final = head_of(app, world.community_id)
    with write(app) as s:
        audit.record(s, "test.later", actor="t", community_id=world.community_id)
    page = flat(client.get(f"/r/{pub}").get_data(as_text=True))
    assert f"Audit log at publication: entry {final[0]}" in page and final[1] in page
    final_pdf = flat(pdf_text(client.get(f"/r/{pub}/final.pdf").data))
    assert f"entry {final[0]}" in final_pdf and final[1] in final_pdf
    # The preliminary posting keeps its own head, rendered afresh in another language.
    zh = flat(pdf_text(client.get(f"/r/{pub}/results.pdf?lang=zh_CN").data))
    assert posted[1] in zh and final[1] not in zh
    assert verify(app).ok


def test_extended_notice_prints_the_head_of_its_revision(app, client):
    client.set_cookie("lang", "en")
    world = factories.voting_world(app, issue=False)
    with write(app) as s:
        proposals.extend(
            s, proposals.lock(s, world.proposal_id), factories.ahead(days=30), actor="t"
        )
    extended = head_of(app, world.community_id)
    page = flat(client.get(f"/r/{public_id(app, world.proposal_id)}").get_data(as_text=True))
    assert f"Audit log at publication: entry {extended[0]}" in page and extended[1] in page
    assert verify(app).ok


# --------------------------------------------------------------------------- staff page


def test_staff_audit_page_uses_the_same_verification(app, client):
    world = factories.voting_world(app)
    pid = world.proposal_id
    factories.cast(app, pid, "1-1-101", AGREE)
    client.set_cookie("lang", "en")
    login(client, world.staff)
    page = client.get(f"/staff/proposals/{pid}/audit").get_data(as_text=True)
    assert 'class="met" id="chain-status"' in page
    flip_answer(app, pid, "1-1-101", 2, "oppose")
    page = client.get(f"/staff/proposals/{pid}/audit").get_data(as_text=True)
    assert 'class="unmet" id="chain-status"' in page
    assert f"vote 1-1-101 of proposal {pid} does not match audit event" in page


# --------------------------------------------------------------------------- filing


def test_filing_package_lists_the_published_heads(app):
    pid = factories.confirmed(app)
    with read(app) as s:
        p = s.get(Proposal, pid)
        row = s.scalar(select(ResultRevision).where(ResultRevision.proposal_id == pid))
        expected = [
            ("voting notice", p.notice_head_seq, p.notice_head_hash),
            ("result posting", row.head_seq, row.head_hash),
            ("final notice", p.final_head_seq, p.final_head_hash),
        ]
        current = audit.head(s, p.community_id)
    audit_part = factories.filing_package(app, pid).manifest["audit"]
    assert audit_part["chain_ok"] is True
    assert audit_part["head"] == {"seq": current[0], "hash": current[1]}
    assert [(h["notice"], h["seq"], h["hash"]) for h in audit_part["published_heads"]] == expected
    assert all(seq is not None for _, seq, _ in expected)


def test_stripped_answers_digest_with_a_rewritten_chain_fails(app):
    """A vote event that records no answers cannot vouch for the vote: removing the
    digest, flipping the answer and rehashing the chain is still caught."""
    world = factories.voting_world(app)
    pid = world.proposal_id
    factories.cast(app, pid, "1-1-101", AGREE)
    event = vote_event(app, pid, "1-1-101")
    data = json.loads(event.data)
    del data["answers_sha256"]
    sql(
        app,
        "UPDATE audit_event SET data = :d WHERE id = :id",
        d=json.dumps(data, sort_keys=True, separators=(",", ":")),
        id=event.id,
    )
    flip_answer(app, pid, "1-1-101", 1, "oppose")
    rewrite_chain(app, world.community_id)
    result = verify(app)
    assert not result.ok
    assert f"vote 1-1-101 of proposal {pid}: audit event #{event.id}" in result.problem
