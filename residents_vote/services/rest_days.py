"""Rest days for periods (DOMAIN.md "Periods"): the State Council's yearly schedule, as the
`chinese-calendar` package carries it (statutory holidays and 调休 working weekend days),
plus the operator's `HOLIDAYS` and `WORKDAYS` (CONTRACT.md "Configuration").

For a year the package does not cover, weekends are rest days and the staff pages say that
the year's official schedule is missing (`missing_years`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import chinese_calendar

from .. import settings
from ..domain import periods


@functools.lru_cache(maxsize=4096)
def official(day: dt.date) -> bool | None:
    """True for a rest day of the official schedule, False for a working day, None for a
    year the schedule does not cover."""
    try:
        return bool(chinese_calendar.is_holiday(day))
    except NotImplementedError:
        return None


def current(holder: object = None) -> periods.RestDays:
    """The calendar of this installation: the official schedule and the overrides
    (`holder`: a session, or an object loaded by one, see `settings.of`)."""
    installed = settings.of(holder)
    return periods.RestDays(
        official=official, holidays=installed.holidays, workdays=installed.workdays
    )


def missing_years(days: Iterable[dt.date]) -> list[int]:
    """The years among `days` that the official schedule does not cover."""
    return sorted({d.year for d in days if official(dt.date(d.year, 1, 1)) is None})
