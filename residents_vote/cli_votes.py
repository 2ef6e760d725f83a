"""Commands for proposals, ballots, votes and results (CONTRACT.md "Command line")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import Flask

from .cli import Group, fail, guarded, read, store, write
from .services import ballots, communities, printing, proposals, results, tally, voting
from .services.errors import N_, Invalid

proposal_cli = Group("proposal", help="Proposals and their votes.")
ballots_cli = Group("ballots", help="Printable QR ballots.")
votes_cli = Group("votes", help="Paper and proxy ballots.")


@proposal_cli.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--stage", required=True)
@click.option("--question", "questions", multiple=True, required=True)
@click.option("--rule", default="seed")
@click.option("--headcount")
@click.option("--scope", default="")
@click.option("--closes")
@click.option("--starts")
@click.option("--objection-days", type=int, default=7)
@click.option("--verify", default="none")
@click.option("--body", default="")
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
):
    """Create a draft proposal; prints its id."""
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
    )
    with write() as s:
        community = communities.get_by_slug(s, slug)
        proposal = proposals.create(s, community, draft, actor="cli")
        pid = proposal.id
    click.echo(pid)


@proposal_cli.command("open")
@click.argument("proposal_id", type=int)
@click.option("--starts")
@guarded
def proposal_open(proposal_id, starts):
    """Freeze the electorate and publish the voting notice."""
    opened = proposals.open_proposal(store(), proposal_id, starts=starts, actor="cli")
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
    with write() as s:
        proposal = proposals.lock(s, proposal_id)
        proposals.extend(s, proposal, proposals.parse_time(closes), actor="cli")
        line = f"proposal {proposal.id} now closes {results.local(proposal.closes_at)}"
    click.echo(line)


@proposal_cli.command("cancel")
@click.argument("proposal_id", type=int)
@click.option("--reason", required=True)
@guarded
def proposal_cancel(proposal_id, reason):
    """End a vote that is not yet closed, without a result."""
    with write() as s:
        proposal = proposals.lock(s, proposal_id)
        proposals.cancel(s, proposal, reason, actor="cli")
    click.echo(f"proposal {proposal_id} cancelled")


@proposal_cli.command("tally")
@click.argument("proposal_id", type=int)
@guarded
def proposal_tally(proposal_id):
    """Print the tally JSON (live while voting is open or counting)."""
    with read() as s:
        due = proposals.phase(proposals.get(s, proposal_id)) == "counting"
    if due:  # voting closed at the announced time: the status becomes `counting` first
        with write() as s:
            proposals.count_if_due(s, proposals.lock(s, proposal_id))
    with read() as s:
        proposal = proposals.get(s, proposal_id)
        if proposal.status == "draft":
            raise Invalid(N_("Proposal %(id)s is a draft: nothing to count"), id=proposal_id)
        data = tally.compute(s, proposal).json
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@proposal_cli.command("close")
@click.argument("proposal_id", type=int)
@guarded
def proposal_close(proposal_id):
    """Publish the preliminary result (counting, or every household voted); the objection
    period runs from the day after this publication."""
    with write() as s:
        proposal = proposals.lock(s, proposal_id)
        row = results.close(s, proposal, actor="cli")
        line = (
            f"closed proposal {proposal.id}: result revision {row.revision} published; "
            f"objections until {results.local_end(proposal.objection_ends_at)}"
        )
    click.echo(line)


@proposal_cli.command("finalize")
@click.argument("proposal_id", type=int)
@guarded
def proposal_finalize(proposal_id):
    """Publish the final result after the objection period."""
    with write() as s:
        proposal = proposals.lock(s, proposal_id)
        row = results.finalize(s, proposal, actor="cli")
        line = f"proposal {proposal.id} is final (result revision {row.revision})"
    click.echo(line)


def _share_texts(s, proposal) -> dict[str, str]:
    """Each household's share of the plan, printed on its ballot (as the staff page does)."""
    return printing.share_texts(s, proposal)


def _stage_outputs(s, proposal, issued, pdf_path, links_path) -> list[tuple[Path, Path]]:
    """Write the PDF (and links CSV) to temporary files beside their targets.

    They are renamed into place only after the ballots are committed, so a failure at any
    point leaves neither issued ballots nor a PDF of dead links behind.
    """
    outputs = [
        (
            Path(pdf_path),
            printing.ballots_pdf(s, proposal, issued, shares=_share_texts(s, proposal)),
        )
    ]
    if links_path:
        outputs.append((Path(links_path), printing.links_csv(issued)))
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in outputs:
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            staged.append((temp, target))
            temp.write_bytes(data)
    except OSError:
        _discard(staged)
        raise
    return staged


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for temp, _target in staged:
        temp.unlink(missing_ok=True)


def _issue_files(make_issued, proposal_id, pdf_path, links_path) -> None:
    staged: list[tuple[Path, Path]] = []
    try:
        with write() as s:
            proposal = proposals.lock(s, proposal_id)
            issued = make_issued(s, proposal)
            if not issued:
                click.echo("no ballots to issue")
                return
            staged = _stage_outputs(s, proposal, issued, pdf_path, links_path)
            count = len(issued)
    except BaseException:
        _discard(staged)
        raise
    for temp, target in staged:
        temp.replace(target)
    click.echo(f"issued {count} ballots: {pdf_path}" + (f", {links_path}" if links_path else ""))


@ballots_cli.command("issue")
@click.argument("proposal_id", type=int)
@click.option("--pdf", "pdf_path", required=True, type=click.Path(dir_okay=False))
@click.option("--links", "links_path", type=click.Path(dir_okay=False))
@guarded
def ballots_issue(proposal_id, pdf_path, links_path):
    """Issue a ballot to every household without a live one; write the printable PDF."""
    _issue_files(
        lambda s, proposal: ballots.issue(s, proposal, actor="cli"),
        proposal_id,
        pdf_path,
        links_path,
    )


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
    codes = None if unvoted else list(households)
    _issue_files(
        lambda s, proposal: ballots.reissue(s, proposal, codes, actor="cli"),
        proposal_id,
        pdf_path,
        links_path,
    )


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
