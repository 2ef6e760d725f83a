"""The owner check on a ballot (`--verify phone4`), limited per ballot in the database.

At most 5 wrong answers per hour per ballot, whatever worker or app server receives them
(services.failures); then the ballot is refused (429) until the hour has passed, even
with the right answer. The page then says where to get a paper ballot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..models import Ballot
from . import failures, voting

KIND = "owner-check"


@dataclass(frozen=True)
class OwnerCheck:
    ok: bool
    retry_at: dt.datetime | None = None  # set when the ballot is refused for now


def target(ballot: Ballot) -> str:
    return f"ballot:{ballot.id}"


def check_phone4(
    session: Session, ballot: Ballot, phone4: str | None, *, now: dt.datetime, limited: bool = True
) -> OwnerCheck:
    """Check the digits; a wrong answer is counted inside the caller's transaction, which
    the caller commits (also when it answers 422)."""
    if limited:
        failures.lock(session, KIND, target(ballot))
        retry_at = failures.blocked_until(session, KIND, target(ballot), now=now)
        if retry_at is not None:
            return OwnerCheck(False, retry_at)
    if voting.phone_matches(session, ballot.household_id, phone4):
        return OwnerCheck(True)
    if limited:
        failures.record(session, KIND, target(ballot), now=now)
    return OwnerCheck(False)


def code_hash(secret_key: bytes, ballot_id: int, code: str) -> str:
    """A one-time code as stored: keyed with the install's secret, so that the million
    possible codes cannot be tried against a copy of the database."""
    import hashlib
    import hmac

    message = f"sms-code\0{ballot_id}\0{code}".encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()


def check_sms(
    session: Session, ballot: Ballot, code: str | None, *, now: dt.datetime, limited: bool = True
) -> OwnerCheck:
    """`--verify sms`: the code must be one sent for this ballot within its 10 minutes. A
    missing, wrong or expired code counts toward the same per-ballot limit as phone4."""
    import hmac

    from sqlalchemy import select

    from .. import settings
    from ..models import SmsCode

    if limited:
        failures.lock(session, KIND, target(ballot))
        retry_at = failures.blocked_until(session, KIND, target(ballot), now=now)
        if retry_at is not None:
            return OwnerCheck(False, retry_at)
    given = (code or "").strip()
    if len(given) == 6 and given.isdigit():
        wanted = code_hash(settings.of(session).secret_key, ballot.id, given)
        hashes = session.scalars(
            select(SmsCode.code_hash).where(
                SmsCode.ballot_id == ballot.id, SmsCode.expires_at > now,
                SmsCode.created_at <= now,
            )
        ).all()
        if any(hmac.compare_digest(h, wanted) for h in hashes):
            return OwnerCheck(True)
    if limited:
        failures.record(session, KIND, target(ballot), now=now)
    return OwnerCheck(False)
