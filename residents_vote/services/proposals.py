"""Proposals: drafting, opening (electorate freeze), extending, cancelling.

Opening freezes the electorate: the households of the scope, with their areas and
owner keys, are copied into `electorate_entry` and never change afterwards, whatever
happens to the register.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, insert, literal, select, text
from sqlalchemy.orm import Session

from .. import settings
from ..domain import periods
from ..domain.tally import RULES
from ..models import (
    HEADCOUNTS,
    ROUTES,
    STAGES,
    VERIFY_MODES,
    Community,
    ElectorateEntry,
    Household,
    Proposal,
    Question,
    Vote,
    utcnow,
)
from . import audit, costs
from .errors import N_, Conflict, Invalid, NotFound, ServiceError
from .transitions import Action, move
from .unit import Store

DEFAULT_WINDOW = dt.timedelta(days=14)
MAX_QUESTIONS = 20


def zone(holder: object = None) -> ZoneInfo:
    """The install's time zone (`settings.of`: a session or an object loaded by one)."""
    return settings.of(holder).zone


def parse_time(text: str | None, holder: object = None) -> dt.datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return periods.parse_iso(text, zone(holder))
    except ValueError as exc:
        raise Invalid(N_("Not an ISO-8601 time: %(text)s"), text=text) from exc


@dataclass
class Draft:
    """What staff fill in for a proposal (CLI options or the web form)."""

    title: str
    stage: str
    questions: list[str]
    rule: str = "seed"
    headcount: str | None = None
    scope: list[str] | None = None
    starts_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    objection_days: int = 7
    verify: str = "none"
    body: str = ""
    route: str = "vote"  # vote | hearing (DOMAIN.md "The hearing route")
    hearing_at: dt.datetime | None = None
    place: str = ""
    agenda: str = ""
    organiser: str = ""


def _check_hearing(draft: Draft) -> None:
    """A hearing decides an application only; it needs its time and place."""
    if draft.route not in ROUTES:
        raise Invalid(N_("Unknown route %(route)s"), route=draft.route)
    if draft.route != "hearing":
        return
    if draft.stage != "application":
        raise Invalid(N_("Only an application can be decided by a hearing"))
    if draft.hearing_at is None:
        raise Invalid(N_("A hearing needs its time"))
    if not draft.place.strip() or len(draft.place) > 300:
        raise Invalid(N_("A hearing needs its place (1 to 300 characters)"))
    if len(draft.organiser) > 200 or len(draft.agenda) > 5000:
        raise Invalid(N_("The agenda or the organiser is too long"))


def _check(draft: Draft) -> None:
    _check_hearing(draft)
    if not draft.title.strip() or len(draft.title) > 300:
        raise Invalid(N_("The title must be 1 to 300 characters"))
    if draft.stage not in STAGES:
        raise Invalid(N_("Unknown stage %(stage)s"), stage=draft.stage)
    questions = [q.strip() for q in draft.questions]
    if draft.route == "hearing":
        questions = questions or ["-"]  # a hearing asks nothing: its minutes record the outcome
    if not questions or len(questions) > MAX_QUESTIONS:
        raise Invalid(N_("A proposal needs 1 to 20 questions"))
    if any(not q or len(q) > 2000 for q in questions):
        raise Invalid(N_("Each question must be 1 to 2000 characters"))
    if draft.rule not in RULES:
        raise Invalid(N_("Unknown rule %(rule)s"), rule=draft.rule)
    if draft.headcount is not None and draft.headcount not in HEADCOUNTS:
        raise Invalid(N_("Unknown headcount %(headcount)s"), headcount=draft.headcount)
    if draft.verify not in VERIFY_MODES:
        raise Invalid(N_("Unknown owner check %(verify)s"), verify=draft.verify)
    if not 1 <= draft.objection_days <= 365:
        # DOMAIN.md "Periods": a posting "with no objection" needs a period of at least a day.
        raise Invalid(N_("Objection days must be at least 1 and at most 365"))
    for building in draft.scope or []:
        if not building.strip() or "-" in building or "," in building:
            raise Invalid(N_("Bad building in scope: %(b)s"), b=building)
    if draft.starts_at and draft.closes_at and draft.closes_at <= draft.starts_at:
        raise Invalid(N_("Voting must close after it starts"))
    if len(draft.body) > 50_000:
        raise Invalid(N_("The description is too long"))


def _check_scope(session: Session, community_id: int, scope: list[str] | None) -> None:
    """Every scope building must be in the community's register (DOMAIN.md section 3,
    "Electorate freeze and scope"): a mistyped building would silently shrink the vote."""
    wanted = list(dict.fromkeys(b.strip() for b in scope or []))
    if not wanted:
        return
    known = set(
        session.scalars(
            select(Household.building)
            .where(
                Household.community_id == community_id,
                Household.removed_at.is_(None),
                Household.building.in_(wanted),
            )
            .distinct()
        )
    )
    missing = [b for b in wanted if b not in known]
    if len(missing) == 1:
        raise Invalid(N_("Scope building %(b)s is not in the register"), b=missing[0])
    if missing:
        raise Invalid(
            N_("Scope buildings %(list)s are not in the register"), list=", ".join(missing)
        )


def _apply(proposal: Proposal, draft: Draft) -> None:
    proposal.title = draft.title.strip()
    proposal.stage = draft.stage
    proposal.body = draft.body
    proposal.rule = draft.rule
    proposal.headcount = draft.headcount or RULES[draft.rule].default_headcount
    proposal.scope = ",".join(b.strip() for b in (draft.scope or []))
    proposal.starts_at = draft.starts_at
    proposal.closes_at = draft.closes_at
    proposal.objection_days = draft.objection_days
    proposal.verify = draft.verify
    proposal.route = draft.route
    hearing = draft.route == "hearing"
    proposal.hearing_at = draft.hearing_at if hearing else None
    proposal.place = draft.place.strip() if hearing else ""
    proposal.agenda = draft.agenda.strip() if hearing else ""
    proposal.organiser = draft.organiser.strip() if hearing else ""
    if hearing:
        proposal.questions = []
        return
    proposal.questions = [
        Question(number=i, text=text.strip()) for i, text in enumerate(draft.questions, 1)
    ]


def _check_verify(session: Session, draft: Draft) -> None:
    """`--verify sms` needs a backend that sends by itself: with `outbox` staff would see
    the codes (CONTRACT.md "Configuration", SMS_BACKEND)."""
    if draft.verify != "sms":
        return
    from ..messages import backends

    try:
        kind = backends.kind_of(settings.of(session))
    except backends.ConfigError as exc:
        raise Invalid(str(exc)) from exc
    if kind == backends.OUTBOX:
        raise Invalid(
            N_("Codes by text message need SMS_BACKEND to be a provider (aliyun, tencent) "
               "or file://; it is outbox, where staff would see the codes")
        )


def create(session: Session, community: Community, draft: Draft, *, actor: str) -> Proposal:
    _check(draft)
    _check_verify(session, draft)
    _check_scope(session, community.id, draft.scope)
    proposal = Proposal(
        community_id=community.id, public_id=secrets.token_urlsafe(12), status="draft"
    )
    _apply(proposal, draft)
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        "proposal.create",
        actor=actor,
        community_id=community.id,
        proposal_id=proposal.id,
        subject=proposal.title,
        data={
            "stage": draft.stage,
            "rule": proposal.rule,
            "questions": len(proposal.questions),
            "route": proposal.route,
        },
    )
    return proposal


def update(session: Session, proposal: Proposal, draft: Draft, *, actor: str) -> None:
    if proposal.status != "draft":
        raise Conflict(N_("Only a draft can be edited"))
    _check(draft)
    _check_verify(session, draft)
    _check_scope(session, proposal.community_id, draft.scope)
    proposal.questions.clear()
    session.flush()
    _apply(proposal, draft)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "proposal.edit",
        actor=actor,
        subject=proposal.title,
    )


def get(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(N_("Unknown proposal %(id)s"), id=proposal_id)
    return proposal


def lock(session: Session, proposal_id: int) -> Proposal:
    """Load a proposal for a state change, row-locked on PostgreSQL."""
    proposal = session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise NotFound(N_("Unknown proposal %(id)s"), id=proposal_id)
    return proposal


def by_public_id(session: Session, public_id: str) -> Proposal | None:
    return session.scalar(select(Proposal).where(Proposal.public_id == public_id))


def for_community(session: Session, community: Community) -> list[Proposal]:
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.community_id == community.id)
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        )
    )


def open_vote(
    session: Session,
    proposal: Proposal,
    *,
    starts: dt.datetime | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> int:
    """Freeze the electorate and publish the voting notice; returns the household count."""
    now = now or utcnow()
    if proposal.status != "draft":
        raise Conflict(N_("Proposal %(id)s is not a draft"), id=proposal.id)
    hearing = proposal.route == "hearing"
    if hearing and (proposal.hearing_at is None or proposal.hearing_at <= now):
        raise Invalid(N_("The hearing's time has already passed: set a later time"))
    starts = now if hearing else (starts or proposal.starts_at or now)
    closes = proposal.hearing_at if hearing else (proposal.closes_at or starts + DEFAULT_WINDOW)
    if closes <= starts:
        raise Invalid(N_("Voting must close after it starts"))
    if closes <= now:
        raise Invalid(N_("The closing time has already passed"))
    scope = proposal.scope_buildings
    _check_scope(session, proposal.community_id, scope)  # the register may have changed
    source = select(
        literal(proposal.id, Integer),
        Household.id,
        Household.code,
        Household.building,
        Household.unit,
        Household.room,
        Household.area,
        Household.owner_key,
    ).where(Household.community_id == proposal.community_id, Household.removed_at.is_(None))
    if scope:
        source = source.where(Household.building.in_(scope))
    session.execute(
        insert(ElectorateEntry).from_select(
            [
                "proposal_id",
                "household_id",
                "code",
                "building",
                "unit",
                "room",
                "area",
                "owner_key",
            ],
            source,
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics for the bulk-inserted rows, or the tally's joins get a poor plan
        # until autovacuum comes round.
        session.execute(text("ANALYZE electorate_entry"))
    households, owners, area = session.execute(
        select(
            func.count(ElectorateEntry.id),
            func.count(func.distinct(ElectorateEntry.owner_key)),
            func.coalesce(func.sum(ElectorateEntry.area), 0),
        ).where(ElectorateEntry.proposal_id == proposal.id)
    ).one()
    if households == 0:
        raise Invalid(N_("No households in the scope: import the register first"))
    proposal.frozen_households = households
    proposal.frozen_owners = owners
    proposal.frozen_area = int(area)
    proposal.starts_at = starts
    proposal.closes_at = None if hearing else closes
    proposal.opened_at = now
    move(proposal, Action.OPEN, now=now)
    proposal.notice_revision = 1
    session.flush()
    costs.freeze_shares(session, proposal)
    data = {
        "households": households,
        "owners": owners,
        "area": int(area),
        "starts": starts.isoformat(),
        "closes": closes.isoformat(),
    }
    if hearing:
        data = {
            "households": households,
            "owners": owners,
            "area": int(area),
            "route": "hearing",
            "hearing_at": closes.isoformat(),
        }
    event = audit.record_for(
        session,
        proposal,
        "proposal.open",
        actor=actor,
        subject=proposal.title,
        data=data,
    )
    # The voting notice prints the chain head as it stood once its publication was logged.
    proposal.notice_head_seq, proposal.notice_head_hash = event.seq, event.hash
    return households


def extend(
    session: Session,
    proposal: Proposal,
    closes: dt.datetime,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    count_if_due(session, proposal, now)
    if proposal.status != "voting":
        raise Conflict(N_("Voting is not open: only an open vote can be extended"))
    if closes <= proposal.closes_at:
        raise Invalid(N_("The new closing time must be later than the current one"))
    old = proposal.closes_at
    proposal.closes_at = closes
    proposal.notice_revision += 1
    event = audit.record_for(
        session,
        proposal,
        "proposal.extend",
        actor=actor,
        subject=proposal.title,
        data={
            "from": old.isoformat(),
            "to": closes.isoformat(),
            "notice": proposal.notice_revision,
        },
    )
    proposal.notice_head_seq, proposal.notice_head_hash = event.seq, event.hash


def cancel(
    session: Session,
    proposal: Proposal,
    reason: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    count_if_due(session, proposal, now)
    if proposal.status not in ("draft", "voting", "hearing"):
        # Counting included: voting closed at the announced time; its result must be published.
        raise Conflict(N_("Only a vote that is not yet closed can be cancelled"))
    reason = reason.strip()
    if not reason:
        raise Invalid(N_("A reason is required to cancel a vote"))
    move(proposal, Action.CANCEL, now=now)
    proposal.cancel_reason = reason
    proposal.cancelled_at = now
    audit.record_for(
        session,
        proposal,
        "proposal.cancel",
        actor=actor,
        subject=proposal.title,
        data={"reason": reason},
    )


ADVISED_WINDOW = dt.timedelta(days=5)


def short_window(proposal: Proposal) -> bool:
    """Voting windows seen in practice are 5 to 60 days; staff are warned below 5 (not refused)."""
    starts = proposal.starts_at or utcnow()
    closes = proposal.closes_at or starts + DEFAULT_WINDOW
    return proposal.status in ("draft", "voting") and closes - starts < ADVISED_WINDOW


def phase(proposal: Proposal, now: dt.datetime | None = None) -> str:
    """Where a proposal stands now: draft, scheduled, open, counting (voting has closed at
    the announced time, the result is not published yet), or its status."""
    now = now or utcnow()
    if proposal.status != "voting":
        return proposal.status
    if proposal.starts_at and now < proposal.starts_at:
        return "scheduled"
    if proposal.closes_at and now >= proposal.closes_at:
        return "counting"
    return "open"


def count_if_due(session: Session, proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """At the announced close voting stops by itself and the vote is `counting` (计票):
    online voting is over, paper ballots received before the close may still be entered,
    nothing is published until staff publish the preliminary result. Returns whether the
    status changed now."""
    now = now or utcnow()
    if proposal.status != "voting" or proposal.closes_at is None or now < proposal.closes_at:
        return False
    move(proposal, Action.STOP, now=now)
    proposal.closed_at = proposal.closes_at
    audit.record_for(
        session,
        proposal,
        "proposal.counting",
        actor="system",
        subject=proposal.title,
        data={"closed": proposal.closes_at.isoformat()},
    )
    return True


def voted_count(session: Session, proposal: Proposal) -> int:
    return session.scalar(select(func.count(Vote.id)).where(Vote.proposal_id == proposal.id)) or 0


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class Opened:
    proposal_id: int
    households: int
    starts_at: dt.datetime
    closes_at: dt.datetime
    starts_text: str
    closes_text: str
    route: str = "vote"
    short_notice: bool = False  # a hearing fewer than 5 days after its notice


def open_proposal(
    store: Store, proposal_id: int, *, starts: str | None, actor: str
) -> Opened:
    """Freeze the electorate and publish the voting notice (CLI `proposal open`, staff
    button): one transaction; a refusal raises a ServiceError and writes nothing."""
    with store.write() as s:
        proposal = lock(s, proposal_id)
        count = open_vote(s, proposal, starts=parse_time(starts, s), actor=actor)
        zone_settings = settings.of(s)
        return Opened(
            proposal_id=proposal.id,
            households=count,
            starts_at=proposal.starts_at,
            closes_at=proposal.closes_at or proposal.hearing_at,
            starts_text=zone_settings.format_local(proposal.starts_at),
            closes_text=zone_settings.format_local(proposal.closes_at or proposal.hearing_at),
            route=proposal.route,
            short_notice=proposal.route == "hearing"
            and proposal.hearing_at - proposal.opened_at < ADVISED_WINDOW,
        )


def create_draft(store: Store, slug: str, draft: Draft, *, actor: str) -> int:
    """A new draft proposal of the community `slug`; returns its id."""
    from . import communities

    with store.write() as s:
        proposal = create(s, communities.get_by_slug(s, slug), draft, actor=actor)
        return proposal.id


def edit_draft(store: Store, proposal_id: int, draft: Draft, *, actor: str) -> None:
    """Replace what a draft says (only a draft can be edited)."""
    with store.write() as s:
        update(s, lock(s, proposal_id), draft, actor=actor)


@dataclass(frozen=True)
class Extended:
    proposal_id: int
    closes_at: dt.datetime
    closes_text: str


def extend_voting(store: Store, proposal_id: int, closes: str | None, *, actor: str) -> Extended:
    """Move the closing time of an open vote later (a new revision of the voting notice)."""
    with store.write() as s:
        proposal = lock(s, proposal_id)
        when = parse_time(closes, s)
        if when is None:
            raise ServiceError("Give the new closing time.")
        extend(s, proposal, when, actor=actor)
        return Extended(
            proposal_id=proposal.id,
            closes_at=proposal.closes_at,
            closes_text=settings.of(s).format_local(proposal.closes_at),
        )


def cancel_vote(store: Store, proposal_id: int, reason: str, *, actor: str) -> None:
    """End a vote that is not yet closed, without a result (status `cancelled`)."""
    with store.write() as s:
        cancel(s, lock(s, proposal_id), reason, actor=actor)


def due_to_stop(proposal: Proposal, now: dt.datetime | None = None) -> bool:
    """Voting is still marked open although its announced closing time has passed."""
    return proposal.status == "voting" and phase(proposal, now) == "counting"


def stop_if_due(store: Store, proposal_id: int, now: dt.datetime | None = None) -> bool:
    """Voting closes by itself at the announced time: the first request after it moves the
    vote to `counting` in one write transaction (nothing is published until staff publish
    the result). Returns whether the status changed now."""
    with store.write() as s:
        return count_if_due(s, lock(s, proposal_id), now)
