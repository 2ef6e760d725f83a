"""Household cost shares: exact apportionment by exclusive area (DOMAIN.md section 7).

"A resident deciding on a plan wants to know: total budget, the subsidy, the
community's share and **their own household's share** (apportioned by exclusive
area unless the plan says otherwise)."
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from residents_vote.domain.catalog import item, item_costs, plan_totals
from residents_vote.domain.costs import PlanLine, apportion, format_yuan, household_shares

# Exclusive areas in hundredths of m², including awkward ones (70.01, 33.33, 0.01 m²).
AREAS = st.one_of(
    st.sampled_from([7001, 3333, 1, 8850, 12000, 9999]),
    st.integers(min_value=1, max_value=50_000),
)
WEIGHTS = st.dictionaries(
    st.text(alphabet="0123456789ABC-", min_size=1, max_size=6), AREAS, min_size=1, max_size=40
)
TOTALS = st.one_of(st.sampled_from([0, 1, 2, 99, 100, 10**9 + 7]), st.integers(0, 10**11))


# ------------------------------------------------------------------ apportion


@settings(max_examples=200)
@given(total=TOTALS, weights=WEIGHTS)
def test_shares_sum_exactly_and_stay_within_one_fen(total: int, weights: dict[str, int]) -> None:
    shares = apportion(total, weights)
    assert sum(shares.values()) == total
    assert set(shares) == set(weights)
    whole = sum(weights.values())
    for key, share in shares.items():
        exact = Fraction(total * weights[key], whole)
        assert abs(share - exact) < 1, key
        assert share >= 0


@settings(max_examples=100)
@given(total=TOTALS, weights=WEIGHTS, seed=st.randoms(use_true_random=False))
def test_insertion_order_does_not_matter(
    total: int, weights: dict[str, int], seed: random.Random
) -> None:
    keys = list(weights)
    seed.shuffle(keys)
    shuffled = {k: weights[k] for k in keys}
    first = apportion(total, weights)
    assert apportion(total, shuffled) == first
    assert list(apportion(total, shuffled)) == list(first) == sorted(weights)
    assert apportion(total, weights) == first  # same input, same output


@settings(max_examples=100)
@given(total=TOTALS, weights=WEIGHTS)
def test_larger_area_never_pays_less(total: int, weights: dict[str, int]) -> None:
    shares = apportion(total, weights)
    for a in weights:
        for b in weights:
            if weights[a] > weights[b]:
                assert shares[a] >= shares[b]


def test_leftover_goes_to_largest_remainders() -> None:
    # 100 fen over 7001/3333/1: exact 67.74.., 32.25.., 0.0096..; floors 67+32+0 = 99;
    # the one leftover fen goes to the largest remainder (b, .25 < a, .74).
    assert apportion(100, {"a": 7001, "b": 3333, "c": 1}) == {"a": 68, "b": 32, "c": 0}


def test_ties_broken_by_key_ascending() -> None:
    assert apportion(2, {"c": 1, "a": 1, "b": 1}) == {"a": 1, "b": 1, "c": 0}
    assert apportion(1, {"2-101": 5000, "10-101": 5000}) == {"10-101": 1, "2-101": 0}


def test_zero_total_and_empty() -> None:
    assert apportion(0, {"a": 7001, "b": 1}) == {"a": 0, "b": 0}
    assert apportion(0, {}) == {}
    with pytest.raises(ValueError):
        apportion(1, {})


@pytest.mark.parametrize("weights", [{"a": 0}, {"a": 10, "b": -1}])
def test_weights_must_be_positive(weights: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        apportion(100, weights)


@pytest.mark.parametrize(("total", "weights"), [(-1, {"a": 1}), (1.5, {"a": 1}), (1, {"a": 1.0})])
def test_bad_numbers(total: object, weights: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        apportion(total, weights)  # type: ignore[arg-type]


# ------------------------------------------------------------------ household shares

HOUSEHOLDS = {
    "1-101": ("1", 7001),
    "1-102": ("1", 3333),
    "1-201": ("1", 1),
    "2-101": ("2", 8850),
    "2-102": ("2", 12000),
    "3-101": ("3", 9999),
}


def test_building_only_items_charge_only_that_building() -> None:
    elevator = PlanLine(item("3.7"), 600_000_00, building="2")
    shares = household_shares([elevator], HOUSEHOLDS)
    share = item_costs(item("3.7"), 600_000_00).community_share
    assert shares["2-101"] + shares["2-102"] == share
    assert all(v == 0 for k, v in shares.items() if not k.startswith("2-"))
    assert list(shares) == sorted(HOUSEHOLDS)


def test_community_items_charge_everyone_by_area() -> None:
    lines = [
        PlanLine(item("1.1"), 200_000_00, 50_000_00),
        PlanLine(item("2.6"), 33_333),
        PlanLine(item("4.1"), 80_000_00),
    ]
    shares = household_shares(lines, HOUSEHOLDS)
    expected = apportion(50_000_00 + 3_334, {code: area for code, (_, area) in HOUSEHOLDS.items()})
    assert shares == expected


def test_mixed_plan_sums_to_plan_community_share() -> None:
    lines = [
        PlanLine(item("2.1"), 100_000_01),
        PlanLine(item("3.7"), 600_000_00, building="1"),
        PlanLine(item("3.7"), 555_555_55, building="2"),
        PlanLine(item("3.7"), 1, building="1"),
    ]
    shares = household_shares(lines, HOUSEHOLDS)
    totals = plan_totals((ln.item, ln.budget, ln.resident_paid) for ln in lines)
    assert sum(shares.values()) == totals.community_share
    community = apportion(
        item_costs(item("2.1"), 100_000_01).community_share,
        {code: area for code, (_, area) in HOUSEHOLDS.items()},
    )
    assert shares["3-101"] == community["3-101"]  # building 3 pays no elevator


@settings(max_examples=100)
@given(
    households=st.dictionaries(
        st.text(alphabet="0123456789", min_size=1, max_size=4),
        st.tuples(st.sampled_from(["1", "2", "3"]), AREAS),
        min_size=1,
        max_size=30,
    ),
    community_budget=st.integers(0, 10**10),
    elevator_budget=st.integers(0, 10**10),
    building=st.sampled_from(["1", "2", "3"]),
)
def test_household_shares_are_exact(
    households: dict[str, tuple[str, int]],
    community_budget: int,
    elevator_budget: int,
    building: str,
) -> None:
    lines = [PlanLine(item("2.8"), community_budget)]
    members = [c for c, (b, _) in households.items() if b == building]
    if members:
        lines.append(PlanLine(item("3.7"), elevator_budget, building=building))
    shares = household_shares(lines, households)
    totals = plan_totals((ln.item, ln.budget, ln.resident_paid) for ln in lines)
    assert sum(shares.values()) == totals.community_share
    elevator = totals.building_only_share
    assert sum(shares[c] for c in members) >= elevator
    # Outside the elevator's building, shares are the community apportionment alone.
    community = apportion(
        totals.community_share - elevator, {c: a for c, (_, a) in households.items()}
    )
    for code in households:
        if code not in members:
            assert shares[code] == community[code]


def test_building_only_line_needs_its_building() -> None:
    with pytest.raises(ValueError, match="building-only"):
        household_shares([PlanLine(item("3.7"), 100)], HOUSEHOLDS)
    with pytest.raises(ValueError, match="no households"):
        household_shares([PlanLine(item("3.7"), 100, building="9")], HOUSEHOLDS)


def test_community_line_takes_no_building() -> None:
    with pytest.raises(ValueError, match="community-wide"):
        household_shares([PlanLine(item("2.1"), 100, building="1")], HOUSEHOLDS)


# ------------------------------------------------------------------ format_yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (100, "1.00"),
        (123456, "1,234.56"),
        (100_000_000_00, "100,000,000.00"),
        (-123456, "-1,234.56"),
    ],
)
def test_format_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text
