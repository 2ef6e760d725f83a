"""A design plan's items and costs, and each household's share of them.

Shares are apportioned by exclusive area over the frozen electorate (or, for a draft,
the register within the scope), exact to the fen, by the pure `domain.costs` module.
Only the residents' part of each item is apportioned, and an elevator's only over the
households of its building (DOMAIN.md section 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from ..domain import catalog
from ..domain.costs import PlanLine, format_yuan, household_share_parts, household_shares
from ..models import Attachment, ElectorateEntry, Household, PlanItem, Proposal
from . import audit
from .errors import N_, Conflict, Invalid, ServiceError
from .unit import Store

YUAN = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """'1234.5' -> 123450 fen; at most two decimals, never negative."""
    match = YUAN.match((text or "").replace(",", ""))
    if not match:
        raise Invalid(N_("Not an amount in yuan: %(text)s"), text=(text or "")[:40])
    whole, frac = match.groups()
    return int(whole) * 100 + int((frac or "").ljust(2, "0"))


class ItemInput(NamedTuple):
    """One plan line as staff enter it (amounts in fen)."""

    catalog_id: str
    budget: int
    resident_paid: int = 0
    building: str = ""
    pipeline_paid: int = 0
    granted_subsidy: int = 0


def lines(proposal: Proposal) -> list[PlanLine]:
    return [
        PlanLine(
            catalog.item(p.catalog_id),
            p.budget,
            p.resident_paid,
            (p.building or None) if catalog.item(p.catalog_id).building_only else None,
            p.pipeline_paid or 0,
            p.granted_subsidy or 0,
        )
        for p in proposal.plan_items
    ]


@dataclass(frozen=True)
class PlanSummary:
    items: list[tuple[PlanItem, catalog.CatalogItem, catalog.ItemCosts]]
    totals: catalog.PlanTotals


def _amounts(p: PlanItem) -> tuple[int, int, int, int]:
    return p.budget, p.resident_paid, p.pipeline_paid or 0, p.granted_subsidy or 0


def summary(proposal: Proposal) -> PlanSummary | None:
    if not proposal.plan_items:
        return None
    rows = []
    for p in proposal.plan_items:
        item = catalog.item(p.catalog_id)
        rows.append((p, item, catalog.item_costs(item, *_amounts(p))))
    totals = catalog.plan_totals((item, *_amounts(p)) for p, item, _ in rows)
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
        computed = household_share_parts(lines(proposal), households)
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
        update(ElectorateEntry),
        [
            {"id": ids[code], "share": total, "building_share": own}
            for code, (total, own) in computed.items()
        ],
    )


def share_text(entry: ElectorateEntry) -> str:
    """The household's share for its ballot; the elevator part is named only for the
    households of the elevator's building (no one else pays any of it)."""
    if entry.share is None:
        return ""
    if entry.building_share:
        return _(
            "Your household's share: %(amount)s yuan, of which %(elevator)s yuan for the "
            "elevator of building %(building)s",
            amount=format_yuan(entry.share),
            elevator=format_yuan(entry.building_share),
            building=entry.building,
        )
    return _("Your household's share: %(amount)s yuan", amount=format_yuan(entry.share))


def share_texts(session: Session, proposal: Proposal) -> dict[str, str]:
    """Every household's `share_text` (for the printed ballots), by household code."""
    return {
        entry.code: share_text(entry)
        for entry in session.scalars(
            select(ElectorateEntry).where(
                ElectorateEntry.proposal_id == proposal.id, ElectorateEntry.share.is_not(None)
            )
        )
    }


def set_items(
    session: Session,
    proposal: Proposal,
    items: list[ItemInput] | list[tuple],
    *,
    actor: str,
) -> None:
    """Replace the plan's items: (catalog id, budget fen, resident-paid fen, building
    [, pipeline-paid fen[, granted subsidy fen]]), see `ItemInput`."""
    if proposal.status != "draft":
        raise Conflict(N_("Only a draft can be edited"))
    entered = [ItemInput(*line) for line in items]
    new = []
    for catalog_id, budget, resident_paid, building, pipeline_paid, granted in entered:
        try:
            item = catalog.item(catalog_id)
            catalog.item_costs(item, budget, resident_paid, pipeline_paid, granted)
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
                pipeline_paid=pipeline_paid,
                granted_subsidy=granted,
                building=building.strip() if item.building_only else "",
            )
        )
    proposal.plan_items.clear()
    session.flush()
    proposal.plan_items.extend(new)
    session.flush()
    households = _households(session, proposal)
    buildings = {b for b, _ in households.values()}
    for p in new:
        if p.building and p.building not in buildings:
            raise Invalid(
                N_("Item %(item)s: building %(b)s has no households in this vote's scope"),
                item=p.catalog_id,
                b=p.building,
            )
    try:
        if households:
            household_shares(lines(proposal), households)
    except ValueError as exc:
        raise Invalid(N_("The plan cannot be apportioned: %(why)s"), why=str(exc)) from exc
    audit.record_for(
        session,
        proposal,
        "plan.items",
        actor=actor,
        subject=proposal.title,
        data={"items": [list(line) for line in entered]},
    )


_NAMED = {"residents": 2, "building": 3, "pipeline": 4, "subsidy": 5}
# The same part names as a Chinese form shows them (either is accepted).
_CHINESE = {"residents": "居民", "building": "楼栋", "pipeline": "管线单位", "subsidy": "补助"}
_NAMED |= {zh: _NAMED[en] for en, zh in _CHINESE.items()}


def parse_lines(text: str) -> list[ItemInput]:
    """The staff form's plan lines: ``item, budget`` then the parts, by position (the
    older form: ``residents, building``) or by name (``residents=``, ``pipeline=``,
    ``subsidy=`` for a granted elevator subsidy, ``building=``); amounts in yuan."""
    out = []
    for number, line in enumerate((text or "").splitlines(), 1):
        parts = [x.strip() for x in line.replace("，", ",").split(",")]
        if not parts or not parts[0]:
            continue
        if len(parts) < 2 or not parts[1]:
            raise Invalid(N_("Plan line %(n)s: give the item and its budget"), n=number)
        values: list[object] = [parts[0], parse_yuan(parts[1]), 0, "", 0, 0]
        for position, part in enumerate(parts[2:], 2):
            name, sep, value = part.partition("=")
            if sep:
                index = _NAMED.get(name.strip().lower())
                if index is None:
                    raise Invalid(
                        N_("Plan line %(n)s: unknown part %(part)s"), n=number, part=name[:40]
                    )
                value = value.strip()
            elif position <= 3:
                index, value = position, part
            else:
                raise Invalid(
                    N_("Plan line %(n)s: name each extra part, e.g. pipeline=800"), n=number
                )
            values[index] = value if index == 3 else parse_yuan(value or "0")
        out.append(ItemInput(*values))  # type: ignore[arg-type]
    return out


def format_lines(proposal: Proposal) -> str:
    """The plan's lines as the staff form reads them back (`parse_lines` of this is the
    same plan), with the part names in the reader's language."""
    chinese = not str(get_locale() or "").startswith("en")

    def key(name: str) -> str:
        return _CHINESE[name] if chinese else name

    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    out = []
    for p in proposal.plan_items:
        parts = [p.catalog_id, yuan(p.budget)]
        if p.resident_paid:
            parts.append(f"{key('residents')}={yuan(p.resident_paid)}")
        if p.pipeline_paid:
            parts.append(f"{key('pipeline')}={yuan(p.pipeline_paid)}")
        if p.building:
            parts.append(f"{key('building')}={p.building}")
        if p.granted_subsidy:
            parts.append(f"{key('subsidy')}={yuan(p.granted_subsidy)}")
        out.append(", ".join(parts))
    return "\n".join(out)


def plan_attachment(session: Session, proposal: Proposal) -> Attachment | None:
    """The plan's attachment row; its file content loads only when read."""
    return session.scalar(
        select(Attachment)
        .options(defer(Attachment.data))
        .where(Attachment.proposal_id == proposal.id, Attachment.kind == "plan")
        .order_by(Attachment.id.desc())
        .limit(1)
    )


# --- Use cases: each opens and commits its own transaction (services/unit.py) -----------


def save_plan(
    store: Store,
    proposal_id: int,
    *,
    plan: tuple[str, bytes] | None,
    items: str | None,
    username: str,
) -> None:
    """Attach the design plan PDF (`plan`: the uploaded file name and bytes) and/or set the
    costed plan items from the staff form's lines (`items`; None leaves them as they are).
    Only a draft can be edited."""
    from . import attachments, proposals, users

    with store.write() as s:
        proposal = proposals.lock(s, proposal_id)
        if proposal.status != "draft":
            raise ServiceError("Only a draft can be edited")
        upload = attachments.accept(*plan, ("application/pdf",)) if plan else None
        if upload:
            attachments.add(s, proposal, "plan", upload, by=users.acting_user(s, username))
        if items is not None:
            set_items(s, proposal, parse_lines(items), actor=username)
