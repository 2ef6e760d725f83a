"""Operational commands: backup, privacy purge, filing."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .cli import Command, Group, guarded, store
from .services import backup, communities, districts, filing, inbox, privacy, proposals, signoff

privacy_cli = Group("privacy", help="Personal data (PIPL).")
filing_cli = Group("filing", help="Sign-off state and the filing package (备案).")
district_cli = Group("district", help="Districts (城区) and their campaign dates.")


@click.command("backup", cls=Command)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
@guarded
def backup_command(file, overwrite):
    """Copy the live SQLite database to FILE, consistently (online backup API)."""
    source = backup.sqlite_file(current_app.config["DATABASE_URL"])
    report = backup.backup_sqlite(source, Path(file), overwrite=overwrite)
    counts = ", ".join(f"{name} {n}" for name, n in report.tables.items())
    click.echo(
        f"backed up {report.source} to {report.target}: {report.size} bytes, "
        f"integrity {report.integrity}, sha256 {report.sha256}"
    )
    click.echo(f"rows: {counts}")


@privacy_cli.command("purge")
@click.argument("slug")
@guarded
def privacy_purge(slug):
    """Remove owner names, phones and evidence files once the challenge period is over."""
    report = privacy.purge_personal_data(store(), slug, actor="cli")
    click.echo(report.line(slug))


@privacy_cli.command("status")
@click.argument("slug")
@guarded
def privacy_status(slug):
    """Say whether (or from when) the community's personal data can be purged."""
    with store().read() as s:
        community = communities.get_by_slug(s, slug)
        ready = privacy.readiness(s, community)
        purged = community.personal_data_purged_at
    if purged:
        click.echo(f"last purged {purged.isoformat()}")
    if ready.ok:
        click.echo(f"personal data of {slug} can be purged now")
    else:
        for line in ready.problems:
            click.echo(line)


@filing_cli.command("status")
@click.argument("proposal_id", type=int)
@guarded
def filing_status(proposal_id):
    """Print the sign-off state of a proposal."""
    with store().read() as s:
        proposal = proposals.get(s, proposal_id)
        state = signoff.status(s, proposal)
        click.echo(
            f"proposal {proposal.id}: {proposal.status}; {state.count} of {state.members} "
            f"signed, {state.required} required"
        )
        for sig, user in state.signed:
            click.echo(f"signed {user.username} ({sig.role}) {sig.signed_at.isoformat()}")
        for sig, user in state.declined:
            click.echo(f"declined {user.username}: {sig.reason}")


@filing_cli.command("package")
@click.argument("proposal_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False))
@guarded
def filing_package(proposal_id, file):
    """Write the filing ZIP of a confirmed proposal."""
    with store().read() as s:
        proposal = proposals.get(s, proposal_id)
        package = filing.package(s, proposal)
    Path(file).write_bytes(package.data)
    click.echo(f"wrote {file}: {len(package.manifest['files']) + 1} files")


@filing_cli.command("mark-filed")
@click.argument("proposal_id", type=int)
@click.option("--note", default="", help="The district office's reference, if any.")
@guarded
def filing_mark(proposal_id, note):
    """Record that the package was handed to the district office (status filed)."""
    filing.file_proposal(store(), proposal_id, actor="cli", note=note)
    click.echo(f"proposal {proposal_id} is filed")


@filing_cli.command("submit")
@click.argument("proposal_id", type=int)
@click.option("--by", "by", required=True, help="The staff user who submits.")
@guarded
def filing_submit(proposal_id, by):
    """Send a confirmed proposal's filing package to its district's inbox."""
    done = inbox.submit_filing(store(), proposal_id, by=by)
    click.echo(
        f"proposal {done.proposal_id} submitted to district {done.district} "
        f"(inbox item {done.item_id})"
    )


@filing_cli.command("accept")
@click.argument("proposal_id", type=int)
@click.option("--by", "by", required=True, help="The district user who accepts.")
@guarded
def filing_accept(proposal_id, by):
    """Accept the waiting filing: the proposal is filed."""
    done = inbox.accept_filing(store(), proposal_id, by=by)
    click.echo(f"proposal {done.proposal_id} is filed (inbox item {done.item_id} accepted)")


@filing_cli.command("return")
@click.argument("proposal_id", type=int)
@click.option("--reason", required=True)
@click.option("--by", "by", required=True, help="The district user who returns it.")
@guarded
def filing_return(proposal_id, reason, by):
    """Return the waiting filing to staff with a reason: the proposal is confirmed again."""
    done = inbox.return_filing(store(), proposal_id, reason=reason, by=by)
    click.echo(
        f"proposal {done.proposal_id} returned (inbox item {done.item_id}); "
        f"status {done.status}"
    )


@district_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@guarded
def district_create(slug, name):
    """Create a district."""
    d = districts.add_district(store(), slug, name)
    click.echo(f"created district {d.slug} ({d.name})")


@district_cli.command("targets")
@click.argument("slug")
@click.option("--application", help="Applications confirmed by (YYYY-MM-DD; '' clears).")
@click.option("--design", help="Design plans confirmed by (YYYY-MM-DD; '' clears).")
@guarded
def district_targets(slug, application, design):
    """Set the campaign's target dates (a date not given stays as it is)."""
    t = districts.change_targets(
        store(), slug, application=application, design=design, actor="cli"
    )
    click.echo(f"district {slug}: applications by {t.application}, design plans by {t.design}")


def register(app: Flask) -> None:
    """Attach the operational commands."""
    app.cli.add_command(district_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(filing_cli)
