"""One settings object for the services, built once from the app's configuration.

Services never read `flask.current_app`: the session factory carries the `Settings` of its
install in `session.info`, so a service holding a session (or an object loaded by one)
knows the time zone, the public origin, the rest-day overrides and the password hashing
of the install it serves: `settings.of(session)` or `settings.of(proposal)`.

The object reads through to the configuration mapping it was built from, so an operator's
(or a test's) change to the configuration is seen at once; parsed values are cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from .domain import periods


class Settings:
    """The configuration the services need, typed and parsed."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._config: Mapping[str, Any] = config if config is not None else {}

    @property
    def timezone(self) -> str:
        return str(self._config.get("TIMEZONE") or "Asia/Shanghai")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches its instances

    @property
    def base_url(self) -> str:
        return str(self._config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")

    @property
    def holidays(self) -> frozenset[dt.date]:
        return periods.parse_holidays(self._config.get("HOLIDAYS") or [])

    @property
    def workdays(self) -> frozenset[dt.date]:
        return periods.parse_holidays(self._config.get("WORKDAYS") or [])

    @property
    def password_hash(self) -> str:
        return str(self._config.get("PASSWORD_HASH") or "scrypt")

    @property
    def secret_key(self) -> bytes:
        return str(self._config.get("SECRET_KEY") or "").encode()

    @property
    def scan_upload_max_bytes(self) -> int:
        return int(self._config.get("SCAN_UPLOAD_MAX_MB") or 200) * 1024 * 1024

    @property
    def scan_batch_max_pages(self) -> int:
        return int(self._config.get("SCAN_BATCH_MAX_PAGES") or 300)

    @property
    def scan_read_at_once_pages(self) -> int:
        return int(self._config.get("SCAN_READ_AT_ONCE_PAGES", 10))

    @property
    def sms_backend(self) -> str:
        """`outbox`, `file:///ABS/PATH.jsonl`, `aliyun` or `tencent`."""
        return str(self._config.get("SMS_BACKEND") or "outbox").strip()

    def sms(self, name: str) -> str:
        """An SMS_* value: ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, TEMPLATE_CODE…"""
        return str(self._config.get(f"SMS_{name}") or "")

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)

    def format_local(self, value: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(self.zone).strftime(fmt)

    def parse_local(self, text: str | None) -> dt.datetime | None:
        """ISO-8601; a time without an offset is local time. None for an empty text."""
        if text is None or not str(text).strip():
            return None
        return periods.parse_iso(str(text), self.zone)

    def url(self, path: str) -> str:
        return self.base_url + path

    def __repr__(self) -> str:
        return f"Settings(timezone={self.timezone!r}, base_url={self.base_url!r})"


DEFAULT = Settings()
_installed: Settings = DEFAULT


def install(value: Settings) -> None:
    """The settings of the app this process serves (set once by the app factory): what an
    object no longer attached to a session falls back to."""
    global _installed
    _installed = value


def of(holder: Any = None) -> Settings:
    """The settings of the install a session, or an object loaded by one, belongs to."""
    info = getattr(holder, "info", None)
    if info is None and holder is not None:
        from sqlalchemy.orm import object_session  # core layer: sqlalchemy is allowed here

        session = object_session(holder)
        info = session.info if session is not None else None
    if info is not None and "settings" in info:
        return info["settings"]
    return _installed
