"""A design plan's items and costs, and each household's share of them.

Shares are apportioned by exclusive area over the frozen electorate (or, for a draft,
the register within the scope), exact to the fen, by the pure `domain.costs` module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from ..domain import catalog
from ..domain.costs import PlanLine, format_yuan, household_shares
from ..models import Attachment, ElectorateEntry, Household, PlanItem, Proposal
from . import audit
from .errors import N_, Conflict, Invalid

YUAN = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """'1234.5' -> 123450 fen; at most two decimals, never negative."""
    match = YUAN.match((text or "").replace(",", ""))
    if not match:
        raise Invalid(N_("Not an amount in yuan: %(text)s"), text=(text or "")[:40])
    whole, frac = match.groups()
    return int(whole) * 100 + int((frac or "").ljust(2, "0"))


def lines(proposal: Proposal) -> list[PlanLine]:
    return [
        PlanLine(
            catalog.item(p.catalog_id),
            p.budget,
            p.resident_paid,
            (p.building or None) if catalog.item(p.catalog_id).building_only else None,
        )
        for p in proposal.plan_items
    ]


@dataclass(frozen=True)
class PlanSummary:
    items: list[tuple[PlanItem, catalog.CatalogItem, catalog.ItemCosts]]
    totals: catalog.PlanTotals


def summary(proposal: Proposal) -> PlanSummary | None:
    if not proposal.plan_items:
        return None
    rows = []
    for p in proposal.plan_items:
        item = catalog.item(p.catalog_id)
        rows.append((p, item, catalog.item_costs(item, p.budget, p.resident_paid)))
    totals = catalog.plan_totals((item, p.budget, p.resident_paid) for p, item, _ in rows)
    return PlanSummary(rows, totals)


def _households(session: Session, proposal: Proposal) -> dict[str, tuple[str, int]]:
    if proposal.status != "draft":
        rows = session.execute(
            select(ElectorateEntry.code, ElectorateEntry.building, ElectorateEntry.area).where(
                ElectorateEntry.proposal_id == proposal.id
            )
        )
    else:
        stmt = select(Household.code, Household.building, Household.area).where(
            Household.community_id == proposal.community_id, Household.removed_at.is_(None)
        )
        if proposal.scope_buildings:
            stmt = stmt.where(Household.building.in_(proposal.scope_buildings))
        rows = session.execute(stmt)
    return {code: (building, area) for code, building, area in rows}


def shares(session: Session, proposal: Proposal) -> dict[str, int]:
    """Every household's share in fen; empty when the proposal has no costed plan.

    Once the vote is open the shares are those fixed in the electorate at opening.
    """
    if proposal.status != "draft":
        return {
            code: share
            for code, share in session.execute(
                select(ElectorateEntry.code, ElectorateEntry.share).where(
                    ElectorateEntry.proposal_id == proposal.id,
                    ElectorateEntry.share.is_not(None),
                )
            )
        }
    if not proposal.plan_items:
        return {}
    households = _households(session, proposal)
    if not households:
        return {}
    return household_shares(lines(proposal), households)


def freeze_shares(session: Session, proposal: Proposal) -> None:
    """Apportion the plan over the electorate just frozen and keep each share with it, so a
    ballot page reads one number instead of apportioning the whole community again."""
    if not proposal.plan_items:
        return
    households = {
        code: (building, area)
        for code, building, area in session.execute(
            select(ElectorateEntry.code, ElectorateEntry.building, ElectorateEntry.area).where(
                ElectorateEntry.proposal_id == proposal.id
            )
        )
    }
    try:
        computed = household_shares(lines(proposal), households)
    except ValueError as exc:
        raise Invalid(N_("The plan cannot be apportioned: %(why)s"), why=str(exc)) from exc
    ids = dict(
        session.execute(
            select(ElectorateEntry.code, ElectorateEntry.id).where(
                ElectorateEntry.proposal_id == proposal.id
            )
        ).all()
    )
    session.execute(
        update(ElectorateEntry), [{"id": ids[code], "share": fen} for code, fen in computed.items()]
    )


def share_text(entry: ElectorateEntry) -> str:
    if entry.share is None:
        return ""
    return _("Your household's share: %(amount)s yuan", amount=format_yuan(entry.share))


def set_items(
    session: Session,
    proposal: Proposal,
    items: list[tuple[str, int, int, str]],
    *,
    actor: str,
) -> None:
    """Replace the plan's items: (catalog id, budget fen, resident-paid fen, building)."""
    if proposal.status != "draft":
        raise Conflict(N_("Only a draft can be edited"))
    new = []
    for catalog_id, budget, resident_paid, building in items:
        try:
            item = catalog.item(catalog_id)
            catalog.item_costs(item, budget, resident_paid)
        except (KeyError, ValueError, TypeError) as exc:
            raise Invalid(
                N_("Bad plan item %(item)s: %(why)s"), item=catalog_id, why=str(exc)
            ) from exc
        if item.building_only and not building.strip():
            raise Invalid(
                N_("Item %(item)s is paid by one building: name the building"), item=catalog_id
            )
        new.append(
            PlanItem(
                catalog_id=catalog_id,
                budget=budget,
                resident_paid=resident_paid,
                building=building.strip() if item.building_only else "",
            )
        )
    proposal.plan_items.clear()
    session.flush()
    proposal.plan_items.extend(new)
    session.flush()
    try:
        shares(session, proposal)
    except ValueError as exc:
        raise Invalid(N_("The plan cannot be apportioned: %(why)s"), why=str(exc)) from exc
    audit.record_for(
        session,
        proposal,
        "plan.items",
        actor=actor,
        subject=proposal.title,
        data={"items": [[c, b, r, bl] for c, b, r, bl in items]},
    )


def plan_attachment(session: Session, proposal: Proposal) -> Attachment | None:
    """The plan's attachment row; its file content loads only when read."""
    return session.scalar(
        select(Attachment)
        .options(defer(Attachment.data))
        .where(Attachment.proposal_id == proposal.id, Attachment.kind == "plan")
        .order_by(Attachment.id.desc())
        .limit(1)
    )
