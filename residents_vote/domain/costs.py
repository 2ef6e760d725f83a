"""Household shares of a plan's cost, exact to the fen (DOMAIN.md section 7).

A resident wants to see *their own* share, and the published shares must add up to
the community's share exactly: a fen created or lost by rounding is a discrepancy
someone will find. So amounts are integer fen, weights are exclusive areas in integer
hundredths of m², and rounding uses the largest-remainder method with a
deterministic tie-break. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from residents_vote.domain.catalog import CatalogItem, item_costs

__all__ = ["PlanLine", "apportion", "format_yuan", "household_share_parts", "household_shares"]


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` fen among ``weights``' keys in proportion, summing exactly to total.

    Largest remainder: each key gets ``floor(total * w / W)``; the fen left over go one
    each to the keys with the largest remainders, ties broken by key in ascending
    order. Every share is therefore within one fen of its exact proportional value,
    and the result depends only on the mapping's contents, not its insertion order
    (it is returned sorted by key).

    Raises ValueError for a negative total, a non-positive weight, or a positive
    total with nobody to pay it. A zero total gives every key zero.
    """
    if not isinstance(total, int) or isinstance(total, bool):
        raise TypeError(f"total must be integer fen, not {type(total).__name__}")
    if total < 0:
        raise ValueError(f"total must not be negative: {total}")
    for key, weight in weights.items():
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise TypeError(f"weight of {key!r} must be an integer, not {type(weight).__name__}")
        if weight <= 0:
            raise ValueError(f"weight of {key!r} must be positive: {weight}")
    keys = sorted(weights)
    if not keys:
        if total:
            raise ValueError(f"cannot apportion {total} fen among no one")
        return {}
    whole = sum(weights.values())
    shares: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for key in keys:
        shares[key], remainders[key] = divmod(total * weights[key], whole)
    leftover = total - sum(shares.values())  # 0 <= leftover < len(keys)
    # Stable sort on keys already ascending: equal remainders stay in key order.
    for key in sorted(keys, key=lambda k: -remainders[k])[:leftover]:
        shares[key] += 1
    return shares


@dataclass(frozen=True)
class PlanLine:
    """A costed plan line; ``building`` names the building a building-only item concerns.

    ``building`` is required for building-only items (elevator retrofit) and must be
    None for every other item, so an elevator can never be charged to the whole
    community by omission.
    """

    item: CatalogItem
    budget: int
    resident_paid: int = 0
    building: str | None = None
    pipeline_paid: int = 0
    granted_subsidy: int = 0


def household_shares(
    lines: Iterable[PlanLine], households: Mapping[str, tuple[str, int]]
) -> dict[str, int]:
    """Each household's share (fen) of the plan's community share, by exclusive area.

    ``households`` maps household code to ``(building, area in hundredths of m²)``.
    Only the residents' part of each line (``ItemCosts.community_share``) is
    apportioned: the subsidy, the pipeline company's, the property owner's and other
    channels' parts are not. Community-wide shares are pooled and apportioned once
    over every household; building-only shares (an elevator) are pooled per building
    and apportioned over that building's households only. Pooling before rounding
    keeps each household within one fen of its exact share of each pool (instead of
    one fen per line), and the result sums exactly to the plan's community share.
    Returned sorted by code.
    """
    return {code: total for code, (total, _) in household_share_parts(lines, households).items()}


def household_share_parts(
    lines: Iterable[PlanLine], households: Mapping[str, tuple[str, int]]
) -> dict[str, tuple[int, int]]:
    """As `household_shares`, each value ``(total, building part)``: the building part is
    what the household pays for its own building's building-only items (the elevator),
    already included in the total; 0 for a household of any other building."""
    community_pool = 0
    building_pools: dict[str, int] = {}
    for line in lines:
        costs = item_costs(
            line.item, line.budget, line.resident_paid, line.pipeline_paid, line.granted_subsidy
        )
        if costs.building_only:
            if line.building is None:
                raise ValueError(f"item {line.item.id} is building-only: name its building")
            building_pools[line.building] = (
                building_pools.get(line.building, 0) + costs.community_share
            )
        else:
            if line.building is not None:
                raise ValueError(f"item {line.item.id} is community-wide: it takes no building")
            community_pool += costs.community_share

    shares = apportion(community_pool, {code: area for code, (_, area) in households.items()})
    own = dict.fromkeys(shares, 0)
    for building, pool in sorted(building_pools.items()):
        members = {code: area for code, (b, area) in households.items() if b == building}
        if not members and pool:
            raise ValueError(f"no households in building {building!r} to pay {pool} fen")
        for code, share in apportion(pool, members).items():
            own[code] += share
    return {code: (shares[code] + own[code], own[code]) for code in shares}


def format_yuan(fen: int) -> str:
    """Fen as yuan text with thousands separators and two decimals: 123456 -> "1,234.56"."""
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{frac:02d}"
