"""districts, the district and city roles, the filing inbox

Revision ID: districts
Revises: scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "districts"
down_revision = "messages"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "staff", "committee")
NEW_ROLES = ("admin", "staff", "committee", "district", "city")
OLD_STATUSES = (
    "draft", "voting", "counting", "publicity", "final", "confirmed", "filed", "cancelled"
)
# `hearing` too (issue 16 item 1): whichever of the two migrations runs last keeps both.
NEW_STATUSES = (
    "draft", "voting", "counting", "hearing", "publicity", "final", "confirmed", "submitted",
    "filed", "cancelled",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("application_by", sa.Date(), nullable=True),
        sa.Column("design_by", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
        sa.UniqueConstraint("slug", name=op.f("uq_district_slug")),
    )
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_community_district_id_district"), "district", ["district_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_community_district_id"), ["district_id"])
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_district_id_district"), "district", ["district_id"], ["id"]
        )
        batch_op.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_account_role"), _in("role", NEW_ROLES))
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), _in("status", NEW_STATUSES))

    op.create_table(
        "filing_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("package", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'accepted', 'returned')",
            name=op.f("ck_filing_submission_status"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_filing_submission_proposal_id_proposal")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_filing_submission_district_id_district")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_filing_submission_submitted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_filing_submission_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_submission")),
    )
    with op.batch_alter_table("filing_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_filing_submission_proposal_id"), ["proposal_id"])
        batch_op.create_index(batch_op.f("ix_filing_submission_district_id"), ["district_id"])


def downgrade() -> None:
    with op.batch_alter_table("filing_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_submission_district_id"))
        batch_op.drop_index(batch_op.f("ix_filing_submission_proposal_id"))
    op.drop_table("filing_submission")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), _in("status", OLD_STATUSES))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_account_role"), _in("role", OLD_ROLES))
        batch_op.drop_constraint(
            batch_op.f("fk_user_account_district_id_district"), type_="foreignkey"
        )
        batch_op.drop_column("district_id")
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_district_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_community_district_id_district"), type_="foreignkey"
        )
        batch_op.drop_column("district_id")
    op.drop_table("district")
