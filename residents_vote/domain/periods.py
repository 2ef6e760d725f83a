"""Periods counted in days (Civil Code arts. 201-203).

"按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算" (art. 201): a period
starts on the day after the event. "期间的最后一日是法定休假日的，以法定休假日结束的
次日为期间的最后一日" (art. 203): a last day that is a rest day (法定休假日: a weekend day
or a statutory holiday, except a weekend day the State Council's yearly schedule makes a
working day, 调休) moves to the first working day after it. "期间的最后一日的截止时间为
二十四时" (art. 203): it ends at 24:00 local time on its last day.

Which days are rest days is given by the caller: a `RestDays` calendar (the official
schedule, supplied by the services, plus the operator's `HOLIDAYS` and `WORKDAYS`), any
predicate `date -> bool`, or a plain collection of rest days.

Pure: standard library only, times in and out are aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_DAY = dt.timedelta(days=1)
SATURDAY = 5

# Official schedule: True for a rest day, False for a working day, None when the year
# is not covered (then weekends are rest days).
Schedule = Callable[[dt.date], "bool | None"]


@dataclass(frozen=True)
class RestDays:
    """Which days are rest days (法定休假日).

    In order: a configured working day (`workdays`, 调休 the schedule lacks) is never a
    rest day; a configured holiday (`holidays`) always is; otherwise the official schedule
    decides; for a day it does not cover, Saturday and Sunday are rest days.
    """

    official: Schedule | None = None
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def __call__(self, day: dt.date) -> bool:
        if day in self.workdays:
            return False
        if day in self.holidays:
            return True
        if self.official is not None:
            verdict = self.official(day)
            if verdict is not None:
                return bool(verdict)
        return day.weekday() >= SATURDAY


RestDayRule = Callable[[dt.date], bool] | Collection[dt.date]


def rest_day_predicate(rest_days: RestDayRule) -> Callable[[dt.date], bool]:
    """A predicate from a calendar or predicate (as is) or a collection of rest days."""
    if callable(rest_days):
        return rest_days
    return rest_days.__contains__


def last_day(event_day: dt.date, days: int, rest_days: RestDayRule = ()) -> dt.date:
    """The last day of a period of `days` days following an event on `event_day`."""
    if days < 1:
        raise ValueError("a period has at least one day")
    is_rest = rest_day_predicate(rest_days)
    day = event_day + dt.timedelta(days=days)
    for _ in range(366):
        if not is_rest(day):
            return day
        day += _DAY
    raise ValueError("no working day within a year after the period")


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)


def period_start(event: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """The instant (UTC) the period starts: 00:00 local on the day after the event."""
    _require_aware(event)
    if days < 1:
        raise ValueError("a period has at least one day")
    first = event.astimezone(zone).date() + _DAY
    return _midnight(first, zone).astimezone(dt.UTC)


def period_end(
    event: dt.datetime, days: int, zone: ZoneInfo, rest_days: RestDayRule = ()
) -> dt.datetime:
    """The instant (UTC) the period ends: 24:00 local time on its last day, moved past
    rest days."""
    _require_aware(event)
    if days < 1:
        raise ValueError("a period has at least one day")
    local = event.astimezone(zone)
    end_day = last_day(local.date(), days, rest_days) + _DAY
    return _midnight(end_day, zone).astimezone(dt.UTC)


def format_end(end: dt.datetime, zone: ZoneInfo) -> str:
    """How a period's end is written on a notice: "2026-01-08 24:00", not "2026-01-09 00:00".

    An end that is not at midnight is written as is.
    """
    local = end.astimezone(zone)
    if local.time() == dt.time(0, 0):
        return f"{(local.date() - _DAY).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def parse_holidays(values: Iterable[str | dt.date] | str) -> frozenset[dt.date]:
    """Dates from configuration: a list of ISO dates (or dates), or one comma-separated string.

    A malformed date raises ValueError: a silently ignored holiday would end a period early.
    """
    if isinstance(values, str):
        values = values.split(",")
    days = set()
    for value in values:
        if isinstance(value, dt.datetime):
            days.add(value.date())
        elif isinstance(value, dt.date):
            days.add(value)
        elif value and value.strip():
            days.add(dt.date.fromisoformat(value.strip()))
    return frozenset(days)


def parse_iso(text: str, zone: ZoneInfo) -> dt.datetime:
    """ISO-8601; a time without an offset is local time in `zone`. Returns UTC."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("a naive datetime has no defined local day")
