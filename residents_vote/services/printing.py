"""Printable ballots: map a proposal and its issued ballots onto the PDF layer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy.orm import Session

from .. import labels, pdf, settings
from ..domain.tally import format_area
from ..models import Community, Proposal
from . import ballots, costs, notices, proposals, results
from .errors import ServiceError
from .unit import Store

BALLOT_LOCALE = "zh_CN"  # the printed ballot is Chinese, its words too (pdf/words.py)


def ballot_common(proposal: Proposal, community: Community) -> pdf.BallotCommon:
    with force_locale(BALLOT_LOCALE):
        return _ballot_common(proposal, community)


def _ballot_common(proposal: Proposal, community: Community) -> pdf.BallotCommon:
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
        adoption=notices.adoption_text(len(proposal.questions)),
    )


def share_texts(session: Session, proposal: Proposal) -> dict[str, str]:
    """Each household's share line for its printed ballot, in the ballot's language."""
    with force_locale(BALLOT_LOCALE):
        return costs.share_texts(session, proposal)


def _ballot_pages(
    session: Session, proposal: Proposal, issued: list[ballots.Issued], shares=None
) -> list[pdf.BallotPage]:
    base = settings.of(session).base_url
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
    common = ballot_common(proposal, proposal.community)
    with force_locale(BALLOT_LOCALE):
        return pdf.render_ballots(common, pages)


def ballot_geometry(
    session: Session, proposal: Proposal, issued: list[ballots.Issued], *, shares=None
) -> pdf.BallotGeometry:
    """Where `ballots_pdf` with the same arguments puts the corner marks, the QR code,
    the answer boxes and the signature line: what the scan reader reads against."""
    pages = _ballot_pages(session, proposal, issued, shares)
    common = ballot_common(proposal, proposal.community)
    with force_locale(BALLOT_LOCALE):  # the layout depends on the ballot's words
        return pdf.ballot_geometry(common, pages)


def hearing_cards_pdf(session: Session, proposal: Proposal, issued: list[ballots.Issued]) -> bytes:
    """A pending hearing's invitation cards (services/hearing_docs.invitation_cards), one
    A4 page per household, printed in Chinese like the ballots."""
    from . import hearing_docs

    base = settings.of(session).base_url
    cards = [
        (entry.code, format_area(entry.area), item.serial, item.url(base))
        for item, entry, _household in ballots.print_rows(session, proposal, issued)
    ]
    with force_locale(BALLOT_LOCALE):
        return hearing_docs.invitation_cards(session, proposal, cards).output()


def links_csv(issued: list[ballots.Issued], holder: object = None) -> bytes:
    base = settings.of(holder).base_url
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["household", "serial", "url"])
    for item in issued:
        writer.writerow([item.code, item.serial, item.url(base)])
    return out.getvalue().encode("utf-8")


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class Printed:
    """Ballots just issued: their printable PDF and, if asked for, the links CSV."""

    proposal_id: int
    count: int
    pdf: bytes
    links: bytes | None
    kind: str = "ballots"  # or "hearing cards" (a pending hearing's invitation cards)


ISSUE_MODES = ("new", "unvoted", "households")


def issue_ballots(
    store: Store,
    proposal_id: int,
    *,
    mode: str = "new",
    codes: list[str] | None = None,
    links: bool = False,
    actor: str,
    before_commit: Callable[[Printed], None] | None = None,
) -> Printed | None:
    """Issue ballots and render them, in one transaction. `mode` "new": every household of
    the electorate without a live ballot; "unvoted": revoke and reissue the ballots of every
    household that has not voted; "households": those of `codes`. Returns None when there
    is nothing to issue (nothing is written).

    `before_commit` receives the result while the transaction is still open: if it raises
    (say a file cannot be written), no ballot is issued."""
    if mode not in ISSUE_MODES:
        raise ServiceError("Unknown issue mode %(mode)s", mode=mode)
    if mode == "households" and not codes:
        raise ServiceError("Give the household codes to reissue.")
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        if mode == "new":
            issued = ballots.issue(s, proposal, actor=actor)
        else:
            wanted = None if mode == "unvoted" else list(codes or [])
            issued = ballots.reissue(s, proposal, wanted, actor=actor)
        if not issued:
            return None
        if proposal.route == "hearing":
            document, kind = hearing_cards_pdf(s, proposal, issued), "hearing cards"
        else:
            document = ballots_pdf(s, proposal, issued, shares=share_texts(s, proposal))
            kind = "ballots"
        printed = Printed(
            proposal_id=proposal.id,
            count=len(issued),
            pdf=document,
            links=links_csv(issued, s) if links else None,
            kind=kind,
        )
        if before_commit is not None:
            before_commit(printed)
        return printed
