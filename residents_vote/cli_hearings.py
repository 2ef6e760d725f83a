"""Commands of the hearing route (CONTRACT.md "Hearing route")."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .cli import Group, guarded, store
from .services import hearings

hearing_cli = Group("hearing", help="The hearing route: attendance and outcome.")


@hearing_cli.command("attend")
@click.argument("proposal_id", type=int)
@click.argument("households", nargs=-1, required=True)
@click.option("--proxy-name", default="")
@click.option("--by", "username", required=True)
@guarded
def hearing_attend(proposal_id, households, proxy_name, username):
    """Record households present at the hearing (each household once)."""
    count = hearings.attend(
        store(), proposal_id, list(households), proxy_name=proxy_name, username=username
    )
    click.echo(f"recorded {count} household(s) present")


@hearing_cli.command("conclude")
@click.argument("proposal_id", type=int)
@click.option("--outcome", required=True)
@click.option("--minutes", "minutes_path", required=True)
@click.option("--summary", default="")
@click.option("--by", "username", required=True)
@guarded
def hearing_conclude(proposal_id, outcome, minutes_path, summary, username):
    """After the hearing: store the minutes, publish the hearing result and start the
    objection period."""
    path = Path(minutes_path)
    data = path.read_bytes()
    done = hearings.conclude_hearing(
        store(),
        proposal_id,
        outcome=outcome,
        minutes=(path.name, data),
        summary=summary,
        username=username,
    )
    click.echo(
        f"concluded hearing {done.proposal_id} ({done.outcome}): {done.households} of "
        f"{done.total_households} households present; result revision {done.revision} "
        f"published; objections until {done.objections_until_text}"
    )
    if done.few:
        click.echo("warning: fewer than half the households attended", err=True)


@hearing_cli.command("sheet")
@click.argument("proposal_id", type=int)
@click.option("--pdf", "pdf_path", required=True)
@guarded
def hearing_sheet(proposal_id, pdf_path):
    """Write the sign-in sheet PDF (one row per household of the electorate)."""
    Path(pdf_path).write_bytes(hearings.sign_in_sheet_pdf(store(), proposal_id))
    click.echo(f"wrote {pdf_path}")


def register(app: Flask) -> None:
    app.cli.add_command(hearing_cli)
