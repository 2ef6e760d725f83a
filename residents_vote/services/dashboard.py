"""Turnout figures for the staff dashboard: by channel, by building, over time, and the
list of households that have not voted (for door-knocking).

Counts of votes only (who voted, not how): the verdict figures come from `tally`.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import settings
from ..domain.register import code_sort_key, escape_cell, mask_phone
from ..domain.tally import format_area
from ..models import Attachment, ElectorateEntry, Household, Proposal, User, VoidedVote, Vote
from . import audit, proposals
from .unit import Store


@dataclass(frozen=True)
class BuildingTurnout:
    building: str
    households: int
    voted: int
    area: int
    voted_area: int


@dataclass(frozen=True)
class Stats:
    by_channel: dict[str, int]
    by_building: list[BuildingTurnout]
    by_day: list[tuple[str, int, int]]  # local date, votes that day, running total
    voided: int = 0  # paper and proxy entries voided (made under the wrong household)


def stats(session: Session, proposal: Proposal) -> Stats:
    """Turnout by channel, by building and by local day."""
    by_channel = dict(
        session.execute(
            select(Vote.channel, func.count())
            .where(Vote.proposal_id == proposal.id)
            .group_by(Vote.channel)
        ).all()
    )
    # Per building, from the electorate's units and the set of households that voted,
    # added up here: two single-table reads whose cost does not hang on the planner's
    # statistics (a join right after the electorate's bulk insert, before PostgreSQL's
    # autovacuum has analysed it, was planned as a nested loop: 0.6 s for 5,000 units).
    voted = set(session.scalars(select(Vote.household_id).where(Vote.proposal_id == proposal.id)))
    totals: dict[str, list[int]] = {}
    for household_id, building, area in session.execute(
        select(ElectorateEntry.household_id, ElectorateEntry.building, ElectorateEntry.area).where(
            ElectorateEntry.proposal_id == proposal.id
        )
    ):
        t = totals.setdefault(building, [0, 0, 0, 0])
        t[0] += 1
        t[2] += area
        if household_id in voted:
            t[1] += 1
            t[3] += area
    by_building = sorted(
        (BuildingTurnout(b, n, v, a, va) for b, (n, v, a, va) in totals.items()),
        key=lambda t: code_sort_key(t.building),
    )
    voided_count = session.scalar(
        select(func.count()).select_from(VoidedVote).where(VoidedVote.proposal_id == proposal.id)
    )
    return Stats(by_channel, by_building, _by_day(session, proposal), voided_count or 0)


@dataclass(frozen=True)
class VoidedEntry:
    """A voided paper or proxy entry, as the staff dashboard lists it."""

    code: str
    channel: str
    cast_at: dt.datetime
    voided_at: dt.datetime
    voided_by: str
    reason: str
    evidence: int  # scans kept with it


def voided_entries(session: Session, proposal: Proposal) -> list[VoidedEntry]:
    evidence = (
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.voided_vote_id == VoidedVote.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(VoidedVote, ElectorateEntry.code, User.username, evidence)
        .join(
            ElectorateEntry,
            (ElectorateEntry.proposal_id == VoidedVote.proposal_id)
            & (ElectorateEntry.household_id == VoidedVote.household_id),
        )
        .join(User, User.id == VoidedVote.voided_by_id)
        .where(VoidedVote.proposal_id == proposal.id)
        .order_by(VoidedVote.voided_at, VoidedVote.id)
    ).all()
    return [
        VoidedEntry(code, v.channel, v.cast_at, v.voided_at, username, v.reason, n or 0)
        for v, code, username, n in rows
    ]


def _by_day(session: Session, proposal: Proposal) -> list[tuple[str, int, int]]:
    """Votes per local day. The database counts per UTC hour (a few hundred rows for any
    vote, instead of one row per vote); each hour is then put on its local day, which is
    exact for zones on whole-hour offsets (all of China)."""
    if session.get_bind().dialect.name == "postgresql":
        hour = func.date_trunc("hour", Vote.cast_at)
    else:
        hour = func.strftime("%Y-%m-%d %H:00:00", Vote.cast_at)
    zone = settings.of(session).zone
    days: dict[str, int] = {}
    for bucket, n in session.execute(
        select(hour, func.count()).where(Vote.proposal_id == proposal.id).group_by(hour)
    ):
        when = bucket if isinstance(bucket, dt.datetime) else dt.datetime.fromisoformat(bucket)
        day = when.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d")
        days[day] = days.get(day, 0) + int(n)
    running = 0
    out = []
    for day in sorted(days):
        running += days[day]
        out.append((day, days[day], running))
    return out


# --------------------------------------------------------------------------- non-voters


@dataclass(frozen=True)
class NonVoter:
    """A household of the electorate that has not voted, for door-knocking (staff only)."""

    code: str
    building: str
    unit: str
    room: str
    area: int
    owner_name: str
    phone: str


@dataclass(frozen=True)
class NonVoterGroup:
    building: str
    unit: str
    rows: list[NonVoter]

    @property
    def area(self) -> int:
        return sum(r.area for r in self.rows)


@dataclass(frozen=True)
class NonVoterList:
    groups: list[NonVoterGroup]
    households: int  # electorate size
    area: int  # electorate area

    @property
    def count(self) -> int:
        return sum(len(g.rows) for g in self.groups)

    @property
    def missing_area(self) -> int:
        return sum(g.area for g in self.groups)


SORTS = ("building", "area")


def nonvoters(session: Session, proposal: Proposal, sort: str = "building") -> NonVoterList:
    """Households that have not voted, grouped by building and unit.

    sort="building": groups and rooms in natural order (the walking order).
    sort="area": the largest shares first: groups by their missing area, rooms by area.
    Room and area come from the frozen electorate; name and phone from the register as it
    stands now, blank once personal data was purged. The phone is masked to its last four
    digits (issue 15: only the sending itself sees a number; "Send link" texts it).
    """
    if sort not in SORTS:
        sort = "building"
    voted = select(Vote.household_id).where(Vote.proposal_id == proposal.id)
    rows = session.execute(
        select(
            ElectorateEntry.code,
            ElectorateEntry.building,
            ElectorateEntry.unit,
            ElectorateEntry.room,
            ElectorateEntry.area,
            Household.owner_name,
            Household.phone,
        )
        .join(Household, Household.id == ElectorateEntry.household_id)
        .where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id.not_in(voted),
        )
    ).all()
    grouped: dict[tuple[str, str], list[NonVoter]] = {}
    for code, building, unit, room, area, name, phone in rows:
        grouped.setdefault((building, unit or ""), []).append(
            NonVoter(code, building, unit or "", room, int(area), name or "", mask_phone(phone))
        )
    groups = [NonVoterGroup(b, u, members) for (b, u), members in grouped.items()]
    if sort == "area":
        for g in groups:
            g.rows.sort(key=lambda r: (-r.area, code_sort_key(r.room)))
        groups.sort(key=lambda g: (-g.area, code_sort_key(g.building), code_sort_key(g.unit)))
    else:
        for g in groups:
            g.rows.sort(key=lambda r: code_sort_key(r.room))
        groups.sort(key=lambda g: (code_sort_key(g.building), code_sort_key(g.unit)))
    return NonVoterList(groups, proposal.frozen_households or 0, proposal.frozen_area or 0)


def nonvoters_xlsx(listing: NonVoterList, headers: list[str], title: str) -> bytes:
    """The non-voter list as XLSX: every cell text, nothing a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("nonvoters")

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", escape_cell(value)))
        cell.data_type = "s"  # openpyxl would otherwise take "=..." for a formula
        cell.number_format = "@"
        return cell

    sheet.append([text(title)])
    sheet.append([text(h) for h in headers])
    for group in listing.groups:
        for r in group.rows:
            sheet.append(
                [
                    text(v)
                    for v in (
                        r.building,
                        r.unit,
                        r.room,
                        r.code,
                        format_area(r.area),
                        r.owner_name,
                        r.phone,
                    )
                ]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def record_nonvoters_export(
    store: Store, proposal_id: int, *, fmt: str, count: int, actor: str
) -> None:
    """Personal data left the system: record who took it (PIPL; no names in the log)."""
    with store.write() as s:
        audit.record_for(
            s,
            proposals.get(s, proposal_id),
            "nonvoters.export",
            actor=actor,
            subject=f"{count} households",
            data={"format": fmt, "count": count},
        )
