"""Route-permission walk: every rule of app.url_map, every method, every kind of visitor.

The table ROUTES says, per endpoint, what each visitor gets. URL parameters are filled
with real ids, slugs and tokens of community A from a seeded database
(factories.two_communities and factories.FILLERS), so a denial is the access rule's
doing, not a missing object's. A new endpoint that is not in the table fails the walk: add
it here; a URL parameter without a filler fails it too: add one to factories.FILLERS.

Visitors: anonymous; staff of community B; committee member of A; and, GET only (their
POSTs would change things), staff of A and an admin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from residents_vote.web import ACCESS
from tests.factories import (
    ADMIN,
    ANON,
    CITY,
    COMMITTEE_A,
    DISTRICT_A,
    DISTRICT_B,
    STAFF_A,
    STAFF_B,
    TwoCommunities,
    district_world,
    rules,
    two_communities,
    url_for_rule,
)
from tests.helpers import PASSWORD, csrf_token, login

LOGIN = "login"  # 302 to /login?next=…
VISITORS = (ANON, STAFF_B, COMMITTEE_A, DISTRICT_B, CITY, DISTRICT_A, STAFF_A, ADMIN)
GET_ONLY = frozenset({STAFF_A, ADMIN, DISTRICT_A})
# District and city users (issue 16) reach no register, ballot admin or staff page.
NO_COMMUNITY = {DISTRICT_A: 404, DISTRICT_B: 404, CITY: 404}


# --- the expectations ----------------------------------------------------------------------
# Each helper returns {visitor: status | set of statuses | LOGIN}. "*" is the default.


def staff_page(get=200) -> dict:
    """A staff page naming an object of community A (a slug, proposal, objection…)."""
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: 404, STAFF_A: get, ADMIN: get, **NO_COMMUNITY}


def staff_own(get=200) -> dict:
    """A staff page about the visitor's own communities (no object in the URL)."""
    return {ANON: LOGIN, STAFF_B: get, COMMITTEE_A: 404, STAFF_A: get, ADMIN: get, **NO_COMMUNITY}


def admin_page(get=200) -> dict:
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: 404, STAFF_A: 404, ADMIN: get, **NO_COMMUNITY}


def committee_page(get=200) -> dict:
    """A sign-off page naming a proposal of A: its signers and staff of A may look."""
    return {ANON: LOGIN, STAFF_B: 404, COMMITTEE_A: get, STAFF_A: get, ADMIN: get, **NO_COMMUNITY}


def committee_own(get=200) -> dict:
    return {ANON: LOGIN, STAFF_B: get, COMMITTEE_A: get, STAFF_A: get, ADMIN: get, **NO_COMMUNITY}


def district_page(get=200) -> dict:
    """A page of district A (its overview, its inbox item): its own district users, the
    city and admins; nobody else, not even the staff of its communities."""
    return {
        ANON: LOGIN,
        STAFF_B: 404,
        COMMITTEE_A: 404,
        DISTRICT_B: 404,
        CITY: get,
        DISTRICT_A: get,
        STAFF_A: 404,
        ADMIN: get,
    }


def district_decision(get=200) -> dict:
    """Accept or return a filing of district A: its own district users (and admins)."""
    return {**district_page(get), CITY: 404}


def city_page(get=200) -> dict:
    return {**district_page(get), DISTRICT_A: 404}


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
    "ballot.send_code": open_page(422),  # the open proposal does not use codes by message
    "ballot.objection": open_page(403),  # voting still open: no objection period yet
    # the seeded token is a vote's ballot, not a hearing's card: nothing to record, for anyone
    "ballot.attend": open_page(404),
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
    "staff.hearing_sheet": staff_page(303),  # the seeded proposal is a vote: refused, back
    "staff.hearing_minutes": staff_page(404),  # no minutes: not a hearing
    "staff.hearing_attend": staff_page(),
    "staff.hearing_conclude": staff_page(),
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
    "staff.vote_correct": staff_page(get={200, 409}),
    "staff.scans_upload": staff_page(),
    "staff.scans_list": staff_page(),
    "staff.scan_batch": staff_page(),
    "staff.scan_batch_record": staff_page(),
    "staff.scan_page_decide": staff_page(),
    "staff.scan_page_image": staff_page(),
    "staff.scan_page_crop": staff_page(),  # 409: not correctable any more
    "staff.share_image": staff_page(),
    "staff.vote_void": staff_page(get={200, 409}),  # 409: the result is already posted
    "staff.audit_log": staff_page(),
    "staff.nonvoters": staff_page(),
    "staff.nonvoters_pdf": staff_page(),
    "staff.nonvoters_xlsx": staff_page(),
    "staff.postings": staff_page(),
    "staff.messages": staff_page(),
    "staff.messages_csv": staff_page(),
    "staff.messages_send": staff_page(),
    "staff.messages_reminder": staff_page(),
    "staff.messages_mark_sent": staff_page(),
    "staff.posting_photo": staff_page(),
    "staff.confirmation_pdf": staff_page(get={200, 409}),  # 409 until the result is confirmed
    "staff.filing_zip": staff_page(get={200, 409}),
    "staff.mark_filed": staff_page(),
    "staff.filing_submit": staff_page(),
    # district and city (issue 16)
    "district.home": {**district_page(302), DISTRICT_B: 302},  # to the user's own district
    "district.overview": district_page(),
    "district.overview_xlsx": district_page(),
    "district.targets": city_page(get=405),  # city and admin set the campaign dates
    "district.inbox_item": district_page(),
    "district.inbox_package": district_page(),
    "district.inbox_file": district_page(),
    "district.inbox_accept": district_decision(get=405),
    "district.inbox_return": district_decision(get=405),
    "district.city": city_page(),
    "district.city_xlsx": city_page(),
    # account: the signed-in user's own password (POST with only a CSRF token: 422)
    "account.password": {
        **committee_own(get={200, 422}),
        **dict.fromkeys((DISTRICT_A, DISTRICT_B, CITY), {200, 422}),
    },
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


# URL parameter -> value from the world (a callable: the rule's defaults may matter).


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


def _client_for(app, visitor: str, world: TwoCommunities):
    client = app.test_client()
    if visitor != ANON:
        name = {ADMIN: "boss", STAFF_A: "staff_a", STAFF_B: "staff_b"}.get(visitor, visitor)
        assert login(client, name, PASSWORD).status_code == 303
    return client


@pytest.mark.parametrize("visitor", VISITORS)
def test_route_walk(app, visitor):
    world = district_world(app)
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
    world = two_communities(app)
    client = _client_for(app, STAFF_B, world)
    for proposal_id in (world.closed_id, world.open_id, 999_999):
        for suffix in ("", "/paper", "/edit"):
            assert client.get(f"/staff/proposals/{proposal_id}{suffix}").status_code == 404
    assert client.get("/staff/c/nowhere").status_code == 404


def test_a_post_without_csrf_token_is_refused_everywhere(app):
    """Every POST rule refuses a form without CSRF token (400) or sends to /login first;
    never 2xx/3xx-success, never 500."""
    world = two_communities(app)
    client = _client_for(app, ADMIN, world)
    for rule in rules(app):
        if "POST" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        response = client.post(url_for_rule(rule, world), data={})
        assert response.status_code == 400, (rule.endpoint, response.status_code)
