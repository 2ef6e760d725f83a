"""Every status change of a proposal goes through here, and so through the lifecycle table
(domain/lifecycle.py): a change the table does not allow, or whose guard refuses, is a
`Conflict` with the guard's reason; nothing else in the services assigns a status."""

from __future__ import annotations

import datetime as dt

from ..domain import lifecycle
from ..domain.lifecycle import Action, Facts
from ..models import Proposal, utcnow
from .errors import Conflict

__all__ = ["Action", "move"]


def move(
    proposal: Proposal, action: Action, *, now: dt.datetime | None = None, **facts: object
) -> lifecycle.Status:
    """Advance `proposal` by `action` under `facts` (see lifecycle.Facts); return the new
    status. The caller has gathered the facts its guard needs."""
    known = Facts(
        now=now or utcnow(),
        route=getattr(proposal, "route", None) or "vote",
        closes_at=proposal.closes_at,
        objection_ends_at=proposal.objection_ends_at,
        **facts,
    )
    try:
        new = lifecycle.advance(proposal.status, action, known)
    except lifecycle.Refused as exc:
        raise Conflict(exc.reason, **exc.params) from exc
    proposal.status = new.value
    return new
