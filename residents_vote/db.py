"""Engine and session handling.

SQLite is the default store: WAL so readers never block the writer, foreign keys on,
`synchronous=FULL` so a commit survives a power cut, and write transactions begun with
`BEGIN IMMEDIATE` so that concurrent workers queue on the busy timeout instead of failing
with "database is locked" when a deferred reader tries to upgrade to a writer.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# True while the current request / command intends to write: its first statement then
# opens the transaction with BEGIN IMMEDIATE (SQLite only).
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def set_write_intent(value: bool) -> contextvars.Token:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token) -> None:
    _write_intent.reset(token)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001 - DB-API objects
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        statement = "BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN"
        dispatch = conn.dispatch
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute or engine.echo:
            conn.exec_driver_sql(statement)  # watched (tests, echo): the usual way
        else:
            # Straight to the driver: a full SQLAlchemy execution costs about as much as
            # the statement itself, twice per vote (bench/vote_load.py --profile).
            conn.connection.driver_connection.execute(statement)


def make_session_factory(engine: Engine, settings: object | None = None) -> sessionmaker[Session]:
    """Sessions of one install; each carries the install's settings in `session.info`."""
    info = {"settings": settings} if settings is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


@contextlib.contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for one write transaction; commits on success, rolls back on error."""
    token = _write_intent.set(True)
    try:
        with factory() as session, session.begin():
            yield session
    finally:
        _write_intent.reset(token)
