"""Household codes sort as people read them, independent of database collation."""

from __future__ import annotations

from residents_vote.domain.register import code_sort_key, part_key


def test_numbers_compare_as_numbers():
    codes = ["10-1-101", "2-1-1001", "2-1-201", "1-104", "1-1-101"]
    assert sorted(codes, key=code_sort_key) == [
        "1-1-101",
        "1-104",
        "2-1-201",
        "2-1-1001",
        "10-1-101",
    ]


def test_empty_unit_sorts_first_and_names_after_numbers():
    assert sorted(["A", "", "3", "12"], key=part_key) == ["", "3", "12", "A"]


def test_overlong_cells_are_row_errors():
    """CONTRACT.md: every problem reported as a row error, never a database failure."""
    from residents_vote.domain.register import parse_register

    rows, errors = parse_register(
        ["楼栋", "房号", "面积", "业主姓名"], [["1", "1" * 33, "50.00", "名" * 201]]
    )
    assert rows == []
    assert [str(e) for e in errors] == [
        "row 2, column 房号: too long: at most 32 characters, got 33",
        "row 2, column 业主姓名: too long: at most 200 characters, got 201",
    ]
