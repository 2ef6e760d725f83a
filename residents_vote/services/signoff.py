"""Sign-off of a final result by the signing body (DOMAIN.md section 6, CONTRACT.md).

The signing body is the owner committee, else the self-governance group (users with
role `committee` assigned to the community), else the neighborhood committee (role
`staff`). A proposal is signed only once it is final and every question passed. Each
eligible signer signs (or declines, with a reason) once, re-entering their password;
when K of the N members have signed, the proposal is `confirmed`.

N is the community's `signing_members`, or else the number of eligible signer accounts,
counted at each signature: the active accounts of the signing body plus anyone who has
already signed or declined (so deactivating a member who signed does not lower K, and
an account added after the result became final still counts: a lone early signer can
never be "more than half" of a body that has more accounts). K is the community's
`signoff_required`, or else more than half of N (N // 2 + 1).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import settings
from ..models import (
    Community,
    Proposal,
    ResultRevision,
    Signature,
    User,
    UserCommunity,
    utcnow,
)
from . import audit, proposals, results, users
from .errors import N_, Conflict, Forbidden, Invalid, NotFound, TooManyAttempts
from .transitions import Action, move

if TYPE_CHECKING:
    from .unit import Store

SIGNER_ROLE = {
    "owner-committee": "committee",
    "self-governance": "committee",
    "neighborhood-committee": "staff",
}
SIGNABLE = ("final",)
MAX_REASON = 2000


def signer_role(community: Community) -> str:
    """The account role whose holders sign for this community."""
    return SIGNER_ROLE[community.signatory]


def eligible_signers(session: Session, community: Community) -> list[User]:
    """Active accounts of the signing role assigned to the community."""
    stmt = (
        select(User)
        .join(UserCommunity, UserCommunity.user_id == User.id)
        .where(
            UserCommunity.community_id == community.id,
            User.role == signer_role(community),
            User.active.is_(True),
        )
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def is_eligible(user: User, community: Community) -> bool:
    return (
        bool(user.active)
        and user.role == signer_role(community)
        and any(c.id == community.id for c in user.communities)
    )


def check_signer(user: User, community: Community) -> None:
    """404 for a community the user cannot see, 403 for a user who may not sign for it."""
    if not users.can_see(user, community):
        raise NotFound(N_("Unknown proposal"))
    if not is_eligible(user, community):
        raise Forbidden(
            N_("Only members of the signing body (%(role)s accounts of this community) sign"),
            role=signer_role(community),
        )


def final_revision(session: Session, proposal: Proposal) -> ResultRevision | None:
    if proposal.finalized_at is None:
        return None
    return results.latest_revision(session, proposal)


def passed(revision: ResultRevision | None) -> bool:
    """True when every question of the published result passed."""
    if revision is None:
        return False
    data = json.loads(revision.tally_json)
    if data.get("route") == "hearing":  # DOMAIN.md: only an agreed hearing is signed
        return data.get("outcome") == "agreed"
    questions = data.get("questions", [])
    return bool(questions) and all(q.get("passed") for q in questions)


def signatures(session: Session, proposal: Proposal) -> list[tuple[Signature, User]]:
    rows = session.execute(
        select(Signature, User)
        .join(User, User.id == Signature.user_id)
        .where(Signature.proposal_id == proposal.id)
        .order_by(Signature.signed_at, Signature.id)
    )
    return [(sig, user) for sig, user in rows]


def _signature(session: Session, proposal: Proposal, user: User) -> Signature | None:
    return session.scalar(
        select(Signature).where(Signature.proposal_id == proposal.id, Signature.user_id == user.id)
    )


@dataclass(frozen=True)
class SignoffStatus:
    proposal: Proposal
    role: str  # account role of the signing body
    members: int  # N
    required: int  # K
    signed: list[tuple[Signature, User]]
    declined: list[tuple[Signature, User]]
    revision: ResultRevision | None
    passed: bool

    @property
    def count(self) -> int:
        return len(self.signed)

    @property
    def reachable(self) -> bool:
        """False when the refusals leave too few members to reach K."""
        return self.members - len(self.declined) >= self.required

    def decision_of(self, user: User) -> Signature | None:
        for sig, who in self.signed + self.declined:
            if who.id == user.id:
                return sig
        return None


def status(session: Session, proposal: Proposal) -> SignoffStatus:
    community = proposal.community
    rows = signatures(session, proposal)
    signed = [(s, u) for s, u in rows if s.decision == "sign"]
    declined = [(s, u) for s, u in rows if s.decision == "decline"]
    if community.signing_members:
        members = community.signing_members
    else:
        ids = {u.id for u in eligible_signers(session, community)}
        ids |= {u.id for _, u in rows}
        members = len(ids)
    required = community.signoff_required or members // 2 + 1
    revision = final_revision(session, proposal)
    return SignoffStatus(
        proposal=proposal,
        role=signer_role(community),
        members=members,
        required=required,
        signed=signed,
        declined=declined,
        revision=revision,
        passed=passed(revision),
    )


def _require_signable(session: Session, proposal: Proposal) -> ResultRevision:
    if proposal.status not in SIGNABLE:
        raise Conflict(
            N_("Only a final result can be signed (status: %(status)s)"), status=proposal.status
        )
    revision = final_revision(session, proposal)
    if not passed(revision):
        raise Conflict(N_("The proposal did not pass: a failed proposal is not signed"))
    return revision


def _check_password(user: User, password: str) -> None:
    if not password or not users.check_password(user, password):
        raise Forbidden(N_("The password is not correct; nothing was recorded."))


def sign(
    session: Session,
    proposal: Proposal,
    user: User,
    password: str,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Sign the final result; True if a new signature was recorded (signing twice is a
    no-op). Confirms the proposal when the K-th signature arrives."""
    now = now or utcnow()
    community = proposal.community
    check_signer(user, community)
    existing = _signature(session, proposal, user)
    already = existing is not None and existing.decision == "sign"
    revision = None if already else _require_signable(session, proposal)
    _check_password(user, password)
    if already:
        return False
    if existing is None:
        existing = Signature(proposal_id=proposal.id, user_id=user.id)
        session.add(existing)
    existing.decision = "sign"
    existing.reason = ""
    existing.role = user.role
    existing.signed_at = now
    session.flush()
    state = status(session, proposal)
    audit.record_for(
        session,
        proposal,
        "proposal.sign",
        actor=user.username,
        subject=user.username,
        data={
            "role": user.role,
            "signatures": state.count,
            "required": state.required,
            "members": state.members,
            "revision": revision.revision,
            "sha256": revision.sha256,
        },
    )
    if state.count >= state.required:
        move(
            proposal,
            Action.CONFIRM,
            now=now,
            passed=True,  # only a passed result is signable (checked above)
            signatures=state.count,
            signatures_required=state.required,
        )
        proposal.confirmed_at = now
        audit.record_for(
            session,
            proposal,
            "proposal.confirm",
            actor=user.username,
            subject=proposal.title,
            data={
                "signers": [u.username for _, u in state.signed],
                "signatures": state.count,
                "required": state.required,
                "members": state.members,
                "revision": revision.revision,
                "sha256": revision.sha256,
            },
        )
    return True


def decline(
    session: Session,
    proposal: Proposal,
    user: User,
    password: str,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Record a refusal to sign, with its reason (a member who declined may still sign
    later; a signature is not withdrawn)."""
    now = now or utcnow()
    check_signer(user, proposal.community)
    revision = _require_signable(session, proposal)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid(N_("Please give the reason for declining (up to 2000 characters)."))
    _check_password(user, password)
    existing = _signature(session, proposal, user)
    if existing is not None and existing.decision == "sign":
        raise Conflict(N_("You have already signed this result; a signature is not withdrawn."))
    if existing is None:
        existing = Signature(proposal_id=proposal.id, user_id=user.id, decision="decline")
        session.add(existing)
    existing.reason = reason
    existing.role = user.role
    existing.signed_at = now
    session.flush()
    audit.record_for(
        session,
        proposal,
        "proposal.decline",
        actor=user.username,
        subject=user.username,
        data={"role": user.role, "reason": reason, "revision": revision.revision},
    )


def awaiting(session: Session, community: Community, user: User) -> list[Proposal]:
    """Final, passed proposals of the community this user may sign and has not signed."""
    if not is_eligible(user, community):
        return []
    candidates = session.scalars(
        select(Proposal)
        .where(Proposal.community_id == community.id, Proposal.status.in_(SIGNABLE))
        .order_by(Proposal.finalized_at, Proposal.id)
    )
    out = []
    for proposal in candidates:
        mine = _signature(session, proposal, user)
        if mine is not None and mine.decision == "sign":
            continue
        if passed(final_revision(session, proposal)):
            out.append(proposal)
    return out


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


@dataclass(frozen=True)
class Signed:
    new: bool  # False: the user had already signed, nothing changed
    confirmed: bool  # the proposal is confirmed (enough signatures)


def _as_signer(
    store: Store,
    proposal_id: int,
    username: str,
    act: Callable[[Session, Proposal, User], object],
    *,
    now: dt.datetime,
    limited: bool,
):
    """Run a sign-off act with the re-entered password under the account's failed-login
    limit: refused (TooManyAttempts) while the account is blocked; a wrong password of an
    eligible signer counts as a failed login (committed) and raises Forbidden."""
    with store.write() as s:
        if limited:
            retry_at = users.password_blocked_until(s, username, now=now)
            if retry_at is not None:
                raise TooManyAttempts(
                    N_(
                        "Too many failed logins for this account. "
                        "Please try again after %(time)s."
                    ),
                    time=settings.of(s).format_local(retry_at),
                )
        proposal = proposals.lock(s, proposal_id)
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise Forbidden(N_("The password is not correct; nothing was recorded."))
        refused = None
        try:
            with s.begin_nested():
                outcome = act(s, proposal, user)
        except Forbidden as exc:
            if not (limited and is_eligible(user, proposal.community)):
                raise
            users.record_password_failure(s, username, now=now)
            refused = exc
        else:
            return outcome
    raise refused


def sign_result(
    store: Store,
    proposal_id: int,
    username: str,
    password: str,
    *,
    now: dt.datetime,
    limited: bool = True,
) -> Signed:
    """Sign the final result (committee page); see `sign`."""

    def act(s: Session, proposal: Proposal, user: User) -> Signed:
        new = sign(s, proposal, user, password)
        return Signed(new, proposal.status == "confirmed")

    return _as_signer(store, proposal_id, username, act, now=now, limited=limited)


def decline_result(
    store: Store,
    proposal_id: int,
    username: str,
    password: str,
    reason: str,
    *,
    now: dt.datetime,
    limited: bool = True,
) -> None:
    """Record a refusal to sign, with its reason (committee page); see `decline`."""

    def act(s: Session, proposal: Proposal, user: User) -> None:
        decline(s, proposal, user, password, reason)

    _as_signer(store, proposal_id, username, act, now=now, limited=limited)
