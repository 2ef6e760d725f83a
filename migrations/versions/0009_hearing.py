"""The hearing route: a proposal's route, the hearing's time, place, agenda, organiser,
outcome and minutes summary, and the households that attended (issue 16).

Revision ID: hearing
Revises: scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hearing"
down_revision = "scan_reading"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "('draft', 'voting', 'counting', 'publicity', 'final', 'confirmed', 'filed', 'cancelled')"
)
NEW_STATUSES = (
    "('draft', 'voting', 'counting', 'hearing', 'publicity', 'final', 'confirmed', 'filed', "
    "'cancelled')"
)


def upgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("route", sa.String(length=16), server_default="vote", nullable=False)
        )
        batch_op.add_column(sa.Column("hearing_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("place", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("agenda", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("organiser", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("minutes_summary", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("concluded_at", sa.DateTime(), nullable=True))
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), f"status IN {NEW_STATUSES}")
        batch_op.create_check_constraint(op.f("ck_proposal_route"), "route IN ('vote', 'hearing')")
        batch_op.create_check_constraint(
            op.f("ck_proposal_outcome"),
            "outcome IS NULL OR outcome IN ('agreed', 'not-agreed')",
        )
    op.create_table(
        "hearing_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("proxy_name", sa.String(length=100), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_hearing_attendance_proposal_id_proposal")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_hearing_attendance_household_id_household"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_attendance_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearing_attendance")),
        sa.UniqueConstraint(
            "proposal_id",
            "household_id",
            name=op.f("uq_hearing_attendance_proposal_id_household_id"),
        ),
    )
    with op.batch_alter_table("hearing_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hearing_attendance_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hearing_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hearing_attendance_proposal_id"))
    op.drop_table("hearing_attendance")
    op.execute("UPDATE proposal SET status = 'cancelled' WHERE status = 'hearing'")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_outcome"), type_="check")
        batch_op.drop_constraint(op.f("ck_proposal_route"), type_="check")
        batch_op.drop_constraint(op.f("ck_proposal_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_status"), f"status IN {OLD_STATUSES}")
        for column in (
            "concluded_at",
            "minutes_summary",
            "outcome",
            "organiser",
            "agenda",
            "place",
            "hearing_at",
            "route",
        ):
            batch_op.drop_column(column)
