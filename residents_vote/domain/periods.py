"""Periods counted in days (Civil Code arts. 201-203).

A period starts on the day after the event and ends at 24:00 local time on its last
day; if the last day is a configured public holiday, it ends on the first working day
after it. Weekends are not skipped unless listed: the holiday list is configuration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo


def last_day(event_day: dt.date, days: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The last day of a period of `days` days following an event on `event_day`."""
    if days < 1:
        raise ValueError("a period has at least one day")
    day = event_day + dt.timedelta(days=days)
    while day in holidays:
        day += dt.timedelta(days=1)
    return day


def period_end(
    event: dt.datetime, days: int, zone: ZoneInfo, holidays: Collection[dt.date] = ()
) -> dt.datetime:
    """The instant (UTC) the period ends: 24:00 local time on its last day.

    With zero days the period ends at the event itself.
    """
    if days == 0:
        return event.astimezone(dt.UTC)
    local = event.astimezone(zone)
    end_day = last_day(local.date(), days, holidays) + dt.timedelta(days=1)
    midnight = dt.datetime.combine(end_day, dt.time(0, 0), tzinfo=zone)
    return midnight.astimezone(dt.UTC)


def parse_holidays(values: Collection[str]) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(v.strip()) for v in values if v.strip())


def parse_iso(text: str, zone: ZoneInfo) -> dt.datetime:
    """ISO-8601; a time without an offset is local time in `zone`. Returns UTC."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)
