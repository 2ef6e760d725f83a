"""Purging a community's personal data after the challenge period (DOMAIN.md section 8).

A decision can be challenged in court within one year (SPC interpretation art. 12), so
the evidence stays until one year after the last decision of the community has passed:
the period starts on the day after the decision (the final result, its confirmation or
filing, or the cancellation, whichever is latest) and ends at 24:00 local time on the
corresponding day of the next year (Civil Code arts. 201-203; 29 February -> 28
February; a configured holiday moves the end to the next working day).

The purge blanks owner names and phones of the register, objectors' names and
contacts, proxy names, and the content of evidence files (ballot scans, proxy
authorisations, notice photos). Everything anonymous stays: household codes and areas,
votes and answers, result revisions, the audit log, and each evidence file's SHA-256
and metadata, so the record can still be checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .. import settings
from ..models import (
    Attachment,
    Community,
    Household,
    Message,
    Objection,
    Proposal,
    ScanBatch,
    ScanPage,
    VoidedVote,
    Vote,
    utcnow,
)
from . import audit, communities
from .errors import Conflict, Problems

if TYPE_CHECKING:
    from .unit import Store

UNDECIDED = ("draft", "voting", "counting", "publicity")
EVIDENCE_KINDS = ("ballot_scan", "proxy_auth", "notice_photo")


def _zone(holder: object = None) -> ZoneInfo:
    return settings.of(holder).zone


def decided_at(proposal: Proposal) -> dt.datetime | None:
    """The latest decision time of a proposal (None while it is undecided)."""
    if proposal.status in UNDECIDED:
        return None
    times = [
        t
        for t in (
            proposal.finalized_at,
            proposal.confirmed_at,
            proposal.filed_at,
            proposal.cancelled_at,
        )
        if t is not None
    ]
    return max(times) if times else None


def one_year_after(event: dt.datetime, zone: ZoneInfo, holidays=frozenset()) -> dt.datetime:
    """The instant (UTC) a one-year period following `event` ends."""
    day = event.astimezone(zone).date()
    try:
        last = day.replace(year=day.year + 1)
    except ValueError:  # 29 February: the period ends on the last day of February
        last = day.replace(year=day.year + 1, day=28)
    while last in holidays:
        last += dt.timedelta(days=1)
    midnight = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return midnight.astimezone(dt.UTC)


@dataclass(frozen=True)
class Readiness:
    ok: bool
    possible_from: dt.datetime | None  # None while some proposal is undecided
    problems: list[str]


def readiness(session: Session, community: Community, now: dt.datetime | None = None) -> Readiness:
    now = now or utcnow()
    zone = _zone(session)
    holidays = settings.of(session).holidays
    proposals = list(
        session.scalars(
            select(Proposal).where(Proposal.community_id == community.id).order_by(Proposal.id)
        )
    )
    problems: list[str] = []
    latest: tuple[dt.datetime, Proposal] | None = None
    for p in proposals:
        decided = decided_at(p)
        if decided is None:
            problems.append(
                f"proposal {p.id} ({p.title}) is not decided yet (status {p.status}): personal "
                "data is kept until one year after its decision"
            )
            continue
        end = one_year_after(decided, zone, holidays)
        if latest is None or end > latest[0]:
            latest = (end, p)
    if problems:
        return Readiness(False, None, problems)
    if latest is not None and now < latest[0]:
        when = latest[0].astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return Readiness(
            False,
            latest[0],
            [
                f"personal data of {community.slug} can be purged from {when} "
                f"({zone.key}), one year after the decision on proposal {latest[1].id}"
            ],
        )
    return Readiness(True, latest[0] if latest else None, [])


@dataclass(frozen=True)
class PurgeReport:
    households: int
    objections: int
    proxies: int
    attachments: int

    def line(self, slug: str) -> str:
        return (
            f"purged personal data of {slug}: owner names and phones of {self.households} "
            f"households, {self.objections} objectors, {self.proxies} proxy names, "
            f"{self.attachments} evidence files (hashes kept)"
        )


def purge(
    session: Session, community: Community, *, actor: str, now: dt.datetime | None = None
) -> PurgeReport:
    now = now or utcnow()
    ready = readiness(session, community, now)
    if not ready.ok:
        if len(ready.problems) == 1:
            raise Conflict(ready.problems[0])
        raise Problems(ready.problems)
    households = session.execute(
        update(Household)
        .where(
            Household.community_id == community.id,
            or_(Household.owner_name != "", Household.phone != ""),
        )
        .values(owner_name="", phone="", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    proposal_ids = select(Proposal.id).where(Proposal.community_id == community.id)
    objections = session.execute(
        update(Objection)
        .where(
            Objection.proposal_id.in_(proposal_ids),
            or_(Objection.name != "", Objection.contact != ""),
        )
        .values(name="", contact="")
        .execution_options(synchronize_session=False)
    ).rowcount
    proxies = session.execute(
        update(Vote)
        .where(Vote.proposal_id.in_(proposal_ids), Vote.proxy_name != "")
        .values(proxy_name="")
        .execution_options(synchronize_session=False)
    ).rowcount
    proxies += session.execute(
        update(VoidedVote)
        .where(VoidedVote.proposal_id.in_(proposal_ids), VoidedVote.proxy_name != "")
        .values(proxy_name="")
        .execution_options(synchronize_session=False)
    ).rowcount
    attachments = session.execute(
        update(Attachment)
        .where(
            Attachment.community_id == community.id,
            Attachment.kind.in_(EVIDENCE_KINDS),
            Attachment.data.is_not(None),
        )
        .values(data=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    # scanned pages show the owner's name and signature: their images go like evidence files
    attachments += session.execute(
        update(ScanPage)
        .where(ScanPage.batch_id.in_(_scan_batches(proposal_ids)), ScanPage.image.is_not(None))
        .values(image=None, crops="{}")
        .execution_options(synchronize_session=False)
    ).rowcount
    _purge_messages(session, proposal_ids)
    community.personal_data_purged_at = now
    report = PurgeReport(households, objections, proxies, attachments)
    audit.record(
        session,
        "privacy.purge",
        actor=actor,
        community_id=community.id,
        subject=community.slug,
        data={
            "households": households,
            "objections": objections,
            "proxies": proxies,
            "attachments": attachments,
        },
    )
    session.expire_all()
    return report


def _purge_messages(session: Session, proposal_ids) -> int:
    """Text messages keep the phone they were sent to (issue 15): blanked with the rest;
    a message still waiting is not sent any more."""
    session.execute(
        update(Message)
        .where(Message.proposal_id.in_(proposal_ids), Message.status.in_(("queued", "sending")))
        .values(status="failed", error="personal data purged")
        .execution_options(synchronize_session=False)
    )
    return session.execute(
        update(Message)
        .where(
            Message.proposal_id.in_(proposal_ids),
            or_(Message.phone != "", Message.text != "", Message.params != "{}"),
        )
        .values(phone="", text="", params="{}")
        .execution_options(synchronize_session=False)
    ).rowcount


def _scan_batches(proposal_ids):
    return select(ScanBatch.id).where(ScanBatch.proposal_id.in_(proposal_ids))


def personal_data_left(session: Session, community: Community) -> int:
    """How many rows still hold personal data (0 after a purge)."""
    proposal_ids = select(Proposal.id).where(Proposal.community_id == community.id)
    counts = [
        select(func.count())
        .select_from(Household)
        .where(
            Household.community_id == community.id,
            or_(Household.owner_name != "", Household.phone != ""),
        ),
        select(func.count())
        .select_from(Objection)
        .where(
            Objection.proposal_id.in_(proposal_ids),
            or_(Objection.name != "", Objection.contact != ""),
        ),
        select(func.count())
        .select_from(Vote)
        .where(Vote.proposal_id.in_(proposal_ids), Vote.proxy_name != ""),
        select(func.count())
        .select_from(VoidedVote)
        .where(VoidedVote.proposal_id.in_(proposal_ids), VoidedVote.proxy_name != ""),
        select(func.count())
        .select_from(Attachment)
        .where(
            Attachment.community_id == community.id,
            Attachment.kind.in_(EVIDENCE_KINDS),
            Attachment.data.is_not(None),
        ),
        select(func.count())
        .select_from(ScanPage)
        .where(ScanPage.batch_id.in_(_scan_batches(proposal_ids)), ScanPage.image.is_not(None)),
        select(func.count())
        .select_from(Message)
        .where(
            Message.proposal_id.in_(proposal_ids),
            or_(Message.phone != "", Message.text != "", Message.params != "{}"),
        ),
    ]
    return sum(session.scalar(c) or 0 for c in counts)


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def purge_personal_data(store: Store, slug: str, *, actor: str) -> PurgeReport:
    """Remove the community's owner names, phones and evidence files (CLI `privacy purge`)."""
    with store.write() as s:
        return purge(s, communities.get_by_slug(s, slug), actor=actor)
