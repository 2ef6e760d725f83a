"""Closing the count, publishing result revisions, objections, finalizing.

A published result is stored verbatim (JSON + SHA-256) as a numbered revision, so the
page, the JSON and the PDF of one revision always agree number for number.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import settings
from ..domain import periods
from ..models import (
    Ballot,
    ElectorateEntry,
    Objection,
    Proposal,
    ResultRevision,
    User,
    Vote,
    utcnow,
)
from . import audit, proposals, rest_days, tally, voting
from .errors import N_, Conflict, Forbidden, Invalid, NotFound
from .transitions import Action, move
from .unit import Store


def _zone(holder: object = None) -> ZoneInfo:
    return settings.of(holder).zone


def local(value: dt.datetime, holder: object = None) -> str:
    return settings.of(holder).format_local(value)


def local_end(value: dt.datetime, holder: object = None) -> str:
    """A period's end as notices write it: "2026-01-08 24:00" (DOMAIN.md "Periods")."""
    return periods.format_end(value, _zone(holder))


def objection_period(proposal: Proposal, event: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (UTC) of the objection period following `event`, the publication of a
    result revision (DOMAIN.md "Periods"): from the next day, to 24:00 of the last day,
    moved to the next working day when the last day is a rest day."""
    zone = _zone(proposal)
    days = proposal.objection_days
    return (
        periods.period_start(event, days, zone),
        periods.period_end(event, days, zone, rest_days.current(proposal)),
    )


COUNTING_ADVISED = dt.timedelta(days=3)


def counting_overdue(proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """Counting for 3 days or more without a published result (DOMAIN.md "Periods":
    Beijing posts within 3 days of counting): the staff dashboard warns."""
    now = now or utcnow()
    return (
        proposals.phase(proposal, now) == "counting"
        and proposal.closes_at is not None
        and now - (proposal.closed_at or proposal.closes_at) >= COUNTING_ADVISED
    )


def missing_schedule_years(proposal: Proposal, now: dt.datetime | None = None) -> list[int]:
    """Years the official rest-day schedule does not cover, among the days that decide
    where this proposal's objection period ends: from its nominal last day to the day it
    moves to (staff are warned: only weekends and the configured HOLIDAYS/WORKDAYS count as
    rest days there). Before publication, the period is estimated as if the result were
    published now, or at the announced close if that is later."""
    if proposal.status in ("final", "confirmed", "submitted", "filed", "cancelled"):
        return []
    zone = _zone(proposal)
    if proposal.objection_ends_at is not None:  # published: the year of its last day
        last = proposal.objection_ends_at.astimezone(zone).date() - dt.timedelta(days=1)
        return rest_days.missing_years([last])
    now = now or utcnow()
    published = max(now, proposal.closes_at or now)
    _, end = objection_period(proposal, published)
    first = published.astimezone(zone).date() + dt.timedelta(days=proposal.objection_days)
    last = end.astimezone(zone).date() - dt.timedelta(days=1)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return rest_days.missing_years(days)


def canonical(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _anonymous_conflicts(questions: list[dict]) -> None:
    """Owner keys may be ID-derived (DOMAIN.md section 8): a published result names the
    owner of conflicting units only as "#1", "#2"... (the units are listed anyway)."""
    keys: dict[str, str] = {}
    for q in questions:
        for c in q.get("conflicts", []):
            c["owner_key"] = keys.setdefault(c["owner_key"], f"#{len(keys) + 1}")


def _publish(
    session: Session,
    proposal: Proposal,
    reason: str,
    *,
    event: dt.datetime,
    now: dt.datetime,
) -> ResultRevision:
    """Store the tally as a numbered revision: the exact text every public page shows.

    The objection period that `event` opens is part of the published text, so the page,
    the JSON and the PDF of one revision can only ever state the same dates.
    """
    result = tally.compute(session, proposal)
    data = copy.deepcopy(result.json)
    _anonymous_conflicts(data["questions"])
    data["households"] = tally.participating_units(session, proposal)
    revision = proposal.result_revision + 1
    start, end = objection_period(proposal, event)
    data["revision"] = revision
    data["published_at"] = now.astimezone(dt.UTC).isoformat()
    data["objection_period"] = {
        "days": proposal.objection_days,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    text = canonical(data)
    row = ResultRevision(
        proposal_id=proposal.id,
        revision=revision,
        tally_json=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        published_at=now,
        reason=reason,
    )
    session.add(row)
    proposal.result_revision = revision
    proposal.objection_ends_at = end
    session.flush()
    return row


def latest_revision(session: Session, proposal: Proposal) -> ResultRevision | None:
    return session.scalar(
        select(ResultRevision)
        .where(ResultRevision.proposal_id == proposal.id)
        .order_by(ResultRevision.revision.desc())
        .limit(1)
    )


def published_json(session: Session, proposal: Proposal) -> dict | None:
    """The latest published result, with the proposal's current status."""
    row = latest_revision(session, proposal)
    if row is None:
        return None
    data = json.loads(row.tally_json)
    data["proposal"]["status"] = proposal.status
    return data


def revision_head(session: Session, proposal: Proposal) -> tuple[int, str] | None:
    """The audit chain head printed on the latest revision's posting: kept beside the
    revision's text, not in it (the event publishing the text records its SHA-256, and
    the head is the chain right after that event)."""
    row = latest_revision(session, proposal)
    if row is None or row.head_seq is None:
        return None
    return row.head_seq, row.head_hash


def close(
    session: Session, proposal: Proposal, *, actor: str, now: dt.datetime | None = None
) -> ResultRevision:
    """Publish the preliminary result (ending voting first if it is still open) and start
    the objection period, which runs from the day after this publication."""
    now = now or utcnow()
    proposals.count_if_due(session, proposal, now)
    if proposal.status not in ("voting", "counting"):
        raise Conflict(
            N_("Only an open or counting vote can be closed (status: %(status)s)"),
            status=proposal.status,
        )
    electorate = proposal.frozen_households or 0
    voted = electorate  # counting: the guard does not look at it
    if proposal.status == "voting":
        voted = proposals.voted_count(session, proposal)
        if voted < (proposal.frozen_households or 0):
            raise Conflict(
                N_(
                    "Voting is announced to close at %(closes)s; it can close earlier only "
                    "when every household has voted (%(voted)s of %(total)s have)"
                ),
                closes=local(proposal.closes_at),
                voted=voted,
                total=proposal.frozen_households,
            )
        proposal.closed_at = now  # early: every household has voted
    move(
        proposal,
        Action.PUBLISH,
        now=now,
        voted=voted,
        electorate=electorate,
    )
    row = _publish(session, proposal, "preliminary result", event=now, now=now)
    event = audit.record_for(
        session,
        proposal,
        "proposal.close",
        actor=actor,
        subject=proposal.title,
        data={
            "revision": row.revision,
            "sha256": row.sha256,
            "closed": proposal.closed_at.isoformat(),
            "objections_until": proposal.objection_ends_at.isoformat(),
        },
    )
    row.head_seq, row.head_hash = event.seq, event.hash  # printed on the posting
    return row


def close_if_due(session: Session, proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """Voting closes by itself at the announced time: the first request after it moves the
    vote to `counting` (nothing is published until staff publish the result)."""
    return proposals.count_if_due(session, proposal, now)


def objection_window_open(proposal: Proposal, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        proposal.status == "publicity"
        and proposal.objection_ends_at is not None
        and now < proposal.objection_ends_at
    )


# DOMAIN.md section 5: an objection comes from a household of the electorate. Online, a
# household may have at most this many objections awaiting an answer at once: enough for
# several distinct concerns, few enough that one household cannot bury staff (every open
# objection holds the final result). An answered objection no longer counts, and
# objections handed in at the office are always recorded.
MAX_OBJECTION_TEXT = 2000
MAX_OPEN_OBJECTIONS = 3


class UnknownReceipt(Invalid):
    """The receipt code given with an objection matches no vote of the proposal; the web
    layer counts it as a failure for the rate limit."""


def _require_objection_period(proposal: Proposal, now: dt.datetime | None) -> None:
    if objection_window_open(proposal, now):
        return
    if proposal.objection_ends_at is not None and proposal.status != "cancelled":
        raise Forbidden(
            N_("The objection period ended at %(end)s; objections can no longer be filed."),
            end=local_end(proposal.objection_ends_at),
        )
    raise Forbidden(N_("Objections can be filed only during the objection period."))


def file_objection(
    session: Session,
    proposal: Proposal,
    *,
    text: str,
    household: str,
    name: str = "",
    contact: str = "",
    channel: str = "online",
    proof: str = "",
    actor: str = "public",
    now: dt.datetime | None = None,
) -> Objection:
    """Record an objection of `household` (a code of the frozen electorate).

    `channel` "online": the caller has checked that the household proved itself (its
    receipt code or its ballot, `proof`); "paper": staff record an objection handed in at
    the office, with the objector's name.
    """
    _require_objection_period(proposal, now)
    name, text, household, contact = name.strip(), text.strip(), household.strip(), contact.strip()
    office = channel == "paper"
    if office and not name:
        raise Invalid(N_("Please give the objector's name (up to 100 characters)."))
    if len(name) > 100:
        raise Invalid(N_("The name is too long (up to 100 characters)."))
    if not text or len(text) > MAX_OBJECTION_TEXT:
        raise Invalid(
            N_("Please describe the objection (up to %(max)s characters)."),
            max=MAX_OBJECTION_TEXT,
        )
    if len(contact) > 200:
        raise Invalid(N_("The contact is too long."))
    if not household:
        raise Invalid(
            N_(
                "Objections are accepted only from households of the electorate: give the "
                "household code."
            )
        )
    known = session.scalar(
        select(ElectorateEntry.id).where(
            ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.code == household
        )
    )
    if known is None:
        raise Invalid(
            N_("Household %(code)s is not in the electorate of this vote."),
            code=household[:100],
        )
    if not office:
        pending = session.scalar(
            select(func.count(Objection.id)).where(
                Objection.proposal_id == proposal.id,
                Objection.household_code == household,
                Objection.status == "open",
            )
        )
        if pending >= MAX_OPEN_OBJECTIONS:
            raise Invalid(
                N_(
                    "This household already has %(max)s objections awaiting an answer. Staff "
                    "will answer them first; you may also hand your objection in at the office."
                ),
                max=MAX_OPEN_OBJECTIONS,
            )
    objection = Objection(
        proposal_id=proposal.id,
        revision=proposal.result_revision,
        name=name,
        household_code=household,
        contact=contact,
        text=text,
        channel=channel,
        status="open",
    )
    session.add(objection)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "objection.file",
        actor=actor,
        subject=f"objection {objection.id}",
        data={"household": household, "channel": channel, "proof": proof or channel},
    )
    return objection


def file_objection_by_receipt(
    session: Session,
    proposal: Proposal,
    receipt: str,
    *,
    text: str,
    name: str = "",
    contact: str = "",
    now: dt.datetime | None = None,
) -> Objection:
    """An objection from the household whose vote carries this receipt code."""
    _require_objection_period(proposal, now)
    try:
        _vote, entry = voting.by_receipt(session, proposal, receipt[:100])
    except NotFound:
        raise UnknownReceipt(
            N_(
                "No vote of this proposal has this receipt code. Objections are accepted only "
                "from households of the electorate: give your household's receipt code, use "
                "the objection form on your ballot page, or hand your objection in at the "
                "office."
            )
        ) from None
    return file_objection(
        session,
        proposal,
        text=text,
        household=entry.code,
        name=name,
        contact=contact,
        proof="receipt",
        now=now,
    )


def file_objection_by_ballot(
    session: Session,
    proposal: Proposal,
    ballot: Ballot,
    *,
    text: str,
    name: str = "",
    contact: str = "",
    now: dt.datetime | None = None,
) -> Objection:
    """An objection from the household of this (live) ballot, whether it voted or not."""
    _require_objection_period(proposal, now)
    code = session.scalar(
        select(ElectorateEntry.code).where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id == ballot.household_id,
        )
    )
    return file_objection(
        session,
        proposal,
        text=text,
        household=code or "",
        name=name,
        contact=contact,
        proof="ballot",
        now=now,
    )


def file_online_objection(
    store: Store,
    proposal_id: int,
    *,
    text: str,
    name: str = "",
    contact: str = "",
    receipt: str | None = None,
    ballot_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Use case: a household's objection filed online, proved by its ballot (`ballot_id`,
    a live ballot the caller has looked up) or by its receipt code; one transaction.
    Returns the objection's id; refusals raise (UnknownReceipt for an unknown code)."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        if ballot_id is not None:
            objection = file_objection_by_ballot(
                s, proposal, s.get(Ballot, ballot_id), text=text, name=name, contact=contact,
                now=now,
            )
        else:
            objection = file_objection_by_receipt(
                s, proposal, receipt or "", text=text, name=name, contact=contact, now=now
            )
        return objection.id


def answer_objection(
    session: Session,
    objection: Objection,
    decision: str,
    answer: str,
    *,
    by: User,
    correction: dict[int, str] | None = None,
    now: dt.datetime | None = None,
) -> ResultRevision | None:
    """Accept or reject an objection. An accepted one may correct a vote (an entry error):
    the correction is audited, a new result revision is published and the objection
    period starts again."""
    proposal = session.get(Proposal, objection.proposal_id)
    if proposal.status != "publicity":
        raise Conflict(N_("Objections can be answered only during the objection period"))
    if objection.status != "open":
        raise Conflict(N_("This objection was already answered"))
    if decision not in ("accepted", "rejected"):
        raise Invalid(N_("Decision must be accepted or rejected"))
    answer = answer.strip()
    if not answer:
        raise Invalid(N_("Please give the reason for the decision"))
    objection.status = decision
    objection.answer = answer
    objection.answered_by_id = by.id
    objection.answered_at = now or utcnow()
    audit.record_for(
        session,
        proposal,
        "objection.answer",
        actor=by.username,
        subject=f"objection {objection.id}",
        data={"decision": decision, "answer": answer},
    )
    if decision == "accepted" and correction:
        if not objection.household_code:
            raise Invalid(N_("The objection names no household whose vote could be corrected"))
        entry = session.scalar(
            select(ElectorateEntry).where(
                ElectorateEntry.proposal_id == proposal.id,
                ElectorateEntry.code == objection.household_code,
            )
        )
        vote = voting.existing_vote(session, proposal.id, entry.household_id) if entry else None
        if vote is None:
            raise NotFound(
                N_("Household %(code)s has no recorded vote"), code=objection.household_code
            )
        if vote.channel == "online":
            # DOMAIN.md section 4: a confirmed vote is final; staff correct only their own
            # data-entry errors, and an online vote was entered by the household itself.
            raise Conflict(
                N_(
                    "Household %(code)s voted online: a vote cast online is final and "
                    "cannot be corrected"
                ),
                code=objection.household_code,
            )
        voting.correct(
            session,
            vote,
            correction,
            f"objection {objection.id}: {answer}",
            by=by,
            statuses=("publicity",),
            now=now,
        )
        return republish(
            session,
            proposal,
            f"correction after objection {objection.id}",
            actor=by.username,
            now=now,
        )
    return None


def republish(
    session: Session,
    proposal: Proposal,
    reason: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> ResultRevision:
    """A corrected result: new revision, and the objection period starts again."""
    now = now or utcnow()
    row = _publish(session, proposal, reason, event=now, now=now)
    event = audit.record_for(
        session,
        proposal,
        "result.revise",
        actor=actor,
        subject=proposal.title,
        data={
            "revision": row.revision,
            "sha256": row.sha256,
            "reason": reason,
            "objections_until": proposal.objection_ends_at.isoformat(),
        },
    )
    row.head_seq, row.head_hash = event.seq, event.hash  # printed on the posting
    return row


def open_objections(session: Session, proposal: Proposal) -> int:
    return (
        session.scalar(
            select(func.count(Objection.id)).where(
                Objection.proposal_id == proposal.id, Objection.status == "open"
            )
        )
        or 0
    )


def finalize(
    session: Session, proposal: Proposal, *, actor: str, now: dt.datetime | None = None
) -> ResultRevision:
    now = now or utcnow()
    if proposal.status != "publicity":
        raise Conflict(
            N_("Only a posted result can be finalized (status: %(status)s)"), status=proposal.status
        )
    if now < proposal.objection_ends_at:
        raise Conflict(
            N_("The objection period ends at %(end)s; the result can be finalized only after that"),
            end=local_end(proposal.objection_ends_at),
        )
    pending = open_objections(session, proposal)
    if pending:
        raise Conflict(
            N_("%(count)s objection(s) not answered yet: answer every objection first"),
            count=pending,
        )
    row = latest_revision(session, proposal)
    move(proposal, Action.FINALIZE, now=now, open_objections=pending)
    proposal.finalized_at = now
    event = audit.record_for(
        session,
        proposal,
        "proposal.finalize",
        actor=actor,
        subject=proposal.title,
        data={"revision": row.revision, "sha256": row.sha256},
    )
    proposal.final_head_seq, proposal.final_head_hash = event.seq, event.hash
    return row


def objections(session: Session, proposal: Proposal) -> list[Objection]:
    return list(
        session.scalars(
            select(Objection).where(Objection.proposal_id == proposal.id).order_by(Objection.id)
        )
    )


def votes_count(session: Session, proposal: Proposal) -> int:
    return session.scalar(select(func.count(Vote.id)).where(Vote.proposal_id == proposal.id)) or 0


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class Published:
    """A result revision just published (preliminary, or final)."""

    proposal_id: int
    revision: int
    objections_until: dt.datetime | None
    objections_until_text: str


def _published(s: Session, proposal: Proposal, row: ResultRevision) -> Published:
    ends = proposal.objection_ends_at
    return Published(
        proposal_id=proposal.id,
        revision=row.revision,
        objections_until=ends,
        objections_until_text=local_end(ends, s) if ends else "",
    )


def publish_preliminary(store: Store, proposal_id: int, *, actor: str) -> Published:
    """End voting if it is still open and publish the preliminary result (CLI `proposal
    close`, staff button); the objection period runs from the day after."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        return _published(s, proposal, close(s, proposal, actor=actor))


def finalize_result(store: Store, proposal_id: int, *, actor: str) -> Published:
    """Publish the final result after the objection period."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        return _published(s, proposal, finalize(s, proposal, actor=actor))


def live_tally(store: Store, proposal_id: int) -> dict:
    """The tally JSON of a proposal, live while voting is open or counting; voting that
    has passed its announced close is moved to `counting` first. A draft is refused."""
    with store.read() as s:
        due = proposals.due_to_stop(proposals.get(s, proposal_id))
    if due:
        proposals.stop_if_due(store, proposal_id)
    with store.read() as s:
        proposal = proposals.get(s, proposal_id)
        if proposal.status == "draft":
            raise Invalid(N_("Proposal %(id)s is a draft: nothing to count"), id=proposal_id)
        return tally.compute(s, proposal).json


def objection_proposal(session: Session, objection_id: int) -> int | None:
    """The proposal an objection belongs to (None: no such objection)."""
    return session.scalar(select(Objection.proposal_id).where(Objection.id == objection_id))


def answer_objection_as(
    store: Store,
    objection_id: int,
    *,
    decision: str,
    answer: str,
    correction: dict[int, str] | None,
    username: str,
) -> int | None:
    """Staff answer an objection (accepted or rejected, with the reason); an accepted one
    may correct a paper entry, which publishes a new revision (its number is returned)."""
    from . import users

    with store.write() as s:
        proposal_id = objection_proposal(s, objection_id)
        if proposal_id is None:
            raise NotFound("Unknown objection %(id)s", id=objection_id)
        proposals.lock(s, proposal_id)
        objection = s.get(Objection, objection_id)
        row = answer_objection(
            s,
            objection,
            decision,
            answer,
            by=users.acting_user(s, username),
            correction=correction,
        )
        return row.revision if row is not None else None


def record_paper_objection(
    store: Store,
    proposal_id: int,
    *,
    name: str,
    text: str,
    household: str,
    contact: str,
    actor: str,
) -> int:
    """Staff enter an objection handed in on paper (only during the objection period);
    returns its id."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        objection = file_objection(
            s,
            proposal,
            name=name,
            text=text,
            household=household,
            contact=contact,
            channel="paper",
            actor=actor,
        )
        return objection.id
