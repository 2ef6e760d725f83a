"""Periods counted in days (Civil Code arts. 201-203).

"按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算" (art. 201): a period
starts on the day after the event. "期间的最后一日是法定休假日的，以法定休假日结束的
次日为期间的最后一日" (art. 203): a last day that is a holiday moves to the first
working day after it. "期间的最后一日的截止时间为二十四时" (art. 203): it ends at 24:00
local time on its last day. Weekends are not skipped unless listed: the holiday list
is configuration (`HOLIDAYS`, ISO dates), because China moves working days around.

Pure: standard library only, times in and out are aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from zoneinfo import ZoneInfo

_DAY = dt.timedelta(days=1)


def last_day(event_day: dt.date, days: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The last day of a period of `days` days following an event on `event_day`."""
    if days < 1:
        raise ValueError("a period has at least one day")
    day = event_day + dt.timedelta(days=days)
    while day in holidays:
        day += _DAY
    return day


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)


def period_start(event: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """The instant (UTC) the period starts: 00:00 local on the day after the event.

    With zero days there is no period: it starts and ends at the event.
    """
    _require_aware(event)
    if days == 0:
        return event.astimezone(dt.UTC)
    first = event.astimezone(zone).date() + _DAY
    return _midnight(first, zone).astimezone(dt.UTC)


def period_end(
    event: dt.datetime, days: int, zone: ZoneInfo, holidays: Collection[dt.date] = ()
) -> dt.datetime:
    """The instant (UTC) the period ends: 24:00 local time on its last day.

    With zero days the period ends at the event itself.
    """
    _require_aware(event)
    if days < 0:
        raise ValueError("a period cannot have a negative number of days")
    if days == 0:
        return event.astimezone(dt.UTC)
    local = event.astimezone(zone)
    end_day = last_day(local.date(), days, holidays) + _DAY
    return _midnight(end_day, zone).astimezone(dt.UTC)


def format_end(end: dt.datetime, zone: ZoneInfo) -> str:
    """How a period's end is written on a notice: "2026-01-08 24:00", not "2026-01-09 00:00".

    An end that is not at midnight (a zero-day period ends at the event) is written as is.
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
