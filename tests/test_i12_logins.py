"""Issue 12 item 9: failed logins per account, password policy, sessions that really end.

CONTRACT.md "Configuration" (rate limits), `user create`, "Staff and committee pages".
The clock is injected (config CLOCK).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from residents_vote import create_app
from residents_vote.models import AuditEvent, User
from residents_vote.services import passwords, users
from residents_vote.services.errors import Invalid
from tests.factories import committee_users, final_proposal, signing_community
from tests.helpers import (
    PASSWORD,
    TEST_CONFIG,
    Clock,
    committee_post,
    count,
    csrf_token,
    make_community,
    make_user,
    read,
    write,
)

NEW_PASSWORD = "a brand new secret 42"




@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(migrated_url, clock):
    """An app with rate limits on and an injected clock."""
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE_URL": migrated_url,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "CLOCK": clock,
        }
    )
    yield app
    app.extensions["rv_db"].engine.dispose()


def login_from(client, address: str, username: str, password: str):
    env = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=env)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base=env,
    )


def signed_in(client) -> bool:
    response = client.get("/committee/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith("/login")
    return False


# --- failed logins per account ---------------------------------------------------------------


def test_eleventh_attempt_for_an_account_is_429_even_with_the_right_password(limited, clock):
    make_user(limited, "wang", "admin")
    make_user(limited, "li", "admin")
    client = limited.test_client()
    first = clock.now
    for i in range(10):
        response = login_from(client, f"10.0.0.{i + 1}", "wang", "wrong password")
        assert response.status_code == 200, i
        clock.advance(seconds=30)
    response = login_from(client, "10.0.1.1", "wang", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    # Another account from the same addresses is not locked.
    assert login_from(limited.test_client(), "10.0.0.1", "li", PASSWORD).status_code == 303
    # Fourteen minutes after the first failure: still locked.
    clock.now = first + dt.timedelta(minutes=14, seconds=50)
    assert login_from(client, "10.0.1.2", "wang", PASSWORD).status_code == 429
    # Once the 15 minutes since the first failure have passed, the right password works.
    clock.advance(seconds=11)
    assert login_from(client, "10.0.1.3", "wang", PASSWORD).status_code == 303
    assert signed_in(client)


def test_unknown_names_are_limited_too_and_leave_no_name_behind(limited):
    client = limited.test_client()
    statuses = [
        login_from(client, f"10.0.2.{i}", "nosuchuser", "wrong password").status_code
        for i in range(11)
    ]
    assert statuses == [200] * 10 + [429]  # an unknown name answers like a real account
    with read(limited) as s:
        targets = [r.target for r in s.scalars(select(_failure_model()))]
    assert targets and all("nosuchuser" not in t for t in targets)


def _failure_model():
    from residents_vote.models import AttemptFailure

    return AttemptFailure


def test_failed_login_for_an_unknown_name_leaves_no_trace_of_it_in_the_audit_log(client, app):
    make_user(app, "wang", "admin")
    typed = "zhang.wei.13800001234"
    before = count(app, AuditEvent)
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client.get("/login").get_data(as_text=True)),
            "username": typed,
            "password": "wrong password",
        },
    )
    assert response.status_code == 200
    with read(app) as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(events) == before + 1
    assert events[-1].action == "login.failed"
    for event in events:
        assert typed not in f"{event.actor} {event.subject} {event.data}"
    # An existing account's name is recorded.
    client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client.get("/login").get_data(as_text=True)),
            "username": "wang",
            "password": "wrong password",
        },
    )
    with read(app) as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.action, last.actor) == ("login.failed", "wang")


# --- the password policy ------------------------------------------------------------------------


WEAK = [
    ("short", "zhao", "short9chr"),  # 9 characters
    ("username", "zhaoming2024", "ZhaoMing2024"),
    ("common", "zhao", "1234567890"),
    ("common", "zhao", "Password123"),  # compared in lower case
    ("common", "zhao", "qwertyuiop"),
]


@pytest.mark.parametrize("why, username, password", WEAK)
def test_policy_refuses_weak_passwords(why, username, password):
    assert passwords.problem(password, username) is not None, why


def test_policy_accepts_a_good_password():
    assert passwords.problem(NEW_PASSWORD, "zhao") is None
    assert passwords.problem("ten chars!", "zhao") is None  # exactly 10


def test_common_list_ships_ten_thousand_passwords_with_its_source():
    text = passwords.COMMON_FILE.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("# ")]
    assert any("Django" in line for line in header)
    assert any("BSD" in line for line in header)
    assert len(passwords.common()) == 10_000
    assert "123456" in passwords.common()


@pytest.mark.parametrize("why, username, password", WEAK)
def test_user_create_refuses_weak_passwords(app, runner, why, username, password):
    result = runner.invoke(
        args=["user", "create", username, "--role", "admin"], input=password + "\n"
    )
    assert result.exit_code == 1, (why, result.output)
    assert len(result.stderr.strip().splitlines()) == 1
    assert count(app, User) == 0


def test_user_create_accepts_a_good_password(app, runner):
    result = runner.invoke(
        args=["user", "create", "zhao", "--role", "admin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("why, username, password", WEAK)
def test_reset_refuses_weak_passwords(app, why, username, password):
    uid = make_user(app, username, "staff")
    with pytest.raises(Invalid), write(app) as s:
        users.reset_password(s, s.get(User, uid), password, actor="test")
    with read(app) as s:
        assert users.check_password(s.get(User, uid), PASSWORD)


def admin_client(app):
    make_user(app, "root", "admin")
    client = app.test_client()
    client.set_cookie("lang", "en")
    response = login_from(client, "127.0.0.1", "root", PASSWORD)
    assert response.status_code == 303
    return client


def test_admin_pages_refuse_weak_passwords(app):
    make_community(app, "a", "甲小区")
    client = admin_client(app)
    token = csrf_token(client.get("/admin/users").get_data(as_text=True), "/logout")
    for why, username, password in WEAK:
        response = client.post(
            "/admin/users",
            data={"csrf_token": token, "username": username, "password": password,
                  "role": "staff"},
        )
        assert response.status_code == 422, why
    assert count(app, User) == 1
    uid = make_user(app, "zhaoming2024", "staff", ["a"])
    for why, _username, password in WEAK:
        response = client.post(
            f"/admin/users/{uid}",
            data={"csrf_token": token, "op": "password", "password": password},
            follow_redirects=True,
        )
        assert "at least 10 characters" in response.get_data(as_text=True) or why != "short"
    with read(app) as s:
        assert users.check_password(s.get(User, uid), PASSWORD)


def test_own_password_change_enforces_the_policy(app):
    uid = make_user(app, "wang", "staff")
    client = app.test_client()
    client.set_cookie("lang", "en")
    assert login_from(client, "127.0.0.1", "wang", PASSWORD).status_code == 303
    page = client.get("/account/password")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True), "/account/password")
    tries = ((PASSWORD, "qwertyuiop"), (PASSWORD, "wang"), ("wrong one!!", NEW_PASSWORD))
    for current, new in tries:
        response = client.post(
            "/account/password",
            data={"csrf_token": token, "current_password": current, "new_password": new},
        )
        assert response.status_code == 422
    with read(app) as s:
        assert users.check_password(s.get(User, uid), PASSWORD)


def test_demo_logins_satisfy_the_policy():
    from residents_vote.demo import LOGINS

    for username, _role, password, _name in LOGINS:
        assert passwords.problem(password, username) is None, username
    assert passwords.problem(PASSWORD, "wang") is None


# --- sessions end -----------------------------------------------------------------------------


def copied_cookie(app, username: str, slugs=()):
    """Log in on one client and return (that client, a second client with the same cookie)."""
    client = app.test_client()
    assert login_from(client, "127.0.0.1", username, PASSWORD).status_code == 303
    assert signed_in(client)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert signed_in(thief)
    return client, thief


def test_replayed_cookie_after_logout_is_sent_to_login(app):
    make_user(app, "wang", "staff")
    client, thief = copied_cookie(app, "wang")
    page = client.get("/committee/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(page, "/logout")})
    assert response.status_code == 303
    response = thief.get("/committee/")
    assert response.status_code == 302
    assert response.headers["Location"].split("?")[0].endswith("/login")


def test_replayed_cookie_after_an_admin_password_reset_is_sent_to_login(app):
    uid = make_user(app, "wang", "staff")
    _, thief = copied_cookie(app, "wang")
    with write(app) as s:
        users.reset_password(s, s.get(User, uid), NEW_PASSWORD, actor="root")
    assert not signed_in(thief)


def test_own_password_change_ends_other_sessions_but_keeps_this_one(app):
    make_user(app, "wang", "staff")
    client, thief = copied_cookie(app, "wang")
    other = app.test_client()
    assert login_from(other, "127.0.0.2", "wang", PASSWORD).status_code == 303
    token = csrf_token(client.get("/account/password").get_data(as_text=True), "/account/password")
    response = client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert signed_in(client)  # the session that changed it goes on, with a new cookie
    assert not signed_in(thief)  # the copy of its old cookie does not
    assert not signed_in(other)


def test_replayed_cookie_after_deactivation_stays_dead_after_reactivation(app):
    uid = make_user(app, "wang", "staff")
    _, thief = copied_cookie(app, "wang")
    with write(app) as s:
        users.set_active(s, s.get(User, uid), False, actor="root")
    with write(app) as s:
        users.set_active(s, s.get(User, uid), True, actor="root")
    assert not signed_in(thief)


def test_replayed_cookie_after_role_removal_is_sent_to_login(app):
    make_community(app, "a", "甲小区")
    uid = make_user(app, "wang", "staff", ["a"])
    _, thief = copied_cookie(app, "wang")
    admin = admin_client(app)
    token = csrf_token(admin.get("/admin/users").get_data(as_text=True), "/logout")
    response = admin.post(
        f"/admin/users/{uid}", data={"csrf_token": token, "op": "role", "role": "committee"}
    )
    assert response.status_code == 303
    with read(app) as s:
        assert s.get(User, uid).role == "committee"
    assert not signed_in(thief)


def test_replayed_cookie_after_community_removal_is_sent_to_login(app):
    make_community(app, "a", "甲小区")
    make_community(app, "b", "乙小区")
    uid = make_user(app, "wang", "staff", ["a", "b"])
    _, thief = copied_cookie(app, "wang")
    with write(app) as s:
        users.set_communities(s, s.get(User, uid), ["a", "b"], actor="root")  # no removal
    assert signed_in(thief)
    with write(app) as s:
        users.set_communities(s, s.get(User, uid), ["a"], actor="root")
    assert not signed_in(thief)


def test_wrong_sign_off_passwords_count_toward_the_account_limit(limited, clock):
    from residents_vote.models import Signature

    signing_community(limited)
    name = committee_users(limited, "hx", 1)[0]
    pid = final_proposal(limited)
    client = limited.test_client()
    assert login_from(client, "10.0.3.1", name, PASSWORD).status_code == 303
    for i in range(10):
        client.environ_base["REMOTE_ADDR"] = f"10.0.3.{i + 10}"
        assert committee_post(client, pid, "sign", password="wrong password").status_code == 403
    assert committee_post(client, pid, "sign", password=PASSWORD).status_code == 429
    assert count(limited, Signature) == 0
    # And a new login to that account waits as well.
    assert login_from(limited.test_client(), "10.0.4.1", name, PASSWORD).status_code == 429
    clock.advance(minutes=15, seconds=1)
    assert committee_post(client, pid, "sign", password=PASSWORD).status_code == 303
    assert count(limited, Signature) == 1
