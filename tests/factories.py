"""The one set of test worlds, made through the services, for every test module.

    from tests import factories

    world = factories.voting_world(app)          # community + register + staff + open vote
    client.get(world.url("1-1-101"))             # that household's ballot page (200)
    world.tokens                                 # {"1-1-101": token, ...}
    world.proposal_id, world.slug, world.staff   # ids and names for CLI/web tests

(`world` is also a fixture in conftest.py.) Smaller steps, each committed on its own:
`community`, `import_register`, `staff_user`, `proposal`, `issue_ballots`, `cast`.
After the vote: `travel` (time passes), `close_now`, `insert_votes` (rows straight in,
for speed). A final result and its sign-off: `signing_community`, `final_proposal`,
`committee_users`, `do_sign`, `do_decline`; then `confirmed`, `add_evidence`,
`filing_package`. Two communities with a user of each kind and a proposal in several
states: `two_communities` (with `rules`/`url_for_rule` to walk every route).

Times are aware UTC datetimes; `ago()` and `ahead()` build them relative to now. Every
function takes the `app` fixture. Only `travel`, `insert_votes`, `add_evidence` and
`two_communities`' notice photo write rows directly (no raw SQL); everything else goes
through the services. Client helpers (login, CSRF, CLI, reads) are in tests/helpers.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from residents_vote.models import (
    Attachment,
    Ballot,
    Community,
    ElectorateEntry,
    NoticePosting,
    Objection,
    Proposal,
    ResultRevision,
    ScanBatch,
    ScanPage,
    User,
    Vote,
    VoteAnswer,
    utcnow,
)
from residents_vote.services import (
    ballots,
    communities,
    filing,
    households,
    proposals,
    results,
    signoff,
    voting,
)
from tests.helpers import PASSWORD, make_community, make_user, read, status_of, write

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


# --- time passing and the steps after the vote ----------------------------------------------


def travel(app: Flask, proposal_id: int, **delta: float) -> None:
    """Let time pass: move every stored instant of the proposal back by `delta`.

    Published revisions are rewritten with their dates moved too (and their hash
    recomputed), so a revision reads exactly as if it had been published that much
    earlier.
    """
    d = dt.timedelta(**delta)

    def back(iso: str) -> str:
        return (dt.datetime.fromisoformat(iso) - d).isoformat()

    with write(app) as s:
        p = s.get(Proposal, proposal_id)
        for name in ("starts_at", "closes_at", "opened_at", "closed_at", "objection_ends_at"):
            if getattr(p, name) is not None:
                setattr(p, name, getattr(p, name) - d)
        if p.finalized_at is not None:
            p.finalized_at -= d
        for row in s.scalars(select(ResultRevision).where(ResultRevision.proposal_id == p.id)):
            row.published_at -= d
            data = json.loads(row.tally_json)
            data["published_at"] = back(data["published_at"])
            for key in ("start", "end"):
                data["objection_period"][key] = back(data["objection_period"][key])
            row.tally_json = results.canonical(data)
            row.sha256 = hashlib.sha256(row.tally_json.encode("utf-8")).hexdigest()
        for o in s.scalars(select(Objection).where(Objection.proposal_id == p.id)):
            o.created_at -= d
            if o.answered_at is not None:
                o.answered_at -= d
        for v in s.scalars(select(Vote).where(Vote.proposal_id == p.id)):
            v.cast_at -= d
        for n in s.scalars(select(NoticePosting).where(NoticePosting.proposal_id == p.id)):
            n.posted_at -= d
            n.created_at -= d


def close_now(app: Flask, pid: int) -> None:
    """Publish the preliminary result just after the announced close (leaves `voting`)."""
    with write(app) as s:
        p = proposals.lock(s, pid)
        results.close(s, p, actor="test", now=p.closes_at + dt.timedelta(minutes=1))


def insert_votes(app: Flask, proposal_id: int, answers: dict[str, tuple[str, ...]]) -> None:
    """Vote rows straight into the database: household code -> one answer per question."""
    if not answers:
        return
    with write(app) as s:
        entries = {
            e.code: e
            for e in s.scalars(
                select(ElectorateEntry).where(ElectorateEntry.proposal_id == proposal_id)
            )
        }
        cast_at = dt.datetime.now(dt.UTC)
        for code_, given_answers in answers.items():
            vote = Vote(
                proposal_id=proposal_id,
                household_id=entries[code_].household_id,
                channel="paper",
                receipt_code=uuid.uuid4().hex[:24],
                cast_at=cast_at,
            )
            vote.answers = [
                VoteAnswer(question_number=n, proposal_id=proposal_id, answer=a)
                for n, a in enumerate(given_answers, 1)
            ]
            s.add(vote)


# --- a final result, its sign-off and its filing ------------------------------------------

CODES = [code(r) for r in HOUSEHOLDS]


def signing_community(
    app: Flask,
    slug: str = "hx",
    *,
    signatory: str = "owner-committee",
    members: int | None = None,
    required: int | None = None,
    rows: Iterable[Sequence[str]] = HOUSEHOLDS,
    staff: str | None = None,
) -> int:
    """A community with its signing-body options, its register and a staff user
    (`staff-<slug>` unless named); returns its id."""
    with write(app) as s:
        cid = communities.create_community(
            s,
            slug,
            f"{COMMUNITY_NAME}{slug}",
            signatory=signatory,
            signing_members=members,
            signoff_required=required,
            actor="test",
        ).id
    import_register(app, slug, rows)
    staff_user(app, staff or f"staff-{slug}", (slug,))
    return cid


def final_proposal(
    app: Flask,
    slug: str = "hx",
    *,
    answers: dict[str, dict[int, str]] | None = None,
    at: dt.datetime | None = None,
    staff: str | None = None,
    title: str = TITLE,
    finalize: bool = True,
) -> int:
    """A proposal voted by every household (all agree unless `answers` says otherwise),
    closed and finalized; its vote opened at `at` (default fifteen days ago: the result is
    posted two hours later and finalized when its 1-day objection period has ended, issue
    12, which with rest days is at most some ten days later)."""
    t0 = at or ago(days=15)
    hour = dt.timedelta(hours=1)
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == slug))
        by = s.scalar(select(User).where(User.username == (staff or f"staff-{slug}")))
        p = proposals.create(
            s,
            c,
            proposals.Draft(
                title=title,
                stage="design",
                questions=list(QUESTIONS),
                starts_at=t0,
                closes_at=t0 + dt.timedelta(days=10),
                objection_days=1,
            ),
            actor="test",
        )
        proposals.open_vote(s, p, actor="test", now=t0)
        codes = list(
            s.scalars(select(ElectorateEntry.code).where(ElectorateEntry.proposal_id == p.id))
        )
        for code_ in sorted(codes):
            given = (answers or {}).get(code_) or {q.number: "agree" for q in p.questions}
            voting.record_paper(s, p, code_, given, channel="paper", by=by, now=t0 + hour)
        results.close(s, p, actor="test", now=t0 + 2 * hour)
        if finalize:
            results.finalize(s, p, actor="test", now=p.objection_ends_at)
        return p.id


def committee_users(
    app: Flask, slug: str, n: int, role: str = "committee", prefix: str = ""
) -> list[str]:
    """n users of the role (`<prefix or slug>-m1`…) assigned to the community; their names."""
    names = [f"{prefix or slug}-m{i}" for i in range(1, n + 1)]
    for name in names:
        make_user(app, name, role, [slug])
    return names


def do_sign(app: Flask, proposal_id: int, username: str, password: str = PASSWORD) -> bool:
    """The member signs the final result (through the service); True once it is confirmed."""
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        u = s.scalar(select(User).where(User.username == username))
        return signoff.sign(s, p, u, password)


def do_decline(app: Flask, proposal_id: int, username: str, reason: str, password: str = PASSWORD):
    """The member declines to sign, giving a reason."""
    with write(app) as s:
        p = proposals.lock(s, proposal_id)
        u = s.scalar(select(User).where(User.username == username))
        signoff.decline(s, p, u, password, reason)


EVIDENCE_PNG = b"\x89PNG\r\n\x1a\n" + b"scan-of-a-signed-ballot" * 10
EVIDENCE_PDF = b"%PDF-1.4\n% plan document\n%%EOF\n"


def add_evidence(app: Flask, pid: int) -> dict[str, str]:
    """A plan PDF, a ballot scan and a notice photo for the proposal; their SHA-256."""
    with write(app) as s:
        p = s.get(Proposal, pid)
        staff = s.scalar(select(User).where(User.username == "staff-hx"))
        vote = s.scalar(select(Vote).where(Vote.proposal_id == pid).order_by(Vote.id))
        posting = NoticePosting(
            proposal_id=pid,
            stage="notice",
            place="3栋单元门口公告栏",
            posted_at=p.opened_at,
            recorded_by_id=staff.id,
        )
        s.add(posting)
        s.flush()
        out = {}
        for kind, data, mime, links in (
            ("plan", EVIDENCE_PDF, "application/pdf", {}),
            ("ballot_scan", EVIDENCE_PNG, "image/png", {"vote_id": vote.id}),
            ("notice_photo", EVIDENCE_PNG + b"photo", "image/png", {"posting_id": posting.id}),
        ):
            s.add(
                Attachment(
                    community_id=p.community_id,
                    proposal_id=pid,
                    kind=kind,
                    filename=f"../{kind}.bin",
                    content_type=mime,
                    data=data,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    uploaded_by_id=staff.id,
                    **links,
                )
            )
            out[kind] = hashlib.sha256(data).hexdigest()
    return out


def confirmed(app: Flask, *, plan: bool = True) -> int:
    """A proposal of community hx confirmed by two of its three committee members (with
    the evidence of add_evidence unless plan=False); returns its id."""
    signing_community(app)
    names = committee_users(app, "hx", 3)
    pid = final_proposal(app)
    if plan:
        add_evidence(app, pid)
    do_sign(app, pid, names[0])
    do_sign(app, pid, names[1])
    assert status_of(app, pid) == "confirmed"
    return pid


def filing_package(app: Flask, pid: int) -> filing.Package:
    """The filing package (备案) of a confirmed proposal."""
    with app.app_context(), read(app) as s:
        return filing.package(s, s.get(Proposal, pid))


# --- two communities and a user of each kind (the route walk, headers, fuzz, load) --------

ANON, STAFF_B, COMMITTEE_A, STAFF_A, ADMIN = "anon", "staff_b", "committee_a", "staff_a", "admin"
REGISTER_A = (
    "楼栋,单元,房号,面积,业主姓名,电话\n"
    "1,1,101,80.50,张三,13800000001\n"
    "1,1,102,90.25,李四,13800000002\n"
    "1,2,201,70.00,王五,13800000003\n"
    "2,1,101,65.75,赵六,13800000004\n"
    "2,1,102,88.00,钱七,13800000005\n"
).encode()
REGISTER_B = b"building,room,area\n9,901,50.00\n"
PHOTO_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@dataclass
class TwoCommunities:
    """Community A (households, a closed proposal in its objection period with an open
    objection, an open proposal with ballots) and community B; one user of each kind."""

    closed_id: int
    closed_public: str
    open_id: int
    open_public: str
    token: str  # a live ballot of the open proposal
    voted_token: str  # a ballot of the open proposal that was used
    revoked_token: str
    receipt: str  # of the vote cast with voted_token
    objection_id: int
    posting_id: int  # a posting of the closed proposal's notice, with a photo
    users: dict[str, int]
    slug: str = "a"
    scan_batch_id: int = 0  # a scan batch of the open proposal, one review page
    scan_page_id: int = 0


def two_communities(app: Flask) -> TwoCommunities:
    """Seed through the services, as staff would through the pages. Users (password
    PASSWORD): boss (admin), staff_a, staff_b, committee_a; `users` maps ADMIN, STAFF_A,
    STAFF_B, COMMITTEE_A to their ids."""
    names = {
        ADMIN: ("boss", "admin", []),
        STAFF_A: ("staff_a", "staff", ["a"]),
        STAFF_B: ("staff_b", "staff", ["b"]),
        COMMITTEE_A: ("committee_a", "committee", ["a"]),
    }
    with write(app) as s:
        a = communities.create_community(s, "a", "甲小区", office="甲小区居委会")
        b = communities.create_community(s, "b", "乙小区")
        households.import_rows(s, a, households.parse_file("a.csv", REGISTER_A))
        households.import_rows(s, b, households.parse_file("b.csv", REGISTER_B))
    users = {who: make_user(app, *spec) for who, spec in names.items()}
    with write(app) as s:
        a = communities.get_by_slug(s, "a")
        closed = proposals.create(
            s,
            a,
            proposals.Draft(title="外墙保温改造", stage="design", questions=["同意改造吗？"]),
            actor="staff_a",
        )
        proposals.open_vote(s, closed, actor="staff_a")
        staff = s.get(User, users[STAFF_A])
        codes = ["1-1-101", "1-1-102", "1-2-201", "2-1-101", "2-1-102"]
        for n, code_ in enumerate(codes):
            answer = "agree" if n < 4 else "oppose"
            voting.record_paper(s, closed, code_, {1: answer}, channel="paper", by=staff)
        results.close(s, proposals.lock(s, closed.id), actor="staff_a")
        objection = results.file_objection(
            s, closed, name="居民甲", text="面积登记有误", household="1-1-101"
        )
        opened = proposals.create(
            s,
            a,
            proposals.Draft(
                title="加装电梯", stage="application", questions=["同意加装吗？", "同意分摊吗？"]
            ),
            actor="staff_a",
        )
        proposals.open_vote(s, opened, actor="staff_a")
        issued = ballots.issue(s, opened, actor="staff_a")
        old = issued[2]
        (new,) = ballots.reissue(s, opened, [old.code], actor="staff_a")
        posting = NoticePosting(
            proposal_id=closed.id,
            stage="notice",
            place="1号楼公告栏",
            posted_at=utcnow(),
            recorded_by_id=staff.id,
        )
        s.add(posting)
        s.flush()
        s.add(
            Attachment(
                community_id=a.id,
                proposal_id=closed.id,
                posting_id=posting.id,
                kind="notice_photo",
                filename="photo.png",
                content_type="image/png",
                data=PHOTO_PNG,
                size=len(PHOTO_PNG),
                sha256=hashlib.sha256(PHOTO_PNG).hexdigest(),
                uploaded_by_id=staff.id,
            )
        )
        voted = issued[1]
        ballot = s.scalar(
            select(Ballot).where(Ballot.token_hash == ballots.hash_token(voted.token))
        )
        cast_ = voting.cast_online(s, ballot, {1: "agree", 2: "oppose"})
        scan_page = ScanPage(
            number=1,
            file="scan.png",
            household=None,
            status="review",
            reasons='["qr-unreadable"]',
            image=PHOTO_PNG,
            crops=json.dumps({"q1": base64.b64encode(PHOTO_PNG).decode()}),
        )
        scan_batch = ScanBatch(
            proposal_id=opened.id, uploaded_by_id=staff.id, sha256="0" * 64, pages=[scan_page]
        )
        s.add(scan_batch)
        s.flush()
        return TwoCommunities(
            closed_id=closed.id,
            closed_public=closed.public_id,
            open_id=opened.id,
            open_public=opened.public_id,
            token=issued[0].token,
            voted_token=voted.token,
            revoked_token=old.token,
            receipt=cast_.receipt,
            objection_id=objection.id,
            posting_id=posting.id,
            users=users,
            scan_batch_id=scan_batch.id,
            scan_page_id=scan_page.id,
        )


# URL parameter -> value from the world (a callable: the rule's defaults may matter).
FILLERS = {
    "slug": lambda w: w.slug,
    "proposal_id": lambda w: w.closed_id,
    "public_id": lambda w: w.closed_public,
    "token": lambda w: w.token,
    "objection_id": lambda w: w.objection_id,
    "user_id": lambda w: w.users[STAFF_A],
    "kind": lambda w: "notice",
    "fmt": lambda w: "csv",
    "filename": lambda w: "style.css",
    "code": lambda w: "1-1-101",
    "posting_id": lambda w: w.posting_id,
    "batch_id": lambda w: w.scan_batch_id,
    "page_id": lambda w: w.scan_page_id,
    "name": lambda w: "q1",
}


def url_for_rule(rule, world: TwoCommunities) -> str:
    """A path for the URL rule with its parameters filled from the world (FILLERS)."""
    missing = [arg for arg in rule.arguments if arg not in FILLERS]
    assert not missing, f"{rule.endpoint} ({rule.rule}): add a filler for {missing}"
    values = {arg: FILLERS[arg](world) for arg in rule.arguments}
    _, path = rule.build(values, append_unknown=False)
    return path


def rules(app: Flask) -> list:
    """Every rule, auth.logout last (it ends the visitor's session)."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))


# issue 15 item 6: the share image of a stage (the closed proposal has its preliminary result)
FILLERS["stage"] = lambda w: "preliminary"
# --- issue 16: the hearing route ----------------------------------------------------------

MINUTES_PDF = b"%PDF-1.4\n% signed minutes of the hearing\n%%EOF\n"


def hearing_world(
    app: Flask,
    *,
    slug: str = "hx",
    staff: str = "staff1",
    hearing_at: dt.datetime | None = None,
    open_hearing: bool = True,
    objection_days: int = 7,
) -> World:
    """Community + register + staff user + a hearing (opened unless open_hearing=False)."""
    community_id = community(app, slug)
    staff_user(app, staff, (slug,))
    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == slug))
        d = proposals.Draft(
            title="幸福里小区申请老旧小区改造",
            stage="application",
            questions=[],
            route="hearing",
            hearing_at=hearing_at or ahead(days=7),
            place="幸福里社区居委会会议室",
            agenda="一、介绍改造政策；二、听取居民意见；三、形成统一意见",
            organiser="幸福里社区居委会",
            objection_days=objection_days,
        )
        p = proposals.create(s, c, d, actor="test")
        if open_hearing:
            proposals.open_vote(s, p, actor="test")
        pid = p.id
    return World(slug, community_id, pid, staff, PASSWORD, {})


def hearing_passes(app: Flask, proposal_id: int, **delta: float) -> None:
    """Let time pass before a hearing is concluded: its time, opening and start move back."""
    d = dt.timedelta(**delta)
    with write(app) as s:
        p = s.get(Proposal, proposal_id)
        for name in ("hearing_at", "starts_at", "opened_at"):
            if getattr(p, name) is not None:
                setattr(p, name, getattr(p, name) - d)
# --- districts and the filing inbox (issue 16) ---------------------------------------------

DISTRICT_A, DISTRICT_B, CITY = "district_a", "district_b", "city"


def district(app: Flask, slug: str = "d1", name: str | None = None) -> int:
    """A district (through the service); returns its id."""
    from residents_vote.services import districts

    with write(app) as s:
        return districts.create_district(s, slug, name or f"{slug}区", actor="test").id


def into_district(app: Flask, community_slug: str, district_slug: str) -> None:
    """Move an existing community into a district (a direct write: `community create
    --district` is the only service that sets it)."""
    from residents_vote.models import District

    with write(app) as s:
        c = s.scalar(select(Community).where(Community.slug == community_slug))
        c.district_id = s.scalar(select(District.id).where(District.slug == district_slug))


def district_user(app: Flask, username: str, district_slug: str | None, role: str = "district"):
    """A district user of the district (or a city user: role='city', district None)."""
    from residents_vote.services import users as user_service

    with write(app) as s:
        return user_service.create_user(
            s, username, PASSWORD, role, [], actor="test", district=district_slug
        ).id


def submitted(app: Flask, pid: int, by: str = "staff-hx") -> int:
    """Submit a confirmed proposal to its district's inbox; the inbox item's id."""
    from residents_vote.services import inbox

    with app.app_context():
        return inbox.submit_filing(app.extensions["rv_db"].store, pid, by=by).item_id


@dataclass
class DistrictWorld(TwoCommunities):
    """two_communities, with A in district `da` and B in `db`, a third proposal of A
    confirmed by committee_a and submitted to da's inbox, and users district_a (da),
    district_b (db) and city."""

    district: str = "da"
    other_district: str = "db"
    item_id: int = 0
    submitted_id: int = 0


def district_world(app: Flask) -> DistrictWorld:
    from residents_vote.services import inbox

    world = two_communities(app)
    district(app, "da", "甲区")
    district(app, "db", "乙区")
    into_district(app, "a", "da")
    into_district(app, "b", "db")
    users = dict(world.users)
    users[DISTRICT_A] = district_user(app, DISTRICT_A, "da")
    users[DISTRICT_B] = district_user(app, DISTRICT_B, "db")
    users[CITY] = district_user(app, CITY, None, role="city")
    t0 = ago(days=15)
    hour = dt.timedelta(hours=1)
    with write(app) as s:
        a = communities.get_by_slug(s, "a")
        staff = s.get(User, world.users[STAFF_A])
        p = proposals.create(
            s,
            a,
            proposals.Draft(
                title="屋面防水申请",
                stage="application",
                questions=["同意申请改造吗？"],
                starts_at=t0,
                closes_at=t0 + dt.timedelta(days=10),
                objection_days=1,
            ),
            actor="staff_a",
        )
        proposals.open_vote(s, p, actor="staff_a", now=t0)
        for code_ in ["1-1-101", "1-1-102", "1-2-201", "2-1-101", "2-1-102"]:
            voting.record_paper(s, p, code_, {1: "agree"}, channel="paper", by=staff, now=t0 + hour)
        results.close(s, p, actor="staff_a", now=t0 + 2 * hour)
        results.finalize(s, p, actor="staff_a", now=p.objection_ends_at)
        pid = p.id
    assert do_sign(app, pid, "committee_a")
    with write(app) as s:
        p = proposals.lock(s, pid)
        item = inbox.submit(s, p, s.get(User, world.users[STAFF_A]))
        item_id = item.id
    fields = {k: getattr(world, k) for k in TwoCommunities.__dataclass_fields__}
    fields["users"] = users
    return DistrictWorld(**fields, item_id=item_id, submitted_id=pid)


FILLERS["district"] = lambda w: getattr(w, "district", "da")
FILLERS["item_id"] = lambda w: getattr(w, "item_id", 1)
FILLERS["member"] = lambda w: "manifest.json"
