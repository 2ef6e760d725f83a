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
from .services import (
    ballots,
    communities,
    costs,
    districts,
    hearings,
    households,
    proposals,
    results,
    users,
    voting,
)

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
    lines += create_demo_hearing(session)
    return lines


# --- The second demo community: an application decided at a hearing (issue 16) ----------

HEARING_SLUG = "demo-hearing"
HEARING_NAME = "和平里小区（演示）"
HEARING_HOUSEHOLDS = 120
HEARING_TITLE = "和平里小区申请老旧小区改造"


def _demo_minutes() -> bytes:
    """A stand-in for the signed scan of the hearing's minutes."""
    from .pdf import Notice

    doc = Notice("听评会会议纪要（演示）")
    doc.heading("和平里小区老旧小区改造听评会会议纪要（演示）")
    doc.paragraph("与会居民听取了改造政策介绍，充分发表意见，一致同意申请老旧小区改造。")
    doc.paragraph("主持人：（签名）    记录人：（签名）")
    return doc.output()


def create_demo_hearing(session: Session) -> list[str]:
    """A second community whose application went through the hearing route: the hearing
    took place 12 days ago, most households attended, the outcome (agreed) was posted and
    its objection period has ended; the final notice is out and awaits the signatures."""
    now = utcnow()
    community = communities.create_community(
        session,
        HEARING_SLUG,
        HEARING_NAME,
        signatory="owner-committee",
        signing_members=2,
        office="和平里社区居委会（和平路 8 号），工作日 9:00–17:00",
        contact="和平里社区居委会 0772-7654321",
        actor="demo",
        district=DEMO_DISTRICT,  # the same district as the first: its page shows both routes
    )
    rows = households.parse_file(DEMO_REGISTER.name, DEMO_REGISTER.read_bytes())
    households.import_rows(session, community, rows[:HEARING_HOUSEHOLDS], actor="demo")
    for username in ("staff", "committee1", "committee2"):
        user = users.by_username(session, username)
        slugs = [c.slug for c in user.communities] + [HEARING_SLUG]
        users.set_communities(session, user, slugs, actor="demo")
    session.flush()
    draft = proposals.Draft(
        title=HEARING_TITLE,
        stage="application",
        questions=[],
        body="听取居民对申请纳入老旧小区改造计划的意见，形成统一意见。",
        route="hearing",
        hearing_at=now - dt.timedelta(days=12),
        place="和平里社区居委会二楼会议室",
        agenda="一、介绍老旧小区改造政策；二、听取居民意见；三、形成是否申请改造的统一意见",
        organiser="和平里社区居委会",
        objection_days=7,
    )
    proposal = proposals.create(session, community, draft, actor="demo")
    proposals.open_vote(session, proposal, actor="demo", now=now - dt.timedelta(days=20))
    staff = users.by_username(session, "staff")
    rng = random.Random(16)
    entries = households.electorate(session, proposal)
    present = sorted(rng.sample([e.code for e in entries], 86))
    hearing_time = now - dt.timedelta(days=12)
    hearings.record_attendance(session, proposal, present[:80], by=staff, now=hearing_time)
    hearings.record_attendance(
        session, proposal, present[80:], by=staff, proxy_name="（委托代理人）", now=hearing_time
    )
    hearings.conclude(
        session,
        proposal,
        outcome="agreed",
        minutes=("minutes.pdf", _demo_minutes()),
        summary="与会 86 户居民听取改造政策介绍后充分发表意见，一致同意申请老旧小区改造。",
        by=staff,
        now=now - dt.timedelta(days=11),
    )
    results.finalize(session, proposal, actor="demo", now=now)
    return [
        f"hearing community: {HEARING_NAME} (slug {HEARING_SLUG}), {HEARING_HOUSEHOLDS} households",
        f"hearing: {HEARING_TITLE} (proposal {proposal.id}), 86 households attended, agreed, "
        "final (awaiting sign-off)",
        f"public page: {settings.of(session).url('/r/' + proposal.public_id)}",
    ]


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
