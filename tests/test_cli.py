"""Command line (CONTRACT.md "Command line"): exit codes, stdout/stderr, nothing written.

`households import/export` live in test_import.py, `audit verify` in test_audit.py.
"""

from __future__ import annotations

from sqlalchemy import select

from residents_vote.models import AuditEvent, Community, Household, User
from residents_vote.services import users
from tests.helpers import PASSWORD, count, login, read, refused, snapshot

# --- community create ------------------------------------------------------------------


def test_community_create(runner, app):
    result = runner.invoke(args=["community", "create", "hx", "--name", "幸福里"])
    assert result.exit_code == 0, result.output
    assert "hx" in result.stdout
    assert result.stderr == ""
    with read(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "hx"))
        assert c.name == "幸福里"
        assert c.signatory == "owner-committee"
        assert c.signing_members is None and c.signoff_required is None


def test_community_create_with_options(runner, app):
    result = runner.invoke(
        args=[
            "community", "create", "ng", "--name", "南岗",
            "--signatory", "neighborhood-committee",
            "--signing-members", "5", "--signoff-required", "3",
        ]
    )
    assert result.exit_code == 0, result.output
    with read(app) as s:
        c = s.scalar(select(Community).where(Community.slug == "ng"))
        assert (c.signatory, c.signing_members, c.signoff_required) == (
            "neighborhood-committee", 5, 3,
        )


def test_community_create_duplicate_exits_1(runner, app):
    assert runner.invoke(args=["community", "create", "hx", "--name", "A"]).exit_code == 0
    before = snapshot(app)
    result = runner.invoke(args=["community", "create", "hx", "--name", "B"])
    refused(result, "hx")
    assert snapshot(app) == before
    with read(app) as s:
        assert s.scalar(select(Community.name).where(Community.slug == "hx")) == "A"


def test_community_create_bad_input_exits_1(runner, app):
    for args in (
        ["community", "create", "Bad Slug", "--name", "X"],
        ["community", "create", "ok", "--name", "X", "--signatory", "mayor"],
        ["community", "create", "ok", "--name", "X", "--signing-members", "2",
         "--signoff-required", "3"],
        ["community", "create", "ok"],  # --name missing: a usage error is exit 1 too
    ):
        refused(runner.invoke(args=args))
    assert count(app, Community) == 0
    assert count(app, AuditEvent) == 0


# --- user create -------------------------------------------------------------------------


def test_user_create_reads_password_from_stdin(runner, app):
    assert runner.invoke(args=["community", "create", "hx", "--name", "A"]).exit_code == 0
    result = runner.invoke(
        args=["user", "create", "wang", "--role", "staff", "--community", "hx"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "wang" in result.stdout
    with read(app) as s:
        user = s.scalar(select(User).where(User.username == "wang"))
        assert user.role == "staff" and user.active
        assert [c.slug for c in user.communities] == ["hx"]
        assert users.check_password(user, PASSWORD)
        assert not users.check_password(user, PASSWORD + "\n")
        assert PASSWORD not in user.password_hash


def test_user_create_several_communities_and_admin(runner, app):
    for slug in ("a", "b"):
        assert runner.invoke(args=["community", "create", slug, "--name", slug]).exit_code == 0
    r = runner.invoke(
        args=["user", "create", "li", "--role", "committee", "--community", "a",
              "--community", "b"],
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["user", "create", "root", "--role", "admin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    with read(app) as s:
        li = s.scalar(select(User).where(User.username == "li"))
        assert sorted(c.slug for c in li.communities) == ["a", "b"]
        assert s.scalar(select(User.role).where(User.username == "root")) == "admin"


def test_user_create_unknown_community_writes_nothing(runner, app):
    assert runner.invoke(args=["community", "create", "hx", "--name", "A"]).exit_code == 0
    before = snapshot(app)
    result = runner.invoke(
        args=["user", "create", "wang", "--role", "staff", "--community", "hx",
              "--community", "nowhere"],
        input=PASSWORD + "\n",
    )
    refused(result, "nowhere")
    assert snapshot(app) == before
    assert count(app, User) == 0


def test_user_create_bad_input_exits_1(runner, app):
    assert runner.invoke(args=["user", "create", "u1", "--role", "admin"],
                         input=PASSWORD + "\n").exit_code == 0
    before = snapshot(app)
    cases = [
        (["user", "create", "u1", "--role", "admin"], PASSWORD),  # duplicate
        (["user", "create", "u2", "--role", "mayor"], PASSWORD),  # unknown role
        (["user", "create", "u3", "--role", "staff"], "short"),  # password < 10
        (["user", "create", "u4"], PASSWORD),  # --role missing
    ]
    for args, password in cases:
        refused(runner.invoke(args=args, input=password + "\n"))
    assert snapshot(app) == before


# --- demo ----------------------------------------------------------------------------------


def test_demo_prints_logins_and_is_idempotent(runner, app):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for username in ("admin", "staff", "committee1", "committee2"):
        assert f"login: {username} / " in first.stdout
    with read(app) as s:
        demo = s.scalar(select(Community).where(Community.slug == "demo"))
        staff = s.scalar(select(User).where(User.username == "staff"))
    assert demo is not None
    assert count(app, Household, Household.community_id == demo.id) == 403
    assert users.check_password(staff, "demo-staff-pass")
    before = snapshot(app)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "login: staff / demo-staff-pass" in second.stdout
    after = snapshot(app)
    # "Idempotent-ish": no second community, user or household (a rerun may reissue the
    # printed ballot link, which is audited, so the audit count may grow).
    for key in ("communities", "users", "households"):
        assert after[key] == before[key], key


def test_demo_logins_work(runner, app, client):
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert login(client, "staff", "demo-staff-pass").status_code == 303
    assert client.get("/staff/c/demo").status_code == 200


def test_every_command_group_has_help(runner):
    for group in ("db", "community", "user", "households", "audit"):
        result = runner.invoke(args=[group, "--help"])
        assert result.exit_code == 0, (group, result.output)
        assert "Usage" in result.stdout
