"""Counting status, received time of paper ballots, at least one objection day (issue 12).

Revision ID: counting
Revises: void_votes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "counting"
down_revision = "void_votes"
branch_labels = None
depends_on = None

OLD_STATUSES = "('draft', 'voting', 'publicity', 'final', 'confirmed', 'filed', 'cancelled')"
NEW_STATUSES = (
    "('draft', 'voting', 'counting', 'publicity', 'final', 'confirmed', 'filed', 'cancelled')"
)


def upgrade() -> None:
    # A posting period is at least one day (DOMAIN.md "Periods"): a stored 0 becomes 1.
    op.execute("UPDATE proposal SET objection_days = 1 WHERE objection_days < 1")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_proposal_objection_days"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), f"status IN {NEW_STATUSES}")
        batch_op.create_check_constraint(op.f("ck_proposal_objection_days"), "objection_days >= 1")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE proposal SET status = 'voting' WHERE status = 'counting'")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_column("received_at")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_objection_days"), type_="check")
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_objection_days"), "objection_days >= 0")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), f"status IN {OLD_STATUSES}")
