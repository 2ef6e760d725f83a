"""The demo's open vote: a design plan with costed items, some votes already in."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import settings
from .models import Community, ElectorateEntry, Proposal, User, utcnow
from .services import ballots, costs, proposals, voting

TITLE = "幸福里小区老旧小区改造方案表决"
BODY = (
    "本方案包括：屋面防水、楼道整治、小区道路、雨污分流、安防监控与 3 栋加装电梯。"
    "工程总预算与政府以奖代补资金见下表，业主分摊按专有部分面积计算。"
)
QUESTIONS = [
    "是否同意《幸福里小区老旧小区改造设计方案》？",
    "是否同意本方案的资金筹集方案（居民按专有部分面积分摊）？",
]
ITEMS = [
    ("3.1", 48_000_000, 0, ""),
    ("3.2", 36_000_000, 0, ""),
    ("2.2", 52_000_000, 0, ""),
    ("2.3", 30_000_000, 0, ""),
    ("2.9", 12_000_000, 0, ""),
    ("3.7", 60_000_000, 0, "3"),
]


def _link(issued: ballots.Issued) -> str:
    return issued.url(settings.of().base_url)


def open_demo_vote(session: Session, community: Community) -> list[str]:
    now = utcnow()
    draft = proposals.Draft(
        title=TITLE,
        stage="design",
        questions=QUESTIONS,
        body=BODY,
        starts_at=now - dt.timedelta(days=3),
        closes_at=now + dt.timedelta(days=11),
        objection_days=7,
    )
    proposal = proposals.create(session, community, draft, actor="demo")
    costs.set_items(session, proposal, ITEMS, actor="demo")
    proposals.open_vote(session, proposal, actor="demo", now=now - dt.timedelta(days=3))
    issued = ballots.issue(session, proposal, actor="demo")
    staff = session.scalar(select(User).where(User.username == "staff"))
    rng = random.Random(403)
    entries = list(
        session.scalars(
            select(ElectorateEntry)
            .where(ElectorateEntry.proposal_id == proposal.id)
            .order_by(ElectorateEntry.id)
        )
    )
    # About half the households have voted, mostly in favour, some on paper.
    for entry in rng.sample(entries[1:], 210):
        answer = rng.choices(["agree", "oppose", "abstain"], [85, 10, 5])[0]
        answers = {1: answer, 2: answer if rng.random() < 0.9 else "abstain"}
        voting.record_paper(
            session,
            proposal,
            entry.code,
            answers,
            channel="paper",
            by=staff,
            now=now,
        )
    first = issued[0]
    return [
        f"open vote: {TITLE} (proposal {proposal.id}), 210 of 403 households voted",
        f"ballot link for household {first.code}: {_link(first)}",
        f"public page: {settings.of(session).url('/r/' + proposal.public_id)}",
    ]


def fresh_link(session: Session, community: Community) -> list[str]:
    """On later runs, reissue one unvoted household's ballot so a working link is printed."""
    proposal = session.scalar(
        select(Proposal)
        .where(Proposal.community_id == community.id, Proposal.status == "voting")
        .order_by(Proposal.id)
    )
    if proposal is None or proposals.phase(proposal) != "open":
        return []
    voted = {v for v in voting.voted_household_ids(session, proposal)}
    entry = session.scalar(
        select(ElectorateEntry)
        .where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id.not_in(voted) if voted else True,
        )
        .order_by(ElectorateEntry.id)
    )
    if entry is None:
        return []
    issued = ballots.reissue(session, proposal, [entry.code], actor="demo")
    return [f"ballot link for household {entry.code} (reissued): {_link(issued[0])}"]
