"""One settings object for the services, built once from the app's configuration.

Services never read `flask.current_app`: the session factory carries a `Settings` in its
`info`, so any service holding a session knows the time zone, the public origin, the
rest-day calendar and the limits of the install it serves (`settings.of(session)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .domain import periods

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:5000"
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    password_hash: str = "scrypt"
    extra: Mapping[str, object] = field(default_factory=dict)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.zone)

    def format_local(self, value: dt.datetime) -> str:
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def url(self, path: str) -> str:
        return self.base_url + path

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Settings:
        return cls(
            timezone=str(config.get("TIMEZONE") or "Asia/Shanghai"),
            base_url=str(config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            holidays=periods.parse_holidays(config.get("HOLIDAYS") or []),
            workdays=periods.parse_holidays(config.get("WORKDAYS") or []),
            password_hash=str(config.get("PASSWORD_HASH") or "scrypt"),
            extra={k: v for k, v in config.items() if k.isupper()},
        )


DEFAULT = Settings()


def of(session: Session) -> Settings:
    """The settings of the install this session belongs to (defaults outside an app)."""
    return session.info.get("settings", DEFAULT)
