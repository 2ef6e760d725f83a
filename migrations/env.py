"""Plain Alembic environment pointing at the one `Base.metadata`."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from residents_vote import config as rv_config
from residents_vote import models  # noqa: F401 - registers the tables
from residents_vote.db import Base, make_engine, reset_write_intent, set_write_intent

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    instance = rv_config.ROOT / "instance"
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'residents_vote.sqlite3'}"


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection, *, on: bool) -> None:  # noqa: ANN001
    """SQLite changes a table by rebuilding it (batch mode: copy, DROP, rename); with
    foreign keys enforced, dropping a table that other rows point at fails although the
    rename restores every reference (Alembic's batch-mode advice: turn them off). Only
    outside a transaction does the pragma take effect: straight to the driver, before
    SQLAlchemy begins one."""
    value = "ON" if on else "OFF"
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys = {value}")


def _check_foreign_keys(connection) -> None:  # noqa: ANN001
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign keys broken by the migration: {problems[:5]}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = _url()
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url[len("sqlite:///") :]) or ".", exist_ok=True)
    token = set_write_intent(True)
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                _sqlite_foreign_keys(conn, on=False)
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(conn)  # a violation rolls the migration back
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)
        engine.dispose()
    finally:
        reset_write_intent(token)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
