"""The audit trail of one proposal in plain language (staff audit page and its CSV).

Each action code maps to a translated sentence (English msgids, filled from the event's
subject and data). Unknown codes are shown as they are, never hidden.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import labels
from ..models import AuditEvent, Proposal
from . import results

# Short names of the actions, for the filter list.
ACTIONS = {
    "proposal.create": _l("Draft created"),
    "proposal.edit": _l("Draft edited"),
    "plan.items": _l("Plan budget set"),
    "evidence.upload": _l("Evidence uploaded"),
    "proposal.open": _l("Voting opened"),
    "proposal.extend": _l("Voting extended"),
    "proposal.cancel": _l("Vote cancelled"),
    "ballots.issue": _l("Ballots issued"),
    "ballots.revoke": _l("Ballots revoked"),
    "vote.cast": _l("Vote recorded"),
    "vote.correct": _l("Vote corrected"),
    "vote.void": _l("Entry voided"),
    "proposal.close": _l("Voting closed"),
    "objection.file": _l("Objection filed"),
    "objection.answer": _l("Objection answered"),
    "result.revise": _l("Result corrected"),
    "proposal.finalize": _l("Final result published"),
    "proposal.sign": _l("Signed"),
    "proposal.decline": _l("Declined to sign"),
    "proposal.confirm": _l("Result confirmed"),
    "proposal.file": _l("Filed"),
    "notice.posting": _l("Notice posting recorded"),
    "nonvoters.export": _l("Non-voter list exported"),
    "scans.upload": _l("Scanned ballots read"),
    "scans.record": _l("Scanned ballot recorded"),
    "scans.reject": _l("Scanned page rejected"),
}


def _time(text: object) -> str:
    if not isinstance(text, str) or not text:
        return ""
    try:
        return results.local(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def _answers(data: object) -> str:
    if not isinstance(data, dict):
        return ""
    return ", ".join(
        f"{n}: {labels.answer_label(str(a))}" for n, a in sorted(data.items(), key=lambda x: x[0])
    )


def _vote_cast(e: AuditEvent, d: dict) -> str:
    channel = d.get("channel")
    if channel == "online":
        return _("Household %(household)s voted online.", household=e.subject)
    if channel == "proxy":
        return _(
            "Proxy ballot of household %(household)s entered by %(user)s.",
            household=e.subject,
            user=e.actor,
        )
    return _(
        "Paper ballot of household %(household)s entered by %(user)s.",
        household=e.subject,
        user=e.actor,
    )


def _serials(d: dict) -> str:
    serials = d.get("serials") or []
    if not serials:
        return ""
    if len(serials) == 1:
        return str(serials[0])
    return f"{serials[0]} … {serials[-1]}"


def _objection(e: AuditEvent, d: dict) -> str:
    number = e.subject.replace("objection ", "")
    if d.get("household"):
        return _(
            "Objection %(n)s filed (%(channel)s) concerning household %(household)s.",
            n=number,
            channel=labels.channel_label(d.get("channel", "online")),
            household=d["household"],
        )
    return _(
        "Objection %(n)s filed (%(channel)s).",
        n=number,
        channel=labels.channel_label(d.get("channel", "online")),
    )


NOTICE_NAMES = {
    "notice": _l("voting notice"),
    "results": _l("preliminary result"),
    "final": _l("final result notice"),
}

SENTENCES: dict[str, Callable[[AuditEvent, dict], str]] = {
    "community.create": lambda e, d: _(
        "Community %(slug)s created; signing body: %(body)s.",
        slug=e.subject,
        body=labels.signatory_label(d.get("signatory", "")),
    ),
    "user.create": lambda e, d: _(
        "Account %(user)s created (%(role)s).",
        user=e.subject,
        role=labels.role_label(d.get("role", "")),
    ),
    "user.assign": lambda e, d: _(
        "Account %(user)s assigned to: %(communities)s.",
        user=e.subject,
        communities=", ".join(d.get("communities", [])) or "—",
    ),
    "user.activate": lambda e, d: _("Account %(user)s activated.", user=e.subject),
    "user.deactivate": lambda e, d: _("Account %(user)s deactivated.", user=e.subject),
    "user.password_reset": lambda e, d: _("Password of %(user)s reset.", user=e.subject),
    "login.failed": lambda e, d: (
        _("Failed login with an unknown user name.")
        if e.actor == "?"
        else _("Failed login as %(user)s.", user=e.actor)
    ),
    "user.role": lambda e, d: _(
        "Role of %(user)s changed from %(old)s to %(new)s.",
        user=e.subject,
        old=labels.role_label(d.get("from", "")),
        new=labels.role_label(d.get("to", "")),
    ),
    "user.password_change": lambda e, d: _("%(user)s changed their password.", user=e.subject),
    "households.import": lambda e, d: _(
        "Household register imported: %(added)s added, %(updated)s updated, "
        "%(unchanged)s unchanged.",
        added=d.get("added", 0),
        updated=d.get("updated", 0),
        unchanged=d.get("unchanged", 0),
    ),
    "households.export": lambda e, d: _(
        "Household register exported (%(format)s, %(count)s households).",
        format=str(d.get("format", "")).upper(),
        count=d.get("households", "?"),
    ),
    "proposal.create": lambda e, d: _("Draft proposal created: %(title)s.", title=e.subject),
    "proposal.edit": lambda e, d: _("Draft proposal edited."),
    "plan.items": lambda e, d: _("Plan budget set: %(n)s items.", n=len(d.get("items", []))),
    "scans.upload": lambda e, d: _(
        "Scan batch %(batch)s read: %(pages)s pages, %(ok)s without doubt.",
        batch=d.get("batch", "?"),
        pages=d.get("pages", "?"),
        ok=d.get("ok", "?"),
    ),
    "scans.record": lambda e, d: _(
        "Page %(page)s of scan batch %(batch)s recorded as the paper ballot of %(household)s.",
        page=d.get("page", "?"),
        batch=d.get("batch", "?"),
        household=e.subject,
    ),
    "scans.reject": lambda e, d: _(
        "Page %(page)s of scan batch %(batch)s rejected; nothing recorded.",
        page=d.get("page", "?"),
        batch=d.get("batch", "?"),
    ),
    "evidence.upload": lambda e, d: _(
        "Evidence file uploaded (%(kind)s), SHA-256 %(sha)s.",
        kind=e.subject,
        sha=str(d.get("sha256", ""))[:16] + "…",
    ),
    "proposal.open": lambda e, d: _(
        "Voting notice published: %(households)s households in the electorate; voting "
        "from %(starts)s to %(closes)s.",
        households=d.get("households", "?"),
        starts=_time(d.get("starts")),
        closes=_time(d.get("closes")),
    ),
    "proposal.extend": lambda e, d: _(
        "Voting extended from %(old)s to %(new)s (voting notice revision %(n)s).",
        old=_time(d.get("from")),
        new=_time(d.get("to")),
        n=d.get("notice", "?"),
    ),
    "proposal.cancel": lambda e, d: _("Vote cancelled. Reason: %(reason)s", reason=d.get("reason")),
    "ballots.issue": lambda e, d: _(
        "%(count)s ballots issued (serial numbers %(serials)s).",
        count=d.get("count", "?"),
        serials=_serials(d),
    ),
    "ballots.revoke": lambda e, d: _(
        "%(count)s ballots revoked (serial numbers %(serials)s).",
        count=d.get("count", "?"),
        serials=_serials(d),
    ),
    "vote.cast": _vote_cast,
    "vote.correct": lambda e, d: _(
        "Recorded vote of household %(household)s corrected from [%(before)s] to [%(after)s]. "
        "Reason: %(reason)s",
        household=e.subject,
        before=_answers(d.get("before")),
        after=_answers(d.get("after")),
        reason=d.get("reason", ""),
    ),
    "vote.void": lambda e, d: _(
        "%(channel)s entry of household %(household)s voided (made under the wrong "
        "household); the household may vote again. Reason: %(reason)s",
        channel=labels.channel_label(d.get("channel", "paper")),
        household=e.subject,
        reason=d.get("reason", ""),
    ),
    "proposal.close": lambda e, d: _(
        "Voting closed; preliminary result (revision %(revision)s) posted; objections "
        "until %(until)s.",
        revision=d.get("revision", "?"),
        until=_time(d.get("objections_until")),
    ),
    "objection.file": _objection,
    "objection.answer": lambda e, d: _(
        "%(objection)s answered (%(decision)s): %(answer)s",
        objection=e.subject.replace("objection", _("Objection")),
        decision=labels.objection_status(d.get("decision", "")),
        answer=d.get("answer", ""),
    ),
    "result.revise": lambda e, d: _(
        "Corrected result published (revision %(revision)s): %(reason)s. Objections until "
        "%(until)s.",
        revision=d.get("revision", "?"),
        reason=d.get("reason", ""),
        until=_time(d.get("objections_until")),
    ),
    "proposal.finalize": lambda e, d: _(
        "Final result published (revision %(revision)s).", revision=d.get("revision", "?")
    ),
    "proposal.sign": lambda e, d: _(
        "%(user)s signed the final result (%(count)s signatures, %(required)s required).",
        user=e.actor,
        count=d.get("signatures", "?"),
        required=d.get("required", "?"),
    ),
    "proposal.decline": lambda e, d: _(
        "%(user)s declined to sign. Reason: %(reason)s", user=e.actor, reason=d.get("reason", "")
    ),
    "proposal.confirm": lambda e, d: _(
        "Result confirmed by the signing body (%(count)s of %(members)s members signed).",
        count=d.get("signatures", "?"),
        members=d.get("members", "?"),
    ),
    "proposal.file": lambda e, d: _("Marked as filed with the district office."),
    "privacy.purge": lambda e, d: _(
        "Personal data purged: owner names and phones of %(households)s households, "
        "%(objections)s objectors, %(proxies)s proxy names, %(files)s evidence files.",
        households=d.get("households", 0),
        objections=d.get("objections", 0),
        proxies=d.get("proxies", 0),
        files=d.get("attachments", 0),
    ),
    "notice.posting": lambda e, d: _(
        "Posting of the %(notice)s recorded: %(place)s, %(when)s.",
        notice=NOTICE_NAMES.get(d.get("stage", ""), d.get("stage", "")),
        place=d.get("place", ""),
        when=_time(d.get("posted_at")),
    ),
    "nonvoters.export": lambda e, d: _(
        "List of %(count)s households that have not voted exported (%(format)s).",
        count=d.get("count", "?"),
        format=d.get("format", ""),
    ),
}


def describe(event: AuditEvent) -> str:
    """The event as a sentence in the current language."""
    try:
        data = json.loads(event.data or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    sentence = SENTENCES.get(event.action)
    if sentence is None:
        return f"{event.action}: {event.subject}".rstrip(": ")
    try:
        return sentence(event, data)
    except (KeyError, TypeError, ValueError):
        return f"{event.action}: {event.subject}"


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def _households(event: AuditEvent) -> set[str]:
    codes = {event.subject}
    try:
        data = json.loads(event.data or "{}")
    except ValueError:
        return codes
    if isinstance(data, dict) and isinstance(data.get("household"), str):
        codes.add(data["household"])
    return codes


@dataclass(frozen=True)
class Trail:
    events: list[AuditEvent]  # after filtering, in order
    actions: list[str]  # every action present (for the filter list)
    total: int  # before filtering


def trail(session: Session, proposal: Proposal, *, action: str = "", household: str = "") -> Trail:
    """The proposal's events, oldest first, filtered by action and household code."""
    events = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.proposal_id == proposal.id)
            .order_by(AuditEvent.seq, AuditEvent.id)
        )
    )
    actions = sorted({e.action for e in events}, key=lambda a: (a not in ACTIONS, a))
    chosen = events
    if action:
        chosen = [e for e in chosen if e.action == action]
    household = household.strip()
    if household:
        chosen = [e for e in chosen if household in _households(e)]
    return Trail(chosen, actions, len(events))
