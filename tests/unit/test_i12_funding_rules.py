"""Issue 12 item 7: funding as the seed writes it (DOMAIN.md section 7, rewritten).

Names exactly as in attachment 3's table; the elevator (三.7) paid by its building's
owners with no subsidy unless the plan enters one it was granted; group 四 paid by the
property owner (四.1) or existing channels (四.2); group 一 split by the metering rule
(residents / pipeline company / subsidy). Only the residents' part is apportioned.
"""

from __future__ import annotations

import pytest

from residents_vote.domain.catalog import GROUPS, ITEMS, item, item_costs, plan_totals
from residents_vote.domain.costs import PlanLine, household_share_parts, household_shares

# DOMAIN.md section 7, the table, column "items (seed numbering)".
NAMES = {
    "1.1": "供水",
    "1.2": "供电",
    "1.3": "供气",
    "1.4": "弱电",
    "1.5": "市政道路",
    "2.1": "环卫设施",
    "2.2": "区间道路",
    "2.3": "雨污管网",
    "2.4": "路灯照明",
    "2.5": "消防设施",
    "2.6": "围墙和大门",
    "2.7": "停车管理系统",
    "2.8": "绿化改造",
    "2.9": "监控系统",
    "2.10": "广告牌位或宣传栏",
    "2.11": "公共晾被区",
    "3.1": "屋面修缮",
    "3.2": "楼道修缮",
    "3.3": "适老设施",
    "3.4": "烟道改造",
    "3.5": "立面整治",
    "3.6": "楼道门禁系统",
    "3.7": "加装电梯",
    "4.1": "既有建筑改造利用",
    "4.2": "新建建筑设施",
}
GROUP_NAMES = {1: "市政配套设施", 2: "小区环境及配套设施", 3: "建筑物本体", 4: "公共服务设施"}


def test_item_names_are_the_tables_names() -> None:
    assert {i.id: i.name_zh for i in ITEMS} == NAMES


def test_group_names_are_the_tables_names() -> None:
    assert {n: g.name_zh for n, g in GROUPS.items()} == GROUP_NAMES


def test_elderly_facilities_keep_their_condition_in_the_note() -> None:
    assert "25%" in item("3.3").note_zh and "60" in item("3.3").note_zh


# --- the elevator ---------------------------------------------------------------------------


def test_elevator_has_no_subsidy_by_default() -> None:
    costs = item_costs(item("3.7"), 600_000_00)
    assert (costs.subsidy, costs.community_share, costs.external) == (0, 600_000_00, 0)
    assert costs.building_only


def test_elevator_with_a_granted_subsidy() -> None:
    costs = item_costs(item("3.7"), 600_000_00, granted_subsidy=150_000_00)
    assert (costs.subsidy, costs.community_share) == (150_000_00, 450_000_00)


def test_granted_subsidy_cannot_exceed_the_budget_nor_apply_elsewhere() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        item_costs(item("3.7"), 100, granted_subsidy=101)
    with pytest.raises(ValueError, match="3.7"):
        item_costs(item("2.1"), 100, granted_subsidy=1)


# --- group 四 ------------------------------------------------------------------------------


def test_group_four_paid_by_property_owner_or_existing_channels() -> None:
    reuse = item_costs(item("4.1"), 80_000_00)
    new = item_costs(item("4.2"), 30_000_00)
    assert (reuse.subsidy, reuse.community_share, reuse.property_owner) == (0, 0, 80_000_00)
    assert (reuse.other_channels, reuse.pipeline) == (0, 0)
    assert (new.subsidy, new.community_share, new.other_channels) == (0, 0, 30_000_00)
    assert new.property_owner == 0


# --- group 一 ------------------------------------------------------------------------------


def test_metered_item_records_residents_pipeline_company_and_subsidy() -> None:
    costs = item_costs(item("1.1"), 500_000_00, 120_000_00, pipeline_paid=80_000_00)
    assert (costs.community_share, costs.pipeline, costs.subsidy) == (
        120_000_00,
        80_000_00,
        300_000_00,
    )
    assert costs.budget == costs.subsidy + costs.community_share + costs.external


def test_metered_parts_cannot_exceed_the_budget() -> None:
    with pytest.raises(ValueError, match="exceed"):
        item_costs(item("1.3"), 100, 60, pipeline_paid=41)


def test_low_voltage_operators_pay_their_cables_residents_nothing() -> None:
    costs = item_costs(item("1.4"), 100_00, pipeline_paid=30_00)
    assert (costs.pipeline, costs.subsidy, costs.community_share) == (30_00, 70_00, 0)
    with pytest.raises(ValueError, match="1.4"):
        item_costs(item("1.4"), 100_00, 1)


def test_municipal_roads_are_all_subsidy() -> None:
    assert item_costs(item("1.5"), 100_00).subsidy == 100_00
    with pytest.raises(ValueError):
        item_costs(item("1.5"), 100_00, 1)
    with pytest.raises(ValueError):
        item_costs(item("1.5"), 100_00, pipeline_paid=1)


def test_pipeline_part_only_on_group_one() -> None:
    with pytest.raises(ValueError, match="group 1"):
        item_costs(item("2.2"), 100, pipeline_paid=1)


def test_plan_totals_columns() -> None:
    totals = plan_totals(
        [
            (item("1.1"), 500_000_00, 120_000_00, 80_000_00, 0),
            (item("2.1"), 100_000_00, 0),
            (item("3.7"), 600_000_00, 0, 0, 100_000_00),
            (item("4.1"), 80_000_00, 0),
            (item("4.2"), 30_000_00, 0),
        ]
    )
    assert totals.budget == 1_310_000_00
    assert totals.subsidy == 300_000_00 + 95_000_00 + 100_000_00
    assert totals.community_share == 120_000_00 + 5_000_00 + 500_000_00
    assert (totals.pipeline, totals.property_owner, totals.other_channels) == (
        80_000_00,
        80_000_00,
        30_000_00,
    )
    assert totals.budget == (
        totals.subsidy
        + totals.community_share
        + totals.pipeline
        + totals.property_owner
        + totals.other_channels
    )
    assert totals.building_only_share == 500_000_00


# --- each household's share ------------------------------------------------------------------

HOUSEHOLDS = {"1-101": ("1", 8765), "1-102": ("1", 9010), "2-201": ("2", 12000)}


def test_only_the_residents_part_is_apportioned() -> None:
    lines = [
        PlanLine(item("1.1"), 500_000_00, 120_000_00, pipeline_paid=80_000_00),
        PlanLine(item("1.4"), 50_000_00, pipeline_paid=20_000_00),
        PlanLine(item("4.1"), 80_000_00),
        PlanLine(item("4.2"), 30_000_00),
    ]
    assert sum(household_shares(lines, HOUSEHOLDS).values()) == 120_000_00


def test_group_four_alone_costs_residents_nothing() -> None:
    shares = household_shares([PlanLine(item("4.1"), 1), PlanLine(item("4.2"), 9)], HOUSEHOLDS)
    assert shares == {"1-101": 0, "1-102": 0, "2-201": 0}


def test_the_elevator_falls_only_on_its_building_in_full() -> None:
    lines = [PlanLine(item("3.7"), 300_000_00, building="2")]
    shares = household_shares(lines, HOUSEHOLDS)
    assert shares == {"1-101": 0, "1-102": 0, "2-201": 300_000_00}


def test_share_parts_name_the_building_part() -> None:
    lines = [
        PlanLine(item("2.2"), 100_000_00),  # residents raise 5 %: 5,000.00 yuan
        PlanLine(item("3.7"), 300_000_00, building="1", granted_subsidy=100_000_00),
    ]
    parts = household_share_parts(lines, HOUSEHOLDS)
    totals = household_shares(lines, HOUSEHOLDS)
    assert {code: total for code, (total, _) in parts.items()} == totals
    assert parts["2-201"][1] == 0
    assert parts["1-101"][1] + parts["1-102"][1] == 200_000_00
    assert sum(totals.values()) == 5_000_00 + 200_000_00
