"""The resident's vote path (/b/<token>, GET and POST) in a few Core statements.

Thousands of residents open their ballot and vote within days, many of them in the
first hours; every millisecond here is paid per vote. So the hot path does not load ORM
objects: one statement finds the ballot by its token hash together with everything the
page and the vote need (proposal, community, the household's frozen entry, its vote if
any, whether a plan is attached, the number of questions); recording a vote is one
INSERT per table (vote, its answers, the ballot's new status) plus the audit append
(services/audit.append). The statements are built once, at import.

Everything returned is a plain value (a `BallotRow`, tuples); the rules (voting window,
answers, owner check) stay in services/voting.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.engine import Connection

from ..domain.lifecycle import BallotEvent, BallotStatus, Status, ballot_after
from ..models import (
    Attachment,
    Ballot,
    Community,
    ElectorateEntry,
    Proposal,
    Question,
    Vote,
    VoteAnswer,
)
from .prepared import Prepared

_b = Ballot.__table__.c
_p = Proposal.__table__.c
_c = Community.__table__.c
_e = ElectorateEntry.__table__.c
_v = Vote.__table__.c
_q = Question.__table__.c
_a = VoteAnswer.__table__.c
_att = Attachment.__table__.c


@dataclass(frozen=True)
class BallotRow:
    """A ballot with its proposal, community, frozen electorate entry and vote."""

    ballot_id: int
    ballot_status: str
    serial: str
    household_id: int
    # proposal
    proposal_id: int
    public_id: str
    community_id: int
    title: str
    stage: str
    body: str
    rule: str
    headcount: str
    status: str
    verify: str
    starts_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    objection_ends_at: dt.datetime | None
    cancel_reason: str
    route: str  # vote | hearing (a hearing's invitation card shares the ballot's table)
    questions: int  # how many
    # community
    community_name: str
    office: str
    contact: str
    # the household as it stood when voting opened (None: not in the electorate)
    code: str | None
    area: int | None
    building: str | None
    share: int | None
    building_share: int | None
    # its vote, if any
    vote_id: int | None
    receipt_code: str | None
    cast_at: dt.datetime | None
    channel: str | None
    has_plan: bool


_FIELDS = list(BallotRow.__dataclass_fields__)

BALLOT_ROW = Prepared(
    select(
        _b.id.label("ballot_id"),
        _b.status.label("ballot_status"),
        _b.serial,
        _b.household_id,
        _p.id.label("proposal_id"),
        _p.public_id,
        _p.community_id,
        _p.title,
        _p.stage,
        _p.body,
        _p.rule,
        _p.headcount,
        _p.status,
        _p.verify,
        _p.starts_at,
        _p.closes_at,
        _p.closed_at,
        _p.objection_ends_at,
        _p.cancel_reason,
        _p.route,
        select(func.count())
        .where(_q.proposal_id == _p.id)
        .scalar_subquery()
        .label("questions"),
        _c.name.label("community_name"),
        _c.office,
        _c.contact,
        _e.code,
        _e.area,
        _e.building,
        _e.share,
        _e.building_share,
        _v.id.label("vote_id"),
        _v.receipt_code,
        _v.cast_at,
        _v.channel,
        exists()
        .where(_att.proposal_id == _p.id, _att.kind == "plan")
        .label("has_plan"),
    )
    .select_from(
        Ballot.__table__.join(Proposal.__table__, _p.id == _b.proposal_id)
        .join(Community.__table__, _c.id == _p.community_id)
        .outerjoin(
            ElectorateEntry.__table__,
            and_(_e.proposal_id == _b.proposal_id, _e.household_id == _b.household_id),
        )
        .outerjoin(
            Vote.__table__,
            and_(_v.proposal_id == _b.proposal_id, _v.household_id == _b.household_id),
        )
    )
    .where(_b.token_hash == bindparam("token_hash"))
)

QUESTIONS = (
    select(_q.number, _q.text)
    .where(_q.proposal_id == bindparam("proposal_id"))
    .order_by(_q.number)
)

ANSWERS = (
    select(_a.question_number, _a.answer)
    .where(_a.vote_id == bindparam("vote_id"))
    .order_by(_a.question_number)
)

INSERT_VOTE = Prepared(insert(Vote.__table__))
INSERT_ANSWERS = Prepared(insert(VoteAnswer.__table__))
# The ballot is used by this vote, if it is still live and voting still open (else no
# row changes and nothing is recorded): the lifecycle's live --use--> used, as one guarded
# statement.
BALLOT_USED = Prepared(
    update(Ballot.__table__)
    .where(
        _b.id == bindparam("ballot_id"),
        _b.status == BallotStatus.LIVE.value,
        exists().where(_p.id == _b.proposal_id, _p.status == Status.VOTING.value),
    )
    .values(status=ballot_after(BallotStatus.LIVE, BallotEvent.USE))
)


def ballot_row(conn: Connection, token_hash: str) -> BallotRow | None:
    row = BALLOT_ROW.first(conn, {"token_hash": token_hash})
    if row is None:
        return None
    values = dict(zip(_FIELDS, row, strict=True))
    values["has_plan"] = bool(values["has_plan"])
    return BallotRow(**values)


def questions(
    conn: Connection, proposal_id: int, frozen: dict | None = None
) -> tuple[tuple[int, str], ...]:
    """(number, text) of the proposal's questions. Questions change only in a draft and a
    ballot exists only once voting has opened, so `frozen` (Store.frozen) may keep them."""
    key = ("questions", proposal_id)
    if frozen is not None and key in frozen:
        return frozen[key]
    found = tuple((n, t) for n, t in conn.execute(QUESTIONS, {"proposal_id": proposal_id}))
    if frozen is not None and found:
        frozen[key] = found
    return found


def answers(conn: Connection, vote_id: int) -> list[tuple[int, str]]:
    return [(n, a) for n, a in conn.execute(ANSWERS, {"vote_id": vote_id})]


def insert_online_vote(
    conn: Connection,
    row: BallotRow,
    answers_given: dict[int, str],
    *,
    receipt_code: str,
    cast_at: dt.datetime,
) -> int | None:
    """Mark the ballot used, insert the vote and its answers; the vote's id. None, with
    nothing written, when the ballot is no longer live or the proposal no longer in
    `voting` (revoked, voided and re-used, closed or cancelled since it was read). A
    second vote of the household fails on the unique constraint (IntegrityError)."""
    if BALLOT_USED.write(conn, {"ballot_id": row.ballot_id}).rowcount != 1:
        return None
    vote_id = INSERT_VOTE.write(
        conn,
        {
            "proposal_id": row.proposal_id,
            "household_id": row.household_id,
            "ballot_id": row.ballot_id,
            "channel": "online",
            "entered_by_id": None,
            "proxy_name": "",
            "receipt_code": receipt_code,
            "cast_at": cast_at,
            "received_at": cast_at,
            "corrected_at": None,
        },
    ).lastrowid
    INSERT_ANSWERS.write_many(
        conn,
        [
            {
                "vote_id": vote_id,
                "question_number": n,
                "proposal_id": row.proposal_id,
                "answer": a,
            }
            for n, a in sorted(answers_given.items())
        ],
    )
    return vote_id
