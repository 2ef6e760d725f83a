"""What `audit verify` checks beyond the hash chains (CONTRACT.md, DOMAIN.md section 8).

A hash chain alone proves nothing about the other tables: an answer flipped in the vote
table, or a chain recomputed from an edited event onwards, verifies as intact. So, after
the chains (services.audit.verify_chains):

1. every stored vote matches the answers digest of its latest audit event (cast or
   correction), and every vote the log records (not voided) is still stored;
2. every audit head printed on a published notice (voting notice, result revisions,
   final notice) is an entry of its chain: a chain rewritten after publication no
   longer contains the printed head;
3. every published result revision equals a recount of the votes it was computed from:
   the stored votes for the latest revision; for an earlier one, the same votes with
   the corrections published after it undone (the log keeps each correction's answers
   before and after);
4. each revision's text still has the SHA-256 stored with it and recorded in the audit
   event that published it.

The first problem found is reported, in a fixed order (proposal id, household code).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.register import part_key
from ..domain.tally import format_area
from ..models import (
    AuditEvent,
    ElectorateEntry,
    HearingAttendance,
    Proposal,
    ResultRevision,
    Vote,
    VoteAnswer,
)
from . import audit, tally
from .audit import VerifyResult

# Events that publish a result revision (data["revision"], data["sha256"]).
PUBLISH_ACTIONS = ("proposal.close", "result.revise", "result.publish", "hearing.conclude")
# The parts of a published result that a recount must reproduce; dates, the revision
# number, the objection period and the live status are not counted.
COUNTED = ("electorate", "participation", "questions", "households", "attendance", "outcome")
PROPOSAL_COUNTED = ("id", "public_id", "title", "stage", "rule", "headcount", "scope")


class _Problem(Exception):
    pass


def _data(event_data: str) -> dict:
    try:
        data = json.loads(event_data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _answers(value: object) -> dict[int, str] | None:
    """Answers as an event spells them ({"1": "agree"}), or None if they are not there."""
    if not isinstance(value, dict):
        return None
    try:
        return {int(n): str(a) for n, a in value.items()}
    except (TypeError, ValueError):
        return None


def recorded_digest(proposal_id: int, household: str, data: dict) -> str | None:
    """The answers digest an event records; for a correction that spells its answers out
    ("after") but has no digest, theirs; None when the event records no answers."""
    digest = data.get(audit.ANSWERS_KEY)
    if isinstance(digest, str):
        return digest
    after = _answers(data.get("after"))
    if after is not None:
        return audit.answers_digest(proposal_id, household, after)
    return None


@dataclass
class _Voter:
    vote_id: int
    code: str
    owner_key: str
    area: int
    order: tuple
    answers: dict[int, str] = field(default_factory=dict)


@dataclass
class _Log:
    """The events of the checked chains that matter here, in chain order."""

    latest: dict[int, dict[str, AuditEvent]] = field(default_factory=lambda: defaultdict(dict))
    corrections: dict[tuple[int, str], list[tuple[int, dict]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    published: dict[tuple[int, int], tuple[int, dict, AuditEvent]] = field(default_factory=dict)
    hashes: dict[tuple[str, int], str] = field(default_factory=dict)


def _log(session: Session, chains: list[str] | None) -> _Log:
    log = _Log()
    actions = audit.VOTE_ANSWER_ACTIONS + audit.VOTE_REMOVED_ACTIONS + PUBLISH_ACTIONS
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.action.in_(actions), AuditEvent.proposal_id.is_not(None))
        .order_by(AuditEvent.chain, AuditEvent.seq)
    )
    if chains is not None:
        stmt = stmt.where(AuditEvent.chain.in_(chains))
    for event in session.scalars(stmt):
        data = _data(event.data)
        if event.action in PUBLISH_ACTIONS:
            revision = data.get("revision")
            if isinstance(revision, int):
                log.published[(event.proposal_id, revision)] = (event.seq, data, event)
            continue
        log.latest[event.proposal_id][event.subject] = event
        if event.action == "vote.correct":
            log.corrections[(event.proposal_id, event.subject)].append((event.seq, data))
    return log


def _voters(session: Session, proposal_ids: list[int]) -> dict[int, list[_Voter]]:
    """Every stored vote with its household's frozen entry and answers, per proposal."""
    out: dict[int, list[_Voter]] = defaultdict(list)
    if not proposal_ids:
        return out
    by_vote: dict[int, _Voter] = {}
    for pid, voter in _entries_of(session, Vote, proposal_ids, "vote"):
        by_vote[voter.vote_id] = voter
        out[pid].append(voter)
    for vid, number, answer in session.execute(
        select(VoteAnswer.vote_id, VoteAnswer.question_number, VoteAnswer.answer).where(
            VoteAnswer.proposal_id.in_(proposal_ids)
        )
    ):
        if vid in by_vote:
            by_vote[vid].answers[int(number)] = answer
    for voters in out.values():
        voters.sort(key=lambda v: v.code)
    return out


def _check_votes(proposal: Proposal, voters: list[_Voter], log: _Log) -> int:
    """Each stored vote against its latest event; each recorded vote still stored.

    An event that records no answers cannot vouch for a vote: it fails too (a forger
    would otherwise strip the digest and rehash the chain)."""
    checked = 0
    pid = proposal.id
    latest = log.latest.get(pid, {})
    stored = set()
    for voter in voters:
        stored.add(voter.code)
        event = latest.get(voter.code)
        name = f"vote {voter.code} of proposal {pid}"
        if event is None:
            raise _Problem(f"{name} has no audit event")
        if event.action in audit.VOTE_REMOVED_ACTIONS:
            raise _Problem(f"{name} was removed by audit event #{event.id} but is still stored")
        digest = recorded_digest(pid, voter.code, _data(event.data))
        if digest is None:
            raise _Problem(f"{name}: audit event #{event.id} does not record its answers")
        if digest != audit.answers_digest(pid, voter.code, voter.answers):
            raise _Problem(f"{name} does not match audit event #{event.id}")
        checked += 1
    for code, event in sorted(latest.items()):
        if code in stored or event.action in audit.VOTE_REMOVED_ACTIONS:
            continue
        raise _Problem(
            f"vote {code} of proposal {pid} recorded in audit event #{event.id} is missing "
            "from the vote table"
        )
    return checked


def _chain_hashes(session: Session, chain: str, seqs: set[int]) -> dict[int, str]:
    if not seqs:
        return {}
    return dict(
        session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(
                AuditEvent.chain == chain, AuditEvent.seq.in_(sorted(seqs))
            )
        ).all()
    )


def _check_heads(session: Session, proposal: Proposal, revisions: list[ResultRevision]) -> None:
    """Every head printed on a notice of the proposal must be an entry of its chain."""
    printed: list[tuple[str, int | None, str | None]] = [
        (
            f"voting notice of proposal {proposal.id}",
            proposal.notice_head_seq,
            proposal.notice_head_hash,
        ),
    ]
    printed += [
        (f"result revision {r.revision} of proposal {proposal.id}", r.head_seq, r.head_hash)
        for r in revisions
    ]
    printed.append(
        (
            f"final notice of proposal {proposal.id}",
            proposal.final_head_seq,
            proposal.final_head_hash,
        )
    )
    chain = audit.chain_for(proposal.community_id)
    hashes = _chain_hashes(session, chain, {seq for _, seq, _ in printed if seq is not None})
    for what, seq, digest in printed:
        if seq is None:
            continue  # published before heads were printed
        if hashes.get(seq) != digest:
            raise _Problem(
                f"{what}: the audit head printed at publication (seq {seq}, "
                f"{(digest or '')[:16]}…) is not in the audit chain"
            )


def _counted(data: dict) -> dict:
    part = {k: data.get(k) for k in COUNTED}
    proposal = data.get("proposal") or {}
    part["proposal"] = {k: proposal.get(k) for k in PROPOSAL_COUNTED}
    return part


def _recount(proposal: Proposal, voters: list[_Voter], answers: dict[str, dict[int, str]]) -> dict:
    from . import results  # results imports audit: import it where it is used

    try:
        counted = tally.recount(
            proposal, [(v.code, v.owner_key, v.area, answers[v.code]) for v in voters]
        )
    except ValueError as exc:
        raise _Problem(
            f"proposal {proposal.id}: the stored votes cannot be counted: {exc}"
        ) from None
    data = copy.deepcopy(counted.json)
    results._anonymous_conflicts(data["questions"])
    data["households"] = [
        {"code": v.code, "area": format_area(v.area)} for v in sorted(voters, key=lambda v: v.order)
    ]
    return data


def _attendees(session: Session, proposal_ids: list[int]) -> dict[int, list[_Voter]]:
    """The households recorded present at each hearing, with their frozen entries."""
    out: dict[int, list[_Voter]] = defaultdict(list)
    if not proposal_ids:
        return out
    for pid, attendee in _entries_of(session, HearingAttendance, proposal_ids, "attendance"):
        out[pid].append(attendee)
    return out


def _entries_of(session: Session, model, proposal_ids: list[int], what: str):  # noqa: ANN001, ANN202
    """(proposal id, _Voter) for each row of `model` (Vote, HearingAttendance: rows keyed by
    proposal and household) with its household's frozen entry; a row whose household is
    not in the electorate is a problem."""
    rows = session.execute(
        select(
            model.id,
            model.proposal_id,
            ElectorateEntry.code,
            ElectorateEntry.owner_key,
            ElectorateEntry.area,
            ElectorateEntry.building,
            ElectorateEntry.unit,
            ElectorateEntry.room,
        )
        .outerjoin(
            ElectorateEntry,
            (ElectorateEntry.proposal_id == model.proposal_id)
            & (ElectorateEntry.household_id == model.household_id),
        )
        .where(model.proposal_id.in_(proposal_ids))
    )
    for row_id, pid, code, owner_key, area, building, unit, room in rows:
        if code is None:
            raise _Problem(
                f"{what} #{row_id} of proposal {pid} is not of a household in its electorate"
            )
        order = (part_key(building), part_key(unit), part_key(room))
        yield pid, _Voter(row_id, code, owner_key, int(area), order)


def _recount_hearing(proposal: Proposal, present: list[_Voter]) -> dict:
    """A hearing's published result recounted from its attendance (domain/tally.py)."""
    data = copy.deepcopy(tally.build_hearing(proposal, [v.area for v in present]).json)
    ordered = sorted(present, key=lambda v: v.order)
    data["households"] = [{"code": v.code, "area": format_area(v.area)} for v in ordered]
    return data


def _answers_at(voter: _Voter, proposal_id: int, log: _Log, published_seq: int | None) -> dict:
    """The voter's answers as they were when a revision was published: the stored ones,
    with every correction logged after the publication undone."""
    if published_seq is None:
        return voter.answers
    later = [
        d for seq, d in log.corrections.get((proposal_id, voter.code), []) if seq > published_seq
    ]
    if not later:
        return voter.answers
    before = _answers(later[0].get("before"))
    return before if before is not None else voter.answers


def _check_results(
    proposal: Proposal,
    revisions: list[ResultRevision],
    voters: list[_Voter],
    log: _Log,
    present: list[_Voter] | None = None,
) -> int:
    for row in revisions:
        what = f"result revision {row.revision} of proposal {proposal.id}"
        try:
            stored = json.loads(row.tally_json)
        except ValueError:
            raise _Problem(f"{what}: the stored text is not JSON") from None
        published = log.published.get((proposal.id, row.revision))
        seq = published[0] if published else None
        answers = {v.code: _answers_at(v, proposal.id, log, seq) for v in voters}
        if proposal.route == "hearing":
            recount = _recount_hearing(proposal, present or [])
        else:
            recount = _recount(proposal, voters, answers)
        if _counted(stored) != _counted(recount):
            differ = [
                k for k in (*COUNTED, "proposal") if _counted(stored)[k] != _counted(recount)[k]
            ]
            raise _Problem(
                f"{what} does not match a recount of its votes ({', '.join(differ)} differ)"
            )
        if hashlib.sha256(row.tally_json.encode("utf-8")).hexdigest() != row.sha256:
            raise _Problem(f"{what}: the stored text does not match its SHA-256")
        if published is None:
            raise _Problem(f"{what}: no audit event records its publication")
        if published[1].get("sha256") != row.sha256:
            raise _Problem(
                f"{what}: its SHA-256 differs from the one recorded in audit event "
                f"#{published[2].id}"
            )
    return len(revisions)


def check(session: Session, events: int, *, community_id: int | None = None) -> VerifyResult:
    """Checks 1-4 above over every proposal (or one community's), after the chains."""
    chains = None if community_id is None else [audit.chain_for(community_id)]
    stmt = select(Proposal).where(Proposal.opened_at.is_not(None)).order_by(Proposal.id)
    if community_id is not None:
        stmt = stmt.where(Proposal.community_id == community_id)
    proposals = list(session.scalars(stmt))
    votes = results = 0
    try:
        log = _log(session, chains)
        ids = [p.id for p in proposals]
        all_voters = _voters(session, ids)
        all_present = _attendees(session, [p.id for p in proposals if p.route == "hearing"])
        revisions: dict[int, list[ResultRevision]] = defaultdict(list)
        if ids:
            for row in session.scalars(
                select(ResultRevision)
                .where(ResultRevision.proposal_id.in_(ids))
                .order_by(ResultRevision.proposal_id, ResultRevision.revision)
            ):
                revisions[row.proposal_id].append(row)
        for proposal in proposals:
            voters = all_voters.get(proposal.id, [])
            votes += _check_votes(proposal, voters, log)
            _check_heads(session, proposal, revisions[proposal.id])
            results += _check_results(
                proposal, revisions[proposal.id], voters, log, all_present.get(proposal.id, [])
            )
    except _Problem as problem:
        return VerifyResult(False, events, str(problem), votes, results)
    return VerifyResult(True, events, "", votes, results)
