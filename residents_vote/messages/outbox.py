"""The outbox: messages queued in the database, claimed and delivered by a worker.

A message is queued (`queue`) inside the transaction of what caused it, so it exists
exactly when its cause does. The worker (`send_due`, CLI `messages send`) then:

1. claims due messages in one short write transaction: status `sending`, the claim time
   and one more try (PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so parallel workers
   take different rows; SQLite: the write lock serialises the claims);
2. sends each one outside any transaction;
3. records the outcome in another short transaction: `sent`, or back to `queued` with a
   back-off, or `failed` with the provider's message after MAX_TRIES or a refusal that
   another try cannot cure. A claim taken over meanwhile is not recorded over.

A worker may die between 2 and 3. A `sending` message older than LEASE is then taken
back: a link or a reminder is sent again (a duplicate at worst), a one-time code is NOT
(`failed`, "unknown outcome"): the resident asks for a new code if none arrived.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.register import mask_phone
from ..models import ElectorateEntry, Household, Message, Proposal, utcnow
from ..services import audit
from ..services.errors import N_, Invalid, NotFound
from ..services.unit import Store
from . import backends

MAX_TRIES = 5
LEASE = dt.timedelta(minutes=5)
FIRST_BACKOFF = dt.timedelta(seconds=30)  # then doubled: 30 s, 1 min, 2 min, 4 min
BATCH = 50
UNKNOWN_OUTCOME = "unknown outcome: the worker stopped while sending"
HAND_KINDS = ("ballot-link", "reminder")  # what staff may send by hand (never codes)


def mask(phone: str) -> str:
    """`*******5678`: the last four digits only (CONTRACT.md)."""
    return mask_phone(phone)


def backoff(tries: int) -> dt.timedelta:
    return FIRST_BACKOFF * (2 ** max(0, tries - 1))


def queue(
    session: Session,
    *,
    proposal_id: int,
    household_id: int,
    ballot_id: int | None,
    phone: str,
    kind: str,
    text: str,
    params: dict,
    now: dt.datetime,
) -> Message:
    """Queue one message inside the caller's transaction."""
    message = Message(
        proposal_id=proposal_id,
        household_id=household_id,
        ballot_id=ballot_id,
        phone=phone.strip(),
        kind=kind,
        text=text,
        params=json.dumps(params, ensure_ascii=False),
        status="queued",
        tries=0,
        next_try_at=now,
        error="",
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _scrub(message: Message) -> None:
    """A link or a code is kept no longer than it is needed for the sending."""
    message.text = ""
    message.params = "{}"


@dataclass(frozen=True)
class Claimed:
    id: int
    tries: int
    claimed_at: dt.datetime
    outgoing: backends.Outgoing


def _claim(session: Session, now: dt.datetime, limit: int) -> list[Claimed]:
    stale = list(
        session.scalars(
            select(Message)
            .where(Message.status == "sending", Message.claimed_at < now - LEASE)
            .order_by(Message.id)
            .with_for_update(skip_locked=True)
        )
    )
    for message in stale:
        if message.kind == "code" or message.tries >= MAX_TRIES:
            message.status = "failed"
            message.error = UNKNOWN_OUTCOME
            _scrub(message)
        else:
            message.status = "queued"
            message.next_try_at = now
    session.flush()
    due = list(
        session.scalars(
            select(Message)
            .where(Message.status == "queued", Message.next_try_at <= now)
            .order_by(Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    claimed = []
    for message in due:
        message.status = "sending"
        message.claimed_at = now
        message.tries = (message.tries or 0) + 1
        claimed.append(
            Claimed(
                message.id,
                message.tries,
                now,
                backends.Outgoing(
                    message.phone, message.kind, message.text, json.loads(message.params or "{}")
                ),
            )
        )
    return claimed


def _record(
    session: Session, claimed: Claimed, error: backends.SendError | None, now: dt.datetime
) -> str:
    message = session.scalar(
        select(Message).where(Message.id == claimed.id).with_for_update()
    )
    if (
        message is None
        or message.status != "sending"
        or message.tries != claimed.tries
        or message.claimed_at != claimed.claimed_at
    ):
        return "lost"  # taken back after the lease by another worker
    if error is None:
        message.status = "sent"
        message.sent_at = now
        message.error = ""
        _scrub(message)
        return "sent"
    message.error = error.message[:1000]
    if error.retry and message.tries < MAX_TRIES:
        message.status = "queued"
        message.next_try_at = now + backoff(message.tries)
        return "retry"
    message.status = "failed"
    _scrub(message)
    return "failed"


# --- Reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """`messages list`: one entry per message (CONTRACT.md)."""

    id: int
    household: str
    phone: str  # masked
    kind: str
    status: str  # queued | sent | failed (`sending` shows as queued)
    tries: int
    error: str

    def as_json(self) -> dict:
        return {
            "household": self.household,
            "phone": self.phone,
            "kind": self.kind,
            "status": self.status,
            "tries": self.tries,
            "error": self.error,
        }


def _codes(session: Session, proposal_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(ElectorateEntry.household_id, ElectorateEntry.code).where(
                ElectorateEntry.proposal_id == proposal_id
            )
        ).all()
    )


def listed(session: Session, proposal_id: int) -> list[Listed]:
    if session.get(Proposal, proposal_id) is None:
        raise NotFound(N_("No proposal %(id)s"), id=proposal_id)
    codes = _codes(session, proposal_id)
    rows = session.scalars(
        select(Message).where(Message.proposal_id == proposal_id).order_by(Message.id)
    )
    return [
        Listed(
            m.id,
            codes.get(m.household_id, ""),
            mask(m.phone),
            m.kind,
            "queued" if m.status == "sending" else m.status,
            m.tries,
            m.error,
        )
        for m in rows
    ]


@dataclass(frozen=True)
class HandMessage:
    """A queued link or reminder for staff to send by hand (the `outbox` backend): the
    full number, since this is the sending itself."""

    id: int
    household: str
    phone: str
    kind: str
    text: str


def hand_queue(session: Session, proposal_id: int) -> list[HandMessage]:
    codes = _codes(session, proposal_id)
    rows = session.scalars(
        select(Message)
        .where(
            Message.proposal_id == proposal_id,
            Message.status == "queued",
            Message.kind.in_(HAND_KINDS),
        )
        .order_by(Message.id)
    )
    return [HandMessage(m.id, codes.get(m.household_id, ""), m.phone, m.kind, m.text) for m in rows]


def hand_csv(items: list[HandMessage]) -> bytes:
    """UTF-8 with BOM (opens in Excel): household, phone, kind, text. Cells that a
    spreadsheet would read as a formula get a leading `'`."""
    import csv
    import io

    def cell(value: str) -> str:
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["household", "phone", "kind", "text"])
    for item in items:
        writer.writerow([cell(item.household), cell(item.phone), item.kind, cell(item.text)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class BuildingGap:
    building: str
    failed: int
    no_phone: int


@dataclass(frozen=True)
class Delivery:
    """The dashboard's delivery panel: messages by status, and by building the
    households whose last message failed and those without a phone."""

    queued: int
    sent: int
    failed: int
    no_phone: int
    buildings: tuple[BuildingGap, ...]
    no_phone_households: tuple[str, ...]


def delivery(session: Session, proposal: Proposal) -> Delivery:
    counts = dict(
        session.execute(
            select(Message.status, func.count())
            .where(Message.proposal_id == proposal.id)
            .group_by(Message.status)
        ).all()
    )
    entries = session.execute(
        select(ElectorateEntry.household_id, ElectorateEntry.code, ElectorateEntry.building,
               Household.phone)
        .join(Household, Household.id == ElectorateEntry.household_id)
        .where(ElectorateEntry.proposal_id == proposal.id)
        .order_by(ElectorateEntry.id)
    ).all()
    # a household counts as failed when its latest message failed
    latest = {}
    for household_id, status in session.execute(
        select(Message.household_id, Message.status)
        .where(Message.proposal_id == proposal.id, Message.kind != "code")
        .order_by(Message.id)
    ):
        latest[household_id] = status
    failed_by: dict[str, int] = {}
    missing_by: dict[str, int] = {}
    missing: list[str] = []
    for household_id, code, building, phone in entries:
        if not (phone or "").strip():
            missing_by[building] = missing_by.get(building, 0) + 1
            missing.append(code)
        elif latest.get(household_id) == "failed":
            failed_by[building] = failed_by.get(building, 0) + 1
    buildings = sorted(set(failed_by) | set(missing_by), key=_building_key)
    return Delivery(
        queued=counts.get("queued", 0) + counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        no_phone=len(missing),
        buildings=tuple(
            BuildingGap(b, failed_by.get(b, 0), missing_by.get(b, 0)) for b in buildings
        ),
        no_phone_households=tuple(missing),
    )


def _building_key(building: str) -> tuple:
    return (0, int(building), "") if building.isdigit() else (1, 0, building)


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"sent {self.sent}, retry later {self.retried}, failed {self.failed}"


def claim(store: Store, *, now: dt.datetime | None = None, limit: int = BATCH) -> list[Claimed]:
    """Claim due messages for sending (one transaction)."""
    with store.write() as s:
        return _claim(s, now or utcnow(), limit)


def record(
    store: Store,
    claimed: Claimed,
    error: backends.SendError | None,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Record one send's outcome: sent, retry, failed, or lost (claim taken back)."""
    with store.write() as s:
        return _record(s, claimed, error, now or utcnow())


def send_due(store: Store, backend=None, *, now: dt.datetime | None = None) -> SendReport:
    """Deliver every message due at `now` through `backend` (default: SMS_BACKEND), batch
    by batch, until none is left due (`messages send --once`)."""
    now = now or utcnow()
    if backend is None:
        backend = backends.for_settings(store.settings)
        if backend is None:
            raise Invalid(
                N_("SMS_BACKEND is outbox: staff send the queued messages by hand from "
                   "the proposal's message page")
            )
    sent = retried = failed = 0
    while True:
        batch = claim(store, now=now)
        if not batch:
            break
        for item in batch:
            error = None
            try:
                backend.send(item.outgoing)
            except backends.SendError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a fault of the backend: try again later
                error = backends.SendError(f"{type(exc).__name__}: {exc}", retry=True)
            outcome = record(store, item, error, now=now)
            sent += outcome == "sent"
            retried += outcome == "retry"
            failed += outcome == "failed"
    return SendReport(sent, retried, failed)


def list_messages(store: Store, proposal_id: int) -> list[Listed]:
    with store.read() as s:
        return listed(s, proposal_id)


def export_hand_queue(store: Store, proposal_id: int, *, actor: str) -> bytes:
    """The queued links as CSV for staff to send by hand (full phones: audited)."""
    with store.write() as s:
        proposal = s.get(Proposal, proposal_id)
        if proposal is None:
            raise NotFound(N_("No proposal %(id)s"), id=proposal_id)
        items = hand_queue(s, proposal_id)
        audit.record_for(s, proposal, "messages.export", actor=actor,
                         subject=f"{len(items)} messages", data={"count": len(items)})
        return hand_csv(items)


def mark_sent_by_hand(
    store: Store, proposal_id: int, ids: list[int], *, actor: str, now: dt.datetime | None = None
) -> int:
    """Staff sent these queued links/reminders by hand (the `outbox` backend)."""
    now = now or utcnow()
    with store.write() as s:
        proposal = s.get(Proposal, proposal_id)
        if proposal is None:
            raise NotFound(N_("No proposal %(id)s"), id=proposal_id)
        rows = list(
            s.scalars(
                select(Message).where(
                    Message.proposal_id == proposal_id,
                    Message.id.in_(ids),
                    Message.status == "queued",
                    Message.kind.in_(HAND_KINDS),
                )
            )
        )
        for message in rows:
            message.status = "sent"
            message.sent_at = now
            message.tries = (message.tries or 0) + 1
            _scrub(message)
        if rows:
            audit.record_for(
                s, proposal, "messages.sent-by-hand", actor=actor,
                subject=f"{len(rows)} messages", data={"count": len(rows)},
            )
        return len(rows)


def recent(session: Session, ballot_id: int, kinds: tuple[str, ...], since: dt.datetime) -> int:
    """Messages of these kinds for one ballot queued after `since` (not failed)."""
    return session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.ballot_id == ballot_id,
            Message.kind.in_(kinds),
            Message.created_at > since,
            Message.status != "failed",  # a message that never arrived does not count
        )
    )
