"""Returned paper ballots read from scans (CONTRACT.md "Paper ballot scans").

The reader (residents_vote/scans) knows the image; this module adds what only the
database knows: the QR code's token names a ballot (looked up by its hash, as
services/ballots does), of this proposal or another, live or revoked, of a household
that has or has not voted yet. A page is `ok` only when all of it is certain.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import cv2
import numpy as np
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import pdf, scans, settings
from ..models import Ballot, ElectorateEntry, Proposal, ScanBatch, ScanPage, User, utcnow
from ..scans.register import find_qr
from . import attachments, audit, ballots, printing, proposals, users, voting
from .errors import N_, Conflict, Forbidden, Invalid, NotFound
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
    image: bytes | None = field(default=None, repr=False, compare=False)  # page_png

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


def _unreadable(name: str, exc: Exception) -> Invalid:
    return Invalid(
        N_("%(file)s: cannot be read as a PDF or a photo (%(why)s)"), file=name, why=str(exc)
    )


def load(name: str, data: bytes) -> list[scans.LoadedPage]:
    """A file's pages; Invalid (one line, naming the file) when it is no PDF or image."""
    try:
        return scans.load_pages(data)
    except scans.UnreadableFile as exc:
        raise _unreadable(name, exc) from exc


def count_pages(files: Iterable[tuple[str, bytes]]) -> int:
    """The pages of every file, none rendered; Invalid naming the first unreadable file."""
    total = 0
    for name, data in files:
        try:
            total += scans.count_pages(data)
        except scans.UnreadableFile as exc:
            raise _unreadable(name, exc) from exc
    return total


def read_files(
    session: Session,
    proposal_id: int,
    files: Sequence[tuple[str, bytes]],
    *,
    crops: bool = False,
    keep_images: bool = False,
) -> list[PageResult]:
    """Every page of every (name, bytes) file read against proposal `proposal_id`; nothing
    is recorded. Invalid if a file cannot be read (before anything is read). Pages are
    rendered one at a time; with keep_images each keeps its small PNG (page_png)."""
    proposal = proposals.get(session, proposal_id)
    count_pages(files)
    geometries = _Geometries(session)
    out: list[PageResult] = []
    for name, data in files:
        try:
            pages = scans.iter_pages(data)
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
                        image=page_png(page.image) if keep_images else None,
                    )
                )
        except scans.UnreadableFile as exc:
            raise _unreadable(name, exc) from exc
    return out


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def read_scans(store: Store, proposal_id: int, files: Sequence[tuple[str, bytes]]) -> list[dict]:
    """`scans read`: CONTRACT's JSON object of every page, nothing recorded."""
    with store.read() as s:
        return [r.as_json() for r in read_files(s, proposal_id, files)]


# --- Batches: an upload read once, kept with its pages, decided page by page ---------------

IMAGE_MAX_SIDE = 1400  # the page image kept (shown beside the reading; the ballot's evidence)


def page_png(gray: np.ndarray) -> bytes:
    """A page image made small: longest side IMAGE_MAX_SIDE, 16 gray levels, PNG."""
    h, w = gray.shape[:2]
    scale = IMAGE_MAX_SIDE / max(h, w)
    if scale < 1:
        gray = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    gray = (gray & 0xF0) | 0x0F
    ok, buf = cv2.imencode(".png", gray, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    return buf.tobytes() if ok else b""


def upload_digest(files: Sequence[tuple[str, bytes]]) -> str:
    """The SHA-256 of an upload: of its one file, or of its files' digests in order."""
    if len(files) == 1:
        return hashlib.sha256(files[0][1]).hexdigest()
    joined = "\n".join(hashlib.sha256(data).hexdigest() for _name, data in files)
    return hashlib.sha256(joined.encode()).hexdigest()


def _staff(session: Session, proposal: Proposal, username: str) -> User:
    user = users.acting_user(session, username)
    if not voting.can_enter(user, proposal):
        raise Forbidden(N_("User %(user)s may not enter ballots for this community"), user=username)
    return user


def _existing(session: Session, proposal_id: int, digest: str) -> ScanBatch | None:
    return session.scalar(
        select(ScanBatch).where(ScanBatch.proposal_id == proposal_id, ScanBatch.sha256 == digest)
    )


def page_answers(page: ScanPage) -> dict[int, str]:
    return {int(n): a for n, a in json.loads(page.answers or "{}").items()}


def page_reasons(page: ScanPage) -> list[str]:
    return list(json.loads(page.reasons or "[]"))


def page_crops(page: ScanPage) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in json.loads(page.crops or "{}").items()}


def _still_recordable(session: Session, proposal: Proposal, page: ScanPage) -> list[str]:
    """Database reasons that hold now (a household may have voted since the reading)."""
    found = []
    ballot = session.get(Ballot, page.ballot_id) if page.ballot_id is not None else None
    if ballot is None or ballot.proposal_id != proposal.id:
        found.append("other-proposal")
    elif ballot.status == "revoked":
        found.append("revoked")
    elif voting.existing_vote(session, proposal.id, ballot.household_id) is not None:
        found.append("already-voted")
    return found


@dataclass(frozen=True)
class Batch:
    """An upload read and kept: its id, its page counts, and whether it was there already."""

    batch_id: int
    proposal_id: int
    pages: int
    ok: int
    review: int
    existing: bool


def _summary(batch: ScanBatch, existing: bool) -> Batch:
    statuses = [p.status for p in batch.pages]
    return Batch(
        batch.id,
        batch.proposal_id,
        len(statuses),
        statuses.count("ok"),
        statuses.count("review"),
        existing,
    )


READING_STALE = dt.timedelta(minutes=15)  # a background read not done by then has died


@dataclass(frozen=True)
class Started:
    """An upload accepted: its batch, whether it was there already, its page count."""

    batch_id: int
    pages: int
    existing: bool


def reading_died(batch: ScanBatch, now: dt.datetime | None = None) -> bool:
    """A batch still `reading` long after its upload: the process reading it has gone."""
    return batch.state == "reading" and batch.created_at < (now or utcnow()) - READING_STALE


def _stale(batch: ScanBatch, now: dt.datetime) -> bool:
    return batch.state == "failed" or reading_died(batch, now)


def start_batch(
    store: Store,
    proposal_id: int,
    files: Sequence[tuple[str, bytes]],
    *,
    username: str,
    now: dt.datetime | None = None,
) -> Started:
    """Accept an upload (one multi-page PDF or several photos) as a batch waiting to be
    read (`read_batch`); nothing is read yet. The same upload again returns the batch it
    made (a batch whose reading failed or died is started again)."""
    if not files:
        raise Invalid(N_("Choose the scanned ballots to upload."))
    now = now or utcnow()
    digest = upload_digest(files)
    pages = count_pages(files)
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        user = _staff(s, proposal, username)
        limit = settings.of(s).scan_batch_max_pages
        if pages > limit:
            raise Invalid(
                N_(
                    "This upload holds %(pages)s pages, more than one batch may hold "
                    "(%(limit)s): scan the stack in several batches."
                ),
                pages=pages,
                limit=limit,
            )
        if pages == 0:
            raise Invalid(N_("%(file)s: no page to read"), file=files[0][0])
        found = _existing(s, proposal_id, digest)
        if found is not None and not _stale(found, now):
            return Started(found.id, found.pages_expected or len(found.pages), True)
        if found is None:
            found = ScanBatch(proposal_id=proposal.id, sha256=digest)
            s.add(found)
        found.uploaded_by_id = user.id
        found.filename = ", ".join(name for name, _data in files)[:200]
        found.created_at = now
        found.state = "reading"
        found.pages_expected = pages
        s.flush()
        return Started(found.id, pages, False)


def read_batch(store: Store, batch_id: int, files: Sequence[tuple[str, bytes]]) -> Batch:
    """Read the pages of a started batch and keep them, waiting for a decision (the
    batch becomes `ready`, audited with its page counts). On any failure the batch is
    marked `failed` (its page says so; the same upload starts it again) and the error
    raised again."""
    try:
        with store.read() as s:  # outside the write transaction: 100 pages take seconds
            batch = _batch(s, batch_id)
            proposal_id = batch.proposal_id
            results = read_files(s, proposal_id, files, crops=True, keep_images=True)
    except BaseException:
        with store.write() as s:
            batch = _batch(s, batch_id)
            if batch.state == "reading":
                batch.state = "failed"
        raise
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        batch = _batch(s, batch_id)
        if batch.state != "reading" or batch.pages:
            return _summary(batch, True)
        for number, r in enumerate(results, start=1):
            batch.pages.append(
                ScanPage(
                    number=number,
                    file=r.file[:200],
                    file_page=r.page,
                    ballot_id=r.ballot_id,
                    household=r.household,
                    answers=json.dumps(r.answers),
                    signed=r.signed,
                    status=r.status,
                    reasons=json.dumps(list(r.reasons)),
                    decision="pending",
                    image=r.image,
                    crops=json.dumps({k: base64.b64encode(v).decode() for k, v in r.crops.items()}),
                )
            )
        batch.state = "ready"
        s.flush()
        uploader = s.get(User, batch.uploaded_by_id) if batch.uploaded_by_id else None
        audit.record_for(
            s,
            proposal,
            "scans.upload",
            actor=uploader.username if uploader else "",
            subject=f"batch {batch.id}",
            data={
                "batch": batch.id,
                "sha256": batch.sha256,
                "pages": len(results),
                "ok": sum(r.status == "ok" for r in results),
            },
        )
        return _summary(batch, False)


def upload_batch(
    store: Store,
    proposal_id: int,
    files: Sequence[tuple[str, bytes]],
    *,
    username: str,
    now: dt.datetime | None = None,
) -> Batch:
    """Start and read an upload at once (`start_batch` then `read_batch`). The same
    upload again returns the batch it made."""
    started = start_batch(store, proposal_id, files, username=username, now=now)
    if started.existing:
        with store.read() as s:
            return _summary(_batch(s, started.batch_id), True)
    return read_batch(store, started.batch_id, files)


def _batch(session: Session, batch_id: int) -> ScanBatch:
    batch = session.get(ScanBatch, batch_id)
    if batch is None:
        raise NotFound(N_("Unknown scan batch %(id)s"), id=batch_id)
    return batch


def _received(proposal: Proposal, batch: ScanBatch, now: dt.datetime | None) -> dt.datetime | None:
    """While counting, a scanned ballot was received when its batch was uploaded."""
    return batch.created_at if proposals.phase(proposal, now) == "counting" else None


def _record(
    session: Session,
    proposal: Proposal,
    batch: ScanBatch,
    page: ScanPage,
    answers: dict[int, str],
    user: User,
    now: dt.datetime | None,
) -> int:
    cast = voting.record_paper(
        session,
        proposal,
        page.household or "",
        answers,
        channel="paper",
        by=user,
        received=_received(proposal, batch, now),
        now=now,
    )
    attachments.add(
        session,
        proposal,
        "ballot_scan",
        attachments.Upload(f"scan-{batch.id}-{page.number}.png", "image/png", page.image or b""),
        by=user,
        vote_id=cast.vote.id,
    )
    page.decision = "recorded"
    page.vote_id = cast.vote.id
    page.decided_by_id = user.id
    page.decided_at = now or utcnow()
    audit.record_for(
        session,
        proposal,
        "scans.record",
        actor=user.username,
        subject=page.household or "",
        data={"batch": batch.id, "page": page.number, "vote": cast.vote.id},
    )
    return cast.vote.id


@dataclass(frozen=True)
class Confirmed:
    recorded: int  # ok pages recorded now
    held: int  # ok pages sent to review instead (the household voted since, ...)


def record_ok_pages(
    store: Store, batch_id: int, *, username: str, now: dt.datetime | None = None
) -> Confirmed:
    """One confirmation records every `ok` page still pending as that household's paper
    ballot, its page image kept as the ballot's scan. A page whose household voted since
    the reading (or whose ballot was revoked) goes to review instead."""
    with store.write() as s:
        batch = _batch(s, batch_id)
        proposal = proposals.lock(s, batch.proposal_id)
        user = _staff(s, proposal, username)
        recorded = held = 0
        for page in batch.pages:
            if page.status != "ok" or page.decision != "pending":
                continue
            now_reasons = _still_recordable(s, proposal, page)
            if now_reasons:
                decision = scans.decide([*page_reasons(page), *now_reasons])
                page.status, page.reasons = decision.status, json.dumps(list(decision.reasons))
                held += 1
                continue
            _record(s, proposal, batch, page, page_answers(page), user, now)
            recorded += 1
        return Confirmed(recorded, held)


def decide_page(
    store: Store,
    page_id: int,
    *,
    username: str,
    answers: dict[int, str] | None = None,
    reject: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """A person's decision on one page: record it with the answers they read (every
    question agree, oppose or abstain) or reject it. Returns "recorded" or "rejected".
    A page of another proposal, of a revoked ballot or of a household that has voted is
    never recorded."""
    with store.write() as s:
        page = s.get(ScanPage, page_id)
        if page is None:
            raise NotFound(N_("Unknown scanned page %(id)s"), id=page_id)
        batch = page.batch
        proposal = proposals.lock(s, batch.proposal_id)
        user = _staff(s, proposal, username)
        if page.decision != "pending":
            raise Conflict(N_("This page was already decided."))
        if reject:
            page.decision = "rejected"
            page.decided_by_id = user.id
            page.decided_at = now or utcnow()
            audit.record_for(
                s,
                proposal,
                "scans.reject",
                actor=user.username,
                subject=page.household or "",
                data={"batch": batch.id, "page": page.number},
            )
            return "rejected"
        if page.household is None:
            raise Invalid(N_("No household could be read on this page: reject it."))
        blocked = _still_recordable(s, proposal, page)
        if "already-voted" in blocked:
            raise Conflict(N_("This household has already voted on this proposal."))
        if blocked:
            raise Invalid(
                N_("This page is not a live ballot of this proposal: it cannot be recorded.")
            )
        _record(s, proposal, batch, page, dict(answers or {}), user, now)
        return "recorded"


# --- Reads for the staff pages (the request's session) -----------------------------------


def batch_of(session: Session, batch_id: int) -> ScanBatch | None:
    return session.get(ScanBatch, batch_id)


def page_of(session: Session, page_id: int) -> ScanPage | None:
    return session.get(ScanPage, page_id)


def batches_for(session: Session, proposal_id: int) -> list[ScanBatch]:
    return list(
        session.scalars(
            select(ScanBatch)
            .where(ScanBatch.proposal_id == proposal_id)
            .order_by(ScanBatch.id.desc())
        )
    )


# --- The staff phone: /b/<token> opened by staff, a photo read on the paper-entry form ----


@dataclass(frozen=True)
class PaperEntry:
    """Where staff record this ballot on paper: the proposal and the household code."""

    proposal_id: int
    household: str


def paper_entry_for(store: Store, token: str, username: str) -> PaperEntry | None:
    """The staff banner of the ballot page: the ballot's proposal and household when the
    signed-in user is staff (or admin) of its community; None for everyone else."""
    with store.read() as s:
        user = users.by_username(s, username)
        if user is None or not user.active or user.role not in ("staff", "admin"):
            return None
        if not token or len(token) > 100:
            return None
        ballot = s.scalar(select(Ballot).where(Ballot.token_hash == ballots.hash_token(token)))
        if ballot is None:
            return None
        proposal = proposals.get(s, ballot.proposal_id)
        if not users.can_see(user, proposal.community):
            return None
        household = _household_code(s, ballot)
        return PaperEntry(proposal.id, household) if household else None


@dataclass(frozen=True)
class PhotoReading:
    """One photo read for the paper-entry form: what pre-fills it, the reasons to look,
    and the page image kept as the ballot's scan (PNG, as batch pages keep theirs)."""

    household: str | None
    answers: dict[str, str]  # question number -> agree|oppose|abstain (certain ones only)
    reasons: tuple[str, ...]
    status: str
    image_png: bytes


def read_photo(store: Store, proposal_id: int, name: str, data: bytes) -> PhotoReading:
    """The first page of a photo (or PDF) read against the proposal; nothing recorded.
    Only the answers read as agree, oppose or abstain pre-fill the form: blank, several
    or unclear marks are left for the staff member to decide."""
    with store.read() as s:
        pages = read_files(s, proposal_id, [(name, data)], keep_images=True)
    if not pages:
        raise Invalid(N_("%(file)s: no page to read"), file=name)
    first = pages[0]
    certain = {n: a for n, a in first.answers.items() if a in ("agree", "oppose", "abstain")}
    return PhotoReading(
        household=first.household,
        answers=certain,
        reasons=first.reasons,
        status=first.status,
        image_png=first.image or b"",
    )
