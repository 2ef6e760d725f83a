"""The Liuzhou renovation item catalog and its funding rules (DOMAIN.md section 7).

Shipped as data rather than database rows: the catalog is a published schedule
(Liuzhou attachment 3, names exactly as its table writes them), every plan line refers
to it by id (``PlanItem.catalog_id``), and the funding arithmetic must be auditable in
one place. Money is integer fen throughout; a subsidy is rounded *down* so it never
exceeds its cap.

Funding principles (``CatalogItem.principle``); every line's budget is split as
``budget == subsidy + community_share + pipeline + property_owner + other_channels``:

``municipal``
    Group 一, by the metering rule: the plan line records each part. Behind the meter
    (计费表后): the residents (``resident_paid``, the community share); assets owned
    by the pipeline company, or (弱电) moving each operator's cables: that company
    (``pipeline_paid``); the rest (from the meter to the company's assets, digging,
    road restoration, ducts and trenches, municipal roads): the subsidy. Which parts
    an item may carry is in ``CatalogItem.parts`` (1.4 has no residents' part, 1.5 is
    subsidy only).
``subsidy``
    Reward-subsidy (以奖代补) of at most ``cap_percent`` of the budget; the community
    raises the rest. The subsidy is ``floor(budget * cap / 100)``.
``building-owners``
    Elevator retrofit (三.7): paid by the owners of *that building only*
    (``ItemCosts.building_only``). No subsidy in the seed; a plan may enter a subsidy it
    has been granted (``granted_subsidy``, at most the budget).
``property-owner``
    四.1: paid by the property owner of the building; nothing from residents.
``existing-channels``
    四.2: paid through existing funding channels; nothing from residents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "GROUPS",
    "ITEMS",
    "PARTS",
    "PRINCIPLES",
    "CatalogGroup",
    "CatalogItem",
    "ItemCosts",
    "PlanTotals",
    "item",
    "item_costs",
    "plan_totals",
]

PRINCIPLES: tuple[str, ...] = (
    "municipal",
    "subsidy",
    "building-owners",
    "property-owner",
    "existing-channels",
)
# Parts a plan line may enter besides its budget (see CatalogItem.parts).
PARTS: tuple[str, ...] = ("residents", "pipeline", "granted-subsidy")


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
    parts: tuple[str, ...] = ()  # which of PARTS a plan line of this item may enter

    @property
    def building_only(self) -> bool:
        """True when the community share falls on one building's owners (elevator)."""
        return self.principle == "building-owners"


@dataclass(frozen=True)
class ItemCosts:
    """How one plan line's budget (fen) is funded.

    Always ``budget == subsidy + community_share + pipeline + property_owner +
    other_channels``. ``community_share`` is what residents raise (the only part
    apportioned to households); when ``building_only`` it is raised from one building.
    """

    item_id: str
    budget: int
    subsidy: int
    community_share: int
    building_only: bool
    pipeline: int = 0  # pipeline company / cable operators (group 一)
    property_owner: int = 0  # 四.1
    other_channels: int = 0  # 四.2

    @property
    def external(self) -> int:
        """Paid neither by the subsidy nor by residents."""
        return self.pipeline + self.property_owner + self.other_channels


@dataclass(frozen=True)
class PlanTotals:
    """Sums over a plan's lines, with the per-line breakdown in input order."""

    budget: int
    subsidy: int
    community_share: int
    items: tuple[ItemCosts, ...]
    pipeline: int = 0
    property_owner: int = 0
    other_channels: int = 0

    @property
    def external(self) -> int:
        return self.pipeline + self.property_owner + self.other_channels

    @property
    def building_only_share(self) -> int:
        """The part of ``community_share`` raised from single buildings (elevators)."""
        return sum(c.community_share for c in self.items if c.building_only)


GROUPS: Mapping[int, CatalogGroup] = MappingProxyType(
    {
        1: CatalogGroup(1, "市政配套设施", "Municipal supporting facilities"),
        2: CatalogGroup(2, "小区环境及配套设施", "Community environment and facilities"),
        3: CatalogGroup(3, "建筑物本体", "Building body"),
        4: CatalogGroup(4, "公共服务设施", "Public service facilities"),
    }
)

_METERED = (
    "计费表后部分由居民承担；计费表至管线单位产权资产部分以奖代补；管线单位产权资产由该单位承担",
    "Behind the meter: the residents; from the meter to the pipeline company's assets: the "
    "subsidy; assets owned by the pipeline company: that company.",
)
_NOTES: dict[str, tuple[str, str]] = {
    "1.1": _METERED,
    "1.2": _METERED,
    "1.3": (
        "小区内新建燃气管道由居民承担；旧管道更新由管线单位承担；管道开挖及路面恢复以奖代补",
        "New gas pipes inside the community: the residents; renewal of old pipes: the "
        "pipeline company; digging and road restoration for the pipes: the subsidy.",
    ),
    "1.4": (
        "管道、桥架、管沟以奖代补；各运营商线缆迁改由运营商承担",
        "Ducts, trays and trenches: the subsidy; moving each operator's cables: the operators.",
    ),
    "1.5": (
        "以奖代补（市政道路及雨污主管网）",
        "The subsidy (municipal roads and rain/sewage mains).",
    ),
    "3.3": (
        "60周岁以上居民占比达25%及以上的小区；以奖代补不超过预算的95%，其余由小区居民筹集",
        "Where at least 25% of residents are 60 or older; reward-subsidy up to 95% of the "
        "budget, the community raises the rest.",
    ),
    "3.7": (
        "由该栋楼业主承担；不含以奖代补，已获批补助的可在方案中填入（具体要求以相关规定为准）",
        "Paid by the owners of the building; no subsidy in the seed, a plan may enter a "
        "subsidy it has been granted.",
    ),
    "4.1": ("由建筑物产权单位承担", "Paid by the property owner of the building."),
    "4.2": ("由原有资金渠道承担", "Paid through existing funding channels."),
}
_CAP_NOTES: dict[int, tuple[str, str]] = {
    95: (
        "以奖代补不超过预算的95%，其余由小区居民筹集",
        "Reward-subsidy up to 95% of the budget; the community raises the rest.",
    ),
    90: (
        "以奖代补不超过预算的90%，其余由小区居民筹集",
        "Reward-subsidy up to 90% of the budget; the community raises the rest.",
    ),
}
_PARTS: dict[str, tuple[str, ...]] = {
    "1.1": ("residents", "pipeline"),
    "1.2": ("residents", "pipeline"),
    "1.3": ("residents", "pipeline"),
    "1.4": ("pipeline",),  # the operators move their own cables
    "1.5": (),
    "3.7": ("granted-subsidy",),
}

# (id, Chinese name as in attachment 3, English name, cap %, principle), in table order.
_ROWS: tuple[tuple[str, str, str, int | None, str], ...] = (
    # 一 市政配套设施: by the metering rule.
    ("1.1", "供水", "Water supply", None, "municipal"),
    ("1.2", "供电", "Power supply", None, "municipal"),
    ("1.3", "供气", "Gas supply", None, "municipal"),
    ("1.4", "弱电", "Low-voltage cabling", None, "municipal"),
    ("1.5", "市政道路", "Municipal roads", None, "municipal"),
    # 二 小区环境及配套设施: items 1-5 at <= 95 %.
    ("2.1", "环卫设施", "Sanitation facilities", 95, "subsidy"),
    ("2.2", "区间道路", "Internal roads", 95, "subsidy"),
    ("2.3", "雨污管网", "Rain and sewage pipes", 95, "subsidy"),
    ("2.4", "路灯照明", "Street lighting", 95, "subsidy"),
    ("2.5", "消防设施", "Fire-fighting facilities", 95, "subsidy"),
    # 二: items 6-11 at <= 90 %.
    ("2.6", "围墙和大门", "Walls and gates", 90, "subsidy"),
    ("2.7", "停车管理系统", "Parking management system", 90, "subsidy"),
    ("2.8", "绿化改造", "Greening renovation", 90, "subsidy"),
    ("2.9", "监控系统", "Surveillance system", 90, "subsidy"),
    ("2.10", "广告牌位或宣传栏", "Advertising spaces or notice boards", 90, "subsidy"),
    ("2.11", "公共晾被区", "Public quilt-drying area", 90, "subsidy"),
    # 三 建筑物本体: items 1-3 at <= 95 %.
    ("3.1", "屋面修缮", "Roof repair", 95, "subsidy"),
    ("3.2", "楼道修缮", "Stairwell repair", 95, "subsidy"),
    ("3.3", "适老设施", "Elderly-friendly facilities", 95, "subsidy"),
    # 三: items 4-6 at <= 90 %; the elevator falls on its building.
    ("3.4", "烟道改造", "Flue renovation", 90, "subsidy"),
    ("3.5", "立面整治", "Facade improvement", 90, "subsidy"),
    ("3.6", "楼道门禁系统", "Stairwell access control system", 90, "subsidy"),
    ("3.7", "加装电梯", "Elevator retrofit", None, "building-owners"),
    # 四 公共服务设施: the property owner / existing channels.
    ("4.1", "既有建筑改造利用", "Reuse of existing buildings", None, "property-owner"),
    ("4.2", "新建建筑设施", "New buildings and facilities", None, "existing-channels"),
)


def _build(row: tuple[str, str, str, int | None, str]) -> CatalogItem:
    item_id, name_zh, name_en, cap, principle = row
    note_zh, note_en = _NOTES.get(item_id) or _CAP_NOTES[cap or 0]
    return CatalogItem(
        id=item_id,
        group=int(item_id.split(".")[0]),
        name_zh=name_zh,
        name_en=name_en,
        cap_percent=cap,
        principle=principle,
        note_zh=note_zh,
        note_en=note_en,
        parts=_PARTS.get(item_id, ()),
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


def item_costs(
    item: CatalogItem,
    budget: int,
    resident_paid: int = 0,
    pipeline_paid: int = 0,
    granted_subsidy: int = 0,
) -> ItemCosts:
    """Split one line's budget (fen) by who pays it.

    ``resident_paid`` and ``pipeline_paid`` (group 一, by the metering rule) and
    ``granted_subsidy`` (the elevator) exist only where ``item.parts`` lists them; a
    non-zero value anywhere else raises ValueError rather than being ignored, so a plan
    can never silently misstate what residents pay.
    """
    budget = _check_fen("budget", budget)
    resident_paid = _check_fen("resident_paid", resident_paid)
    pipeline_paid = _check_fen("pipeline_paid", pipeline_paid)
    granted_subsidy = _check_fen("granted_subsidy", granted_subsidy)
    for part, value, where in (
        ("residents", resident_paid, "resident_paid applies to group 1 items 1.1-1.3 only"),
        ("pipeline", pipeline_paid, "pipeline_paid applies to group 1 items 1.1-1.4 only"),
        ("granted-subsidy", granted_subsidy, "granted_subsidy applies to item 3.7 only"),
    ):
        if value and part not in item.parts:
            raise ValueError(f"item {item.id}: {where}")
    pipeline = property_owner = other = 0
    if item.principle == "municipal":
        if resident_paid + pipeline_paid > budget:
            raise ValueError(
                f"item {item.id}: residents' {resident_paid} and pipeline company's "
                f"{pipeline_paid} exceed the budget {budget}"
            )
        share, pipeline = resident_paid, pipeline_paid
        subsidy = budget - share - pipeline
    elif item.principle == "subsidy" and item.cap_percent is not None:
        subsidy = budget * item.cap_percent // 100  # floor: never above the cap
        share = budget - subsidy
    elif item.principle == "building-owners":
        if granted_subsidy > budget:
            raise ValueError(
                f"item {item.id}: granted subsidy {granted_subsidy} exceeds budget {budget}"
            )
        subsidy, share = granted_subsidy, budget - granted_subsidy
    elif item.principle == "property-owner":
        subsidy, share, property_owner = 0, 0, budget
    elif item.principle == "existing-channels":
        subsidy, share, other = 0, 0, budget
    else:  # pragma: no cover - guarded by the catalog tests
        raise ValueError(
            f"item {item.id}: no funding rule for {item.principle!r} with cap {item.cap_percent!r}"
        )
    return ItemCosts(
        item_id=item.id,
        budget=budget,
        subsidy=subsidy,
        community_share=share,
        building_only=item.building_only,
        pipeline=pipeline,
        property_owner=property_owner,
        other_channels=other,
    )


def plan_totals(lines: Iterable[tuple]) -> PlanTotals:
    """Cost every ``(item, budget, resident_paid[, pipeline_paid[, granted_subsidy]])``
    line and sum the columns."""
    costs = tuple(item_costs(it, *amounts) for it, *amounts in lines)
    return PlanTotals(
        budget=sum(c.budget for c in costs),
        subsidy=sum(c.subsidy for c in costs),
        community_share=sum(c.community_share for c in costs),
        items=costs,
        pipeline=sum(c.pipeline for c in costs),
        property_owner=sum(c.property_owner for c in costs),
        other_channels=sum(c.other_channels for c in costs),
    )
