"""Files kept beside a proposal: the design plan, ballot scans, proxy forms, posting photos.

An upload is accepted by its content, not by what the client says it is (a size limit and
a sniff of the first bytes); every stored file is audited with its SHA-256 so the evidence
can be checked later.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from sqlalchemy.orm import Session

from ..models import Attachment, Proposal, User
from . import audit, proposals, users
from .errors import ServiceError
from .unit import Store

MAX_UPLOAD = 10 * 1024 * 1024
# Content type -> the bytes a file of that type starts with.
TYPES = {
    "application/pdf": b"%PDF",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG",
}
KINDS = ("plan", "ballot_scan", "proxy_auth", "notice_photo")


class Upload(NamedTuple):
    """An accepted file: unpacks as (filename, content type, data)."""

    filename: str
    content_type: str
    data: bytes


def accept(filename: str, data: bytes, kinds: tuple[str, ...] = tuple(TYPES)) -> Upload:
    """Default-deny upload check: at most MAX_UPLOAD bytes (the caller reads at most one
    more), and the content must start like one of `kinds`."""
    if len(data) > MAX_UPLOAD:
        raise ServiceError("The file is too large (at most 10 MB).")
    for mime in kinds:
        if data.startswith(TYPES[mime]):
            return Upload(filename[:200], mime, data)
    raise ServiceError("Only PDF, JPEG or PNG files are accepted.")


def add(
    session: Session, proposal: Proposal, kind: str, upload: tuple, *, by: User, **links: int
) -> Attachment:
    """Store an accepted upload (`Upload` or a (filename, type, data) tuple) as evidence
    of `proposal`, linked by `links` (vote_id=…, posting_id=…), and audit it. Runs in the
    caller's transaction (a use case's `store.write()`)."""
    filename, mime, data = upload
    attachment = Attachment(
        community_id=proposal.community_id,
        proposal_id=proposal.id,
        kind=kind,
        filename=filename,
        content_type=mime,
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=by.id,
        **links,
    )
    session.add(attachment)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "evidence.upload",
        actor=by.username,
        subject=kind,
        data={"sha256": attachment.sha256, **links},
    )
    return attachment


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def attach_file(
    store: Store,
    proposal_id: int,
    kind: str,
    upload: tuple,
    *,
    username: str,
    **links: int,
) -> int:
    """Keep one accepted upload as evidence of a proposal, in its own transaction; returns
    the attachment id."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        return add(s, proposal, kind, upload, by=users.acting_user(s, username), **links).id
