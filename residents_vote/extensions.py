"""Flask extensions, created unbound and attached in create_app (init_app pattern)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from . import db as dbmod
from .models import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Database:
    """Holds the engine and session factory of one app; one session per request."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        from .services.unit import Store
        from .settings import Settings, install

        self.settings = Settings(app.config)
        install(self.settings)
        self.engine = dbmod.make_engine(app.config["DATABASE_URL"])
        self.factory: sessionmaker[Session] = dbmod.make_session_factory(
            self.engine, self.settings
        )
        self.store = Store(self.factory, self.settings)
        app.extensions["rv_db"] = self

        # The request's own session only reads (pages, lookups): every write is a use case
        # that opens its own transaction with BEGIN IMMEDIATE (services/unit.Store.write).
        # WAL lets that writer commit while this reader keeps its snapshot.

        @app.teardown_appcontext
        def _close(exc: BaseException | None) -> None:
            session = g.pop("_rv_session", None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()
            token = g.pop("_rv_write_token", None)
            if token is not None:
                try:
                    dbmod.reset_write_intent(token)
                except ValueError:  # torn down in another context: just clear it
                    dbmod.set_write_intent(False)


def database() -> Database:
    return current_app.extensions["rv_db"]


def store():
    """The unit of work the use cases of this app run in."""
    return database().store


def settings():
    return database().settings


def session() -> Session:
    """The session of the current request or command."""
    if "_rv_session" not in g:
        g._rv_session = database().factory()
    return g._rv_session


def fresh_session() -> Session:
    """The request's session with its read snapshot ended, so that it sees what a use
    case has just committed (it only reads: nothing of its own is lost)."""
    current = session()
    current.rollback()
    return current


def fresh_snapshot() -> None:
    """After a use case has committed, the request's read session starts over."""
    fresh_session()


# Rate limits count failures only (unknown or revoked tokens, unknown receipts, failed
# logins and owner checks). A valid ballot is never refused: thousands of residents may
# share one carrier address.
FAILURE_LIMITS = {
    "token": "30/minute;300/hour",
    # A carrier address is shared by many residents checking their receipts: generous.
    "receipt": "60/15minute",
    "login": "10/minute;50/hour",
}
# Wrong owner checks per ballot and failed logins per account are counted in the
# database instead (services.failures), so every worker and app server sees them.


def now() -> dt.datetime:
    """The current time: config CLOCK (a callable, injected by tests) or the real clock."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else utcnow()


def limits_enabled() -> bool:
    """RATELIMIT_ENABLED: `0` turns every failure limit off (load tests only)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _limits(scope: str):
    from limits import parse_many

    return parse_many(FAILURE_LIMITS[scope])


def over_failure_limit(scope: str, key: str | None = None) -> bool:
    """True when this client (or key) has failed too often and must wait."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    ident = key or get_remote_address()
    return not all(limiter.limiter.test(item, scope, ident) for item in _limits(scope))


def record_failure(scope: str, key: str | None = None) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    ident = key or get_remote_address()
    for item in _limits(scope):
        limiter.limiter.hit(item, scope, ident)
