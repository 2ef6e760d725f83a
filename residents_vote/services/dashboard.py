"""Turnout figures for the staff dashboard: by channel, by building, over time.

Counts of votes only (who voted, not how): the verdict figures come from `tally`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import ElectorateEntry, Proposal, Vote
from ..web import local_zone


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


def _natural(text: str) -> tuple:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def stats(session: Session, proposal: Proposal) -> Stats:
    by_channel = dict(
        session.execute(
            select(Vote.channel, func.count())
            .where(Vote.proposal_id == proposal.id)
            .group_by(Vote.channel)
        ).all()
    )
    voted = select(Vote.household_id).where(Vote.proposal_id == proposal.id).scalar_subquery()
    is_voted = ElectorateEntry.household_id.in_(voted)
    rows = session.execute(
        select(
            ElectorateEntry.building,
            func.count(),
            func.sum(func.cast(is_voted, ElectorateEntry.area.type)),
            func.sum(ElectorateEntry.area),
        )
        .where(ElectorateEntry.proposal_id == proposal.id)
        .group_by(ElectorateEntry.building)
    ).all()
    voted_area = dict(
        session.execute(
            select(ElectorateEntry.building, func.sum(ElectorateEntry.area))
            .where(ElectorateEntry.proposal_id == proposal.id, is_voted)
            .group_by(ElectorateEntry.building)
        ).all()
    )
    by_building = sorted(
        (
            BuildingTurnout(b, int(n), int(v or 0), int(a or 0), int(voted_area.get(b) or 0))
            for b, n, v, a in rows
        ),
        key=lambda t: _natural(t.building),
    )
    zone = local_zone()
    days: dict[str, int] = {}
    for (cast_at,) in session.execute(
        select(Vote.cast_at).where(Vote.proposal_id == proposal.id).order_by(Vote.cast_at)
    ):
        day = cast_at.astimezone(zone).strftime("%Y-%m-%d")
        days[day] = days.get(day, 0) + 1
    running = 0
    by_day = []
    for day, n in days.items():
        running += n
        by_day.append((day, n, running))
    return Stats(by_channel, by_building, by_day)
