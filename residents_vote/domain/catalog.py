"""The Liuzhou renovation item catalog and its funding rules (DOMAIN.md section 7).

Shipped as data rather than database rows: the catalog is a published schedule
(Liuzhou attachment 3), every plan line refers to it by id (``PlanItem.catalog_id``),
and the subsidy arithmetic must be auditable in one place. Money is integer fen
throughout; a subsidy is rounded *down* so it never exceeds its cap.

Funding principles (``CatalogItem.principle``):

``subsidy``
    Reward-subsidy (以奖代补) of at most ``cap_percent`` of the budget; the community
    raises the rest. The subsidy is ``floor(budget * cap / 100)``.
``municipal``
    Group 1. Behind-the-meter parts are paid by the residents (entered per line as
    ``resident_paid``); pipeline companies pay for the assets they own, so those are
    not part of the plan's budget; the subsidy covers the rest (digging, road
    restoration, ducts): ``subsidy = budget - resident_paid``.
``building-owners``
    Elevator retrofit. DOMAIN.md reads "≤ 90 %; elevator: paid by the owners of the
    building". Decision: the 90 % cap is the maximum subsidy, as for the other items
    4–7, and the remainder is paid by the owners of *that building only*
    (``ItemCosts.building_only``), never by the whole community.
``property-owner``
    Group 4. Paid by the property owner or through existing funding channels: no
    subsidy from this scheme and nothing raised from residents. The budget is shown
    as ``ItemCosts.external`` so that budget = subsidy + community_share + external.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "GROUPS",
    "ITEMS",
    "PRINCIPLES",
    "CatalogGroup",
    "CatalogItem",
    "ItemCosts",
    "PlanTotals",
    "item",
    "item_costs",
    "plan_totals",
]

PRINCIPLES: tuple[str, ...] = ("subsidy", "municipal", "building-owners", "property-owner")


@dataclass(frozen=True)
class CatalogGroup:
    """One of the four groups of attachment 3."""

    number: int
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class CatalogItem:
    """One renovation item; ``cap_percent`` is None where the subsidy is not a percentage."""

    id: str
    group: int
    name_zh: str
    name_en: str
    cap_percent: int | None
    principle: str
    note_zh: str
    note_en: str

    @property
    def building_only(self) -> bool:
        """True when the community share falls on one building's owners (elevator)."""
        return self.principle == "building-owners"


@dataclass(frozen=True)
class ItemCosts:
    """How one plan line's budget (fen) is funded.

    Always ``budget == subsidy + community_share + external``. ``community_share`` is
    what residents raise; when ``building_only`` it is raised from one building only.
    """

    item_id: str
    budget: int
    subsidy: int
    community_share: int
    external: int
    building_only: bool


@dataclass(frozen=True)
class PlanTotals:
    """Sums over a plan's lines, with the per-line breakdown in input order."""

    budget: int
    subsidy: int
    community_share: int
    external: int
    items: tuple[ItemCosts, ...]

    @property
    def building_only_share(self) -> int:
        """The part of ``community_share`` raised from single buildings (elevators)."""
        return sum(c.community_share for c in self.items if c.building_only)


GROUPS: Mapping[int, CatalogGroup] = MappingProxyType(
    {
        1: CatalogGroup(1, "市政配套基础设施改造", "Municipal supporting facilities"),
        2: CatalogGroup(2, "小区内环境及配套设施改造", "Community environment and facilities"),
        3: CatalogGroup(3, "建筑物本体改造", "Building body"),
        4: CatalogGroup(4, "公共服务设施配套建设", "Public service facilities"),
    }
)

_NOTES: dict[tuple[str, int | None], tuple[str, str]] = {
    ("municipal", None): (
        "户表后部分由居民承担，管线单位承担其产权资产，其余（开挖、路面恢复、管沟等）以奖代补",
        "Behind-the-meter parts paid by residents; pipeline companies pay for assets they "
        "own; the subsidy covers the rest (digging, road restoration, ducts).",
    ),
    ("subsidy", 95): (
        "以奖代补不超过预算的95%，其余由小区居民筹集",
        "Reward-subsidy up to 95% of the budget; the community raises the rest.",
    ),
    ("subsidy", 90): (
        "以奖代补不超过预算的90%，其余由小区居民筹集",
        "Reward-subsidy up to 90% of the budget; the community raises the rest.",
    ),
    ("building-owners", 90): (
        "以奖代补不超过预算的90%，其余由该栋楼业主承担",
        "Reward-subsidy up to 90% of the budget; the owners of that building pay the rest.",
    ),
    ("property-owner", None): (
        "由产权单位或原有资金渠道承担",
        "Paid by the property owner or through existing funding channels.",
    ),
}

# (id, Chinese name, English name, cap %, principle), in attachment order.
_ROWS: tuple[tuple[str, str, str, int | None, str], ...] = (
    # Group 1: municipal supporting facilities, subsidy "by item".
    ("1.1", "供水设施", "Water supply", None, "municipal"),
    ("1.2", "供电设施", "Power supply", None, "municipal"),
    ("1.3", "燃气设施", "Gas", None, "municipal"),
    ("1.4", "弱电（通信）设施", "Low-voltage cabling (telecoms)", None, "municipal"),
    ("1.5", "市政道路", "Municipal roads", None, "municipal"),
    # Group 2: environment, items 1-5 at <= 95 %.
    ("2.1", "环卫设施", "Sanitation facilities", 95, "subsidy"),
    ("2.2", "小区内道路", "Internal roads", 95, "subsidy"),
    ("2.3", "雨污管网", "Rain and sewage pipes", 95, "subsidy"),
    ("2.4", "路灯照明", "Street lights", 95, "subsidy"),
    ("2.5", "消防设施", "Fire safety", 95, "subsidy"),
    # Group 2: environment, items 6-11 at <= 90 %.
    ("2.6", "围墙及大门", "Walls and gates", 90, "subsidy"),
    ("2.7", "停车设施", "Parking", 90, "subsidy"),
    ("2.8", "绿化", "Greening", 90, "subsidy"),
    ("2.9", "安防监控", "CCTV", 90, "subsidy"),
    ("2.10", "宣传栏", "Notice boards", 90, "subsidy"),
    ("2.11", "晾晒设施", "Quilt-drying area", 90, "subsidy"),
    # Group 3: building body, items 1-3 at <= 95 %.
    ("3.1", "屋面", "Roofs", 95, "subsidy"),
    ("3.2", "楼道", "Stairwells", 95, "subsidy"),
    (
        "3.3",
        "适老化设施（60周岁以上居民占比达25%及以上的小区）",
        "Elderly-friendly facilities (where at least 25% of residents are 60+)",
        95,
        "subsidy",
    ),
    # Group 3: building body, items 4-7 at <= 90 %; the elevator falls on its building.
    ("3.4", "烟道", "Flues", 90, "subsidy"),
    ("3.5", "外立面", "Facades", 90, "subsidy"),
    ("3.6", "楼道门禁", "Stairwell access control", 90, "subsidy"),
    ("3.7", "加装电梯", "Elevator retrofit", 90, "building-owners"),
    # Group 4: public service facilities, by the property owner / existing channels.
    ("4.1", "既有建筑改造利用", "Reuse of existing buildings", None, "property-owner"),
    ("4.2", "新建公共服务设施", "New public service facilities", None, "property-owner"),
)


def _build(row: tuple[str, str, str, int | None, str]) -> CatalogItem:
    item_id, name_zh, name_en, cap, principle = row
    note_zh, note_en = _NOTES[(principle, cap)]
    return CatalogItem(
        id=item_id,
        group=int(item_id.split(".")[0]),
        name_zh=name_zh,
        name_en=name_en,
        cap_percent=cap,
        principle=principle,
        note_zh=note_zh,
        note_en=note_en,
    )


ITEMS: tuple[CatalogItem, ...] = tuple(_build(row) for row in _ROWS)
_BY_ID: Mapping[str, CatalogItem] = MappingProxyType({i.id: i for i in ITEMS})


def item(item_id: str) -> CatalogItem:
    """The catalog item with this id ("2.6"); KeyError names an unknown id."""
    try:
        return _BY_ID[item_id]
    except KeyError:
        raise KeyError(f"unknown catalog item: {item_id!r}") from None


def _check_fen(name: str, value: object) -> int:
    # bool is an int subclass; True fen is always a bug upstream.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be integer fen, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative: {value}")
    return value


def item_costs(item: CatalogItem, budget: int, resident_paid: int = 0) -> ItemCosts:
    """Split one line's budget (fen) into subsidy, community share and external funding.

    ``resident_paid`` (behind-the-meter parts) only exists for municipal items; a
    non-zero value on any other item raises ValueError rather than being ignored, so a
    plan can never silently misstate what residents pay.
    """
    budget = _check_fen("budget", budget)
    resident_paid = _check_fen("resident_paid", resident_paid)
    if item.principle == "municipal":
        if resident_paid > budget:
            raise ValueError(
                f"item {item.id}: resident_paid {resident_paid} exceeds budget {budget}"
            )
        subsidy, share, external = budget - resident_paid, resident_paid, 0
    else:
        if resident_paid:
            raise ValueError(f"item {item.id}: resident_paid applies to group 1 items only")
        if item.principle in ("subsidy", "building-owners") and item.cap_percent is not None:
            subsidy = budget * item.cap_percent // 100  # floor: never above the cap
            share, external = budget - subsidy, 0
        elif item.principle == "property-owner":
            subsidy, share, external = 0, 0, budget
        else:  # pragma: no cover - guarded by the catalog tests
            raise ValueError(
                f"item {item.id}: no funding rule for {item.principle!r} "
                f"with cap {item.cap_percent!r}"
            )
    return ItemCosts(
        item_id=item.id,
        budget=budget,
        subsidy=subsidy,
        community_share=share,
        external=external,
        building_only=item.building_only,
    )


def plan_totals(lines: Iterable[tuple[CatalogItem, int, int]]) -> PlanTotals:
    """Cost every ``(item, budget, resident_paid)`` line and sum the columns."""
    costs = tuple(item_costs(it, budget, paid) for it, budget, paid in lines)
    return PlanTotals(
        budget=sum(c.budget for c in costs),
        subsidy=sum(c.subsidy for c in costs),
        community_share=sum(c.community_share for c in costs),
        external=sum(c.external for c in costs),
        items=costs,
    )
