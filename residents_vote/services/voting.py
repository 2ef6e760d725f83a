"""Casting and recording votes: online, paper and proxy; corrections of entry errors.

One household, one vote per proposal, whatever the channel: a unique constraint
enforces it, so two racing requests cannot both succeed. A confirmed vote is final; a
vote cast online belongs to the household and staff never change it. For a paper or
proxy entry, before the preliminary result, staff may correct a data-entry error or void
an entry made under the wrong household, each with a recorded reason (DOMAIN.md 4).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import settings
from ..domain import periods, receipts
from ..domain.lifecycle import BallotEvent, ballot_after
from ..models import (
    ANSWERS,
    Attachment,
    Ballot,
    ElectorateEntry,
    Household,
    Proposal,
    User,
    VoidedVote,
    Vote,
    VoteAnswer,
    utcnow,
)
from . import attachments, audit, ballots, proposals, vote_path
from .errors import N_, Conflict, Forbidden, Gone, Invalid, NotFound, ServiceError
from .unit import Store

ONLINE_ANSWERS = ("agree", "oppose", "abstain")
# Statuses in which staff may correct or void a paper or proxy entry: before the
# preliminary result is posted (CONTRACT.md `votes correct`, `votes void`).
CHANGEABLE = ("voting", "counting")
REASON_MAX = 1000


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
    if phase in ("counting", "publicity", "final", "confirmed", "submitted", "filed"):
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
    received: dt.datetime | None = None,
) -> Cast:
    if existing_vote(session, proposal.id, entry.household_id) is not None:
        raise Conflict(N_("This household has already voted on this proposal."))
    code = receipts.new_code()
    cast_at = utcnow()
    vote = Vote(
        proposal_id=proposal.id,
        household_id=entry.household_id,
        ballot_id=ballot.id if ballot else None,
        channel=channel,
        entered_by_id=entered_by.id if entered_by else None,
        proxy_name=proxy_name,
        receipt_code=code,
        cast_at=cast_at,
        received_at=received or cast_at,
    )
    vote.answers = [
        VoteAnswer(question_number=n, proposal_id=proposal.id, answer=a)
        for n, a in sorted(answers.items())
    ]
    session.add(vote)
    if ballot is not None:
        ballot.status = ballot_after(ballot.status, BallotEvent.USE)
    else:
        live = session.scalar(
            select(Ballot).where(
                Ballot.proposal_id == proposal.id,
                Ballot.household_id == entry.household_id,
                Ballot.status == "live",
            )
        )
        if live is not None:
            live.status = ballot_after(live.status, BallotEvent.USE)
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
            **({"received": received.isoformat()} if received else {}),
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
    received: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Cast:
    """Enter a paper or proxy ballot. While voting is open `received` (when the ballot was
    handed in) defaults to now; once voting has closed (counting) it is required and must
    be before the close: a ballot handed in late does not count."""
    now = now or utcnow()
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
    received = check_received(session, proposal, received, now)
    check_answers(answers, len(proposal.questions), ANSWERS)
    entry = entry_by_code(session, proposal, household_code)
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
        received=received,
    )




def require_changeable(
    proposal: Proposal,
    vote: Vote,
    code: str,
    *,
    statuses: tuple[str, ...] = CHANGEABLE,
) -> None:
    """Refuse (409) to change a vote the household cast online, or any entry outside
    `statuses` (by default: before the preliminary result)."""
    if vote.channel == "online":
        raise Conflict(
            N_(
                "Household %(code)s voted online: a vote cast online belongs to the household "
                "and cannot be corrected or voided by staff"
            ),
            code=code,
        )
    if proposal.status not in statuses:
        raise Conflict(
            N_(
                "Paper and proxy entries can be corrected or voided only before the "
                "preliminary result is posted (status: %(status)s)"
            ),
            status=proposal.status,
        )


def _reason(reason: str, message: str, *, limit: int | None = None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(message)
    if limit is not None and len(reason) > limit:
        raise Invalid(N_("The reason is too long (at most %(n)s characters)"), n=limit)
    return reason

def check_received(
    session: Session, proposal: Proposal, received: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """The time a paper ballot was handed in, checked against the voting window."""
    proposals.count_if_due(session, proposal, now)
    phase = proposals.phase(proposal, now)
    if phase != "counting":
        require_window(proposal, now)
    elif received is None:
        raise Invalid(
            N_(
                "Voting closed at %(closes)s: give the time the ballot was received; only "
                "ballots received before the close are counted"
            ),
            closes=_local(proposal.closes_at, proposal),
        )
    if received is None:
        return None
    if received >= proposal.closes_at:
        raise Invalid(
            N_(
                "The ballot was received at %(received)s, after voting closed at "
                "%(closes)s: it cannot be counted"
            ),
            received=_local(received, proposal),
            closes=_local(proposal.closes_at, proposal),
        )
    if proposal.starts_at is not None and received < proposal.starts_at:
        raise Invalid(
            N_("The received time %(received)s is before voting started (%(starts)s)"),
            received=_local(received, proposal),
            starts=_local(proposal.starts_at, proposal),
        )
    if received > now:
        raise Invalid(
            N_("The received time %(received)s is in the future"),
            received=_local(received, proposal),
        )
    return received


def _local(value: dt.datetime, holder: object = None) -> str:
    return settings.of(holder).format_local(value)


def correct(
    session: Session,
    vote: Vote,
    answers: dict[int, str],
    reason: str,
    *,
    by: User,
    statuses: tuple[str, ...] = CHANGEABLE,
    now: dt.datetime | None = None,
) -> None:
    """Fix a data-entry error in a paper or proxy entry; the old and new answers are
    audited. `statuses`: when it is allowed (an accepted objection passes `publicity`)."""
    proposal = session.get(Proposal, vote.proposal_id)
    if not can_enter(by, proposal):
        raise Forbidden(
            N_("User %(user)s may not correct ballots for this community"), user=by.username
        )
    entry = _entry(session, proposal, vote.household_id)
    require_changeable(proposal, vote, entry.code, statuses=statuses)
    reason = _reason(reason, N_("A correction needs a reason"))
    check_answers(answers, len(proposal.questions), ANSWERS)
    before = {a.question_number: a.answer for a in vote.answers}
    for answer in vote.answers:
        answer.answer = answers[answer.question_number]
    vote.corrected_at = now or utcnow()
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


def entry_by_code(session: Session, proposal: Proposal, household_code: str) -> ElectorateEntry:
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
    return entry


def recorded_vote(session: Session, proposal: Proposal, entry: ElectorateEntry) -> Vote:
    vote = existing_vote(session, proposal.id, entry.household_id)
    if vote is None:
        raise NotFound(N_("Household %(code)s has no recorded vote"), code=entry.code)
    return vote


def void(
    session: Session,
    proposal: Proposal,
    household_code: str,
    reason: str,
    *,
    by: User,
    now: dt.datetime | None = None,
) -> VoidedVote:
    """Void a paper or proxy entry made under the wrong household (proposal locked).

    The entry moves to `voided_vote` with who voided it, when and why; its scans stay
    in the evidence, linked to it; the household's ballot works again, so it may vote
    again; the audit event records the voided answers' digest, never the proxy's name.
    """
    if not can_enter(by, proposal):
        raise Forbidden(
            N_("User %(user)s may not void ballots for this community"), user=by.username
        )
    entry = entry_by_code(session, proposal, household_code)
    vote = recorded_vote(session, proposal, entry)
    require_changeable(proposal, vote, entry.code)
    reason = _reason(reason, N_("Voiding an entry needs a reason"), limit=REASON_MAX)
    now = now or utcnow()
    answers = {a.question_number: a.answer for a in vote.answers}
    voided = VoidedVote(
        proposal_id=proposal.id,
        household_id=vote.household_id,
        vote_id=vote.id,
        channel=vote.channel,
        entered_by_id=vote.entered_by_id,
        proxy_name=vote.proxy_name,
        receipt_code=vote.receipt_code,
        answers=json.dumps({str(n): a for n, a in sorted(answers.items())}),
        cast_at=vote.cast_at,
        received_at=vote.received_at,
        corrected_at=vote.corrected_at,
        voided_at=now,
        voided_by_id=by.id,
        reason=reason,
    )
    session.add(voided)
    session.flush()
    evidence = list(
        session.scalars(
            select(Attachment).where(Attachment.vote_id == vote.id).order_by(Attachment.id)
        )
    )
    for attachment in evidence:
        attachment.vote_id = None
        attachment.voided_vote_id = voided.id
    # The household's ballot was marked used by this entry: its link works again.
    ballot = session.scalar(
        select(Ballot).where(
            Ballot.proposal_id == proposal.id,
            Ballot.household_id == vote.household_id,
            Ballot.status == "used",
        )
    )
    if ballot is not None:
        ballot.status = ballot_after(ballot.status, BallotEvent.RESTORE)
    entered_by = session.get(User, vote.entered_by_id) if vote.entered_by_id else None
    session.flush()
    session.delete(vote)
    session.flush()
    audit.record_for(
        session,
        proposal,
        "vote.void",
        actor=by.username,
        subject=entry.code,
        data={
            "channel": voided.channel,
            audit.ANSWERS_KEY: audit.answers_digest(proposal.id, entry.code, answers),
            "reason": reason,
            "cast_at": voided.cast_at.isoformat(),
            "entered_by": entered_by.username if entered_by else None,
            "proxy": bool(voided.proxy_name),
            "vote_id": voided.vote_id,
            "evidence": [a.sha256 for a in evidence],
            "serial": ballot.serial if ballot else None,
        },
    )
    return voided


def voided_answers(voided: VoidedVote) -> dict[int, str]:
    return {int(n): a for n, a in json.loads(voided.answers).items()}


def voided_by_receipt(
    session: Session, proposal: Proposal, code: str
) -> tuple[VoidedVote, ElectorateEntry]:
    """The voided entry that carried this receipt code (NotFound if there is none)."""
    normal = receipts.normalize(code)
    if not receipts.looks_valid(normal):
        raise NotFound(N_("No vote has this receipt code."))
    voided = session.scalar(
        select(VoidedVote).where(
            VoidedVote.proposal_id == proposal.id, VoidedVote.receipt_code == normal
        )
    )
    if voided is None:
        raise NotFound(N_("No vote has this receipt code."))
    return voided, _entry(session, proposal, voided.household_id)


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


# --- The resident's ballot /b/<token>: what the page shows, as plain values -------------


class BallotRefused(ServiceError):
    """The ballot link itself is refused (unknown or replaced): the web layer counts it
    toward the client's failure limit."""


class UnknownBallot(BallotRefused, NotFound):
    pass


class ReplacedBallot(BallotRefused, Gone):
    pass


@dataclass(frozen=True)
class QuestionView:
    number: int
    text: str


@dataclass(frozen=True)
class ProposalView:
    id: int
    public_id: str
    title: str
    stage: str
    body: str
    rule: str
    headcount: str
    status: str
    verify: str
    starts_at: dt.datetime | None
    closes_at: dt.datetime | None
    closed_at: dt.datetime | None
    objection_ends_at: dt.datetime | None
    cancel_reason: str
    questions: tuple[QuestionView, ...]
    route: str = "vote"  # a hearing's invitation card: blueprints show hearing_cards' page


@dataclass(frozen=True)
class CommunityView:
    name: str
    office: str
    contact: str


@dataclass(frozen=True)
class EntryView:
    code: str
    area: int
    building: str
    share: int | None
    building_share: int | None


@dataclass(frozen=True)
class AnswerView:
    question_number: int
    answer: str


@dataclass(frozen=True)
class VoteView:
    channel: str
    cast_at: dt.datetime
    receipt_code: str
    answers: tuple[AnswerView, ...]


@dataclass(frozen=True)
class BallotPage:
    """Everything the resident's ballot page shows (templates/ballot/*)."""

    proposal: ProposalView
    community: CommunityView
    entry: EntryView
    vote: VoteView | None
    receipt: str  # display form of the vote's receipt code, "" before voting
    phase: str  # proposals.phase: scheduled, open, counting or the status
    share: str  # the household's share of the plan, "" without a costed plan
    plan: bool  # a design plan PDF is attached
    objection_end: str  # end of the objection period while it runs, else ""

    def context(self) -> dict:
        return {
            "proposal": self.proposal,
            "community": self.community,
            "entry": self.entry,
            "vote": self.vote,
            "receipt": self.receipt,
            "phase": self.phase,
            "share": self.share,
            "plan": self.plan,
            "objection_end": self.objection_end,
        }


# What a POST of the ballot form came to (`Submission.outcome`).
RECORDED = "recorded"  # the vote is recorded: go back to the page (303)
ALREADY_VOTED = "already-voted"  # the household has voted: the recorded vote (409)
CLOSED = "closed"  # voting is not open (403)
UNANSWERED = "unanswered"  # a question has no valid answer (422)
EDIT = "edit"  # "change my choices": the form again, filled in
WRONG_PHONE = "wrong-phone"  # owner check failed, counted (422)
LOCKED = "locked"  # too many wrong owner checks on this ballot for now (429)
CONFIRM = "confirm"  # the confirmation step


@dataclass(frozen=True)
class Submission:
    outcome: str
    page: BallotPage | None = None  # None once recorded
    answers: dict[int, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()  # question numbers without a valid answer
    phone4: str = ""
    sms_code: str = ""
    retry_at: dt.datetime | None = None  # LOCKED: when the ballot may be used again
    retry_after: int = 0  # LOCKED: seconds until then (at least 1)


@dataclass(frozen=True)
class BallotRef:
    """A live ballot, as plain ids (what the owner check and an objection need)."""

    id: int
    proposal_id: int
    household_id: int


def _ballot_row(conn: Connection, token: str) -> vote_path.BallotRow:
    """The one token lookup of a request: NotFound if unknown, Gone if revoked."""
    if not token or len(token) > 100:
        raise UnknownBallot(N_("This ballot link is not valid."))
    row = vote_path.ballot_row(conn, ballots.hash_token(token))
    if row is None:
        raise UnknownBallot(N_("This ballot link is not valid."))
    if row.ballot_status == "revoked":
        raise ReplacedBallot(
            N_("This ballot was replaced by a new one. Please use the newest ballot you received.")
        )
    return row


def _ref(row: vote_path.BallotRow) -> BallotRef:
    return BallotRef(row.ballot_id, row.proposal_id, row.household_id)


def find_ballot(session: Session, token: str) -> BallotRef:
    """Read: the live ballot of a link (UnknownBallot, ReplacedBallot otherwise)."""
    return _ref(_ballot_row(session.connection(), token))


def _due(row: vote_path.BallotRow, now: dt.datetime) -> bool:
    """Voting has reached its announced close but the status is still `voting`."""
    return row.status == "voting" and proposals.phase(row, now) == "counting"


def _stop(session: Session, proposal_id: int, now: dt.datetime) -> None:
    """Voting closes by itself at the announced time (status `counting`)."""
    proposals.count_if_due(session, proposals.lock(session, proposal_id), now)


def _page(
    store: Store, conn: Connection, row: vote_path.BallotRow, now: dt.datetime
) -> BallotPage:
    """The page's plain values, read on `conn`."""
    from . import costs, results

    if row.code is None:
        raise Invalid(N_("This household is not in the electorate of this proposal"))
    proposal = ProposalView(
        id=row.proposal_id,
        public_id=row.public_id,
        title=row.title,
        stage=row.stage,
        body=row.body,
        rule=row.rule,
        headcount=row.headcount,
        status=row.status,
        verify=row.verify,
        starts_at=row.starts_at,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        objection_ends_at=row.objection_ends_at,
        cancel_reason=row.cancel_reason,
        route=row.route,
        questions=tuple(
            QuestionView(n, t) for n, t in vote_path.questions(conn, row.proposal_id, store.frozen)
        ),
    )
    entry = EntryView(row.code, row.area, row.building, row.share, row.building_share)
    vote = None
    if row.vote_id is not None:
        vote = VoteView(
            channel=row.channel,
            cast_at=row.cast_at,
            receipt_code=row.receipt_code,
            answers=tuple(AnswerView(n, a) for n, a in vote_path.answers(conn, row.vote_id)),
        )
    return BallotPage(
        proposal=proposal,
        community=CommunityView(row.community_name, row.office, row.contact),
        entry=entry,
        vote=vote,
        receipt=receipts.display(vote.receipt_code) if vote else "",
        phase=proposals.phase(row, now),
        share=costs.share_text(entry),
        plan=row.has_plan,
        objection_end=periods.format_end(row.objection_ends_at, store.settings.zone)
        if results.objection_window_open(row, now)
        else "",
    )


@dataclass(frozen=True)
class _Screened:
    """The form checked against the ballot, before the owner check: an outcome to show
    (`outcome` set) or the answers to record."""

    outcome: str | None
    answers: dict[int, str]
    errors: tuple[int, ...] = ()


def _screen(row: vote_path.BallotRow, form: Mapping[str, str], now: dt.datetime) -> _Screened:
    """Already voted, voting not open, a question without a valid answer, "change my
    choices": each ends the request with its page; else the answers."""
    if row.vote_id is not None:
        return _Screened(ALREADY_VOTED, {})
    if proposals.phase(row, now) != "open":
        return _Screened(CLOSED, {})
    answers: dict[int, str] = {}
    errors: list[int] = []
    for number in range(1, row.questions + 1):
        value = form.get(f"q{number}", "")
        if value in ONLINE_ANSWERS:
            answers[number] = value
        else:
            errors.append(number)
    if errors:
        return _Screened(UNANSWERED, answers, tuple(errors))
    if form.get("edit"):
        return _Screened(EDIT, answers)
    return _Screened(None, answers)


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def ballot_page(store: Store, token: str, *, now: dt.datetime | None = None) -> BallotPage:
    """GET /b/<token>: the ballot page of a household, in one read (the first request
    after the announced close also moves the vote to `counting`, in its own write)."""
    now = now or utcnow()
    with store.connect() as conn:
        row = _ballot_row(conn, token)
        if not _due(row, now):
            return _page(store, conn, row, now)
    with store.write() as s:
        _stop(s, row.proposal_id, now)
        conn = s.connection()
        return _page(store, conn, _ballot_row(conn, token), now)


def submit_ballot(
    store: Store,
    token: str,
    form: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    limited: bool = True,
    checked_at: dt.datetime | None = None,
) -> Submission:
    """POST /b/<token>: the resident's answers (`q1`…, `phone4`, `edit`, `confirm`):
    checked, the confirmation step, then recorded with its audit event, in one write
    transaction. A wrong owner check is counted (and committed) even though nothing is
    recorded; `limited` False turns the per-ballot limit off (load tests). `now` decides
    the voting window; `checked_at` (default `now`) is the time the owner-check limit
    counts at (the web layer's injectable clock).

    The common case, a confirmed vote on a ballot without owner check, reads and checks
    outside the write lock and holds it only for the inserts (`_record_fast`); anything
    else (an owner check, the announced close just passed, a race) runs wholly inside
    one write transaction (`_submit_locked`)."""
    now = now or utcnow()
    with store.connect() as conn:
        row = _ballot_row(conn, token)
        if row.verify in ("phone4", "sms") or _due(row, now):
            row = None
        else:
            screened = _screen(row, form, now)
            if screened.outcome is not None:
                return _shown(store, screened, conn, row, now)
            if form.get("confirm") != "yes":
                return Submission(CONFIRM, _page(store, conn, row, now), screened.answers)
    if row is not None:
        try:
            if _record_fast(store, row, screened.answers):
                return Submission(RECORDED)
        except Conflict:  # another request of this household was recorded first
            return _already_voted(store, token, now)
    return _submit_locked(store, token, form, now, limited, checked_at or now)


def _shown(
    store: Store,
    screened: _Screened,
    conn: Connection,
    row: vote_path.BallotRow,
    now: dt.datetime,
) -> Submission:
    return Submission(
        screened.outcome, _page(store, conn, row, now), screened.answers, screened.errors
    )


def _already_voted(store: Store, token: str, now: dt.datetime) -> Submission:
    with store.connect() as conn:
        return Submission(ALREADY_VOTED, _page(store, conn, _ballot_row(conn, token), now))


def _submit_locked(
    store: Store,
    token: str,
    form: Mapping[str, str],
    now: dt.datetime,
    limited: bool,
    checked_at: dt.datetime,
) -> Submission:
    """`submit_ballot` wholly inside one write transaction (owner check, close due)."""
    try:
        with store.write() as s:
            conn = s.connection()
            row = _ballot_row(conn, token)
            if _due(row, now):
                _stop(s, row.proposal_id, now)
                row = _ballot_row(conn, token)
            screened = _screen(row, form, now)
            if screened.outcome is not None:
                return _shown(store, screened, conn, row, now)
            answers = screened.answers
            phone4 = form.get("phone4", "")
            sms_code = form.get("sms_code", "")
            if row.verify in ("phone4", "sms"):
                from . import owner_checks

                check = (
                    owner_checks.check_phone4(
                        s, _ref(row), phone4, now=checked_at, limited=limited
                    )
                    if row.verify == "phone4"
                    else owner_checks.check_sms(
                        s, _ref(row), sms_code, now=checked_at, limited=limited
                    )
                )
                if check.retry_at is not None:
                    wait = max(1, math.ceil((check.retry_at - checked_at).total_seconds()))
                    page = _page(store, conn, row, now)
                    return Submission(LOCKED, page, retry_at=check.retry_at, retry_after=wait)
                if not check.ok:  # the wrong answer stays counted
                    return Submission(WRONG_PHONE, _page(store, conn, row, now), answers)
            if form.get("confirm") != "yes":
                return Submission(
                    CONFIRM, _page(store, conn, row, now), answers, phone4=phone4,
                    sms_code=sms_code,
                )
            if not _record_online(conn, row, answers, _cast(row, answers)):  # checked live
                raise Conflict(N_("This household has already voted on this proposal."))
            return Submission(RECORDED)
    except Conflict:  # another request of this household was recorded first
        return _already_voted(store, token, now)


@dataclass(frozen=True)
class _Cast:
    """What a recorded vote writes, computed before the write lock is taken."""

    receipt_code: str
    cast_at: dt.datetime
    event: dict


def _cast(row: vote_path.BallotRow, answers: dict[int, str]) -> _Cast:
    if row.code is None:
        raise Invalid(N_("This household is not in the electorate of this proposal"))
    return _Cast(
        receipt_code=receipts.new_code(),
        cast_at=utcnow(),
        event={
            "channel": "online",
            "serial": row.serial,
            "proxy": False,
            audit.ANSWERS_KEY: audit.answers_digest(row.proposal_id, row.code, answers),
        },
    )


def _record_fast(store: Store, row: vote_path.BallotRow, answers: dict[int, str]) -> bool:
    """Record a vote checked outside the lock, in a short write transaction: False, with
    nothing written, if the ballot is no longer live or voting no longer open (the
    caller then decides again inside the lock)."""
    cast = _cast(row, answers)
    with store.begin() as conn:
        return _record_online(conn, row, answers, cast)


def _record_online(
    conn: Connection, row: vote_path.BallotRow, answers: dict[int, str], cast: _Cast
) -> bool:
    """`cast_online` on the hot path: Core statements and the audit append, no ORM
    objects. False (nothing written) if the ballot is no longer live or the proposal no
    longer in `voting`; Conflict if the household has voted meanwhile."""
    try:
        vote_id = vote_path.insert_online_vote(
            conn, row, answers, receipt_code=cast.receipt_code, cast_at=cast.cast_at
        )
    except IntegrityError as exc:
        raise Conflict(N_("This household has already voted on this proposal.")) from exc
    if vote_id is None:
        return False
    audit.append(
        conn,
        "vote.cast",
        actor=f"household {row.code}",
        community_id=row.community_id,
        proposal_id=row.proposal_id,
        subject=row.code,
        data=cast.event,
    )
    return True


# --- Paper and proxy entries by staff (web form and `votes record/correct/void`) --------


@dataclass(frozen=True)
class Recorded:
    household: str  # the household code the entry was made under
    channel: str
    receipt: str  # display form
    vote_id: int


@dataclass(frozen=True)
class Corrected:
    household: str
    channel: str
    answers: dict[int, str]


@dataclass(frozen=True)
class Voided:
    household: str
    channel: str


def _active_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise Invalid(N_("Unknown user %(user)s"), user=username)
    return user


def _answers_given(
    proposal: Proposal, answers: str | Mapping[str, str]
) -> dict[int, str]:
    """The command line's `1=agree,2=oppose` text (parsed, every question answered), or a
    form's `q1`, `q2`… fields (one per question; a missing one is an unknown answer)."""
    if isinstance(answers, str):
        return parse_answers(answers, len(proposal.questions))
    return {q.number: answers.get(f"q{q.number}", "") for q in proposal.questions}


def code_for_serial(session: Session, proposal_id: int, serial: str) -> str:
    """The household code of the ballot with this printed serial number (ballots owns the
    rule: a revoked ballot, lost and replaced, is refused)."""
    return ballots.code_for_serial(session, proposal_id, serial)


# The command line's own wording when a closed vote's ballot comes without --received.
_RECEIVED_REQUIRED_CLI = (
    "voting closed at %(closes)s: give --received ISO-8601, the time the ballot "
    "was handed in (before the close)"
)


def record_paper_ballot(
    store: Store,
    proposal_id: int,
    household: str,
    answers: str | Mapping[str, str],
    *,
    channel: str,
    by: str,
    proxy_name: str = "",
    received: str | None = None,
    serial: str = "",
    scan: tuple[str, str, bytes] | None = None,
    proxy_doc: tuple[str, str, bytes] | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """Use case: enter a paper or proxy ballot (`record_paper`) by user `by`, found by
    household code or by the ballot's `serial`, with the scan of the signed ballot and
    the proxy's authorisation kept as evidence; one transaction. `answers`: see
    `_answers_given`; `received`: ISO-8601 text (local time without an offset)."""
    with store.write() as s:
        if serial and not household:
            household = code_for_serial(s, proposal_id, serial)
        received_at = proposals.parse_time(received, s)
        proposal = proposals.lock(s, proposal_id)
        user = _active_user(s, by)
        if isinstance(answers, str):
            if received_at is None and proposals.phase(proposal, now) == "counting":
                raise Invalid(
                    _RECEIVED_REQUIRED_CLI, closes=_local(proposal.closes_at, proposal)
                )
        parsed = _answers_given(proposal, answers)
        cast = record_paper(
            s,
            proposal,
            household,
            parsed,
            channel=channel,
            by=user,
            proxy_name=proxy_name,
            received=received_at,
            now=now,
        )
        for kind, upload in (("ballot_scan", scan), ("proxy_auth", proxy_doc)):
            if upload:
                attachments.add(s, proposal, kind, upload, by=user, vote_id=cast.vote.id)
        return Recorded(household, channel, cast.receipt, cast.vote.id)


def correct_entry(
    store: Store,
    proposal_id: int,
    household: str,
    answers: str | Mapping[str, str],
    reason: str,
    *,
    by: str,
    now: dt.datetime | None = None,
) -> Corrected:
    """Use case: correct a data-entry error in a paper or proxy entry (`correct`)."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        user = _active_user(s, by)
        entry = entry_by_code(s, proposal, household)
        vote = recorded_vote(s, proposal, entry)
        parsed = _answers_given(proposal, answers)
        correct(s, vote, parsed, reason, by=user, now=now)
        return Corrected(entry.code, vote.channel, dict(parsed))


def void_entry(
    store: Store,
    proposal_id: int,
    household: str,
    reason: str,
    *,
    by: str,
    now: dt.datetime | None = None,
) -> Voided:
    """Use case: void a paper or proxy entry made under the wrong household (`void`)."""
    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        user = _active_user(s, by)
        voided = void(s, proposal, household, reason, by=user, now=now)
        return Voided(household.strip(), voided.channel)


# --- Reads for the staff pages of an entry ---------------------------------------------


def recorded_entry(
    session: Session, proposal_id: int, code: str
) -> tuple[ElectorateEntry, Vote] | None:
    """The electorate entry and recorded vote of a household code (exactly as given), or
    None when the household is unknown or has no recorded vote."""
    entry = session.scalar(
        select(ElectorateEntry).where(
            ElectorateEntry.proposal_id == proposal_id, ElectorateEntry.code == code
        )
    )
    vote = existing_vote(session, proposal_id, entry.household_id) if entry else None
    return (entry, vote) if vote is not None else None


def change_refusal(proposal: Proposal, vote: Vote, code: str) -> Conflict | None:
    """Why this entry cannot be corrected or voided now (409), or None."""
    try:
        require_changeable(proposal, vote, code)
    except Conflict as exc:
        return exc
    return None


def entry_evidence(session: Session, vote: Vote) -> tuple[User | None, list[Attachment]]:
    """Who entered a paper or proxy vote, and the files kept as its evidence."""
    entered_by = session.get(User, vote.entered_by_id) if vote.entered_by_id else None
    evidence = list(
        session.scalars(
            select(Attachment).where(Attachment.vote_id == vote.id).order_by(Attachment.id)
        )
    )
    return entered_by, evidence
