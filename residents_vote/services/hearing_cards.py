"""A hearing's invitation card at /b/<token> (issue 16 item 1, the staff phone).

`ballots issue` on a pending hearing issues one card per household of the frozen
electorate: a row of the ballot table (token hashed, serial), printed by
services/hearing_docs.invitation_cards with the QR code of its link. Opening the link
shows the household its hearing notice and whether its attendance is recorded; staff of
the community who open it signed in (the staff phone scanning the card at the door) get
one button that records the household present through `hearings.record_attendance`, the
same rule as the `hearing attend` command and the staff form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Ballot, ElectorateEntry, HearingAttendance, Proposal, User, utcnow
from . import ballots, hearings, proposals, users, voting
from .errors import N_, Gone, NotFound
from .unit import Store


@dataclass(frozen=True)
class CardPage:
    """Everything the card's page shows, as plain values (templates/ballot/hearing.html)."""

    proposal_id: int
    public_id: str
    title: str
    stage: str
    status: str  # hearing (pending), publicity, final, …, cancelled
    body: str
    agenda: str
    place: str
    organiser: str
    hearing_at: dt.datetime | None
    cancel_reason: str
    objection_days: int
    community: str
    office: str
    contact: str
    code: str
    area: int
    present: bool  # the household's attendance is recorded
    staff: bool  # the signed-in user may record attendance in this community
    pending: bool  # the hearing has not been concluded: attendance can still be recorded


def _card(session: Session, token: str) -> tuple[Ballot, Proposal, ElectorateEntry]:
    """The live card of a hearing for a token (NotFound / Gone as for a ballot)."""
    ballot = ballots.find(session, token)
    proposal = proposals.get(session, ballot.proposal_id)
    entry = session.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id == ballot.household_id,
        )
    )
    if not hearings.is_hearing(proposal) or entry is None:
        raise NotFound(N_("This ballot link is not valid."))
    return ballot, proposal, entry


def _is_present(session: Session, proposal: Proposal, household_id: int) -> bool:
    return (
        session.scalar(
            select(HearingAttendance.id).where(
                HearingAttendance.proposal_id == proposal.id,
                HearingAttendance.household_id == household_id,
            )
        )
        is not None
    )


def _recorder(session: Session, username: str | None, proposal: Proposal) -> User | None:
    """The signed-in user if they may record this hearing's attendance (staff of the
    community, or admin: the rule of `hearings.record_attendance`), else None."""
    if not username:
        return None
    user = users.by_username(session, username)
    if user is None or not user.active or not voting.can_enter(user, proposal):
        return None
    return user


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def card_page(store: Store, token: str, username: str | None = None) -> CardPage:
    """GET /b/<token> of a hearing's card, in one read. `username`: the signed-in user,
    if any; `staff` is true only for staff (or admin) of the card's community."""
    with store.read() as s:
        ballot, proposal, entry = _card(s, token)
        community = proposal.community
        return CardPage(
            proposal_id=proposal.id,
            public_id=proposal.public_id,
            title=proposal.title,
            stage=proposal.stage,
            status=proposal.status,
            body=proposal.body or "",
            agenda=proposal.agenda or "",
            place=proposal.place or "",
            organiser=proposal.organiser or community.name,
            hearing_at=proposal.hearing_at,
            cancel_reason=proposal.cancel_reason or "",
            objection_days=proposal.objection_days,
            community=community.name,
            office=community.office or "",
            contact=community.contact or "",
            code=entry.code,
            area=entry.area,
            present=_is_present(s, proposal, ballot.household_id),
            staff=_recorder(s, username, proposal) is not None,
            pending=proposal.status == "hearing",
        )


def may_record(store: Store, token: str, username: str | None) -> bool:
    """Whether this user may record attendance from this card (the web answers 404 to
    everyone else: a resident, staff of another community, an unknown link)."""
    if not username:
        return False
    with store.read() as s:
        try:
            _ballot, proposal, _entry = _card(s, token)
        except (NotFound, Gone):
            return False
        return _recorder(s, username, proposal) is not None


RECORDED = "recorded"
ALREADY_PRESENT = "already-present"


@dataclass(frozen=True)
class CardAttendance:
    outcome: str  # RECORDED or ALREADY_PRESENT (nothing changed)
    proposal_id: int
    household: str


def attend_by_card(
    store: Store,
    token: str,
    *,
    proxy_name: str = "",
    username: str,
    now: dt.datetime | None = None,
) -> CardAttendance:
    """POST /b/<token>/attend: staff record the card's household present, once (audited
    `hearing.attend` by `hearings.record_attendance`). A household already present is
    left as it is; a concluded hearing refuses (Conflict), as the command does."""
    now = now or utcnow()
    with store.write() as s:
        ballot, proposal, entry = _card(s, token)
        proposal = proposals.lock(s, proposal.id)
        user = users.acting_user(s, username)
        if _is_present(s, proposal, ballot.household_id):
            return CardAttendance(ALREADY_PRESENT, proposal.id, entry.code)
        hearings.record_attendance(
            s, proposal, [entry.code], by=user, proxy_name=proxy_name, now=now
        )
        return CardAttendance(RECORDED, proposal.id, entry.code)
