"""The hearing route (听评会, DOMAIN.md "The hearing route"; CONTRACT.md "Hearing route").

An application may be decided at a hearing instead of by a vote: `proposal open` freezes
the electorate and posts the hearing notice (status `hearing`); staff record the
households present (in person or by a proxy with written authorisation, each household
once); after the hearing time `conclude` stores the signed minutes as evidence, records
the outcome (agreed / not agreed) and publishes the hearing result posting as a result
revision, which starts the objection period. Objections, the final notice, sign-off (of
an agreed outcome only) and filing then work as for a vote.

The attendance figures come from the pure counting module (domain/tally.py); no
threshold decides anything: fewer than half the households present is a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import settings
from ..domain import tally as rules
from ..models import ElectorateEntry, HearingAttendance, Proposal, User, utcnow
from . import attachments, audit, proposals, results, tally, users, voting
from .errors import N_, Conflict, Forbidden, Invalid
from .transitions import Action, move
from .unit import Store

MINUTES_KIND = "minutes"
ADVISED_NOTICE = dt.timedelta(days=5)
MAX_SUMMARY = 5000


def is_hearing(proposal: Proposal) -> bool:
    return proposal.route == "hearing"


def _require_hearing(proposal: Proposal) -> None:
    if not is_hearing(proposal):
        raise Conflict(N_("Proposal %(id)s is not decided by a hearing"), id=proposal.id)


def _require_staff(user: User, proposal: Proposal) -> None:
    if not voting.can_enter(user, proposal):
        raise Forbidden(
            N_("User %(user)s may not record the hearing of this community"), user=user.username
        )


def short_notice(proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """Fewer than 5 days between posting the notice (or now, for a draft) and the hearing:
    staff are warned, not refused."""
    if not is_hearing(proposal) or proposal.hearing_at is None:
        return False
    if proposal.status not in ("draft", "hearing"):
        return False
    posted = proposal.opened_at or now or utcnow()
    return proposal.hearing_at - posted < ADVISED_NOTICE


def attendance_rows(session: Session, proposal: Proposal) -> list[tuple[str, str, str]]:
    """(household code, area, proxy name) of each household present, in register order.
    Staff pages only: the proxy name is never published."""
    from .tally import entries_with, in_register_order

    rows = entries_with(session, proposal, HearingAttendance, HearingAttendance.proxy_name)
    ordered = in_register_order(rows)
    return [(r.code, rules.format_area(r.area), r.proxy_name) for r in ordered]


@dataclass(frozen=True)
class Attendance:
    """The attendance so far, with its shares of the total (staff page, result posting)."""

    households: int
    area: str
    total_households: int
    total_area: str
    households_share: str  # "48.00" (percent, rounded down: never overstated)
    area_share: str
    few: bool  # fewer than half the households: warn staff


def attendance(session: Session, proposal: Proposal) -> Attendance:
    result = tally.compute(session, proposal)
    electorate = result.electorate
    attended = result.participation
    return Attendance(
        households=attended.persons,
        area=rules.format_area(attended.area),
        total_households=electorate.households,
        total_area=rules.format_area(electorate.area),
        households_share=rules.percent(attended.persons, electorate.households, favourable=True),
        area_share=rules.percent(attended.area, electorate.area, favourable=True),
        few=rules.few_attended(attended, electorate),
    )


def record_attendance(
    session: Session,
    proposal: Proposal,
    codes: list[str],
    *,
    by: User,
    proxy_name: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Record households present at the hearing (codes of the frozen electorate, each
    once); all or nothing. Returns how many were recorded."""
    now = now or utcnow()
    _require_hearing(proposal)
    _require_staff(by, proposal)
    if proposal.status != "hearing":
        raise Conflict(
            N_("Attendance can be recorded only while the hearing is pending (status: %(status)s)"),
            status=proposal.status,
        )
    proxy_name = proxy_name.strip()
    if len(proxy_name) > 100:
        raise Invalid(N_("The proxy name is too long"))
    wanted = [c.strip() for c in codes if c.strip()]
    if not wanted:
        raise Invalid(N_("Give at least one household code"))
    if len(set(wanted)) != len(wanted):
        raise Invalid(N_("A household is given twice"))
    entries = {
        e.code: e
        for e in session.scalars(
            select(ElectorateEntry).where(
                ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.code.in_(wanted)
            )
        )
    }
    for code in wanted:
        if code not in entries:
            raise Invalid(
                N_("Household %(code)s is not in the electorate of this vote."), code=code[:100]
            )
    present = set(
        session.scalars(
            select(HearingAttendance.household_id).where(
                HearingAttendance.proposal_id == proposal.id,
                HearingAttendance.household_id.in_([e.household_id for e in entries.values()]),
            )
        )
    )
    for code in wanted:
        if entries[code].household_id in present:
            raise Conflict(N_("Household %(code)s is already recorded as present"), code=code)
    for code in wanted:
        session.add(
            HearingAttendance(
                proposal_id=proposal.id,
                household_id=entries[code].household_id,
                proxy_name=proxy_name,
                recorded_by_id=by.id,
                recorded_at=now,
            )
        )
        audit.record_for(
            session,
            proposal,
            "hearing.attend",
            actor=by.username,
            subject=code,
            data={"household": code, "proxy": bool(proxy_name)},
        )
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent recording of the same household
        raise Conflict(N_("A household is already recorded as present")) from exc
    return len(wanted)


def conclude(
    session: Session,
    proposal: Proposal,
    *,
    outcome: str,
    minutes: tuple,
    summary: str = "",
    by: User,
    now: dt.datetime | None = None,
):
    """After the hearing time: keep the signed minutes as evidence, record the outcome and
    publish the hearing result posting (a result revision); the objection period starts
    the day after. Returns the published ResultRevision."""
    now = now or utcnow()
    _require_hearing(proposal)
    _require_staff(by, proposal)
    if proposal.status != "hearing":
        raise Conflict(
            N_("Only a pending hearing can be concluded (status: %(status)s)"),
            status=proposal.status,
        )
    if outcome not in rules.HEARING_OUTCOMES:
        raise Invalid(N_("The outcome must be agreed or not-agreed"))
    if proposal.hearing_at is None or now < proposal.hearing_at:
        raise Conflict(
            N_("The hearing is set for %(at)s; it can be concluded only after that"),
            at=results.local(proposal.hearing_at, proposal) if proposal.hearing_at else "",
        )
    summary = summary.strip()
    if len(summary) > MAX_SUMMARY:
        raise Invalid(N_("The summary of the minutes is too long"))
    filename, data = minutes
    upload = attachments.accept(filename or "minutes.pdf", data, ("application/pdf",))
    attachment = attachments.add(session, proposal, MINUTES_KIND, upload, by=by)
    proposal.outcome = outcome
    proposal.minutes_summary = summary
    proposal.concluded_at = now
    proposal.closed_at = now
    move(proposal, Action.PUBLISH, now=now, outcome_recorded=True)
    row = results._publish(session, proposal, "hearing result", event=now, now=now)
    event = audit.record_for(
        session,
        proposal,
        "hearing.conclude",
        actor=by.username,
        subject=proposal.title,
        data={
            "revision": row.revision,
            "sha256": row.sha256,
            "outcome": outcome,
            "minutes_sha256": attachment.sha256,
            "objections_until": proposal.objection_ends_at.isoformat(),
        },
    )
    row.head_seq, row.head_hash = event.seq, event.hash  # printed on the posting
    return row


def minutes_attachment(session: Session, proposal: Proposal):
    """The stored minutes of a concluded hearing (an Attachment), or None."""
    from ..models import Attachment

    return session.scalar(
        select(Attachment)
        .where(Attachment.proposal_id == proposal.id, Attachment.kind == MINUTES_KIND)
        .order_by(Attachment.id.desc())
        .limit(1)
    )


def electorate_rows(session: Session, proposal: Proposal) -> list[tuple[str, str]]:
    """(code, area) of every household of the frozen electorate, in register order: the
    rows of the sign-in sheet."""
    from ..domain.register import part_key

    rows = session.execute(
        select(
            ElectorateEntry.code,
            ElectorateEntry.area,
            ElectorateEntry.building,
            ElectorateEntry.unit,
            ElectorateEntry.room,
        ).where(ElectorateEntry.proposal_id == proposal.id)
    )
    ordered = sorted(rows, key=lambda r: (part_key(r.building), part_key(r.unit), part_key(r.room)))
    return [(r.code, rules.format_area(r.area)) for r in ordered]


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def attend(
    store: Store,
    proposal_id: int,
    codes: list[str],
    *,
    proxy_name: str = "",
    username: str,
    now: dt.datetime | None = None,
) -> int:
    """CLI `hearing attend`, the staff form: record households present; returns the count."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        return record_attendance(
            s, proposal, codes, by=users.acting_user(s, username), proxy_name=proxy_name, now=now
        )


@dataclass(frozen=True)
class Concluded:
    proposal_id: int
    revision: int
    outcome: str
    households: int
    total_households: int
    few: bool
    objections_until: dt.datetime
    objections_until_text: str


def conclude_hearing(
    store: Store,
    proposal_id: int,
    *,
    outcome: str,
    minutes: tuple,
    summary: str = "",
    username: str,
    now: dt.datetime | None = None,
) -> Concluded:
    """CLI `hearing conclude`, the staff form: one transaction; a refusal writes nothing."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        row = conclude(
            s,
            proposal,
            outcome=outcome,
            minutes=minutes,
            summary=summary,
            by=users.acting_user(s, username),
            now=now,
        )
        seen = attendance(s, proposal)
        return Concluded(
            proposal_id=proposal.id,
            revision=row.revision,
            outcome=outcome,
            households=seen.households,
            total_households=seen.total_households,
            few=seen.few,
            objections_until=proposal.objection_ends_at,
            objections_until_text=results.local_end(proposal.objection_ends_at, s),
        )


def sign_in_sheet_pdf(store: Store, proposal_id: int) -> bytes:
    """The sign-in sheet of an opened hearing (one row per household of the electorate)."""
    from . import hearing_docs

    with store.read() as s:
        proposal = proposals.get(s, proposal_id)
        _require_hearing(proposal)
        if proposal.opened_at is None:
            raise Conflict(N_("Open the hearing first: the sign-in sheet lists its electorate"))
        return hearing_docs.sign_in_sheet(s, proposal).output()


def hearing_time_text(proposal: Proposal) -> str:
    return settings.of(proposal).format_local(proposal.hearing_at) if proposal.hearing_at else ""
