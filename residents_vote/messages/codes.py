"""One-time codes for `--verify sms` (CONTRACT.md "Text messages").

"Send code" on the ballot page (`POST /b/<token>/code`) makes a 6-digit code, valid 10
minutes, stores only its keyed hash (services/owner_checks.code_hash) and queues the
message in the same transaction; the `messages send` worker delivers it. At most 3 codes
per hour per ballot. The vote form then carries the code (services/owner_checks.check_sms),
wrong codes counting toward the ballot's owner-check limit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import settings
from ..models import Community, Household, Proposal, SmsCode, utcnow
from ..services import audit, failures, owner_checks, proposals, voting
from ..services.errors import N_, Conflict, Invalid
from ..services.unit import Store
from . import outbox

VALID_FOR = dt.timedelta(minutes=10)
PER_HOUR = 3
WINDOW = dt.timedelta(hours=1)

SENT = "sent"
NO_PHONE = "no-phone"
TOO_MANY = "too-many"  # 3 codes within the hour already (429)
LOCKED = "locked"  # too many wrong owner checks on this ballot (429)


@dataclass(frozen=True)
class CodeRequest:
    outcome: str
    retry_at: dt.datetime | None = None


@dataclass(frozen=True)
class SmsState:
    """What the ballot page of an `sms` proposal shows: whether the household has a
    phone (else: vote on paper)."""

    has_phone: bool


def text_for(community: str, code: str) -> str:
    with force_locale("zh_CN"):
        return _(
            "%(community)s: your voting code is %(code)s, valid for %(minutes)s minutes. "
            "Do not tell it to anyone.",
            community=community, code=code, minutes=VALID_FOR.seconds // 60,
        )


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def sms_state(store: Store, token: str) -> SmsState:
    with store.read() as s:
        ref = voting.find_ballot(s, token)
        phone = s.scalar(select(Household.phone).where(Household.id == ref.household_id))
        return SmsState(bool((phone or "").strip()))


def request_code(store: Store, token: str, *, now: dt.datetime | None = None) -> CodeRequest:
    """Send a new code to the household's registered phone (queued for the worker)."""
    now = now or utcnow()
    with store.write() as s:
        ref = voting.find_ballot(s, token)
        proposal = s.get(Proposal, ref.proposal_id)
        if proposal.verify != "sms":
            raise Invalid(N_("This ballot does not use codes by text message"))
        if proposals.phase(proposal, now) != "open":
            raise Conflict(N_("Voting is not open"))
        phone = (s.scalar(select(Household.phone).where(Household.id == ref.household_id))
                 or "").strip()
        if not phone:
            return CodeRequest(NO_PHONE)
        blocked = failures.blocked_until(s, owner_checks.KIND, owner_checks.target(ref), now=now)
        if blocked is not None:
            return CodeRequest(LOCKED, blocked)
        recent = s.scalars(
            select(SmsCode.created_at)
            .where(SmsCode.ballot_id == ref.id, SmsCode.created_at > now - WINDOW)
            .order_by(SmsCode.created_at)
        ).all()
        if len(recent) >= PER_HOUR:
            return CodeRequest(TOO_MANY, recent[-PER_HOUR] + WINDOW)
        code = f"{secrets.randbelow(10**6):06d}"
        s.add(
            SmsCode(
                ballot_id=ref.id,
                code_hash=owner_checks.code_hash(settings.of(s).secret_key, ref.id, code),
                created_at=now,
                expires_at=now + VALID_FOR,
            )
        )
        community = s.get(Community, proposal.community_id)
        outbox.queue(
            s,
            proposal_id=proposal.id,
            household_id=ref.household_id,
            ballot_id=ref.id,
            phone=phone,
            kind="code",
            text=text_for(community.name, code),
            params={"code": code, "minutes": str(VALID_FOR.seconds // 60)},
            now=now,
        )
        audit.record_for(s, proposal, "ballot.code-requested", actor="resident",
                         subject=f"ballot {ref.id}", data={"ballot": ref.id})
        return CodeRequest(SENT)
