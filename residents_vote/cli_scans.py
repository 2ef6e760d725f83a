"""`scans read`: returned paper ballots read from scans (CONTRACT.md "Paper ballot scans")."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask

from .cli import Group, guarded, store
from .services import scans

scans_cli = Group("scans", help="Returned paper ballots read from scans.")


@scans_cli.command("read")
@click.argument("proposal_id", type=int)
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--json", "as_array", is_flag=True, help="One JSON array instead of one line per page."
)
@guarded
def scans_read(proposal_id, files, as_array):
    """Read scanned ballots of a proposal (PDF or JPEG/PNG) without recording anything."""
    blobs = [(name, Path(name).read_bytes()) for name in files]
    pages = scans.read_scans(store(), proposal_id, blobs)
    if as_array:
        click.echo(json.dumps(pages, ensure_ascii=False))
    else:
        for page in pages:
            click.echo(json.dumps(page, ensure_ascii=False))


def register(app: Flask) -> None:
    app.cli.add_command(scans_cli)
