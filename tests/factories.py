"""Quick test data, made through the services (never raw SQL), for any test module.

    from tests import factories

    world = factories.voting_world(app)          # community + register + staff + open vote
    client.get(world.url("1-1-101"))             # that household's ballot page (200)
    world.tokens                                 # {"1-1-101": token, ...}
    world.proposal_id, world.slug, world.staff   # ids and names for CLI/web tests

Smaller steps, each committed on its own: `community`, `import_register`, `staff_user`,
`proposal`, `issue_ballots`, `cast`. Times are aware UTC datetimes; `ago()` and
`ahead()` build them relative to now. Every function takes the `app` fixture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from residents_vote.models import Community, User, utcnow
from residents_vote.services import ballots, households, proposals, voting
from tests.helpers import PASSWORD, make_community, make_user, write

# building, unit, room, area (text, m²), owner name, phone. Codes: 1-1-101, 1-1-102, 2-1-201.
HOUSEHOLDS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("1", "1", "101", "87.65", "张伟", "13800001234"),
    ("1", "1", "102", "90.10", "王芳", "13900005678"),
    ("2", "1", "201", "120.00", "李娜", ""),
)
QUESTIONS = ("是否同意《幸福里小区改造设计方案》？", "是否同意按面积分摊费用？")
TITLE = "幸福里小区老旧小区改造方案表决"
COMMUNITY_NAME = "幸福里小区"


def ago(**delta: float) -> dt.datetime:
    """An aware UTC time in the past: ago(hours=2)."""
    return utcnow() - dt.timedelta(**delta)


def ahead(**delta: float) -> dt.datetime:
    """An aware UTC time in the future: ahead(days=3)."""
    return utcnow() + dt.timedelta(**delta)


def code(row: Sequence[str]) -> str:
    """The household code of a HOUSEHOLDS-style row."""
    building, unit, room = row[0], row[1], row[2]
    return f"{building}-{unit}-{room}" if unit else f"{building}-{room}"


def register_csv(rows: Iterable[Sequence[str]] = HOUSEHOLDS) -> bytes:
    """A register file (English headers) for HOUSEHOLDS-style rows."""
    lines = ["building,unit,room,area,owner_name,phone"]
    lines += [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def import_register(
    app: Flask,
    slug: str,
    rows: Iterable[Sequence[str]] = HOUSEHOLDS,
    *,
    remove_missing: bool = False,
) -> households.ImportReport:
    """Import (or re-import) the register of a community, as `households import` does."""
    parsed = households.parse_file("register.csv", register_csv(rows))
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == slug))
        return households.import_rows(s, c, parsed, remove_missing=remove_missing, actor="test")


def community(
    app: Flask,
    slug: str = "hx",
    name: str = COMMUNITY_NAME,
    rows: Iterable[Sequence[str]] | None = HOUSEHOLDS,
) -> int:
    """A community with its register imported (rows=None: empty register); returns its id."""
    community_id = make_community(app, slug, name)
    if rows is not None:
        import_register(app, slug, rows)
    return community_id


def staff_user(
    app: Flask, username: str = "staff1", slugs: Sequence[str] = ("hx",), role: str = "staff"
) -> int:
    """A user (password tests.helpers.PASSWORD) assigned to the communities; returns its id."""
    return make_user(app, username, role, list(slugs))


def proposal(
    app: Flask,
    slug: str = "hx",
    *,
    questions: Sequence[str] = QUESTIONS,
    title: str = TITLE,
    open_vote: bool = True,
    starts: dt.datetime | None = None,
    closes: dt.datetime | None = None,
    opened_at: dt.datetime | None = None,
    verify: str = "none",
    **draft: object,
) -> int:
    """A proposal, opened unless open_vote=False; returns its id.

    starts/closes default to "now" and 14 days later. To make a vote that has already
    closed, open it in the past: opened_at=ago(days=2), starts=ago(days=2), closes=ago(hours=1).
    Other keyword arguments go to proposals.Draft (rule, headcount, scope, objection_days…).
    """
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == slug))
        d = proposals.Draft(
            title=title,
            stage=str(draft.pop("stage", "design")),
            questions=list(questions),
            starts_at=starts,
            closes_at=closes,
            verify=verify,
            **draft,  # type: ignore[arg-type]
        )
        p = proposals.create(s, c, d, actor="test")
        if open_vote:
            proposals.open_vote(s, p, actor="test", now=opened_at)
        return p.id


def issue_ballots(app: Flask, proposal_id: int) -> dict[str, str]:
    """Issue ballots to every household without one; returns {household code: token}."""
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        return {i.code: i.token for i in ballots.issue(s, p, actor="test")}


def cast(
    app: Flask,
    proposal_id: int,
    household: str,
    answers: dict[int, str] | None = None,
    *,
    by: str = "staff1",
    channel: str = "paper",
) -> str:
    """Record a paper ballot (every question `agree` unless given); returns the receipt."""
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        user = s.scalar(select(User).where(User.username == by))
        answers = answers or {q.number: "agree" for q in p.questions}
        return voting.record_paper(s, p, household, answers, channel=channel, by=user).receipt


@dataclass
class World:
    """What voting_world made."""

    slug: str
    community_id: int
    proposal_id: int
    staff: str
    password: str
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, household: str) -> str:
        """The ballot page path of a household: /b/<token>."""
        return f"/b/{self.tokens[household]}"


def voting_world(
    app: Flask,
    *,
    slug: str = "hx",
    rows: Iterable[Sequence[str]] = HOUSEHOLDS,
    staff: str = "staff1",
    issue: bool = True,
    **proposal_options: object,
) -> World:
    """Community + register + staff user + opened proposal (+ ballots): the usual start.

    proposal_options go to `proposal()` (questions, verify, starts, closes, open_vote…).
    """
    community_id = community(app, slug, rows=rows)
    staff_user(app, staff, (slug,))
    proposal_id = proposal(app, slug, **proposal_options)  # type: ignore[arg-type]
    opened = proposal_options.get("open_vote", True)
    tokens = issue_ballots(app, proposal_id) if issue and opened else {}
    return World(slug, community_id, proposal_id, staff, PASSWORD, tokens)
