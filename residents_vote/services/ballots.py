"""Ballot tokens: issue, revoke, reissue, look up.

A token carries 144 random bits and is stored only as its SHA-256; the link is printed
on the paper ballot and never kept. Reissuing revokes the old ballot (its link then
answers 410) and issues a new one; every issue and revoke is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import settings
from ..domain.lifecycle import BallotEvent, ballot_after
from ..models import Ballot, ElectorateEntry, Household, Proposal, Vote, utcnow
from . import audit
from .errors import N_, Conflict, Gone, Invalid, NotFound, ServiceError


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _pad(secret_key: bytes, token_hash: str, size: int) -> bytes:
    return hmac.new(secret_key, b"ballot-link\0" + token_hash.encode(), hashlib.sha256).digest()[
        :size
    ]


def seal_token(token: str, token_hash: str, secret_key: bytes) -> str:
    """The token XOR a pad derived from the install's secret key and the ballot's token
    hash (unique per ballot): stored beside the hash so that the link can be sent by text
    message later (residents_vote/messages), unreadable without the secret key."""
    raw = base64.urlsafe_b64decode(token)
    pad = _pad(secret_key, token_hash, len(raw))
    return bytes(a ^ b for a, b in zip(raw, pad, strict=True)).hex()


def unseal_token(seal: str | None, token_hash: str, secret_key: bytes) -> str | None:
    """The token of a sealed link, or None (no seal, or the secret key has changed)."""
    if not seal:
        return None
    raw = bytes.fromhex(seal)
    pad = _pad(secret_key, token_hash, len(raw))
    token = base64.urlsafe_b64encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode()
    return token if hmac.compare_digest(hash_token(token), token_hash) else None


@dataclass(frozen=True)
class Issued:
    household_id: int
    code: str
    serial: str
    token: str

    def url(self, base_url: str) -> str:
        return f"{base_url}/b/{self.token}"


def _require_open(proposal: Proposal, *, hearing_cards: bool = False) -> None:
    """Ballots while a vote is open; with `hearing_cards`, also the invitation cards of a
    pending hearing (same table and tokens: the card's QR code is the household's link)."""
    if hearing_cards and proposal.route == "hearing" and proposal.status == "hearing":
        return
    if proposal.status != "voting":
        raise Conflict(
            N_("Ballots can only be issued while a vote is open (status: %(status)s)"),
            status=proposal.status,
        )


def _next_serial(session: Session, proposal: Proposal) -> int:
    return (
        session.scalar(select(func.count(Ballot.id)).where(Ballot.proposal_id == proposal.id)) or 0
    ) + 1


def _issue_for(
    session: Session, proposal: Proposal, entries: list[ElectorateEntry], actor: str
) -> list[Issued]:
    number = _next_serial(session, proposal)
    issued: list[Issued] = []
    rows = []
    secret_key = settings.of(session).secret_key
    for entry in entries:
        token = new_token()
        serial = f"{proposal.id}-{number:05d}"
        number += 1
        token_hash = hash_token(token)
        rows.append(
            {
                "proposal_id": proposal.id,
                "household_id": entry.household_id,
                "serial": serial,
                "token_hash": token_hash,
                "link_seal": seal_token(token, token_hash, secret_key),
                "status": "live",
                "issued_at": utcnow(),
            }
        )
        issued.append(Issued(entry.household_id, entry.code, serial, token))
    if rows:
        session.execute(Ballot.__table__.insert(), rows)
        audit.record_for(
            session,
            proposal,
            "ballots.issue",
            actor=actor,
            subject=f"{len(rows)} ballots",
            data={"serials": [r["serial"] for r in rows][:2000], "count": len(rows)},
        )
    return issued


def _without_ballot(
    session: Session, proposal: Proposal, household_ids: list[int] | None = None
) -> list[ElectorateEntry]:
    """The electorate entries (of these households; None: all) that have no live ballot
    and have not voted, in electorate order."""
    has_ballot = select(Ballot.household_id).where(
        Ballot.proposal_id == proposal.id, Ballot.status != "revoked"
    )
    voted = select(Vote.household_id).where(Vote.proposal_id == proposal.id)
    query = select(ElectorateEntry).where(
        ElectorateEntry.proposal_id == proposal.id,
        ElectorateEntry.household_id.not_in(has_ballot),
        ElectorateEntry.household_id.not_in(voted),
    )
    if household_ids is not None:
        query = query.where(ElectorateEntry.household_id.in_(household_ids))
    return list(session.scalars(query.order_by(ElectorateEntry.id)))


def issue(session: Session, proposal: Proposal, *, actor: str) -> list[Issued]:
    """A ballot for every household of the electorate that has none live and has not voted
    (for a pending hearing: its invitation card)."""
    _require_open(proposal, hearing_cards=True)
    return _issue_for(session, proposal, _without_ballot(session, proposal), actor)


def issue_to(
    session: Session, proposal: Proposal, household_ids: list[int], *, actor: str
) -> list[Issued]:
    """A ballot for each of these households of the electorate that has none live and has
    not voted (`ballots send`: only the households a message goes to)."""
    _require_open(proposal)
    if not household_ids:
        return []
    return _issue_for(session, proposal, _without_ballot(session, proposal, household_ids), actor)


def electorate_entries(
    session: Session, proposal: Proposal, codes: list[str] | None
) -> list[ElectorateEntry]:
    """The electorate entries of these household codes, in the order given (None: the
    whole electorate, in its order); a code not in the electorate: Invalid, naming it."""
    query = select(ElectorateEntry).where(ElectorateEntry.proposal_id == proposal.id)
    if codes is None:
        return list(session.scalars(query.order_by(ElectorateEntry.id)))
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    entries = list(session.scalars(query.where(ElectorateEntry.code.in_(wanted))))
    found = {e.code for e in entries}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise Invalid(
            N_("Not in the electorate of this proposal: %(codes)s"), codes=", ".join(missing)
        )
    order = {c: i for i, c in enumerate(wanted)}
    return sorted(entries, key=lambda e: order[e.code])


def reissue(
    session: Session,
    proposal: Proposal,
    codes: list[str] | None,
    *,
    actor: str,
) -> list[Issued]:
    """Revoke the live ballots of the given households (None: every non-voter) and reissue
    (a pending hearing's invitation cards too)."""
    _require_open(proposal, hearing_cards=True)
    voted_ids = set(
        session.scalars(select(Vote.household_id).where(Vote.proposal_id == proposal.id))
    )
    if codes is not None:
        entries = electorate_entries(session, proposal, codes)
        already = [e.code for e in entries if e.household_id in voted_ids]
        if already:
            raise Conflict(N_("Already voted: %(codes)s"), codes=", ".join(already))
    else:
        entries = [
            e
            for e in electorate_entries(session, proposal, None)
            if e.household_id not in voted_ids
        ]
    household_ids = [e.household_id for e in entries]
    live = list(
        session.scalars(
            select(Ballot).where(
                Ballot.proposal_id == proposal.id,
                Ballot.status == "live",
                Ballot.household_id.in_(household_ids),
            )
        )
    )
    now = utcnow()
    for ballot in live:
        ballot.status = ballot_after(ballot.status, BallotEvent.REVOKE)
        ballot.revoked_at = now
    session.flush()
    if live:
        audit.record_for(
            session,
            proposal,
            "ballots.revoke",
            actor=actor,
            subject=f"{len(live)} ballots",
            data={"serials": [b.serial for b in live][:2000], "count": len(live)},
        )
    return _issue_for(session, proposal, entries, actor)


def find(session: Session, token: str) -> Ballot:
    """The ballot for a token: NotFound if unknown, Gone if revoked."""
    if not token or len(token) > 100:
        raise NotFound(N_("This ballot link is not valid."))
    ballot = session.scalar(select(Ballot).where(Ballot.token_hash == hash_token(token)))
    if ballot is None:
        raise NotFound(N_("This ballot link is not valid."))
    if ballot.status == "revoked":
        raise Gone(
            N_("This ballot was replaced by a new one. Please use the newest ballot you received.")
        )
    return ballot


def print_rows(
    session: Session, proposal: Proposal, issued: list[Issued]
) -> list[tuple[Issued, ElectorateEntry, Household]]:
    """What the printer needs per ballot: the frozen entry and the register's owner name."""
    ids = [i.household_id for i in issued]
    entries = {
        e.household_id: e
        for e in session.scalars(
            select(ElectorateEntry).where(
                ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.household_id.in_(ids)
            )
        )
    }
    households = {h.id: h for h in session.scalars(select(Household).where(Household.id.in_(ids)))}
    return [(i, entries[i.household_id], households[i.household_id]) for i in issued]


def code_for_serial(session: Session, proposal_id: int, serial: str) -> str:
    """The household code printed on the paper ballot with this serial number. A revoked
    ballot was replaced (lost, reissued): its printed copy no longer counts."""
    row = session.execute(
        select(ElectorateEntry.code, Ballot.status)
        .join(
            Ballot,
            (Ballot.household_id == ElectorateEntry.household_id)
            & (Ballot.proposal_id == ElectorateEntry.proposal_id),
        )
        .where(Ballot.proposal_id == proposal_id, Ballot.serial == serial)
    ).first()
    if row is None:
        raise ServiceError("No ballot has the serial number %(serial)s.", serial=serial)
    if row.status == "revoked":
        raise Invalid(
            N_("Ballot %(serial)s was revoked and replaced; only the newest ballot counts."),
            serial=serial,
        )
    return row.code
