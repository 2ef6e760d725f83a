"""Commands for proposals, ballots, votes and results (CONTRACT.md "Command line")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import Flask

from .cli import Group, fail, guarded, store
from .services import printing, proposals, results, voting

proposal_cli = Group("proposal", help="Proposals and their votes.")
ballots_cli = Group("ballots", help="Printable QR ballots.")
votes_cli = Group("votes", help="Paper and proxy ballots.")


@proposal_cli.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--stage", required=True)
@click.option("--question", "questions", multiple=True)
@click.option("--rule", default="seed")
@click.option("--headcount")
@click.option("--scope", default="")
@click.option("--closes")
@click.option("--starts")
@click.option("--objection-days", type=int, default=7)
@click.option("--verify", default="none")
@click.option("--body", default="")
@click.option("--route", default="vote")
@click.option("--hearing-at")
@click.option("--place", default="")
@click.option("--agenda", default="")
@click.option("--organiser", default="")
@guarded
def proposal_create(
    slug,
    title,
    stage,
    questions,
    rule,
    headcount,
    scope,
    closes,
    starts,
    objection_days,
    verify,
    body,
    route,
    hearing_at,
    place,
    agenda,
    organiser,
):
    """Create a draft proposal (a vote, or with --route hearing a hearing); prints its id."""
    draft = proposals.Draft(
        title=title,
        stage=stage,
        questions=list(questions),
        rule=rule,
        headcount=headcount,
        scope=[b.strip() for b in scope.split(",") if b.strip()],
        starts_at=proposals.parse_time(starts),
        closes_at=proposals.parse_time(closes),
        objection_days=objection_days,
        verify=verify,
        body=body,
        route=route,
        hearing_at=proposals.parse_time(hearing_at),
        place=place,
        agenda=agenda,
        organiser=organiser,
    )
    click.echo(proposals.create_draft(store(), slug, draft, actor="cli"))


@proposal_cli.command("open")
@click.argument("proposal_id", type=int)
@click.option("--starts")
@guarded
def proposal_open(proposal_id, starts):
    """Freeze the electorate and publish the voting notice."""
    opened = proposals.open_proposal(store(), proposal_id, starts=starts, actor="cli")
    if opened.route == "hearing":
        click.echo(
            f"opened proposal {opened.proposal_id}: {opened.households} households, hearing "
            f"notice posted; hearing at {opened.closes_text}"
        )
        if opened.short_notice:
            click.echo("warning: fewer than 5 days remain before the hearing", err=True)
        return
    click.echo(
        f"opened proposal {opened.proposal_id}: {opened.households} households, voting "
        f"{opened.starts_text} to {opened.closes_text}"
    )


@proposal_cli.command("extend")
@click.argument("proposal_id", type=int)
@click.option("--closes", required=True)
@guarded
def proposal_extend(proposal_id, closes):
    """Move the closing time later while voting is open."""
    extended = proposals.extend_voting(store(), proposal_id, closes, actor="cli")
    click.echo(f"proposal {extended.proposal_id} now closes {extended.closes_text}")


@proposal_cli.command("cancel")
@click.argument("proposal_id", type=int)
@click.option("--reason", required=True)
@guarded
def proposal_cancel(proposal_id, reason):
    """End a vote that is not yet closed, without a result."""
    proposals.cancel_vote(store(), proposal_id, reason, actor="cli")
    click.echo(f"proposal {proposal_id} cancelled")


@proposal_cli.command("tally")
@click.argument("proposal_id", type=int)
@guarded
def proposal_tally(proposal_id):
    """Print the tally JSON (live while voting is open or counting)."""
    data = results.live_tally(store(), proposal_id)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@proposal_cli.command("close")
@click.argument("proposal_id", type=int)
@guarded
def proposal_close(proposal_id):
    """Publish the preliminary result (counting, or every household voted); the objection
    period runs from the day after this publication."""
    closed = results.publish_preliminary(store(), proposal_id, actor="cli")
    click.echo(
        f"closed proposal {closed.proposal_id}: result revision {closed.revision} published; "
        f"objections until {closed.objections_until_text}"
    )


@proposal_cli.command("finalize")
@click.argument("proposal_id", type=int)
@guarded
def proposal_finalize(proposal_id):
    """Publish the final result after the objection period."""
    final = results.finalize_result(store(), proposal_id, actor="cli")
    click.echo(f"proposal {final.proposal_id} is final (result revision {final.revision})")


def _stage(pdf_path, links_path, staged: list[tuple[Path, Path]]):
    """Write the PDF (and links CSV) to temporary files beside their targets, while the
    ballots' transaction is still open: a failure here issues no ballot. They are renamed
    into place only after the commit, so no PDF of dead links is ever left behind."""

    def stage(printed: printing.Printed) -> None:
        outputs = [(Path(pdf_path), printed.pdf)]
        if links_path:
            outputs.append((Path(links_path), printed.links))
        for target, data in outputs:
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            staged.append((temp, target))
            temp.write_bytes(data)

    return stage


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for temp, _target in staged:
        temp.unlink(missing_ok=True)


def _issue_files(proposal_id, pdf_path, links_path, *, mode, codes=None) -> None:
    staged: list[tuple[Path, Path]] = []
    try:
        printed = printing.issue_ballots(
            store(),
            proposal_id,
            mode=mode,
            codes=codes,
            links=bool(links_path),
            actor="cli",
            before_commit=_stage(pdf_path, links_path, staged),
        )
    except BaseException:
        _discard(staged)
        raise
    if printed is None:
        click.echo("no ballots to issue")
        return
    for temp, target in staged:
        temp.replace(target)
    click.echo(
        f"issued {printed.count} {printed.kind}: {pdf_path}"
        + (f", {links_path}" if links_path else "")
    )


@ballots_cli.command("issue")
@click.argument("proposal_id", type=int)
@click.option("--pdf", "pdf_path", required=True, type=click.Path(dir_okay=False))
@click.option("--links", "links_path", type=click.Path(dir_okay=False))
@guarded
def ballots_issue(proposal_id, pdf_path, links_path):
    """Issue a ballot to every household without a live one; write the printable PDF."""
    _issue_files(proposal_id, pdf_path, links_path, mode="new")


@ballots_cli.command("reissue")
@click.argument("proposal_id", type=int)
@click.argument("households", nargs=-1)
@click.option("--unvoted", is_flag=True)
@click.option("--pdf", "pdf_path", required=True, type=click.Path(dir_okay=False))
@click.option("--links", "links_path", type=click.Path(dir_okay=False))
@guarded
def ballots_reissue(proposal_id, households, unvoted, pdf_path, links_path):
    """Revoke live ballots of the households (or of every non-voter) and issue new ones."""
    if bool(households) == unvoted:
        fail("give household codes or --unvoted (not both)")
    if unvoted:
        _issue_files(proposal_id, pdf_path, links_path, mode="unvoted")
    else:
        _issue_files(proposal_id, pdf_path, links_path, mode="households", codes=list(households))


@votes_cli.command("record")
@click.argument("proposal_id", type=int)
@click.argument("household")
@click.option("--answers", required=True)
@click.option("--channel", required=True)
@click.option("--proxy-name", default="")
@click.option("--received", help="When the ballot was handed in (required once voting closed).")
@click.option("--by", "username", required=True)
@guarded
def votes_record(proposal_id, household, answers, channel, proxy_name, received, username):
    """Enter a paper or proxy ballot."""
    recorded = voting.record_paper_ballot(
        store(),
        proposal_id,
        household,
        answers,
        channel=channel,
        by=username,
        proxy_name=proxy_name,
        received=received,
    )
    click.echo(f"recorded {channel} ballot for {household}; receipt {recorded.receipt}")


@votes_cli.command("correct")
@click.argument("proposal_id", type=int)
@click.argument("household")
@click.option("--answers", required=True)
@click.option("--reason", required=True)
@click.option("--by", "username", required=True)
@guarded
def votes_correct(proposal_id, household, answers, reason, username):
    """Correct a data-entry error in a paper or proxy entry (before the preliminary result)."""
    corrected = voting.correct_entry(store(), proposal_id, household, answers, reason, by=username)
    given = ",".join(f"{n}={a}" for n, a in sorted(corrected.answers.items()))
    click.echo(f"corrected the {corrected.channel} entry of {corrected.household}: {given}")


@votes_cli.command("void")
@click.argument("proposal_id", type=int)
@click.argument("household")
@click.option("--reason", required=True)
@click.option("--by", "username", required=True)
@guarded
def votes_void(proposal_id, household, reason, username):
    """Void a paper or proxy entry made under the wrong household; it may vote again."""
    voided = voting.void_entry(store(), proposal_id, household, reason, by=username)
    click.echo(
        f"voided the {voided.channel} entry of {voided.household}; the household may vote again"
    )


def register(app: Flask) -> None:
    for group in (proposal_cli, ballots_cli, votes_cli):
        app.cli.add_command(group)
