"""failed attempts counted in the database; session versions on users

Issue 12 items 8 and 9: a table of failed attempts (wrong owner checks, failed logins)
counted per target by every worker and app server alike, and user_account.session_version
to end every existing session of a user.

Revision ID: attempt_failure
Revises: plan_funding
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "attempt_failure"
down_revision = "plan_funding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_failure")),
    )
    with op.batch_alter_table("attempt_failure", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attempt_failure_kind_target_at", ["kind", "target", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attempt_failure_at"), ["at"], unique=False)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_version")
    with op.batch_alter_table("attempt_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_failure_at"))
        batch_op.drop_index("ix_attempt_failure_kind_target_at")
    op.drop_table("attempt_failure")
