"""Districts (城区) and what their renovation office and the city office see.

A community belongs to at most one district. A user with role `district` follows one
district, a `city` user every district (CONTRACT.md "Districts and the filing inbox").
Their pages show where each community's application and design plan stand, the key
dates, turnout so far and the days left, against the district's campaign targets (the
day by which each stage should be confirmed); never a register, a name or a phone.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import settings
from ..models import (
    Community,
    District,
    FilingSubmission,
    HearingAttendance,
    Proposal,
    User,
    Vote,
    utcnow,
)
from . import audit
from .errors import N_, Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from .unit import Store

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Where a community's application or design plan stands (CONTRACT.md), in order.
STAGE_STATUSES = (
    "none",
    "voting",
    "counting",
    "publicity",
    "final",
    "confirmed",
    "submitted",
    "filed",
)
TRACKED_STAGES = ("application", "design")
# A stage has met its campaign target once the signing body confirmed it.
DONE = frozenset({"confirmed", "submitted", "filed"})
# How a proposal's status shows in the overview (a hearing is the application's
# deciding step, like a vote; a draft has not started anything yet).
_SHOWN = {"draft": "none", "hearing": "voting", "cancelled": "none"}


def _rank(status: str) -> int:
    return STAGE_STATUSES.index(status)


# --------------------------------------------------------------------------- districts


def create_district(session: Session, slug: str, name: str, *, actor: str = "cli") -> District:
    if not SLUG.match(slug):
        raise Invalid(N_("Slug must be lowercase letters, digits, '-' or '_' (max 64)"))
    if not name.strip() or len(name) > 200:
        raise Invalid(N_("Name must be 1 to 200 characters"))
    if session.scalar(select(District.id).where(District.slug == slug)) is not None:
        raise Conflict(N_("District %(slug)s already exists"), slug=slug)
    district = District(slug=slug, name=name.strip())
    session.add(district)
    session.flush()
    audit.record(session, "district.create", actor=actor, subject=slug, data={"name": name})
    return district


def find(session: Session, slug: str) -> District | None:
    return session.scalar(select(District).where(District.slug == slug))


def get_by_slug(session: Session, slug: str) -> District:
    district = find(session, slug)
    if district is None:
        raise NotFound(N_("Unknown district %(slug)s"), slug=slug)
    return district


def all_districts(session: Session) -> list[District]:
    return list(session.scalars(select(District).order_by(District.name, District.slug)))


def parse_date(text: str | None) -> dt.date | None:
    """An ISO date (YYYY-MM-DD); empty: no target."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(N_("Not a date (YYYY-MM-DD): %(text)s"), text=text[:40]) from None


def set_targets(
    session: Session,
    district: District,
    *,
    application: dt.date | None,
    design: dt.date | None,
    actor: str,
) -> None:
    district.application_by = application
    district.design_by = design
    audit.record(
        session,
        "district.targets",
        actor=actor,
        subject=district.slug,
        data={
            "application": application.isoformat() if application else None,
            "design": design.isoformat() if design else None,
        },
    )


def target_for(district: District, stage: str) -> dt.date | None:
    return district.application_by if stage == "application" else district.design_by


# --------------------------------------------------------------------------- who sees what


def can_see_district(user: User, district: District) -> bool:
    if user.role in ("admin", "city"):
        return True
    return user.role == "district" and user.district_id == district.id


def district_for(session: Session, user: User, slug: str) -> District | None:
    """The district if this user may see it; None otherwise (the page answers 404)."""
    district = find(session, slug)
    if district is None or not can_see_district(user, district):
        return None
    return district


def may_set_targets(user: User) -> bool:
    return user.role in ("admin", "city")


# --------------------------------------------------------------------------- the overview


@dataclass(frozen=True)
class StageRow:
    """One stage (application or design plan) of one community."""

    stage: str
    status: str  # one of STAGE_STATUSES
    proposal_id: int | None
    title: str
    opened_at: dt.datetime | None
    closes_at: dt.datetime | None
    objection_ends_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    filed_at: dt.datetime | None
    voted: int
    electorate: int
    days_left: int | None  # to the close of voting, or to the end of the objection period
    target: dt.date | None
    target_days: int | None  # days to the campaign target (negative: past it)
    behind: bool
    hearing: bool = False  # decided at a hearing: `voted` counts the households present


@dataclass(frozen=True)
class CommunityRow:
    community_id: int
    slug: str
    name: str
    stages: dict[str, StageRow]

    @property
    def behind(self) -> bool:
        return any(s.behind for s in self.stages.values())


@dataclass(frozen=True)
class InboxRow:
    submission_id: int
    proposal_id: int
    community: str
    title: str
    stage: str
    submitted_at: dt.datetime
    submitted_by: str


@dataclass(frozen=True)
class Overview:
    district_id: int
    slug: str
    name: str
    application_by: dt.date | None
    design_by: dt.date | None
    today: dt.date
    communities: list[CommunityRow]
    inbox: list[InboxRow]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def _days_until(moment: dt.datetime | None, now: dt.datetime) -> int | None:
    if moment is None or moment <= now:
        return None
    return -(-(moment - now) // dt.timedelta(days=1))  # whole days, rounded up


def _shown_status(proposal: Proposal, now: dt.datetime) -> str:
    status = _SHOWN.get(proposal.status, proposal.status)
    if status == "voting" and proposal.closes_at is not None and now >= proposal.closes_at:
        return "counting"  # voting stopped by itself at the announced time
    return status


def _turnout(session: Session, proposal_ids: list[int]) -> dict[int, int]:
    """Households that voted, or (a hearing) were recorded present, per proposal."""
    if not proposal_ids:
        return {}
    counts: dict[int, int] = {}
    for model in (Vote, HearingAttendance):
        counts.update(
            session.execute(
                select(model.proposal_id, func.count())
                .where(model.proposal_id.in_(proposal_ids))
                .group_by(model.proposal_id)
            ).all()
        )
    return counts


def _stage_row(
    stage: str,
    proposal: Proposal | None,
    target: dt.date | None,
    today: dt.date,
    now: dt.datetime,
    voted: dict[int, int],
) -> StageRow:
    status = _shown_status(proposal, now) if proposal else "none"
    target_days = (target - today).days if target else None
    behind = target is not None and today > target and status not in DONE
    if proposal is None:
        return StageRow(
            stage, "none", None, "", None, None, None, None, None, 0, 0, None, target,
            target_days, behind,
        )  # fmt: skip
    hearing = proposal.route == "hearing"
    if status == "voting":
        days_left = _days_until(proposal.hearing_at if hearing else proposal.closes_at, now)
    elif status == "publicity":
        days_left = _days_until(proposal.objection_ends_at, now)
    else:
        days_left = None
    return StageRow(
        stage=stage,
        status=status,
        proposal_id=proposal.id,
        title=proposal.title,
        opened_at=proposal.opened_at,
        closes_at=proposal.closes_at,
        objection_ends_at=proposal.objection_ends_at,
        confirmed_at=proposal.confirmed_at,
        filed_at=proposal.filed_at,
        voted=voted.get(proposal.id, 0),
        electorate=proposal.frozen_households or 0,
        days_left=days_left,
        target=target,
        target_days=target_days,
        behind=behind,
        hearing=hearing,
    )


def _leading(proposals: list[Proposal], now: dt.datetime) -> Proposal | None:
    """The proposal that says where a stage stands: the furthest along, the latest of
    equals; cancelled ones never (they decided nothing)."""
    live = [p for p in proposals if p.status != "cancelled"]
    if not live:
        return None
    return max(live, key=lambda p: (_rank(_shown_status(p, now)), p.id))


def _communities(session: Session, district: District) -> list[Community]:
    return list(
        session.scalars(
            select(Community).where(Community.district_id == district.id).order_by(Community.name)
        )
    )


def _community_rows(
    session: Session, district: District, today: dt.date, now: dt.datetime
) -> list[CommunityRow]:
    communities = _communities(session, district)
    ids = [c.id for c in communities]
    by_community: dict[int, list[Proposal]] = {}
    if ids:
        for p in session.scalars(
            select(Proposal)
            .where(Proposal.community_id.in_(ids), Proposal.stage.in_(TRACKED_STAGES))
            .order_by(Proposal.id)
        ):
            by_community.setdefault(p.community_id, []).append(p)
    leading: dict[tuple[int, str], Proposal | None] = {}
    for c in communities:
        for stage in TRACKED_STAGES:
            mine = [p for p in by_community.get(c.id, []) if p.stage == stage]
            leading[(c.id, stage)] = _leading(mine, now)
    voted = _turnout(session, [p.id for p in leading.values() if p is not None])
    return [
        CommunityRow(
            c.id,
            c.slug,
            c.name,
            {
                stage: _stage_row(
                    stage, leading[(c.id, stage)], target_for(district, stage), today, now, voted
                )
                for stage in TRACKED_STAGES
            },
        )
        for c in communities
    ]


def _counts(rows: list[CommunityRow]) -> dict[str, dict[str, int]]:
    counts = {stage: dict.fromkeys(STAGE_STATUSES, 0) for stage in TRACKED_STAGES}
    for row in rows:
        for stage, s in row.stages.items():
            counts[stage][s.status] += 1
    return counts


def waiting(session: Session, district: District) -> list[InboxRow]:
    """The filings waiting in the district's inbox, oldest first."""
    rows = session.execute(
        select(FilingSubmission, Proposal, Community.name, User.username)
        .join(Proposal, Proposal.id == FilingSubmission.proposal_id)
        .join(Community, Community.id == Proposal.community_id)
        .outerjoin(User, User.id == FilingSubmission.submitted_by_id)
        .where(FilingSubmission.district_id == district.id, FilingSubmission.status == "waiting")
        .order_by(FilingSubmission.submitted_at, FilingSubmission.id)
    ).all()
    return [
        InboxRow(sub.id, p.id, name, p.title, p.stage, sub.submitted_at, username or "")
        for sub, p, name, username in rows
    ]


def overview(session: Session, district: District, *, now: dt.datetime | None = None) -> Overview:
    now = now or utcnow()
    today = now.astimezone(settings.of(session).zone).date()
    rows = _community_rows(session, district, today, now)
    return Overview(
        district.id,
        district.slug,
        district.name,
        district.application_by,
        district.design_by,
        today,
        rows,
        waiting(session, district),
        _counts(rows),
    )


@dataclass(frozen=True)
class CityRow:
    slug: str
    name: str
    communities: int
    behind: int
    waiting: int
    counts: dict[str, dict[str, int]]


@dataclass(frozen=True)
class City:
    districts: list[CityRow]
    totals: dict[str, dict[str, int]]
    communities: int
    behind: int
    waiting: int


def city(session: Session, *, now: dt.datetime | None = None) -> City:
    """Every district with its counts per stage, and their sum."""
    now = now or utcnow()
    out = []
    totals = {stage: dict.fromkeys(STAGE_STATUSES, 0) for stage in TRACKED_STAGES}
    for district in all_districts(session):
        view = overview(session, district, now=now)
        for stage in TRACKED_STAGES:
            for status, n in view.counts[stage].items():
                totals[stage][status] += n
        out.append(
            CityRow(
                district.slug,
                district.name,
                len(view.communities),
                sum(1 for c in view.communities if c.behind),
                len(view.inbox),
                view.counts,
            )
        )
    return City(
        out,
        totals,
        sum(r.communities for r in out),
        sum(r.behind for r in out),
        sum(r.waiting for r in out),
    )


# --------------------------------------------------------------------------- XLSX


def _workbook_bytes(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    """Every cell text (a number stays a number), nothing a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from .filing import safe_cell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("overview")

    def cell(value: object) -> WriteOnlyCell:
        if isinstance(value, int) and not isinstance(value, bool):
            return WriteOnlyCell(sheet, value=value)
        c = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value)))
        c.data_type = "s"
        c.number_format = "@"
        return c

    sheet.append([cell(title)])
    sheet.append([cell(h) for h in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def overview_xlsx(view: Overview, header: list[str], rows: list[list[object]]) -> bytes:
    return _workbook_bytes(view.name, header, rows)


def city_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    return _workbook_bytes(title, header, rows)


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class NewDistrict:
    district_id: int
    slug: str
    name: str


def add_district(store: Store, slug: str, name: str, *, actor: str = "cli") -> NewDistrict:
    """A new district (CLI `district create`)."""
    with store.write() as s:
        district = create_district(s, slug, name, actor=actor)
        return NewDistrict(district.id, district.slug, district.name)


@dataclass(frozen=True)
class Targets:
    application: str  # ISO date or "-"
    design: str


def change_targets(
    store: Store,
    slug: str,
    *,
    application: str | None,
    design: str | None,
    actor: str,
) -> Targets:
    """Set the campaign's target dates (ISO dates; "": no target; None: unchanged). CLI
    `district targets`, the district page's form (admin and city users)."""
    first, second = parse_date(application), parse_date(design)
    with store.write() as s:
        district = get_by_slug(s, slug)
        set_targets(
            s,
            district,
            application=district.application_by if application is None else first,
            design=district.design_by if design is None else second,
            actor=actor,
        )
        a, d = district.application_by, district.design_by
        return Targets(a.isoformat() if a else "-", d.isoformat() if d else "-")
