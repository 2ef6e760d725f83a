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
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import AuditEvent, AuditHead, Proposal, utcnow

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


def verify(session: Session) -> VerifyResult:
    """Recompute every chain; report the first entry whose hash or link is wrong."""
    count = 0
    last: dict[str, tuple[int, str]] = {}
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq))
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
    for head in session.execute(select(AuditHead)).scalars():
        seq, digest = last.get(head.chain, (0, GENESIS))
        if (head.seq, head.hash) != (seq, digest):
            return VerifyResult(
                False, count, f"audit chain {head.chain}: entries after seq {seq} are missing"
            )
    return VerifyResult(True, count)
