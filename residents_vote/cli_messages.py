"""Commands for text messages (CONTRACT.md "Text messages"): `ballots send`,
`messages send [--once]`, `messages list ID [--json]`."""

from __future__ import annotations

import json
import time

import click
from flask import Flask

from . import extensions
from .cli import Group, fail, guarded, store
from .cli_votes import ballots_cli
from .messages import backends, links, outbox

messages_cli = Group("messages", help="Text messages: the outbox and its worker.")

POLL_SECONDS = 5


@ballots_cli.command("send")
@click.argument("proposal_id", type=int)
@click.option("--unvoted", is_flag=True, help="Only households that have not voted.")
@click.option("--households", default="", help="Only these household codes (comma-separated).")
@click.option("--force", is_flag=True, help="Send again within 24 hours.")
@guarded
def ballots_send(proposal_id, unvoted, households, force):
    """Queue a ballot-link message to every household with a registered phone."""
    codes = [c.strip() for c in households.split(",") if c.strip()] or None
    report = links.send_links(
        store(), proposal_id, unvoted=unvoted, codes=codes, force=force, actor="cli",
        now=extensions.now(),
    )
    click.echo(report.line())
    if report.recent:
        click.echo(
            f"skipped {len(report.recent)} sent within 24 hours (--force to send again)",
            err=True,
        )
    if report.unsealed:
        click.echo(
            f"skipped {len(report.unsealed)} whose ballot link is not known (issued before "
            f"links were kept): reissue them: {', '.join(report.unsealed[:20])}",
            err=True,
        )


@messages_cli.command("send")
@click.option("--once", is_flag=True, help="Drain the queue and exit.")
@guarded
def messages_send(once):
    """Deliver queued messages through SMS_BACKEND (a worker)."""
    units = store()
    try:
        backend = backends.for_settings(units.settings)
    except backends.ConfigError as exc:
        fail(str(exc))
    if backend is None:
        fail("SMS_BACKEND is outbox: staff send the queued messages by hand "
             "(staff page of the proposal, Messages)")
    while True:
        now = extensions.now()
        links.queue_due_reminders(units, now=now)
        report = outbox.send_due(units, backend, now=now)
        if once:
            click.echo(report.line())
            return
        time.sleep(POLL_SECONDS)


@messages_cli.command("list")
@click.argument("proposal_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@guarded
def messages_list(proposal_id, as_json):
    """One entry per message: household, masked phone, kind, status, tries, error."""
    rows = outbox.list_messages(store(), proposal_id)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        line = f"{r.household}\t{r.phone}\t{r.kind}\t{r.status}\t{r.tries}"
        click.echo(f"{line}\t{r.error}" if r.error else line)


def register(app: Flask) -> None:
    app.cli.add_command(messages_cli)
