"""Liuzhou item catalog and funding rules.

Cases quote the line of docs/DOMAIN.md section 7 (Liuzhou attachment 3) they check.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from residents_vote.domain.catalog import (
    GROUPS,
    ITEMS,
    PRINCIPLES,
    CatalogItem,
    item,
    item_costs,
    plan_totals,
)


# "Four groups, 25 items."
def test_four_groups_twenty_five_items() -> None:
    assert len(ITEMS) == 25
    assert sorted(GROUPS) == [1, 2, 3, 4]
    assert Counter(i.group for i in ITEMS) == {1: 5, 2: 11, 3: 7, 4: 2}


def test_ids_unique_numbered_in_order_and_match_group() -> None:
    ids = [i.id for i in ITEMS]
    assert len(set(ids)) == 25
    for group in GROUPS:
        numbers = [int(i.id.split(".")[1]) for i in ITEMS if i.group == group]
        assert numbers == list(range(1, len(numbers) + 1))
    for it in ITEMS:
        assert it.id.startswith(f"{it.group}.")
        assert it.principle in PRINCIPLES
        assert it.name_zh and it.name_en and it.note_zh and it.note_en
        assert GROUPS[it.group].number == it.group


CAPS = [
    # "| 1 municipal supporting facilities | water supply, power supply, gas, low-voltage
    #  cabling, municipal roads | by item: ..."
    (["1.1", "1.2", "1.3", "1.4", "1.5"], None, "municipal"),
    # "| 2 environment, items 1–5 | sanitation, internal roads, rain/sewage pipes, street
    #  lights, fire safety | ≤ 95 % |"
    (["2.1", "2.2", "2.3", "2.4", "2.5"], 95, "subsidy"),
    # "| 2 environment, items 6–11 | walls and gates, parking, greening, CCTV, notice
    #  boards, quilt-drying area | ≤ 90 % |"
    (["2.6", "2.7", "2.8", "2.9", "2.10", "2.11"], 90, "subsidy"),
    # "| 3 building body, items 1–3 | roofs, stairwells, elderly-friendly facilities
    #  (where ≥ 25 % of residents are 60+) | ≤ 95 % |"
    (["3.1", "3.2", "3.3"], 95, "subsidy"),
    # "| | 4 烟道改造, 5 立面整治, 6 楼道门禁系统 | subsidy ≤ 90 % |"
    (["3.4", "3.5", "3.6"], 90, "subsidy"),
    # "| | 7 加装电梯 | the owners of the building (no subsidy in the seed; ...) |"
    (["3.7"], None, "building-owners"),
    # "| 四 公共服务设施 | 1 既有建筑改造利用 | the property owner of the building |"
    (["4.1"], None, "property-owner"),
    # "| | 2 新建建筑设施 | existing funding channels |"
    (["4.2"], None, "existing-channels"),
]


@pytest.mark.parametrize(("ids", "cap", "principle"), CAPS)
def test_caps_and_principles(ids: list[str], cap: int | None, principle: str) -> None:
    for item_id in ids:
        it = item(item_id)
        assert (it.cap_percent, it.principle) == (cap, principle), item_id


def test_caps_table_covers_every_item() -> None:
    assert sorted(i for ids, _, _ in CAPS for i in ids) == sorted(i.id for i in ITEMS)


@pytest.mark.parametrize(
    ("item_id", "fragment"),
    [
        ("1.4", "弱电"),
        ("2.1", "环卫"),
        ("2.9", "监控系统"),
        ("2.10", "宣传栏"),
        ("2.11", "晾被"),
        ("3.3", "适老设施"),
        ("3.7", "电梯"),
    ],
)
def test_chinese_names(item_id: str, fragment: str) -> None:
    assert fragment in item(item_id).name_zh


def test_only_the_elevator_is_building_only() -> None:
    assert [i.id for i in ITEMS if i.building_only] == ["3.7"]


def test_unknown_item() -> None:
    with pytest.raises(KeyError, match="9.9"):
        item("9.9")


def test_catalog_is_immutable() -> None:
    with pytest.raises(AttributeError):
        item("2.1").cap_percent = 100  # type: ignore[misc]
    with pytest.raises(TypeError):
        GROUPS[5] = GROUPS[1]  # type: ignore[index]


# ------------------------------------------------------------------ item costs

CAPPED = [i for i in ITEMS if i.cap_percent is not None]


@settings(max_examples=200)
@given(it=st.sampled_from(CAPPED), budget=st.integers(min_value=0, max_value=10**13))
def test_subsidy_never_exceeds_cap_and_is_the_largest_below_it(
    it: CatalogItem, budget: int
) -> None:
    """DOMAIN.md: "≤ 95 %" / "≤ 90 %": the subsidy is the largest whole fen not above the cap."""
    costs = item_costs(it, budget)
    assert it.cap_percent is not None
    assert costs.subsidy * 100 <= budget * it.cap_percent
    assert (costs.subsidy + 1) * 100 > budget * it.cap_percent
    assert costs.subsidy + costs.community_share == budget
    assert costs.external == 0


@settings(max_examples=200)
@given(
    it=st.sampled_from(ITEMS),
    budget=st.integers(min_value=0, max_value=10**13),
    data=st.data(),
)
def test_every_item_balances(it: CatalogItem, budget: int, data: st.DataObject) -> None:
    paid = pipeline = granted = 0
    if "residents" in it.parts:
        paid = data.draw(st.integers(min_value=0, max_value=budget))
    if "pipeline" in it.parts:
        pipeline = data.draw(st.integers(min_value=0, max_value=budget - paid))
    if "granted-subsidy" in it.parts:
        granted = data.draw(st.integers(min_value=0, max_value=budget))
    costs = item_costs(it, budget, paid, pipeline, granted)
    assert costs.budget == budget
    assert costs.subsidy + costs.community_share + costs.external == budget
    assert min(costs.subsidy, costs.community_share, costs.external) >= 0
    assert costs.item_id == it.id
    assert costs.building_only is it.building_only


@pytest.mark.parametrize(
    ("item_id", "budget", "subsidy", "share"),
    [
        ("2.1", 100_000_00, 95_000_00, 5_000_00),
        ("2.6", 100_000_00, 90_000_00, 10_000_00),
        ("3.1", 19, 18, 1),  # 18.05 fen floors to 18: never above 95 %
        ("3.4", 9, 8, 1),  # 8.1 -> 8
        ("2.2", 0, 0, 0),
    ],
)
def test_subsidy_examples(item_id: str, budget: int, subsidy: int, share: int) -> None:
    costs = item_costs(item(item_id), budget)
    assert (costs.subsidy, costs.community_share) == (subsidy, share)


def test_municipal_resident_paid() -> None:
    """DOMAIN.md: "behind-the-meter parts paid by residents; ... subsidy covers the rest"."""
    costs = item_costs(item("1.1"), 500_000_00, 120_000_00)
    assert (costs.subsidy, costs.community_share, costs.external) == (380_000_00, 120_000_00, 0)
    assert not costs.building_only
    assert item_costs(item("1.3"), 1000).subsidy == 1000


@pytest.mark.parametrize("paid", [-1, 1001])
def test_municipal_resident_paid_bounds(paid: int) -> None:
    with pytest.raises(ValueError):
        item_costs(item("1.2"), 1000, paid)


def test_resident_paid_only_for_municipal_items() -> None:
    with pytest.raises(ValueError, match="group 1"):
        item_costs(item("2.1"), 1000, 1)


def test_elevator_paid_by_its_building() -> None:
    """DOMAIN.md: "7 加装电梯 | the owners of the building (no subsidy in the seed ...)"."""
    costs = item_costs(item("3.7"), 600_000_00)
    assert (costs.subsidy, costs.community_share) == (0, 600_000_00)
    assert costs.building_only


def test_property_owner_items_cost_residents_nothing() -> None:
    """DOMAIN.md: "by the property owner / existing funding channels"."""
    costs = item_costs(item("4.2"), 300_000_00)
    assert (costs.subsidy, costs.community_share, costs.external) == (0, 0, 300_000_00)


@pytest.mark.parametrize("budget", [-1, 1.5, "100", True])
def test_budget_must_be_non_negative_integer_fen(budget: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        item_costs(item("2.1"), budget)  # type: ignore[arg-type]


def test_plan_totals() -> None:
    lines = [
        (item("1.1"), 200_000_00, 50_000_00),
        (item("2.1"), 100_000_00, 0),
        (item("2.6"), 33_333, 0),
        (item("3.7"), 600_000_00, 0),
        (item("4.1"), 80_000_00, 0),
    ]
    totals = plan_totals(lines)
    assert [c.item_id for c in totals.items] == ["1.1", "2.1", "2.6", "3.7", "4.1"]
    assert totals.budget == sum(b for _, b, _ in lines)
    assert totals.subsidy == 150_000_00 + 95_000_00 + 29_999
    assert totals.community_share == 50_000_00 + 5_000_00 + 3_334 + 600_000_00
    assert totals.external == 80_000_00
    assert totals.budget == totals.subsidy + totals.community_share + totals.external
    assert totals.building_only_share == 600_000_00


def test_plan_totals_empty() -> None:
    totals = plan_totals([])
    assert (totals.budget, totals.subsidy, totals.community_share, totals.items) == (0, 0, 0, ())
