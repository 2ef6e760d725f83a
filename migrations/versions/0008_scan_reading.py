"""scan batches read in the background: the batch's state and its expected page count

Revision ID: scan_reading
Revises: scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scan_reading"
down_revision = "scans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="ready")
        )
        batch_op.add_column(
            sa.Column("pages_expected", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            op.f("ck_scan_batch_state"), "state IN ('reading', 'ready', 'failed')"
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_batch", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_scan_batch_state"), type_="check")
        batch_op.drop_column("pages_expected")
        batch_op.drop_column("state")
