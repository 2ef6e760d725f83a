"""Periods counted in days (domain/periods.py), table-driven against the Civil Code.

Civil Code art. 201: "按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。"
Civil Code art. 203: "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日。
期间的最后一日的截止时间为二十四时。"
A last day that is a rest day moves: here the rest days are given as a plain set (the
official schedule is tested in test_i12_periods.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from residents_vote.domain import periods

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
NATIONAL_DAY = frozenset(dt.date(2026, 10, d) for d in range(1, 8))


def local(y, m, d, hh=0, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.mark.parametrize(
    ("event", "days", "holidays", "end_local", "why"),
    [
        (
            local(2026, 1, 5, 15, 30),
            7,
            (),
            local(2026, 1, 13),
            "art. 201: the close day is not counted; days 6..12; art. 203: ends 24:00 on the 12th",
        ),
        (
            local(2026, 1, 5, 23, 59),
            7,
            (),
            local(2026, 1, 13),
            "a close one minute before midnight still does not count that day",
        ),
        (
            local(2026, 1, 5, 0, 0),
            7,
            (),
            local(2026, 1, 13),
            "a close at 00:00 does not count that day either",
        ),
        (
            dt.datetime(2026, 1, 5, 17, 0, tzinfo=UTC),
            7,
            (),
            local(2026, 1, 14),
            "17:00 UTC on the 5th is 01:00 on the 6th in Shanghai: the local day decides",
        ),
        (
            local(2026, 1, 5, 9),
            1,
            (),
            local(2026, 1, 7),
            "a one-day period is the whole next day",
        ),
        (
            local(2026, 9, 24, 10),
            7,
            NATIONAL_DAY,
            local(2026, 10, 9),
            "art. 203: last day 1 Oct is a holiday; it ends 24:00 on 8 Oct, the first working day",
        ),
        (
            local(2026, 9, 28, 10),
            15,
            NATIONAL_DAY,
            local(2026, 10, 14),
            "holidays inside the period do not extend it; only a holiday last day does",
        ),
        (
            local(2026, 2, 26, 10),
            2,
            frozenset({dt.date(2026, 2, 28)}),
            local(2026, 3, 2),
            "a last day across a month end moves to 1 March",
        ),
        (
            local(2026, 12, 30, 10),
            2,
            (),
            local(2027, 1, 2),
            "a period across a year end",
        ),
    ],
)
def test_period_end(event, days, holidays, end_local, why):
    end = periods.period_end(event, days, SH, holidays)
    assert end == end_local.astimezone(UTC), why
    assert end.tzinfo is not None and end.utcoffset() == dt.timedelta(0)


def test_zero_days_are_no_period():
    """DOMAIN.md "Periods": the objection period is at least 1 day (issue 12; a 0-day
    period used to end at the event)."""
    event = local(2026, 1, 5, 15, 30)
    with pytest.raises(ValueError):
        periods.period_end(event, 0, SH)
    with pytest.raises(ValueError):
        periods.period_start(event, 0, SH)


@pytest.mark.parametrize(
    ("event", "start_local"),
    [
        (local(2026, 1, 5, 15, 30), local(2026, 1, 6)),
        (local(2026, 1, 5, 0, 0), local(2026, 1, 6)),
        (local(2026, 12, 31, 23, 59), local(2027, 1, 1)),
    ],
)
def test_period_starts_the_day_after(event, start_local):
    assert periods.period_start(event, 7, SH) == start_local.astimezone(UTC)


@pytest.mark.parametrize(
    ("end", "text"),
    [
        (local(2026, 1, 13), "2026-01-12 24:00"),
        (local(2026, 3, 1), "2026-02-28 24:00"),
        (local(2027, 1, 1), "2026-12-31 24:00"),
        (local(2026, 1, 5, 15, 30), "2026-01-05 15:30"),
    ],
)
def test_format_end_writes_24_00_on_the_last_day(end, text):
    assert periods.format_end(end.astimezone(UTC), SH) == text


def test_last_day_needs_a_day():
    with pytest.raises(ValueError):
        periods.last_day(dt.date(2026, 1, 1), 0)
    with pytest.raises(ValueError):
        periods.period_end(local(2026, 1, 1), -1, SH)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        periods.period_end(dt.datetime(2026, 1, 5, 12), 7, SH)


@pytest.mark.parametrize(
    ("config", "dates"),
    [
        ([], set()),
        (["2026-10-01", " 2026-10-02 ", ""], {dt.date(2026, 10, 1), dt.date(2026, 10, 2)}),
        ("2026-10-01,2026-10-02", {dt.date(2026, 10, 1), dt.date(2026, 10, 2)}),
        ([dt.date(2026, 5, 1)], {dt.date(2026, 5, 1)}),
    ],
)
def test_parse_holidays(config, dates):
    assert periods.parse_holidays(config) == frozenset(dates)


def test_a_malformed_holiday_is_an_error_not_ignored():
    with pytest.raises(ValueError):
        periods.parse_holidays(["2026-13-01"])


@given(
    event=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2035, 12, 31),
        timezones=st.just(UTC),
    ),
    days=st.integers(min_value=1, max_value=60),
    holidays=st.sets(
        st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2036, 3, 31)), max_size=40
    ),
)
def test_period_invariants(event, days, holidays):
    end = periods.period_end(event, days, SH, holidays)
    end_local = end.astimezone(SH)
    assert end_local.time() == dt.time(0, 0), "a day period always ends at 24:00 local"
    last = end_local.date() - dt.timedelta(days=1)
    assert last not in holidays, "a period never ends on a holiday"
    assert last >= event.astimezone(SH).date() + dt.timedelta(days=days), "never shorter"
    between = [
        event.astimezone(SH).date() + dt.timedelta(days=d)
        for d in range(days, (last - event.astimezone(SH).date()).days)
    ]
    assert all(day in holidays for day in between), "extended only over holidays"
    start = periods.period_start(event, days, SH)
    assert start > event and start.astimezone(SH).time() == dt.time(0, 0)


# --- the configured holidays reach the services --------------------------------------


def test_close_uses_the_configured_holidays(app):
    """app.config["HOLIDAYS"] (ISO dates) extends the objection period past them."""
    from residents_vote.services import proposals, results
    from tests import factories
    from tests.helpers import write

    closes = local(2026, 9, 24, 10).astimezone(UTC)
    factories.community(app)
    factories.staff_user(app)
    pid = factories.proposal(
        app,
        opened_at=closes - dt.timedelta(days=3),
        starts=closes - dt.timedelta(days=3),
        closes=closes,
        objection_days=7,
    )
    app.config["HOLIDAYS"] = [d.isoformat() for d in sorted(NATIONAL_DAY)]
    with write(app) as s:
        p = proposals.lock(s, pid)
        results.close(s, p, actor="test", now=closes + dt.timedelta(hours=1))
        assert p.objection_ends_at == local(2026, 10, 9).astimezone(UTC)
        assert results.local_end(p.objection_ends_at) == "2026-10-08 24:00"
