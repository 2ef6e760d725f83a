"""The admin pages after their writes became use cases (issue 13, slice C): every button
still does what it did, refusals still flash and go back, and nothing is half-written."""

from __future__ import annotations

from sqlalchemy import select

from residents_vote.models import AuditEvent, Community, User
from tests.helpers import PASSWORD, count, csrf_token, login, make_community, make_user, read


def _admin(app):
    make_user(app, "root", "admin")
    client = app.test_client()
    client.set_cookie("lang", "en")
    assert login(client, "root").status_code == 303
    token = csrf_token(client.get("/admin/users").get_data(as_text=True), "/logout")
    return client, token


def test_admin_creates_a_community_and_a_duplicate_is_flashed_back(app):
    client, token = _admin(app)
    data = {"csrf_token": token, "slug": "north", "name": "北苑", "signatory": "owner-committee"}
    response = client.post("/admin/communities", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/users")
    assert "Community created." in client.get("/admin/users").get_data(as_text=True)
    again = client.post("/admin/communities", data=data, follow_redirects=True)
    assert "Community north already exists" in again.get_data(as_text=True)
    assert count(app, Community) == 1


def test_admin_creates_a_user_with_communities(app):
    make_community(app, "a", "甲小区")
    client, token = _admin(app)
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "liwei",
            "password": PASSWORD,
            "role": "staff",
            "communities": ["a"],
        },
    )
    assert response.status_code == 303
    with read(app) as s:
        user = s.scalar(select(User).where(User.username == "liwei"))
        assert [c.slug for c in user.communities] == ["a"]
    duplicate = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "liwei", "password": PASSWORD, "role": "staff"},
    )
    assert duplicate.status_code == 422
    assert "User liwei already exists" in duplicate.get_data(as_text=True)


def test_assign_deactivate_activate_and_refusals(app):
    make_community(app, "a", "甲小区")
    make_community(app, "b", "乙小区")
    uid = make_user(app, "zhao", "staff", ["a"])
    client, token = _admin(app)
    url = f"/admin/users/{uid}"
    r = client.post(url, data={"csrf_token": token, "op": "assign", "communities": ["a", "b"]})
    assert r.status_code == 303
    with read(app) as s:
        assert sorted(c.slug for c in s.get(User, uid).communities) == ["a", "b"]
    assert client.post(url, data={"csrf_token": token, "op": "deactivate"}).status_code == 303
    with read(app) as s:
        assert s.get(User, uid).active is False
    assert client.post(url, data={"csrf_token": token, "op": "activate"}).status_code == 303
    with read(app) as s:
        assert s.get(User, uid).active is True
    # An unknown community is refused as a whole: flashed, nothing changed.
    events = count(app, AuditEvent)
    refused = client.post(
        url, data={"csrf_token": token, "op": "assign", "communities": ["a", "nowhere"]},
        follow_redirects=True,
    )
    assert "Unknown community nowhere" in refused.get_data(as_text=True)
    with read(app) as s:
        assert sorted(c.slug for c in s.get(User, uid).communities) == ["a", "b"]
    assert count(app, AuditEvent) == events
    assert client.post(url, data={"csrf_token": token, "op": "explode"}).status_code == 400
    assert client.post(url, data={"op": "deactivate"}).status_code == 400
    assert client.post("/admin/users/999999", data={"csrf_token": token}).status_code == 404
