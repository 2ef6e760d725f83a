"""paper-ballot scan batches and their pages

Revision ID: scans
Revises: audit_heads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scans"
down_revision = "audit_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_scan_batch_proposal_id_proposal")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_scan_batch_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_batch")),
        sa.UniqueConstraint("proposal_id", "sha256", name=op.f("uq_scan_batch_proposal_id_sha256")),
    )
    with op.batch_alter_table("scan_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_batch_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "scan_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("file_page", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=True),
        sa.Column("household", sa.String(length=64), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("crops", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'review')", name=op.f("ck_scan_page_status")),
        sa.CheckConstraint(
            "decision IN ('pending', 'recorded', 'rejected')", name=op.f("ck_scan_page_decision")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["scan_batch.id"], name=op.f("fk_scan_page_batch_id_scan_batch")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_scan_page_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_page")),
        sa.UniqueConstraint("batch_id", "number", name=op.f("uq_scan_page_batch_id_number")),
    )
    with op.batch_alter_table("scan_page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_page_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_page_batch_id"))
    op.drop_table("scan_page")
    with op.batch_alter_table("scan_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_batch_proposal_id"))
    op.drop_table("scan_batch")
