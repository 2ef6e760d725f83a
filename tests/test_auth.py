"""Login, CSRF, `next`, and who sees what (CONTRACT.md "Staff and committee pages")."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from residents_vote.models import AuditEvent, Household, User
from residents_vote.services import users
from tests.helpers import (
    PASSWORD,
    count,
    csrf_token,
    form_fields,
    login,
    make_community,
    make_user,
    read,
    sample,
    snapshot,
    write,
)


@pytest.fixture
def two_communities(app):
    make_community(app, "a", "甲小区")
    make_community(app, "b", "乙小区")
    return "a", "b"


def location_path(response) -> str:
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path


def logged_in(client) -> bool:
    """True when /staff/ or /committee/ is served rather than sending us to /login."""
    for path in ("/staff/", "/committee/"):
        response = client.get(path)
        if response.status_code == 200:
            return True
        assert response.status_code in (302, 404), response.status_code
        if response.status_code == 302:
            assert location_path(response) == "/login"
    return False


# --- the login form --------------------------------------------------------------------


def test_login_form_has_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    fields = form_fields(response.get_data(as_text=True))
    assert fields.get("csrf_token")
    assert response.headers["Cache-Control"] == "no-store"


def test_login_without_csrf_is_400(client, app):
    make_user(app, "wang", "admin")
    client.get("/login")
    response = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 400
    response = client.post(
        "/login", data={"csrf_token": "forged", "username": "wang", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert not logged_in(client)


def test_wrong_password_200_with_error(client, app):
    make_user(app, "wang", "admin")
    for username, password in (("wang", "wrong password"), ("nobody", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'role="alert"' in page
        assert csrf_token(page)  # the form is shown again
    assert not logged_in(client)


def test_failed_login_is_audited(client, app):
    make_user(app, "wang", "admin")
    before = count(app, AuditEvent)
    login(client, "wang", "wrong password")
    with read(app) as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert count(app, AuditEvent) == before + 1
    assert last.action == "login.failed"
    assert "wrong password" not in last.data + last.subject + last.actor


def test_deactivated_user_cannot_log_in(client, app):
    make_user(app, "wang", "admin", active=False)
    response = login(client, "wang")
    assert response.status_code == 200
    assert 'role="alert"' in response.get_data(as_text=True)
    assert not logged_in(client)


def test_right_password_303_and_new_session(client, app):
    make_user(app, "wang", "admin")
    client.get("/login")
    before = client.get_cookie("session")
    assert before is not None  # the CSRF token already lives in the session
    response = login(client, "wang")
    assert response.status_code == 303
    assert location_path(response) == "/"
    after = client.get_cookie("session")
    assert after is not None and after.value != before.value
    assert logged_in(client)


def test_logout(client, app):
    make_user(app, "wang", "admin")
    assert login(client, "wang").status_code == 303
    page = client.get("/staff/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(page, "/logout")})
    assert response.status_code == 303
    assert not logged_in(client)


def test_deactivated_user_loses_an_open_session(client, app):
    uid = make_user(app, "wang", "admin")
    assert login(client, "wang").status_code == 303
    assert logged_in(client)
    with write(app) as s:
        users.set_active(s, s.get(User, uid), False, actor="test")
    assert not logged_in(client)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/staff/c/a", "/staff/c/a"),
        ("//evil.com", "/"),
        ("//evil.com/staff/", "/"),
        ("https://evil.com", "/"),
        ("https://evil.com/staff/", "/"),
        ("/\\evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("staff/c/a", "/"),
    ],
)
def test_next_only_to_same_site_paths(client, app, two_communities, target, expected):
    make_user(app, "wang", "admin")
    response = login(client, "wang", next_url=target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil" not in location
    assert location_path(response) == expected


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/staff/", "/staff/c/a", "/admin/users", "/committee/"])
def test_anonymous_is_sent_to_login(client, two_communities, path):
    response = client.get(path)
    assert response.status_code == 302
    assert location_path(response) == "/login"
    next_param = parse_qs(urlsplit(response.headers["Location"]).query).get("next")
    assert next_param == [path]


def test_staff_sees_only_their_communities(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    assert client.get("/staff/c/a").status_code == 200
    assert client.get("/staff/c/b").status_code == 404
    assert client.get("/staff/c/nowhere").status_code == 404
    assert client.get("/staff/c/b/export.csv").status_code == 404
    home = client.get("/staff/").get_data(as_text=True)
    assert "甲小区" in home and "乙小区" not in home
    assert client.get("/admin/users").status_code == 404


def test_staff_cannot_import_into_another_community(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/c/a/import")
    response = client.post(
        "/staff/c/b/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"building,room,area\n1,101,50\n"),
                                            "r.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_committee_user_gets_404_on_staff_pages(client, app, two_communities):
    make_user(app, "li", "committee", ["a"])
    assert login(client, "li").status_code == 303
    assert client.get("/staff/").status_code == 404
    assert client.get("/staff/c/a").status_code == 404
    assert client.get("/admin/users").status_code == 404
    assert client.get("/committee/").status_code == 200


def test_admin_sees_every_community(client, app, two_communities):
    make_user(app, "root", "admin")
    assert login(client, "root").status_code == 303
    assert client.get("/staff/c/a").status_code == 200
    assert client.get("/staff/c/b").status_code == 200
    home = client.get("/staff/").get_data(as_text=True)
    assert "甲小区" in home and "乙小区" in home
    assert client.get("/admin/users").status_code == 200


# --- staff web import ---------------------------------------------------------------------------


def upload(client, slug: str, path, filename: str | None = None):
    page = client.get(f"/staff/c/{slug}").get_data(as_text=True)
    token = csrf_token(page, f"/c/{slug}/import")
    return client.post(
        f"/staff/c/{slug}/import?lang=en",
        data={"csrf_token": token, "file": (io.BytesIO(path.read_bytes()),
                                            filename or path.name)},
        content_type="multipart/form-data",
    )


def test_staff_web_import_preview_then_confirm(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    before = snapshot(app)
    preview = upload(client, "a", sample("register-403-gbk.csv"), "upload.csv")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "has 403 households" in page
    assert "add 403" in page
    assert snapshot(app) == before  # nothing written yet
    fields = form_fields(page, "/c/a/import/confirm")
    assert fields.get("csrf_token") and fields.get("payload") and fields.get("digest")
    confirm = client.post("/staff/c/a/import/confirm", data=fields)
    assert confirm.status_code == 303
    assert location_path(confirm) == "/staff/c/a"
    assert count(app, Household) == 403
    with read(app) as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.action, last.actor) == ("households.import", "wang")
    assert "<dd>403</dd>" in client.get("/staff/c/a").get_data(as_text=True)


def test_staff_web_import_confirm_rejects_a_tampered_payload(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    page = upload(client, "a", sample("register-403-utf8.csv")).get_data(as_text=True)
    fields = form_fields(page, "/c/a/import/confirm")
    fields["payload"] = fields["payload"][:-8] + "AAAAAAA="
    before = snapshot(app)
    response = client.post("/staff/c/a/import/confirm", data=fields)
    assert response.status_code == 303
    assert snapshot(app) == before


def test_staff_web_import_bad_rows_is_422(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    before = snapshot(app)
    response = upload(client, "a", sample("register-bad-rows.csv"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for row in range(3, 10):
        assert f"row {row}, column " in page
    assert "row 2, column" not in page
    assert "/import/confirm" not in page  # no way to confirm a bad file
    assert snapshot(app) == before


def test_staff_web_import_refuses_other_file_types(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    response = upload(client, "a", sample("register-403-utf8.csv"), "register.txt")
    assert response.status_code == 422
    assert count(app, Household) == 0


# --- admin ----------------------------------------------------------------------------------------


def test_admin_creates_a_user(client, app, two_communities):
    make_user(app, "root", "admin")
    assert login(client, "root").status_code == 303
    page = client.get("/admin/users").get_data(as_text=True)
    token = csrf_token(page, "/logout")  # one token per session
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "zhao",
            "full_name": "赵",
            "password": "a new password",
            "role": "staff",
            "communities": ["b"],
        },
    )
    assert response.status_code == 303
    with read(app) as s:
        user = s.scalar(select(User).where(User.username == "zhao"))
        assert user is not None
        assert (user.role, [c.slug for c in user.communities]) == ("staff", ["b"])
    # The new account works and is scoped to its community.
    client.post("/logout", data={"csrf_token": token})
    assert login(client, "zhao", "a new password").status_code == 303
    assert client.get("/staff/c/b").status_code == 200
    assert client.get("/staff/c/a").status_code == 404


def test_admin_user_form_refuses_bad_input(client, app, two_communities):
    make_user(app, "root", "admin")
    assert login(client, "root").status_code == 303
    token = csrf_token(client.get("/admin/users").get_data(as_text=True), "/logout")
    before = snapshot(app)
    for data in (
        {"username": "x1", "password": "short", "role": "staff"},
        {"username": "root", "password": "long enough pw", "role": "staff"},
        {"username": "x2", "password": "long enough pw", "role": "mayor"},
    ):
        response = client.post("/admin/users", data={"csrf_token": token, **data})
        assert response.status_code == 422, data
    assert snapshot(app) == before


def test_only_admins_may_create_users(client, app, two_communities):
    make_user(app, "wang", "staff", ["a"])
    assert login(client, "wang").status_code == 303
    token = csrf_token(client.get("/staff/c/a").get_data(as_text=True), "/c/a/import")
    response = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "evil", "password": "long enough pw",
              "role": "admin"},
    )
    assert response.status_code == 404
    assert count(app, User) == 1
