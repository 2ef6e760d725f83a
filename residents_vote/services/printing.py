"""Printable ballots: map a proposal and its issued ballots onto the PDF layer."""

from __future__ import annotations

import csv
import io

from flask import current_app
from sqlalchemy.orm import Session

from .. import labels
from ..domain.tally import format_area
from ..models import Community, Proposal
from . import ballots, pdf, results


def ballot_common(proposal: Proposal, community: Community) -> pdf.BallotCommon:
    return pdf.BallotCommon(
        community=community.name,
        title=proposal.title,
        stage=labels.stage_label(proposal.stage),
        questions=tuple(q.text for q in proposal.questions),
        opens=results.local(proposal.starts_at) if proposal.starts_at else "",
        deadline=results.local(proposal.closes_at) if proposal.closes_at else "",
        hand_in=community.office or community.name,
        organiser=community.name,
        contact=community.contact,
        rule=labels.rule_label(proposal.rule),
    )


def _ballot_pages(
    session: Session, proposal: Proposal, issued: list[ballots.Issued], shares=None
) -> list[pdf.BallotPage]:
    base = current_app.config["BASE_URL"]
    pages = []
    for item, entry, household in ballots.print_rows(session, proposal, issued):
        share = ""
        if shares and entry.code in shares:
            share = shares[entry.code]
        pages.append(
            pdf.BallotPage(
                serial=item.serial,
                household=entry.code,
                building=entry.building,
                unit=entry.unit,
                room=entry.room,
                area=format_area(entry.area),
                owner_name=household.owner_name,
                url=item.url(base),
                share=share,
            )
        )
    return pages


def ballots_pdf(
    session: Session, proposal: Proposal, issued: list[ballots.Issued], *, shares=None
) -> bytes:
    """One A4 page per issued ballot, with the QR code of its link."""
    pages = _ballot_pages(session, proposal, issued, shares)
    return pdf.render_ballots(ballot_common(proposal, proposal.community), pages)


def ballot_geometry(
    session: Session, proposal: Proposal, issued: list[ballots.Issued], *, shares=None
) -> pdf.BallotGeometry:
    """Where `ballots_pdf` with the same arguments puts the corner marks, the QR code,
    the answer boxes and the signature line: what the scan reader reads against."""
    pages = _ballot_pages(session, proposal, issued, shares)
    return pdf.ballot_geometry(ballot_common(proposal, proposal.community), pages)


def links_csv(issued: list[ballots.Issued]) -> bytes:
    base = current_app.config["BASE_URL"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["household", "serial", "url"])
    for item in issued:
        writer.writerow([item.code, item.serial, item.url(base)])
    return out.getvalue().encode("utf-8")
