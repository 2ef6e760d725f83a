"""Ballot links by text message (`ballots send`, staff buttons) and the reminder.

A ballot's link is known only when it is issued; its token is stored hashed and, since
this issue, also sealed with the install's secret key (services/ballots.seal_token), so
a household's existing live ballot is sent as it is: its printed paper copy stays valid.
Households without a live ballot get one issued first. A ballot issued before links
were sealed (or after the secret key changed) cannot be sent; staff reissue it.

Never twice within 24 hours for one ballot unless forced. The reminder goes once, on the
day staff chose (default three days before the close), to every non-voter with a phone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import settings
from ..models import Ballot, Community, ElectorateEntry, Household, Proposal, Reminder, utcnow
from ..services import audit, ballots, proposals
from ..services.errors import N_, Conflict, Invalid
from ..services.unit import Store
from . import outbox

MESSAGE_LOCALE = "zh_CN"
RESEND_AFTER = dt.timedelta(hours=24)
REMINDER_DAYS_BEFORE = 3


def _params(proposal: Proposal, community: Community, link: str) -> dict:
    cfg = settings.of(proposal)
    return {
        "community": community.name,
        "title": proposal.title,
        "closes": cfg.format_local(proposal.closes_at) if proposal.closes_at else "",
        "link": link,
        "office": community.office or community.contact,
    }


def text_for(kind: str, params: dict) -> str:
    """The message as the file backend and staff sending by hand see it (Chinese)."""
    with force_locale(MESSAGE_LOCALE):
        office = params.get("office") or _("the community office")
        values = {**params, "office": office}
        if kind == "reminder":
            return _(
                "%(community)s reminder: you have not voted on \"%(title)s\" yet. Voting "
                "closes %(closes)s. Your ballot: %(link)s . Paper ballots: %(office)s.",
                **values,
            )
        return _(
            "%(community)s: vote on \"%(title)s\" until %(closes)s. Your ballot: "
            "%(link)s . Paper ballots: %(office)s.",
            **values,
        )


@dataclass(frozen=True)
class LinkReport:
    queued: int
    no_phone: int
    recent: tuple[str, ...] = ()  # households sent a link within 24 hours (skipped)
    unsealed: tuple[str, ...] = ()  # households whose live ballot's link is not known

    def line(self) -> str:
        return f"queued {self.queued}, no phone {self.no_phone}"


def _require_open(proposal: Proposal, now: dt.datetime) -> None:
    if proposals.phase(proposal, now) != "open":
        raise Conflict(
            N_("Ballot links can only be sent while voting is open (status: %(status)s)"),
            status=proposals.phase(proposal, now),
        )


def _queue_links(
    session: Session,
    proposal: Proposal,
    entries: list[ElectorateEntry],
    *,
    kind: str,
    force: bool,
    actor: str,
    now: dt.datetime,
) -> LinkReport:
    community = session.get(Community, proposal.community_id)
    ids = [e.household_id for e in entries]
    phones = dict(
        session.execute(select(Household.id, Household.phone).where(Household.id.in_(ids))).all()
    )
    with_phone = [e for e in entries if (phones.get(e.household_id) or "").strip()]
    no_phone = len(entries) - len(with_phone)
    issued = {
        i.household_id: i.token
        for i in ballots.issue_to(session, proposal, [e.household_id for e in with_phone],
                                  actor=actor)
    }
    live = {
        b.household_id: b
        for b in session.scalars(
            select(Ballot).where(
                Ballot.proposal_id == proposal.id,
                Ballot.status != "revoked",
                Ballot.household_id.in_([e.household_id for e in with_phone]),
            )
        )
    }
    secret = settings.of(session).secret_key
    base = settings.of(session).base_url
    queued = 0
    recent: list[str] = []
    unsealed: list[str] = []
    for entry in with_phone:
        ballot = live.get(entry.household_id)
        if ballot is None:
            continue  # voted without a ballot (a paper entry): nothing to send
        if not force and outbox.recent(session, ballot.id, ("ballot-link", "reminder"),
                                       now - RESEND_AFTER):
            recent.append(entry.code)
            continue
        token = issued.get(entry.household_id) or ballots.unseal_token(
            ballot.link_seal, ballot.token_hash, secret
        )
        if token is None:
            unsealed.append(entry.code)
            continue
        params = _params(proposal, community, f"{base}/b/{token}")
        outbox.queue(
            session,
            proposal_id=proposal.id,
            household_id=entry.household_id,
            ballot_id=ballot.id,
            phone=phones[entry.household_id],
            kind=kind,
            text=text_for(kind, params),
            params=params,
            now=now,
        )
        queued += 1
    if queued:
        audit.record_for(
            session,
            proposal,
            f"messages.queue-{kind}",
            actor=actor,
            subject=f"{queued} messages",
            data={"count": queued, "no_phone": no_phone, "forced": force},
        )
    return LinkReport(queued, no_phone, tuple(recent), tuple(unsealed))


def _local_date(proposal: Proposal, now: dt.datetime) -> dt.date:
    return now.astimezone(settings.of(proposal).zone).date()


def default_reminder_day(proposal: Proposal) -> dt.date | None:
    if proposal.closes_at is None:
        return None
    return _local_date(proposal, proposal.closes_at) - dt.timedelta(days=REMINDER_DAYS_BEFORE)


@dataclass(frozen=True)
class ReminderView:
    day: dt.date | None
    queued_at: dt.datetime | None
    default: bool


def reminder_of(session: Session, proposal: Proposal) -> ReminderView:
    row = session.get(Reminder, proposal.id)
    if row is None:
        return ReminderView(default_reminder_day(proposal), None, True)
    return ReminderView(row.day, row.queued_at, False)


def reminder_due(proposal: Proposal, now: dt.datetime) -> bool:
    """Read: the proposal's reminder day has come and it has not been queued."""
    from sqlalchemy.orm import object_session

    if proposal.status != "voting" or proposals.phase(proposal, now) != "open":
        return False
    view = reminder_of(object_session(proposal), proposal)
    return view.queued_at is None and view.day is not None and (
        _local_date(proposal, now) >= view.day
    )


def _due_reminders(
    session: Session, now: dt.datetime, proposal_id: int | None = None
) -> list[LinkReport]:
    reports = []
    query = select(Proposal).where(Proposal.status == "voting").order_by(Proposal.id)
    if proposal_id is not None:
        query = query.where(Proposal.id == proposal_id)
    candidates = session.scalars(query).all()
    for proposal in candidates:
        if proposals.phase(proposal, now) != "open":
            continue
        view = reminder_of(session, proposal)
        if view.queued_at is not None or view.day is None or _local_date(proposal, now) < view.day:
            continue
        proposal = proposals.lock(session, proposal.id)
        row = session.get(Reminder, proposal.id)
        if row is None:
            row = Reminder(proposal_id=proposal.id, day=view.day)
            session.add(row)
        elif row.queued_at is not None:
            continue
        row.queued_at = now
        voted = set(session.scalars(_voted(proposal.id)))
        electorate = ballots.electorate_entries(session, proposal, None)
        entries = [e for e in electorate if e.household_id not in voted]
        reports.append(
            _queue_links(session, proposal, entries, kind="reminder", force=True,
                         actor="system", now=now)
        )
    return reports


def _voted(proposal_id: int):
    from ..models import Vote

    return select(Vote.household_id).where(Vote.proposal_id == proposal_id)


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def send_links(
    store: Store,
    proposal_id: int,
    *,
    unvoted: bool = False,
    codes: list[str] | None = None,
    force: bool = False,
    actor: str,
    now: dt.datetime | None = None,
) -> LinkReport:
    """`ballots send`: queue a ballot-link message to every household (of `codes`; only
    the non-voters with `unvoted`) with a registered phone. Refused (Conflict, nothing
    written) when every household to send to had its link within 24 hours."""
    now = now or utcnow()
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        _require_open(proposal, now)
        entries = ballots.electorate_entries(s, proposal, codes)
        if unvoted:
            voted = set(s.scalars(_voted(proposal.id)))
            entries = [e for e in entries if e.household_id not in voted]
        report = _queue_links(s, proposal, entries, kind="ballot-link", force=force,
                              actor=actor, now=now)
        if report.queued == 0 and report.recent:
            raise Conflict(
                N_("A ballot link was sent within the last 24 hours to: %(codes)s "
                   "(send again with --force)"),
                codes=", ".join(report.recent[:20]),
            )
        return report


def set_reminder(
    store: Store, proposal_id: int, day: dt.date | None, *, actor: str
) -> dt.date | None:
    """Staff choose the reminder's day (None: the default, three days before the close)."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        if proposal.status not in ("draft", "voting"):
            raise Conflict(N_("The reminder can only be set before voting closes"))
        day = day or default_reminder_day(proposal)
        if day is None:
            raise Invalid(N_("Set the closing time first"))
        if proposal.closes_at and day > _local_date(proposal, proposal.closes_at):
            raise Invalid(N_("The reminder day must be before the close"))
        row = s.get(Reminder, proposal.id)
        if row is None:
            row = Reminder(proposal_id=proposal.id, day=day)
            s.add(row)
        elif row.queued_at is not None:
            raise Conflict(N_("The reminder has already been sent"))
        row.day = day
        audit.record_for(s, proposal, "messages.reminder-day", actor=actor,
                         subject=day.isoformat(), data={"day": day.isoformat()})
        return day


def queue_due_reminders(
    store: Store, *, now: dt.datetime | None = None, proposal_id: int | None = None
) -> int:
    """Queue the reminders whose day has come (the worker runs this before sending; with
    the `outbox` backend the proposal's message page does, for staff to send by hand);
    returns how many messages were queued."""
    with store.write() as s:
        return sum(r.queued for r in _due_reminders(s, now or utcnow(), proposal_id))
