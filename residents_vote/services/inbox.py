"""The district's filing inbox (CONTRACT.md "Districts and the filing inbox").

Staff submit a confirmed proposal: its filing package (services.filing.package, the ZIP
with the notices, the signed confirmation, the tally, the evidence and the manifest) is
stored as it was sent, and the proposal is `submitted`. A user of the community's
district opens it, checks it against its manifest and accepts it (the proposal is
`filed`) or returns it with a reason (`confirmed` again; staff see the reason and may
submit anew, a new inbox item). Every step is audited. A community without a district
files as before: the ZIP is downloaded and the proposal marked filed by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.lifecycle import inbox_item_after
from ..models import Community, District, FilingSubmission, Proposal, User, utcnow
from . import audit, filing, proposals, users
from .districts import can_see_district
from .errors import N_, Conflict, Forbidden, Invalid, NotFound
from .transitions import Action, move

if TYPE_CHECKING:
    from .unit import Store

REASON_MAX = 2000


def _district_of(session: Session, proposal: Proposal) -> District:
    community = proposal.community
    if community.district_id is None:
        raise Conflict(
            N_(
                "Community %(slug)s belongs to no district: download the filing package and "
                "mark the proposal as filed"
            ),
            slug=community.slug,
        )
    return session.get(District, community.district_id)


def may_submit(user: User, community: Community) -> bool:
    return user.role == "admin" or (user.role == "staff" and users.can_see(user, community))


def may_decide(user: User, district_id: int) -> bool:
    return user.role == "admin" or (user.role == "district" and user.district_id == district_id)


def latest(session: Session, proposal: Proposal) -> FilingSubmission | None:
    """The proposal's last inbox item (None: never submitted)."""
    return session.scalar(
        select(FilingSubmission)
        .where(FilingSubmission.proposal_id == proposal.id)
        .order_by(FilingSubmission.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class FilingState:
    """What the staff dashboard shows about the district filing of a proposal."""

    district: str  # the district's name ("" for a community without one)
    submission: FilingSubmission | None
    returned_reason: str  # the reason of the last return while the proposal is confirmed


def state(session: Session, proposal: Proposal) -> FilingState:
    community = proposal.community
    if community.district_id is None:
        return FilingState("", None, "")
    district = session.get(District, community.district_id)
    last = latest(session, proposal)
    reason = ""
    if last is not None and last.status == "returned" and proposal.status == "confirmed":
        reason = last.reason
    return FilingState(district.name, last, reason)


def submit(
    session: Session, proposal: Proposal, by: User, *, now: dt.datetime | None = None
) -> FilingSubmission:
    now = now or utcnow()
    if not may_submit(by, proposal.community):
        raise Forbidden(
            N_("User %(user)s may not submit filings for this community"), user=by.username
        )
    district = _district_of(session, proposal)
    if proposal.status != "confirmed":
        raise Conflict(
            N_("Only a confirmed proposal is submitted for filing (status: %(status)s)"),
            status=proposal.status,
        )
    # Built before the status changes: the package says `confirmed`, as it was signed.
    package = filing.package(session, proposal, now=now)
    move(proposal, Action.SUBMIT, now=now, passed=True)  # confirmed: it passed
    item = FilingSubmission(
        proposal_id=proposal.id,
        district_id=district.id,
        status="waiting",
        filename=package.filename,
        package=package.data,
        sha256=hashlib.sha256(package.data).hexdigest(),
        size=len(package.data),
        submitted_by_id=by.id,
        submitted_at=now,
    )
    session.add(item)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "filing.submit",
        actor=by.username,
        subject=proposal.title,
        data={"district": district.slug, "item": item.id, "sha256": item.sha256},
    )
    return item


def _waiting(session: Session, proposal: Proposal, item_id: int | None) -> FilingSubmission:
    """The proposal's item waiting for a decision; with `item_id` (a page naming one
    item), that item only: an earlier, returned item is never decided again."""
    item = latest(session, proposal)
    if (
        proposal.status != "submitted"
        or item is None
        or item.status != "waiting"
        or (item_id is not None and item.id != item_id)
    ):
        raise Conflict(
            N_("No filing of this proposal is waiting in the inbox (status: %(status)s)"),
            status=proposal.status,
        )
    return item


def _decider(proposal: Proposal, item: FilingSubmission, by: User) -> None:
    if not may_decide(by, item.district_id):
        raise Forbidden(
            N_("User %(user)s may not decide filings of this district"), user=by.username
        )


def accept(
    session: Session,
    proposal: Proposal,
    by: User,
    *,
    item_id: int | None = None,
    now: dt.datetime | None = None,
) -> FilingSubmission:
    now = now or utcnow()
    item = _waiting(session, proposal, item_id)
    _decider(proposal, item, by)
    move(proposal, Action.ACCEPT, now=now)
    proposal.filed_at = now
    item.status = inbox_item_after(item.status, Action.ACCEPT)
    item.decided_by_id = by.id
    item.decided_at = now
    audit.record_for(
        session,
        proposal,
        "filing.accept",
        actor=by.username,
        subject=proposal.title,
        data={"item": item.id, "sha256": item.sha256},
    )
    return item


def give_back(
    session: Session,
    proposal: Proposal,
    by: User,
    reason: str,
    *,
    item_id: int | None = None,
    now: dt.datetime | None = None,
) -> FilingSubmission:
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(N_("A returned filing needs a reason"))
    if len(reason) > REASON_MAX:
        raise Invalid(N_("The reason is too long"))
    item = _waiting(session, proposal, item_id)
    _decider(proposal, item, by)
    move(proposal, Action.RETURN, now=now)
    item.status = inbox_item_after(item.status, Action.RETURN)
    item.decided_by_id = by.id
    item.decided_at = now
    item.reason = reason
    audit.record_for(
        session,
        proposal,
        "filing.return",
        actor=by.username,
        subject=proposal.title,
        data={"item": item.id, "reason": reason},
    )
    return item


# --- Reads for the pages (the request's session) ------------------------------------------


@dataclass(frozen=True)
class PackageFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Item:
    submission: FilingSubmission
    proposal: Proposal
    community: Community
    district: District
    submitted_by: str
    decided_by: str
    files: list[PackageFile]
    problems: list[str]  # filing.verify_package: empty when the manifest verifies


def item_for(session: Session, user: User, district: District, item_id: int) -> Item | None:
    """The inbox item if it belongs to this district and the user may see the district;
    None otherwise (the page answers 404)."""
    sub = session.get(FilingSubmission, item_id)
    if sub is None or sub.district_id != district.id or not can_see_district(user, district):
        return None
    proposal = session.get(Proposal, sub.proposal_id)
    names = dict(session.execute(select(User.id, User.username)).all())
    with zipfile.ZipFile(io.BytesIO(sub.package)) as zf:
        manifest = json.loads(zf.read(filing.MANIFEST))
    files = [PackageFile(f["name"], f["size"], f["sha256"]) for f in manifest["files"]]
    return Item(
        sub,
        proposal,
        proposal.community,
        district,
        names.get(sub.submitted_by_id, ""),
        names.get(sub.decided_by_id, ""),
        files,
        filing.verify_package(sub.package),
    )


def member(item: Item, name: str) -> bytes | None:
    """One file of the package, if the manifest lists it."""
    if name != filing.MANIFEST and name not in {f.name for f in item.files}:
        return None
    with zipfile.ZipFile(io.BytesIO(item.submission.package)) as zf:
        try:
            return zf.read(name)
        except KeyError:
            return None


def history(session: Session, proposal: Proposal) -> list[FilingSubmission]:
    return list(
        session.scalars(
            select(FilingSubmission)
            .where(FilingSubmission.proposal_id == proposal.id)
            .order_by(FilingSubmission.id)
        )
    )


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class Decision:
    item_id: int
    proposal_id: int
    status: str  # the proposal's status afterwards
    district: str


def _acting(session: Session, username: str) -> User:
    return users.acting_user(session, username)


def submit_filing(store: Store, proposal_id: int, *, by: str) -> Decision:
    """CLI `filing submit`, the staff button: the package goes to the district's inbox."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        item = submit(s, proposal, _acting(s, by))
        district = s.get(District, item.district_id)
        return Decision(item.id, proposal.id, proposal.status, district.slug)


def accept_filing(
    store: Store, proposal_id: int, *, by: str, item_id: int | None = None
) -> Decision:
    """CLI `filing accept`, the inbox page (naming the item): the proposal is filed."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        item = accept(s, proposal, _acting(s, by), item_id=item_id)
        district = s.get(District, item.district_id)
        return Decision(item.id, proposal.id, proposal.status, district.slug)


def return_filing(
    store: Store, proposal_id: int, *, reason: str, by: str, item_id: int | None = None
) -> Decision:
    """CLI `filing return`, the inbox page (naming the item): back to staff with a reason."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        item = give_back(s, proposal, _acting(s, by), reason, item_id=item_id)
        district = s.get(District, item.district_id)
        return Decision(item.id, proposal.id, proposal.status, district.slug)


def proposal_of_item(store: Store, item_id: int) -> int:
    """The proposal an inbox item belongs to (the inbox page's forms name the item)."""
    with store.read() as s:
        sub = s.get(FilingSubmission, item_id)
        if sub is None:
            raise NotFound(N_("Unknown filing %(id)s"), id=item_id)
        return sub.proposal_id
