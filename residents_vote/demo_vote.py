"""The demo (`flask demo`): a community a newcomer can log into straight away, and its
open vote, a design plan with costed items, some votes already in. Loaded through the
services in one transaction (`load_demo`)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import settings
from .models import Community, utcnow
from .services import ballots, communities, costs, districts, households, proposals, users, voting

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .services.unit import Store

DEMO_SLUG = "demo"
DEMO_DISTRICT = "demo-district"
DEMO_DISTRICT_NAME = "城中区（演示）"
DEMO_REGISTER = Path(__file__).parent / "data" / "demo-register.csv"
LOGINS = (
    ("admin", "admin", "demo-admin-pass", "管理员"),
    ("staff", "staff", "demo-staff-pass", "社区工作人员 王敏"),
    ("committee1", "committee", "demo-committee-1", "业委会主任 李国强"),
    ("committee2", "committee", "demo-committee-2", "业委会委员 陈秀兰"),
    ("district", "district", "demo-district-pass", "城中区住建局 改造办"),
    ("city", "city", "demo-city-pass", "市老旧小区改造办"),
)

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
    staff = users.by_username(session, "staff")
    rng = random.Random(403)
    entries = households.electorate(session, proposal)
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
    voting_now = [p for p in proposals.for_community(session, community) if p.status == "voting"]
    proposal = min(voting_now, key=lambda p: p.id, default=None)
    if proposal is None or proposals.phase(proposal) != "open":
        return []
    entry = next(iter(households.electorate(session, proposal, unvoted=True)), None)
    if entry is None:
        return []
    issued = ballots.reissue(session, proposal, [entry.code], actor="demo")
    return [f"ballot link for household {entry.code} (reissued): {_link(issued[0])}"]


def create_demo(session: Session) -> list[str]:
    """Create the demo data; return the lines to print."""
    district = districts.create_district(session, DEMO_DISTRICT, DEMO_DISTRICT_NAME, actor="demo")
    today = utcnow().astimezone(settings.of(session).zone).date()
    districts.set_targets(
        session,
        district,
        application=today + dt.timedelta(days=30),
        design=today + dt.timedelta(days=90),
        actor="demo",
    )
    community = communities.create_community(
        session,
        DEMO_SLUG,
        "幸福里小区（演示）",
        signatory="owner-committee",
        signing_members=3,
        office="幸福里社区居委会（幸福路 12 号一楼），工作日 9:00–17:00",
        contact="幸福里社区居委会 0772-1234567",
        actor="demo",
        district=DEMO_DISTRICT,
    )
    rows = households.parse_file(DEMO_REGISTER.name, DEMO_REGISTER.read_bytes())
    households.import_rows(session, community, rows, actor="demo")
    lines = [
        f"demo district: {DEMO_DISTRICT_NAME} (slug {DEMO_DISTRICT})",
        "demo community: 幸福里小区（演示） (slug demo), 403 households",
    ]
    for username, role, password, full_name in LOGINS:
        slugs = [] if role in ("admin", "district", "city") else [DEMO_SLUG]
        users.create_user(
            session,
            username,
            password,
            role,
            slugs,
            full_name=full_name,
            actor="demo",
            district=DEMO_DISTRICT if role == "district" else None,
        )
        lines.append(f"login: {username} / {password} ({role})")
    lines += open_demo_vote(session, community)
    return lines


# --- Use case: one transaction (services/unit.py) ----------------------------------------


@dataclass(frozen=True)
class Demo:
    created: bool  # False: the demo community existed already
    lines: list[str]  # what to print: the new demo, or a fresh ballot link


def load_demo(store: Store) -> Demo:
    """Create the demo community, users and open vote; if it exists already, reissue one
    unvoted household's ballot so that a working link can be printed."""
    with store.write() as s:
        community = communities.find(s, DEMO_SLUG)
        if community is not None:
            return Demo(False, fresh_link(s, community))
        return Demo(True, create_demo(s))
