"""Append-only, hash-chained audit log.

One chain per community (plus a `system` chain for events outside any community). The
chain head row is locked while an event is appended, in the same transaction as the
change it records, so concurrent writers queue instead of forking the chain. Events
name household codes and user names, never owner names or phones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import AuditEvent, AuditHead, Proposal, utcnow
from .prepared import Prepared

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def chain_for(community_id: int | None) -> str:
    return f"community:{community_id}" if community_id is not None else SYSTEM_CHAIN


def _canonical(data: dict | None) -> str:
    return json.dumps(data or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(
    prev_hash: str,
    chain: str,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    community_id: int | None,
    proposal_id: int | None,
    subject: str,
    data: str,
) -> str:
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = json.dumps(
        [prev_hash, chain, seq, stamp, actor, action, community_id, proposal_id, subject, data],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Events that record a household's answers (data["answers_sha256"]): the latest of them
# must match the stored vote. An event in VOTE_REMOVED_ACTIONS (a void) takes the entry
# out of the vote table: after it the household has no stored vote until it votes again.
VOTE_ANSWER_ACTIONS = ("vote.cast", "vote.correct")
VOTE_REMOVED_ACTIONS = ("vote.void",)
ANSWERS_KEY = "answers_sha256"


def answers_digest(proposal_id: int, household: str, answers: Mapping[int, str]) -> str:
    """SHA-256 of one household's answers to one proposal, in a canonical form.

    Recorded in every event that records or changes a vote (cast, correction, void) under
    ANSWERS_KEY, so `audit verify` can check the vote table against the log without the
    log spelling the answers out. Names never enter it; the household is its code.
    """
    body = json.dumps(
        [
            "residents_vote answers 1",
            int(proposal_id),
            household,
            [[int(n), str(a)] for n, a in sorted((int(n), a) for n, a in answers.items())],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def head(session: Session, community_id: int | None) -> tuple[int, str]:
    """The chain's last entry as (seq, hash); (0, GENESIS) for a chain never used."""
    row = session.get(AuditHead, chain_for(community_id))
    return (row.seq, row.hash) if row is not None else (0, GENESIS)


def _lock_head(session: Session, chain: str) -> AuditHead:
    """Lock the chain's head row; create it (race-free) the first time the chain is used."""
    locked = (
        select(AuditHead)
        .where(AuditHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.execute(locked).scalar_one_or_none()
    if head is not None:
        return head
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditHead)
        .values(chain=chain, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    return session.execute(locked).scalar_one()


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    community_id: int | None = None,
    proposal_id: int | None = None,
    subject: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append one event to its community's chain inside the caller's transaction."""
    chain = chain_for(community_id)
    head = _lock_head(session, chain)
    at = utcnow()
    seq = head.seq + 1
    payload = _canonical(data)
    digest = event_hash(
        head.hash, chain, seq, at, actor, action, community_id, proposal_id, subject, payload
    )
    event = AuditEvent(
        chain=chain,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        community_id=community_id,
        proposal_id=proposal_id,
        subject=subject,
        data=payload,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq = seq
    head.hash = digest
    session.flush()
    return event


_HEAD_FOR_UPDATE = Prepared(
    select(AuditHead.__table__.c.seq, AuditHead.__table__.c.hash)
    .where(AuditHead.__table__.c.chain == bindparam("chain"))
    .with_for_update()
)
_INSERT_EVENT = Prepared(insert(AuditEvent.__table__))
_MOVE_HEAD = Prepared(
    update(AuditHead.__table__)
    .where(AuditHead.__table__.c.chain == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)


def append(
    conn: Connection,
    action: str,
    *,
    actor: str,
    community_id: int | None = None,
    proposal_id: int | None = None,
    subject: str = "",
    data: dict | None = None,
) -> None:
    """`record` in Core statements on the transaction's connection (lock the head, insert
    the event, move the head), for the resident's vote path: the same event and hash as
    `record`, no ORM objects. (A session's connection: `session.connection()`.)"""
    chain = chain_for(community_id)
    head = _HEAD_FOR_UPDATE.first(conn, {"chain": chain})
    if head is None:  # the chain's first event: create its head (race-free), then lock it
        insert_head = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            insert_head(AuditHead.__table__)
            .values(chain=chain, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["chain"])
        )
        head = _HEAD_FOR_UPDATE.first(conn, {"chain": chain})
    prev_seq, prev_hash = head
    at = utcnow()
    seq = prev_seq + 1
    payload = _canonical(data)
    digest = event_hash(
        prev_hash, chain, seq, at, actor, action, community_id, proposal_id, subject, payload
    )
    _INSERT_EVENT.write(
        conn,
        {
            "chain": chain,
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "community_id": community_id,
            "proposal_id": proposal_id,
            "subject": subject,
            "data": payload,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    _MOVE_HEAD.write(conn, {"b_chain": chain, "b_seq": seq, "b_hash": digest})


def record_for(
    session: Session,
    proposal: Proposal,
    action: str,
    *,
    actor: str,
    subject: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append an event about a proposal to its community's chain."""
    return record(
        session,
        action,
        actor=actor,
        community_id=proposal.community_id,
        proposal_id=proposal.id,
        subject=subject,
        data=data,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    problem: str = ""
    votes: int = 0  # stored votes checked against their audit event
    results: int = 0  # published result revisions recounted


def verify(session: Session, *, community_id: int | None = None) -> VerifyResult:
    """Everything `audit verify` checks (CONTRACT.md), stopping at the first problem:
    the hash chains, every stored vote against its latest audit event, every published
    audit head against its chain and every published result against a recount.

    With `community_id`, only that community's chain and proposals (the staff page).
    """
    chains = None if community_id is None else [chain_for(community_id)]
    chain_check = verify_chains(session, chains=chains)
    if not chain_check.ok:
        return chain_check
    from . import integrity  # the recount needs the tally and results services

    return integrity.check(session, chain_check.events, community_id=community_id)


def verify_chains(session: Session, *, chains: list[str] | None = None) -> VerifyResult:
    """Recompute every chain; report the first entry whose hash or link is wrong."""
    count = 0
    last: dict[str, tuple[int, str]] = {}
    stmt = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
    heads = select(AuditHead)
    if chains is not None:
        stmt = stmt.where(AuditEvent.chain.in_(chains))
        heads = heads.where(AuditHead.chain.in_(chains))
    rows = session.execute(stmt)
    for (event,) in rows:
        count += 1
        prev_seq, prev_hash = last.get(event.chain, (0, GENESIS))
        where = f"audit event {event.id} (chain {event.chain}, seq {event.seq})"
        if event.seq != prev_seq + 1:
            return VerifyResult(False, count, f"{where}: sequence gap after seq {prev_seq}")
        if event.prev_hash != prev_hash:
            return VerifyResult(False, count, f"{where}: does not link to the previous entry")
        expected = event_hash(
            event.prev_hash,
            event.chain,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.community_id,
            event.proposal_id,
            event.subject,
            event.data,
        )
        if expected != event.hash:
            return VerifyResult(False, count, f"{where}: content does not match its hash")
        last[event.chain] = (event.seq, event.hash)
    for head_row in session.execute(heads).scalars():
        seq, digest = last.get(head_row.chain, (0, GENESIS))
        if (head_row.seq, head_row.hash) != (seq, digest):
            return VerifyResult(
                False, count, f"audit chain {head_row.chain}: entries after seq {seq} are missing"
            )
    return VerifyResult(True, count)
