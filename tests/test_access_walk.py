"""Route-permission walk: every rule of app.url_map, every method, every kind of visitor.

The table ROUTES says, per endpoint, what each visitor gets. URL parameters are filled
with real ids, slugs and tokens of community A from a seeded database (FILLERS), so a
denial is the access rule's doing, not a missing object's. A new endpoint that is not in
the table, or a URL parameter without a filler, fails the walk: add it here.

Visitors: anonymous; staff of community B; committee member of A; and, GET only (their
POSTs would change things), staff of A and an admin.
"""

from __future__ import annotations

import dataclasses
import hashlib
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from residents_vote.models import Attachment, Ballot, NoticePosting, User, utcnow
from residents_vote.services import ballots, communities, proposals, results, voting
from residents_vote.services import households as register
from residents_vote.web import ACCESS
from tests.helpers import PASSWORD, csrf_token, login, make_user, write

LOGIN = "login"  # 302 to /login?next=…
ANON, STAFF_B, COMMITTEE_A, STAFF_A, ADMIN = "anon", "staff_b", "committee_a", "staff_a", "admin"
VISITORS = (ANON, STAFF_B, COMMITTEE_A, STAFF_A, ADMIN)
GET_ONLY = frozenset({STAFF_A, ADMIN})


# --- the expectations ----------------------------------------------------------------------
# Each helper returns {visitor: status | set of statuses | LOGIN}. "*" is the default.


def staff_page(get=200) -> dict:
    """A staff page naming an object of community A (a slug, proposal, objection…)."""
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: 404, STAFF_A: get, ADMIN: get}


def staff_own(get=200) -> dict:
    """A staff page about the visitor's own communities (no object in the URL)."""
    return {ANON: LOGIN, STAFF_B: get, COMMITTEE_A: 404, STAFF_A: get, ADMIN: get}


def admin_page(get=200) -> dict:
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: 404, STAFF_A: 404, ADMIN: get}


def committee_page(get=200) -> dict:
    """A sign-off page naming a proposal of A: its signers and staff of A may look."""
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: get, STAFF_A: get, ADMIN: get}


def committee_own(get=200) -> dict:
    return {ANON: LOGIN, STAFF_B: get, COMMITTEE_A: get, STAFF_A: get, ADMIN: get}


def open_page(status) -> dict:
    """Public: the same answer for everybody, signed in or not."""
    return {"*": status}


ROUTES: dict[str, dict] = {
    # no blueprint
    "static": open_page(200),
    "health": open_page(200),
    "index": {ANON: 200, "*": 302},  # signed in: to the staff or committee home
    # auth
    "auth.login": open_page(200),  # POST with only a CSRF token: the form again, with an error
    "auth.logout": {ANON: LOGIN, "*": 303},  # walked last
    # resident pages: the ballot of the open proposal
    "ballot.show": open_page(200),
    "ballot.submit": open_page(422),  # no answers: nothing recorded
    "ballot.objection": open_page(403),  # voting still open: no objection period yet
    # public pages of the closed proposal (objection period running)
    "public.show": open_page(200),
    "public.show_json": open_page(200),
    "public.receipt": open_page(200),
    "public.objection": open_page(422),  # no receipt code and no text
    "public.pdf": open_page(200),  # kind=notice
    "public.plan": open_page(404),  # no plan attached
    # staff
    "staff.home": staff_own(),
    "staff.community": staff_page(),
    "staff.export": staff_page(),
    "staff.import_preview": staff_page(),
    "staff.import_confirm": staff_page(),
    "staff.proposal": staff_page(),
    "staff.proposal_new": staff_page(),
    "staff.proposal_edit": staff_page(get={200, 303, 409}),  # not a draft any more
    "staff.proposal_open": staff_page(),
    "staff.proposal_extend": staff_page(),
    "staff.proposal_cancel": staff_page(),
    "staff.proposal_close": staff_page(),
    "staff.proposal_finalize": staff_page(),
    "staff.proposal_ballots": staff_page(),
    "staff.proposal_paper": staff_page(),
    "staff.proposal_plan": staff_page(),
    "staff.objection_answer": staff_page(),
    "staff.objection_paper": staff_page(),
    "staff.vote_lookup": staff_page(get={200, 302, 303}),  # no code given: back to the form
    "staff.vote_correct": staff_page(get={200, 409}),  # 409: not correctable any more
    "staff.vote_void": staff_page(get={200, 409}),  # 409: the result is already posted
    "staff.audit_log": staff_page(),
    "staff.nonvoters": staff_page(),
    "staff.nonvoters_pdf": staff_page(),
    "staff.nonvoters_xlsx": staff_page(),
    "staff.postings": staff_page(),
    "staff.posting_photo": staff_page(),
    "staff.confirmation_pdf": staff_page(get={200, 409}),  # 409 until the result is confirmed
    "staff.filing_zip": staff_page(get={200, 409}),
    "staff.mark_filed": staff_page(),
    # account: the signed-in user's own password (POST with only a CSRF token: 422)
    "account.password": committee_own(get={200, 422}),
    # admin
    "admin.user_list": admin_page(),
    "admin.user_update": admin_page(),
    "admin.community_create": admin_page(),
    # committee
    "committee.home": committee_own(),
    "committee.proposal": committee_page(),
    "committee.sign": committee_page(),
    "committee.decline": committee_page(),
}


# --- the seeded world ----------------------------------------------------------------------


@dataclasses.dataclass
class World:
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


REGISTER_A = (
    "楼栋,单元,房号,面积,业主姓名,电话\n"
    "1,1,101,80.50,张三,13800000001\n"
    "1,1,102,90.25,李四,13800000002\n"
    "1,2,201,70.00,王五,13800000003\n"
    "2,1,101,65.75,赵六,13800000004\n"
    "2,1,102,88.00,钱七,13800000005\n"
).encode()
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
REGISTER_B = b"building,room,area\n9,901,50.00\n"


def build_world(app) -> World:
    """Seed through the services, as staff would through the pages."""
    names = {
        ADMIN: ("boss", "admin", []),
        STAFF_A: ("staff_a", "staff", ["a"]),
        STAFF_B: ("staff_b", "staff", ["b"]),
        COMMITTEE_A: ("committee_a", "committee", ["a"]),
    }
    with write(app) as s:
        a = communities.create_community(s, "a", "甲小区", office="甲小区居委会")
        b = communities.create_community(s, "b", "乙小区")
        register.import_rows(s, a, register.parse_file("a.csv", REGISTER_A))
        register.import_rows(s, b, register.parse_file("b.csv", REGISTER_B))
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
        for n, code in enumerate(codes):
            answer = "agree" if n < 4 else "oppose"
            voting.record_paper(s, closed, code, {1: answer}, channel="paper", by=staff)
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
                data=PNG,
                size=len(PNG),
                sha256=hashlib.sha256(PNG).hexdigest(),
                uploaded_by_id=staff.id,
            )
        )
        voted = issued[1]
        ballot = s.scalar(
            select(Ballot).where(Ballot.token_hash == ballots.hash_token(voted.token))
        )
        cast = voting.cast_online(s, ballot, {1: "agree", 2: "oppose"})
        return World(
            closed_id=closed.id,
            closed_public=closed.public_id,
            open_id=opened.id,
            open_public=opened.public_id,
            token=issued[0].token,
            voted_token=voted.token,
            revoked_token=old.token,
            receipt=cast.receipt,
            objection_id=objection.id,
            posting_id=posting.id,
            users=users,
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
}


def url_for_rule(rule, world: World) -> str:
    missing = [arg for arg in rule.arguments if arg not in FILLERS]
    assert not missing, f"{rule.endpoint} ({rule.rule}): add a filler for {missing}"
    values = {arg: FILLERS[arg](world) for arg in rule.arguments}
    _, path = rule.build(values, append_unknown=False)
    return path


def rules(app) -> list:
    """Every rule, auth.logout last (it ends the visitor's session)."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def expected(endpoint: str, visitor: str):
    table = ROUTES[endpoint]
    return table.get(visitor, table.get("*"))


def is_denial(value) -> bool:
    return value == LOGIN or value == 404


# --- the tests --------------------------------------------------------------------------------


def test_every_endpoint_is_in_the_table(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"endpoints without an expected answer in ROUTES: {missing}"
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"ROUTES lists endpoints the app does not have: {stale}"


def test_every_table_entry_matches_its_blueprint(app):
    """A page of a signed-in blueprint is never open, and an open one never needs a login."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in ROUTES:
            continue
        blueprint = rule.endpoint.rpartition(".")[0] or None
        anon = expected(rule.endpoint, ANON)
        if blueprint is not None and ACCESS.get(blueprint) is not None:
            assert anon == LOGIN, rule.endpoint
        elif rule.endpoint != "auth.logout":
            assert anon != LOGIN, rule.endpoint


def _client_for(app, visitor: str, world: World):
    client = app.test_client()
    if visitor != ANON:
        name = {ADMIN: "boss", STAFF_A: "staff_a", STAFF_B: "staff_b"}.get(visitor, visitor)
        assert login(client, name, PASSWORD).status_code == 303
    return client


@pytest.mark.parametrize("visitor", VISITORS)
def test_route_walk(app, visitor):
    world = build_world(app)
    client = _client_for(app, visitor, world)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    failures = []
    walked = 0
    for rule in rules(app):
        if rule.endpoint not in ROUTES:
            failures.append(f"{rule.endpoint}: not in ROUTES")
            continue
        want = expected(rule.endpoint, visitor)
        path = url_for_rule(rule, world)
        public = ACCESS.get(rule.endpoint.rpartition(".")[0] or None) is None
        for method in methods(rule):
            if method != "GET" and (visitor in GET_ONLY or not (is_denial(want) or public)):
                continue  # an allowed visitor's POST would change the seeded state
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token})
            walked += 1
            got = response.status_code
            if want == LOGIN:
                location = urlsplit(response.headers.get("Location", ""))
                ok = got == 302 and location.path == "/login"
            elif isinstance(want, set | frozenset):
                ok = got in want
            else:
                ok = got == want
            if not ok:
                failures.append(f"{method} {path} ({rule.endpoint}): {got}, expected {want}")
    assert walked > 20
    assert not failures, f"{visitor}:\n" + "\n".join(failures)


def test_staff_of_b_cannot_reach_a_through_other_ids(app):
    """Objects of A named by id from a B session: every staff/committee URL answers 404,
    also for ids that do not exist (no difference between 'not yours' and 'no such')."""
    world = build_world(app)
    client = _client_for(app, STAFF_B, world)
    for proposal_id in (world.closed_id, world.open_id, 999_999):
        for suffix in ("", "/paper", "/edit"):
            assert client.get(f"/staff/proposals/{proposal_id}{suffix}").status_code == 404
    assert client.get("/staff/c/nowhere").status_code == 404


def test_a_post_without_csrf_token_is_refused_everywhere(app):
    """Every POST rule refuses a form without CSRF token (400) or sends to /login first;
    never 2xx/3xx-success, never 500."""
    world = build_world(app)
    client = _client_for(app, ADMIN, world)
    for rule in rules(app):
        if "POST" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        response = client.post(url_for_rule(rule, world), data={})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
