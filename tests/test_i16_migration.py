"""Migration 0011_districts on a database that holds data: on SQLite, rebuilding
`community` and `user_account` (batch mode) must not trip the foreign keys of the rows
pointing at them, and every reference survives, up and down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from residents_vote import create_app
from residents_vote.cli import alembic_config
from tests.helpers import TEST_CONFIG


def test_upgrade_and_downgrade_with_rows_pointing_at_the_rebuilt_tables(database_url):
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    engine = app.extensions["rv_db"].engine
    try:
        with app.app_context():
            command.upgrade(alembic_config(app), "scans")
        with engine.begin() as conn:
            for sql in (
                "INSERT INTO community (id, slug, name, signatory, office, contact, address, "
                "created_at) VALUES (1, 'hx', 'hx', 'owner-committee', '', '', '', "
                "'2026-01-01 00:00:00')",
                "INSERT INTO user_account (id, username, full_name, password_hash, role, "
                "active, session_version, created_at) VALUES (1, 'staff', 'staff', 'x', "
                "'staff', true, 0, '2026-01-01 00:00:00')",
                "INSERT INTO user_community (user_id, community_id) VALUES (1, 1)",
                "INSERT INTO proposal (id, public_id, community_id, stage, title, body, rule, "
                "headcount, status, scope, verify, objection_days, cancel_reason, "
                "notice_revision, result_revision, budget_note, created_at) VALUES (1, 'p1', "
                "1, 'other', 't', '', 'seed', 'household', 'draft', '', 'none', 7, '', 0, 0, "
                "'', '2026-01-01 00:00:00')",
            ):
                conn.execute(text(sql))
        with app.app_context():
            command.upgrade(alembic_config(app), "head")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO district (id, slug, name, created_at) "
                    "VALUES (1, 'd1', 'd1', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(text("UPDATE community SET district_id = 1"))
            conn.execute(text("UPDATE proposal SET status = 'submitted'"))
            conn.execute(
                text(
                    "INSERT INTO user_account (id, username, full_name, password_hash, role, "
                    "active, session_version, created_at, district_id) VALUES (2, 'du', 'du', "
                    "'x', 'district', true, 0, '2026-01-01 00:00:00', 1)"
                )
            )
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM user_community")).scalar_one() == 1
            assert conn.execute(text("SELECT district_id FROM community")).scalar_one() == 1
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM user_account WHERE id = 2"))
            conn.execute(text("UPDATE proposal SET status = 'confirmed'"))
        with app.app_context():
            command.downgrade(alembic_config(app), "scans")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM proposal")).scalar_one() == 1
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    finally:
        engine.dispose()
