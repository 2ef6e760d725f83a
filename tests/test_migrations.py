"""Alembic migrations: `db upgrade` on an empty database matches the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from residents_vote import (
    create_app,
    models,  # noqa: F401 - registers every table on Base.metadata
)
from residents_vote.cli import alembic_config
from residents_vote.db import Base


@pytest.fixture
def empty_app(database_url):
    """An app on an empty database: no migration has run."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "DATABASE_URL": database_url,
            "PASSWORD_HASH": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["rv_db"].engine.dispose()


def _compare(app) -> list:
    with app.extensions["rv_db"].engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_head_on_empty_database_matches_models(empty_app):
    engine = empty_app.extensions["rv_db"].engine
    assert inspect(engine).get_table_names() == []
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert result.stderr == ""
    assert _compare(empty_app) == []


def test_upgrade_reaches_the_single_head(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    heads = ScriptDirectory.from_config(alembic_config(empty_app)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    with empty_app.extensions["rv_db"].engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == heads[0]
    # Running it again is a no-op that still succeeds.
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert _compare(empty_app) == []


def test_every_model_table_is_created(app):
    tables = set(inspect(app.extensions["rv_db"].engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
