"""`flask demo`: a demo community a newcomer can log into straight away."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .cli import store
from .demo_vote import DEMO_REGISTER, DEMO_SLUG, LOGINS, load_demo

__all__ = ["DEMO_REGISTER", "DEMO_SLUG", "LOGINS", "demo_command"]


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo community, users and an open vote; print logins and a ballot link."""
    demo = load_demo(store())
    if not demo.created:
        click.echo("demo community already exists (slug demo)")
        for username, role, password, _ in LOGINS:
            click.echo(f"login: {username} / {password} ({role})")
    for line in demo.lines:
        click.echo(line)
