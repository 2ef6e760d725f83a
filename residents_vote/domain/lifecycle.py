"""The proposal lifecycle: its statuses, the transitions between them, and their guards.

DOMAIN.md section 2 and CONTRACT.md: a vote goes draft → voting → counting → publicity →
final → confirmed → submitted → filed; a hearing goes draft → hearing → publicity and on
as a vote does; a proposal not yet decided may be cancelled. Every status change in the
services goes through `advance`, so the table below is the one place a reader learns
which change is possible from where, and why a refused one is refused.

Pure: standard library only. Guards look at `Facts`, a snapshot the caller gathers from
the database and the clock; they never fetch anything themselves.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass


class Status(enum.StrEnum):
    DRAFT = "draft"
    VOTING = "voting"
    COUNTING = "counting"
    HEARING = "hearing"
    PUBLICITY = "publicity"
    FINAL = "final"
    CONFIRMED = "confirmed"
    SUBMITTED = "submitted"
    FILED = "filed"
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    OPEN = "open"  # publish the voting notice (or the hearing notice)
    STOP = "stop"  # the announced close passed: counting begins
    PUBLISH = "publish"  # post the preliminary result (or the hearing result)
    FINALIZE = "finalize"  # the objection period expired: the final notice
    CONFIRM = "confirm"  # the signing body signed
    SUBMIT = "submit"  # the filing package went to the district's inbox
    ACCEPT = "accept"  # the district accepted the filing
    RETURN = "return"  # the district returned the filing with a reason
    FILE = "file"  # filed by hand (a community without a district)
    CANCEL = "cancel"


@dataclass(frozen=True)
class Facts:
    """What the guards may look at. Unknown facts stay None and fail a guard that needs them."""

    now: dt.datetime
    route: str = "vote"  # vote | hearing
    closes_at: dt.datetime | None = None
    voted: int = 0
    electorate: int = 0
    objection_ends_at: dt.datetime | None = None
    open_objections: int = 0
    passed: bool | None = None
    signatures: int = 0
    signatures_required: int | None = None
    outcome_recorded: bool = False


class Refused(Exception):
    """A transition that is not allowed: `reason` says why in plain English (a msgid)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason % params if params else reason)
        self.reason = reason
        self.params = params


Guard = Callable[[Facts], "str | None"]


def N_(message: str) -> str:  # noqa: N802 - marks a msgid for the catalog (pybabel -k N_)
    return message


def _always(_: Facts) -> str | None:
    return None


def _before_close(facts: Facts) -> str | None:
    if facts.closes_at is not None and facts.now >= facts.closes_at:
        return N_("Voting has already closed; the vote can no longer be cancelled")
    return None


def _close_due(facts: Facts) -> str | None:
    if facts.closes_at is None or facts.now < facts.closes_at:
        return N_("The announced closing time has not passed yet")
    return None


def _may_publish_vote(facts: Facts) -> str | None:
    if facts.route == "hearing":
        return None if facts.outcome_recorded else N_("The hearing's outcome is not recorded yet")
    if facts.closes_at is not None and facts.now < facts.closes_at:
        if facts.voted < facts.electorate:
            return N_(
                "Voting can close before its announced time only when every household "
                "has voted"
            )
    return None


def _period_over(facts: Facts) -> str | None:
    if facts.objection_ends_at is None or facts.now < facts.objection_ends_at:
        return N_("The objection period has not ended yet")
    if facts.open_objections:
        return N_("Objections are still waiting for an answer")
    return None


def _signed(facts: Facts) -> str | None:
    if not facts.passed:
        return N_("A proposal that did not pass is not signed")
    required = facts.signatures_required
    if required is None or facts.signatures < required:
        return N_("Not enough members of the signing body have signed yet")
    return None


def _passed(facts: Facts) -> str | None:
    return None if facts.passed else N_("A proposal that did not pass is not filed")


S, A = Status, Action

# (from, action) → (to, guard). The one table of every allowed change.
TRANSITIONS: dict[tuple[Status, Action], tuple[Status, Guard]] = {
    (S.DRAFT, A.OPEN): (S.VOTING, _always),  # a hearing opens to HEARING, see `target`
    (S.VOTING, A.STOP): (S.COUNTING, _close_due),
    (S.VOTING, A.PUBLISH): (S.PUBLICITY, _may_publish_vote),
    (S.COUNTING, A.PUBLISH): (S.PUBLICITY, _always),
    (S.HEARING, A.PUBLISH): (S.PUBLICITY, _may_publish_vote),
    (S.PUBLICITY, A.FINALIZE): (S.FINAL, _period_over),
    (S.FINAL, A.CONFIRM): (S.CONFIRMED, _signed),
    (S.CONFIRMED, A.SUBMIT): (S.SUBMITTED, _passed),
    (S.SUBMITTED, A.ACCEPT): (S.FILED, _always),
    (S.SUBMITTED, A.RETURN): (S.CONFIRMED, _always),
    (S.CONFIRMED, A.FILE): (S.FILED, _passed),
    (S.DRAFT, A.CANCEL): (S.CANCELLED, _always),
    (S.VOTING, A.CANCEL): (S.CANCELLED, _before_close),
    (S.HEARING, A.CANCEL): (S.CANCELLED, _always),
}

# Where the voting window is open to ballots, and where a published result exists.
OPEN_FOR_BALLOTS = frozenset({S.VOTING})
PAPER_ENTRY = frozenset({S.VOTING, S.COUNTING})  # paper/proxy entry, correction, void
PUBLISHED = frozenset({S.PUBLICITY, S.FINAL, S.CONFIRMED, S.SUBMITTED, S.FILED})
SIGNABLE = frozenset({S.FINAL})
ENDED = frozenset({S.FILED, S.CANCELLED})


def target(current: Status | str, action: Action | str, *, route: str = "vote") -> Status:
    """The status `action` leads to from `current`, or Refused if the table has no such row."""
    current, action = Status(current), Action(action)
    row = TRANSITIONS.get((current, action))
    if row is None:
        raise Refused(
            N_("A proposal that is %(status)s cannot %(action)s"),
            status=current.value,
            action=action.value,
        )
    to = row[0]
    if current is S.DRAFT and action is A.OPEN and route == "hearing":
        return S.HEARING
    return to


def advance(current: Status | str, action: Action | str, facts: Facts) -> Status:
    """The new status after `action`, once its guard agrees; Refused otherwise."""
    to = target(current, action, route=facts.route)
    guard = TRANSITIONS[(Status(current), Action(action))][1]
    reason = guard(facts)
    if reason is not None:
        raise Refused(reason)
    return to


def allowed_actions(current: Status | str) -> list[Action]:
    """Actions the table allows from `current` (guards aside), in the table's order."""
    current = Status(current)
    return [action for (status, action) in TRANSITIONS if status is current]


# --- Ballots ------------------------------------------------------------------------------
# A ballot (one household's QR link) is live until its household votes (used) or staff
# replace it (revoked); voiding a paper entry made under the wrong household gives the
# household its live ballot back (DOMAIN.md section 4). Revoked is final.


class BallotStatus(enum.StrEnum):
    LIVE = "live"
    USED = "used"
    REVOKED = "revoked"


class BallotEvent(enum.StrEnum):
    USE = "use"  # the household voted (online, or its paper ballot was entered)
    REVOKE = "revoke"  # lost or replaced: a new ballot is issued
    RESTORE = "restore"  # the entry that used it was voided


BALLOT_TRANSITIONS: dict[tuple[BallotStatus, BallotEvent], BallotStatus] = {
    (BallotStatus.LIVE, BallotEvent.USE): BallotStatus.USED,
    (BallotStatus.LIVE, BallotEvent.REVOKE): BallotStatus.REVOKED,
    (BallotStatus.USED, BallotEvent.REVOKE): BallotStatus.REVOKED,
    (BallotStatus.USED, BallotEvent.RESTORE): BallotStatus.LIVE,
}


def ballot_after(current: BallotStatus | str, event: BallotEvent | str) -> str:
    """The ballot's status after `event`, or Refused if the table has no such row."""
    current, event = BallotStatus(current), BallotEvent(event)
    new = BALLOT_TRANSITIONS.get((current, event))
    if new is None:
        raise Refused(
            N_("A ballot that is %(status)s cannot be %(action)s"),
            status=current.value,
            action=event.value,
        )
    return new.value


# A filing package in the district's inbox waits until the district decides it: the
# proposal's ACCEPT (filed) or RETURN (confirmed again; a resubmission is a new item).
INBOX_ITEM_TRANSITIONS: dict[tuple[str, Action], str] = {
    ("waiting", Action.ACCEPT): "accepted",
    ("waiting", Action.RETURN): "returned",
}


def inbox_item_after(current: str, action: Action | str) -> str:
    """The inbox item's status after the district's `action`, or Refused."""
    action = Action(action)
    new = INBOX_ITEM_TRANSITIONS.get((current, action))
    if new is None:
        raise Refused(
            N_("A filing that is %(status)s cannot be decided again (%(action)s)"),
            status=current,
            action=action.value,
        )
    return new
