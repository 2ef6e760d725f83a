"""Failed attempts counted in the database, per kind and target (CONTRACT.md rate limits).

Flask-Limiter counts failures per client address in RATELIMIT_STORAGE_URI, which may be
each worker's own memory. The limits that protect one target (a ballot's owner check, an
account's password) must hold across every worker and every app server, so they are
counted here: one row per failure in `attempt_failure`, counted over a sliding window.

    if failures.blocked_until(db, "owner-check", target, now=now): refuse (429)
    ...wrong answer: failures.record(db, "owner-check", target, now=now)

`lock` serialises the check and the record of one target within a transaction, so that
parallel requests cannot each see the count below the limit (PostgreSQL: a transaction
advisory lock; SQLite: write transactions are already serialised by BEGIN IMMEDIATE).
Every `record` also deletes failures older than RETENTION, of any kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..models import AttemptFailure


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: dt.timedelta


# At most `attempts` failures within `window`; then refused until the oldest of them
# leaves the window. SMS codes (a later issue) will add their own kind here.
LIMITS: dict[str, Limit] = {
    "owner-check": Limit(5, dt.timedelta(hours=1)),  # wrong phone4 answers, per ballot
    "login": Limit(10, dt.timedelta(minutes=15)),  # failed logins, per account name
}

# Failures older than this are deleted (longer than every window).
RETENTION = dt.timedelta(days=1)


def record(session: Session, kind: str, target: str, *, now: dt.datetime) -> None:
    """Count one failure (inside the caller's transaction) and drop expired ones."""
    session.execute(delete(AttemptFailure).where(AttemptFailure.at < now - RETENTION))
    session.add(AttemptFailure(kind=kind, target=target, at=now))
    session.flush()


def count(session: Session, kind: str, target: str, *, since: dt.datetime) -> int:
    """Failures of this kind at this target from `since` on."""
    return session.scalar(
        select(func.count())
        .select_from(AttemptFailure)
        .where(
            AttemptFailure.kind == kind,
            AttemptFailure.target == target,
            AttemptFailure.at >= since,
        )
    )


def blocked_until(
    session: Session, kind: str, target: str, *, now: dt.datetime
) -> dt.datetime | None:
    """When the target may be tried again, or None if it may be tried now."""
    limit = LIMITS[kind]
    since = now - limit.window
    recent = session.scalars(
        select(AttemptFailure.at)
        .where(
            AttemptFailure.kind == kind,
            AttemptFailure.target == target,
            AttemptFailure.at > since,
        )
        .order_by(AttemptFailure.at.desc())
        .limit(limit.attempts)
    ).all()
    if len(recent) < limit.attempts:
        return None
    # The oldest of the last `attempts` failures frees a place when it leaves the window.
    return recent[-1] + limit.window


def lock(session: Session, kind: str, target: str) -> None:
    """Serialise check-and-record for one target until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction (BEGIN IMMEDIATE) already holds the lock
    digest = hashlib.sha256(f"{kind}\0{target}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def purge(session: Session, *, now: dt.datetime) -> int:
    """Delete every failure older than RETENTION; returns how many."""
    result = session.execute(delete(AttemptFailure).where(AttemptFailure.at < now - RETENTION))
    return result.rowcount or 0
