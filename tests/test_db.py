"""Engine set-up: SQLite pragmas and BEGIN IMMEDIATE write transactions (residents_vote.db)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select, text

from residents_vote import db as dbmod
from residents_vote.models import Community
from tests.helpers import engine


@pytest.fixture
def sqlite_app(app):
    if not dbmod.is_sqlite(engine(app)):
        pytest.skip("SQLite-only behaviour")
    return app


def test_sqlite_pragmas_in_effect(sqlite_app):
    with engine(sqlite_app).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_enforced(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), engine(app).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO household (community_id, building, unit, room, code, area,"
                " owner_name, owner_key, phone, created_at, updated_at)"
                " VALUES (9999, '1', '1', '101', '1-1-101', 100, '', 'k', '',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )


def _statements(eng) -> list[str]:
    seen: list[str] = []

    @event.listens_for(eng, "before_cursor_execute")
    def _log(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        seen.append(statement.strip().upper())

    return seen


def test_write_session_begins_immediate(sqlite_app):
    eng = engine(sqlite_app)
    seen = _statements(eng)
    factory = sqlite_app.extensions["rv_db"].factory
    with dbmod.write_session(factory) as s:
        s.execute(select(func.count()).select_from(Community))
    assert "BEGIN IMMEDIATE" in seen
    seen.clear()

    def read_only() -> None:  # a fresh thread: a fresh context, no write intent
        with factory() as s:
            s.execute(select(func.count()).select_from(Community))

    t = threading.Thread(target=read_only)
    t.start()
    t.join(10)
    assert "BEGIN" in seen and "BEGIN IMMEDIATE" not in seen


def test_upgrade_database_does_not_leak_write_intent(app):
    from residents_vote.cli import upgrade_database

    upgrade_database(app)  # already at head: a no-op run of env.py
    assert dbmod._write_intent.get() is False


def test_concurrent_write_waits_instead_of_failing(sqlite_app):
    """Writer A reads first and writes later; writer B must queue behind A, then succeed.

    With a deferred BEGIN, B would run while A holds no lock and A's later write would
    fail with "database is locked"; with BEGIN IMMEDIATE B waits on the busy timeout.
    """
    factory = sqlite_app.extensions["rv_db"].factory
    a_began = threading.Event()
    times: dict[str, float] = {}
    errors: list[BaseException] = []

    def writer_a() -> None:
        try:
            with dbmod.write_session(factory) as s:
                s.execute(select(func.count()).select_from(Community))  # takes the lock
                a_began.set()
                time.sleep(0.6)
                s.add(Community(slug="a", name="A"))
                s.flush()
                times["a_commit"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            a_began.set()

    def writer_b() -> None:
        try:
            a_began.wait(5)
            times["b_start"] = time.monotonic()
            with dbmod.write_session(factory) as s:
                n = s.scalar(select(func.count()).select_from(Community))
                s.add(Community(slug="b", name="B"))
                times["b_saw"] = n
            times["b_done"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert times["b_done"] >= times["a_commit"]  # B waited for A's transaction
    assert times["b_saw"] == 1  # ...and saw A's row once it got in
    with factory() as s:
        assert sorted(s.scalars(select(Community.slug))) == ["a", "b"]


def test_write_session_rolls_back_on_error(app):
    factory = app.extensions["rv_db"].factory
    with pytest.raises(RuntimeError), dbmod.write_session(factory) as s:
        s.add(Community(slug="gone", name="Gone"))
        s.flush()
        raise RuntimeError("boom")
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Community)) == 0
