"""plan funding: pipeline company's part and granted subsidy per plan item; a household's
building (elevator) share at opening (issue 12 item 7, DOMAIN.md section 7)

Revision ID: plan_funding
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "plan_funding"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pipeline_paid", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("granted_subsidy", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("electorate_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("building_share", sa.BigInteger(), nullable=True))
    # Elevator lines entered before this revision were costed with a 90 % subsidy, and
    # their shares were published (and frozen at opening) that way: record that subsidy
    # as granted so the plan reads as it was published. floor(), as the old rule did.
    op.execute(
        "UPDATE plan_item SET granted_subsidy = (budget * 90) / 100 WHERE catalog_id = '3.7'"
    )


def downgrade() -> None:
    with op.batch_alter_table("electorate_entry", schema=None) as batch_op:
        batch_op.drop_column("building_share")
    with op.batch_alter_table("plan_item", schema=None) as batch_op:
        batch_op.drop_column("granted_subsidy")
        batch_op.drop_column("pipeline_paid")
