"""Command line (CONTRACT.md "Command line").

Every command prints its result on stdout and exits 0, or prints one line per problem
on stderr and exits 1 having written nothing: each command runs in one transaction.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .extensions import database
from .services import audit, communities, households, users
from .services.errors import Problems, ServiceError


class Command(click.Command):
    """Bad usage is bad input: exit 1, not click's 2 (CONTRACT.md)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = 1
            raise


class Group(AppGroup):
    command_class = Command


def fail(*lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


def guarded(fn: Callable) -> Callable:
    """Turn service refusals into stderr lines and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Problems as exc:
            fail(*exc.problems)
        except ServiceError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except Exception as exc:  # noqa: BLE001 - a command never shows a traceback
            current_app.logger.debug("command failed", exc_info=True)
            fail(f"error: {type(exc).__name__}: {exc}")

    return wrapper


def store():
    """The unit of work of this app: use cases open and commit their own transactions."""
    return database().store


def write():
    """Legacy (commands not yet converted to use cases): a write transaction committed
    when the block succeeds. New commands call a use case with `store()`."""
    return store().write()


def read():
    """Legacy: a read-only session; new commands use `with store().read() as s:`."""
    return store().read()


db_cli = Group("db", help="Database migrations.")
community_cli = Group("community", help="Communities.")
user_cli = Group("user", help="User accounts.")
households_cli = Group("households", help="The household register.")
audit_cli = Group("audit", help="The audit log.")


def alembic_config(app: Flask):
    from alembic.config import Config

    root = Path(app.root_path).parent
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade_database(app: Flask) -> None:
    from alembic import command

    command.upgrade(alembic_config(app), "head")


@db_cli.command("upgrade")
@guarded
def db_upgrade() -> None:
    """Apply all Alembic migrations."""
    upgrade_database(current_app)
    click.echo("database is at the latest revision")


@community_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--signatory", default="owner-committee")
@click.option("--signing-members", type=int)
@click.option("--signoff-required", type=int)
@click.option("--office", default="", help="Where paper ballots are handed in.")
@click.option("--contact", default="")
@click.option("--district", default=None, help="The district (城区) it belongs to.")
@guarded
def community_create(
    slug, name, signatory, signing_members, signoff_required, office, contact, district
):
    """Create a community."""
    c = communities.add_community(
        store(),
        slug,
        name,
        signatory=signatory,
        signing_members=signing_members,
        signoff_required=signoff_required,
        office=office,
        contact=contact,
        district=district,
    )
    click.echo(f"created community {c.slug} ({c.name})")


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--community", "slugs", multiple=True)
@click.option("--full-name", default="")
@click.option("--district", default=None, help="Role district: the district it follows.")
@guarded
def user_create(username, role, slugs, full_name, district):
    """Create a user; the password is read from stdin (one line) or prompted."""
    if sys.stdin is not None and sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = (sys.stdin.readline() if sys.stdin else "").rstrip("\r\n")
    user = users.register_user(
        store(), username, password, role, list(slugs), full_name=full_name, district=district
    )
    click.echo(f"created {user.role} {user.username}")


@households_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True)
@click.option("--remove-missing", is_flag=True)
@guarded
def households_import(slug, file, dry_run, remove_missing):
    """Import a register file (CSV or XLSX), all or nothing."""
    path = Path(file)
    households.check_file_size(path.stat().st_size)  # before reading it into memory
    data = path.read_bytes()
    report = households.import_register(
        store(), slug, file, data, dry_run=dry_run, remove_missing=remove_missing
    )
    click.echo(report.line())


@households_cli.command("export")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False))
@guarded
def households_export(slug, file):
    """Export the register as CSV (UTF-8 with BOM) or XLSX, by suffix."""
    # Written inside the transaction: a file that cannot be written is not audited.
    households.export_register(store(), slug, file, save=Path(file).write_bytes)
    click.echo(f"wrote {file}")


@audit_cli.command("verify")
@guarded
def audit_verify():
    """Check the hash chains, every vote against its event, every result by a recount."""
    with store().read() as s:
        result = audit.verify(s)
    if not result.ok:
        fail(result.problem)
    click.echo(
        f"audit log intact: {result.events} events; {result.votes} votes match their "
        f"audit events; {result.results} published results match a recount"
    )


@audit_cli.command("head")
@click.argument("slug")
@guarded
def audit_head(slug):
    """Print the community chain's last entry: SEQ HASH."""
    with store().read() as s:
        community = communities.get_by_slug(s, slug)
        seq, digest = audit.head(s, community.id)
    click.echo(f"{seq} {digest}")


def register_cli(app: Flask) -> None:
    from .demo import demo_command

    for group in (db_cli, community_cli, user_cli, households_cli, audit_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    from . import cli_admin, cli_hearings, cli_messages, cli_scans, cli_votes

    cli_votes.register(app)
    cli_hearings.register(app)
    cli_messages.register(app)
    cli_admin.register(app)
    cli_scans.register(app)
