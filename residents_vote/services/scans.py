"""Returned paper ballots read from scans (CONTRACT.md "Paper ballot scans").

The reader (residents_vote/scans) knows the image; this module adds what only the
database knows: the QR code's token names a ballot (looked up by its hash, as
services/ballots does), of this proposal or another, live or revoked, of a household
that has or has not voted yet. A page is `ok` only when all of it is certain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import pdf, scans
from ..models import Ballot, ElectorateEntry, Proposal
from ..scans.register import find_qr
from . import ballots, printing, proposals, voting
from .errors import N_, Invalid
from .unit import Store


@dataclass(frozen=True)
class PageResult:
    """One page's reading, as CONTRACT's JSON (`as_json`) plus what a batch keeps."""

    file: str
    page: int
    household: str | None
    answers: dict[str, str]
    signed: bool | None
    status: str  # ok | review
    reasons: tuple[str, ...]
    ballot_id: int | None = None
    crops: dict[str, bytes] = field(default_factory=dict, repr=False)
    image: object = field(default=None, repr=False, compare=False)  # uint8 gray page

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "page": self.page,
            "household": self.household,
            "answers": self.answers,
            "signed": self.signed,
            "status": self.status,
            "reasons": list(self.reasons),
        }


def token_of(qr_text: str) -> str:
    """The ballot token in a QR code's text: the last path segment of its /b/<token> link."""
    path = urlsplit(qr_text.strip()).path if "://" in qr_text else qr_text.strip()
    return path.rstrip("/").rsplit("/", 1)[-1]


def _find_ballot(session: Session, qr_text: str) -> Ballot | None:
    token = token_of(qr_text)
    if not token or len(token) > 100:
        return None
    return session.scalar(select(Ballot).where(Ballot.token_hash == ballots.hash_token(token)))


def _household_code(session: Session, ballot: Ballot) -> str | None:
    return session.scalar(
        select(ElectorateEntry.code).where(
            ElectorateEntry.proposal_id == ballot.proposal_id,
            ElectorateEntry.household_id == ballot.household_id,
        )
    )


class _Geometries:
    """The printed layout of each proposal met in one reading, computed once each, as
    services/printing lays the proposal's ballots out (share line or none, the QR's size
    from the printed link)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[int, pdf.BallotGeometry] = {}

    def of(self, proposal: Proposal, url: str) -> pdf.BallotGeometry:
        if proposal.id not in self.cache:
            shares = printing.share_texts(self.session, proposal)
            page = pdf.BallotPage(
                serial="0-00000",
                household="0",
                building="",
                unit="",
                room="",
                area="0.00",
                owner_name="",
                url=url,
                share=next(iter(shares.values()), "") if shares else "",
            )
            common = printing.ballot_common(proposal, proposal.community)
            with force_locale(printing.BALLOT_LOCALE):
                self.cache[proposal.id] = pdf.ballot_geometry(common, [page])
        return self.cache[proposal.id]


def _read_one(
    session: Session,
    proposal: Proposal,
    gray,
    geometries: _Geometries,
    *,
    crops: bool,
) -> tuple[scans.PageReading, Ballot | None, str | None, scans.Decision]:
    qr = find_qr(gray)
    if qr is None:
        reading = scans.PageReading(None, "none", {}, (), None, None, None, ("qr-unreadable",))
        return reading, None, None, scans.decide(reading.reasons)
    ballot = _find_ballot(session, qr.text)
    printed_for = proposal
    if ballot is not None and ballot.proposal_id != proposal.id:
        printed_for = proposals.get(session, ballot.proposal_id)
    reading = scans.read_page(gray, geometries.of(printed_for, qr.text), crops=crops, qr=qr)
    household = _household_code(session, ballot) if ballot is not None else None
    other = ballot is None or ballot.proposal_id != proposal.id
    voted = (
        ballot is not None
        and not other
        and voting.existing_vote(session, proposal.id, ballot.household_id) is not None
    )
    decision = scans.decide(
        reading.reasons,
        other_proposal=other,
        revoked=ballot is not None and ballot.status == "revoked",
        already_voted=voted,
    )
    return reading, ballot, household, decision


def load(name: str, data: bytes) -> list[scans.LoadedPage]:
    """A file's pages; Invalid (one line, naming the file) when it is no PDF or image."""
    try:
        return scans.load_pages(data)
    except scans.UnreadableFile as exc:
        raise Invalid(
            N_("%(file)s: cannot be read as a PDF or a photo (%(why)s)"), file=name, why=str(exc)
        ) from exc


def read_files(
    session: Session,
    proposal_id: int,
    files: Iterable[tuple[str, bytes]],
    *,
    crops: bool = False,
    keep_images: bool = False,
) -> list[PageResult]:
    """Every page of every (name, bytes) file read against proposal `proposal_id`; nothing
    is recorded. Invalid if a file cannot be read (before anything is read)."""
    proposal = proposals.get(session, proposal_id)
    loaded = [(name, load(name, data)) for name, data in files]
    geometries = _Geometries(session)
    out: list[PageResult] = []
    for name, pages in loaded:
        for number, page in enumerate(pages, start=1):
            reading, ballot, household, decision = _read_one(
                session, proposal, page.image, geometries, crops=crops
            )
            out.append(
                PageResult(
                    file=name,
                    page=number,
                    household=household,
                    answers={str(n): a for n, a in sorted(reading.answers.items())},
                    signed=reading.signed,
                    status=decision.status,
                    reasons=decision.reasons,
                    ballot_id=ballot.id if ballot is not None else None,
                    crops=dict(reading.crops),
                    image=page.image if keep_images else None,
                )
            )
    return out


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def read_scans(store: Store, proposal_id: int, files: Sequence[tuple[str, bytes]]) -> list[dict]:
    """`scans read`: CONTRACT's JSON object of every page, nothing recorded."""
    with store.read() as s:
        return [r.as_json() for r in read_files(s, proposal_id, files)]
