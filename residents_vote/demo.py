"""`flask demo`: a demo community a newcomer can log into straight away."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from . import db as dbmod
from .extensions import database
from .models import Community
from .services import communities, households, users

DEMO_SLUG = "demo"
DEMO_REGISTER = Path(__file__).parent / "data" / "demo-register.csv"
LOGINS = (
    ("admin", "admin", "demo-admin-pass", "管理员"),
    ("staff", "staff", "demo-staff-pass", "社区工作人员 王敏"),
    ("committee1", "committee", "demo-committee-1", "业委会主任 李国强"),
    ("committee2", "committee", "demo-committee-2", "业委会委员 陈秀兰"),
)


def create_demo(session) -> list[str]:  # noqa: ANN001
    """Create the demo data; return the lines to print."""
    community = communities.create_community(
        session,
        DEMO_SLUG,
        "幸福里小区（演示）",
        signatory="owner-committee",
        signing_members=3,
        office="幸福里社区居委会（幸福路 12 号一楼），工作日 9:00–17:00",
        contact="幸福里社区居委会 0772-1234567",
        actor="demo",
    )
    rows = households.parse_file(DEMO_REGISTER.name, DEMO_REGISTER.read_bytes())
    households.import_rows(session, community, rows, actor="demo")
    lines = ["demo community: 幸福里小区（演示） (slug demo), 403 households"]
    for username, role, password, full_name in LOGINS:
        slugs = [] if role == "admin" else [DEMO_SLUG]
        users.create_user(
            session, username, password, role, slugs, full_name=full_name, actor="demo"
        )
        lines.append(f"login: {username} / {password} ({role})")
    from . import demo_vote

    lines += demo_vote.open_demo_vote(session, community)
    return lines


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo community, users and an open vote; print logins and a ballot link."""
    with dbmod.write_session(database().factory) as session:
        community = session.scalar(select(Community).where(Community.slug == DEMO_SLUG))
        if community is not None:
            from . import demo_vote

            click.echo("demo community already exists (slug demo)")
            for username, role, password, _ in LOGINS:
                click.echo(f"login: {username} / {password} ({role})")
            for line in demo_vote.fresh_link(session, community):
                click.echo(line)
            return
        lines = create_demo(session)
    for line in lines:
        click.echo(line)
