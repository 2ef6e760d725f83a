"""audit chain heads printed on published notices

Revision ID: audit_heads
Revises: counting
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_heads"
down_revision = "counting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.add_column(sa.Column("notice_head_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("notice_head_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("final_head_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("final_head_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("result_revision") as batch:
        batch.add_column(sa.Column("head_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("head_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("result_revision") as batch:
        batch.drop_column("head_hash")
        batch.drop_column("head_seq")
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("final_head_hash")
        batch.drop_column("final_head_seq")
        batch.drop_column("notice_head_hash")
        batch.drop_column("notice_head_seq")
