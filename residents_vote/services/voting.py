"""Casting and recording votes: online, paper and proxy; corrections of entry errors.

One household, one vote per proposal, whatever the channel: a unique constraint
enforces it, so two racing requests cannot both succeed. A confirmed vote is final;
staff correct only a data-entry error, with a recorded reason.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import receipts
from ..models import (
    ANSWERS,
    Ballot,
    ElectorateEntry,
    Household,
    Proposal,
    User,
    Vote,
    VoteAnswer,
    utcnow,
)
from . import audit, proposals
from .errors import N_, Conflict, Forbidden, Invalid, NotFound

ONLINE_ANSWERS = ("agree", "oppose", "abstain")


@dataclass(frozen=True)
class Cast:
    vote: Vote
    receipt: str  # display form, groups of four


def parse_answers(text: str, questions: int) -> dict[int, str]:
    """`1=agree,2=oppose` -> {1: "agree", 2: "oppose"}; every question must be answered."""
    answers: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        number, sep, answer = part.partition("=")
        if not sep or not number.strip().isdigit():
            raise Invalid(N_("Bad answer %(part)s: use NUMBER=ANSWER"), part=part)
        answers[int(number)] = answer.strip().lower()
    return check_answers(answers, questions, ANSWERS)


def check_answers(answers: dict[int, str], questions: int, allowed: tuple[str, ...]) -> dict:
    missing = [n for n in range(1, questions + 1) if n not in answers]
    if missing:
        raise Invalid(
            N_("Question %(numbers)s not answered"), numbers=", ".join(str(n) for n in missing)
        )
    extra = sorted(n for n in answers if not 1 <= n <= questions)
    if extra:
        raise Invalid(N_("There is no question %(number)s"), number=extra[0])
    bad = [a for a in answers.values() if a not in allowed]
    if bad:
        raise Invalid(N_("Unknown answer %(answer)s"), answer=bad[0])
    return answers


def require_window(proposal: Proposal, now: dt.datetime | None = None) -> None:
    """Refuse votes outside the voting window, saying when it is."""
    phase = proposals.phase(proposal, now)
    if phase == "open":
        return
    if phase == "scheduled":
        raise Forbidden(N_("Voting has not started yet."))
    if phase in ("ended", "publicity", "final", "confirmed", "filed"):
        raise Forbidden(N_("Voting has closed."))
    if phase == "cancelled":
        raise Forbidden(N_("This vote was cancelled."))
    raise Forbidden(N_("Voting is not open."))


def _entry(session: Session, proposal: Proposal, household_id: int) -> ElectorateEntry:
    entry = session.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.household_id == household_id,
        )
    )
    if entry is None:
        raise Invalid(N_("This household is not in the electorate of this proposal"))
    return entry


def existing_vote(session: Session, proposal_id: int, household_id: int) -> Vote | None:
    return session.scalar(
        select(Vote).where(Vote.proposal_id == proposal_id, Vote.household_id == household_id)
    )


def _insert(
    session: Session,
    proposal: Proposal,
    entry: ElectorateEntry,
    answers: dict[int, str],
    *,
    channel: str,
    ballot: Ballot | None,
    entered_by: User | None,
    proxy_name: str,
    actor: str,
) -> Cast:
    if existing_vote(session, proposal.id, entry.household_id) is not None:
        raise Conflict(N_("This household has already voted on this proposal."))
    code = receipts.new_code()
    vote = Vote(
        proposal_id=proposal.id,
        household_id=entry.household_id,
        ballot_id=ballot.id if ballot else None,
        channel=channel,
        entered_by_id=entered_by.id if entered_by else None,
        proxy_name=proxy_name,
        receipt_code=code,
        cast_at=utcnow(),
    )
    vote.answers = [
        VoteAnswer(question_number=n, proposal_id=proposal.id, answer=a)
        for n, a in sorted(answers.items())
    ]
    session.add(vote)
    if ballot is not None:
        ballot.status = "used"
    else:
        live = session.scalar(
            select(Ballot).where(
                Ballot.proposal_id == proposal.id,
                Ballot.household_id == entry.household_id,
                Ballot.status == "live",
            )
        )
        if live is not None:
            live.status = "used"
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(N_("This household has already voted on this proposal.")) from exc
    audit.record_for(
        session,
        proposal,
        "vote.cast",
        actor=actor,
        subject=entry.code,
        data={
            "channel": channel,
            "serial": ballot.serial if ballot else None,
            "proxy": bool(proxy_name),
            audit.ANSWERS_KEY: audit.answers_digest(proposal.id, entry.code, answers),
        },
    )
    return Cast(vote, receipts.display(code))


def cast_online(
    session: Session,
    ballot: Ballot,
    answers: dict[int, str],
    *,
    phone4: str | None = None,
    now: dt.datetime | None = None,
) -> Cast:
    proposal = session.get(Proposal, ballot.proposal_id)
    require_window(proposal, now)
    check_answers(answers, len(proposal.questions), ONLINE_ANSWERS)
    if proposal.verify == "phone4" and not phone_matches(session, ballot.household_id, phone4):
        raise Invalid(N_("The last four digits of the phone number do not match."))
    entry = _entry(session, proposal, ballot.household_id)
    return _insert(
        session,
        proposal,
        entry,
        answers,
        channel="online",
        ballot=ballot,
        entered_by=None,
        proxy_name="",
        actor=f"household {entry.code}",
    )


def phone_matches(session: Session, household_id: int, phone4: str | None) -> bool:
    household = session.get(Household, household_id)
    digits = "".join(ch for ch in (household.phone or "") if ch.isdigit())
    if len(digits) < 4:
        return True  # no phone registered: nothing to check against
    given = (phone4 or "").strip()
    return hmac.compare_digest(given.encode(), digits[-4:].encode())


def can_enter(user: User, proposal: Proposal) -> bool:
    if user.role == "admin":
        return True
    return user.role == "staff" and any(c.id == proposal.community_id for c in user.communities)


def record_paper(
    session: Session,
    proposal: Proposal,
    household_code: str,
    answers: dict[int, str],
    *,
    channel: str,
    by: User,
    proxy_name: str = "",
    now: dt.datetime | None = None,
) -> Cast:
    if not can_enter(by, proposal):
        raise Forbidden(
            N_("User %(user)s may not enter ballots for this community"), user=by.username
        )
    if channel not in ("paper", "proxy"):
        raise Invalid(N_("Channel must be paper or proxy"))
    proxy_name = proxy_name.strip()
    if channel == "proxy" and not proxy_name:
        raise Invalid(N_("A proxy ballot needs the proxy's name"))
    if len(proxy_name) > 100:
        raise Invalid(N_("The proxy name is too long"))
    require_window(proposal, now)
    check_answers(answers, len(proposal.questions), ANSWERS)
    entry = session.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal.id,
            ElectorateEntry.code == household_code.strip(),
        )
    )
    if entry is None:
        raise Invalid(
            N_("Household %(code)s is not in the electorate of this proposal"),
            code=household_code,
        )
    return _insert(
        session,
        proposal,
        entry,
        answers,
        channel=channel,
        ballot=None,
        entered_by=by,
        proxy_name=proxy_name if channel == "proxy" else "",
        actor=by.username,
    )


def correct(
    session: Session,
    vote: Vote,
    answers: dict[int, str],
    reason: str,
    *,
    by: User,
) -> None:
    """Fix a data-entry error on a recorded vote; the old and new answers are audited."""
    proposal = session.get(Proposal, vote.proposal_id)
    if not can_enter(by, proposal):
        raise Forbidden(
            N_("User %(user)s may not correct ballots for this community"), user=by.username
        )
    reason = reason.strip()
    if not reason:
        raise Invalid(N_("A correction needs a reason"))
    check_answers(answers, len(proposal.questions), ANSWERS)
    before = {a.question_number: a.answer for a in vote.answers}
    for answer in vote.answers:
        answer.answer = answers[answer.question_number]
    vote.corrected_at = utcnow()
    entry = _entry(session, proposal, vote.household_id)
    audit.record_for(
        session,
        proposal,
        "vote.correct",
        actor=by.username,
        subject=entry.code,
        data={
            "before": before,
            "after": answers,
            "reason": reason,
            audit.ANSWERS_KEY: audit.answers_digest(proposal.id, entry.code, answers),
        },
    )


def by_receipt(session: Session, proposal: Proposal, code: str) -> tuple[Vote, ElectorateEntry]:
    normal = receipts.normalize(code)
    if not receipts.looks_valid(normal):
        raise NotFound(N_("No vote has this receipt code."))
    vote = session.scalar(
        select(Vote).where(Vote.proposal_id == proposal.id, Vote.receipt_code == normal)
    )
    if vote is None:
        raise NotFound(N_("No vote has this receipt code."))
    return vote, _entry(session, proposal, vote.household_id)


def voted_household_ids(session: Session, proposal: Proposal) -> list[int]:
    return list(session.scalars(select(Vote.household_id).where(Vote.proposal_id == proposal.id)))
