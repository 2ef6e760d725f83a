"""Text messages (issue 15): the outbox, one-time codes, reminders, sealed ballot links,
and `--verify sms`.

Revision ID: messages
Revises: scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "messages"
down_revision = "hearing"
branch_labels = None
depends_on = None

OLD_VERIFY = "('none', 'phone4')"
NEW_VERIFY = "('none', 'phone4', 'sms')"


def upgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_verify"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_verify"), f"verify IN {NEW_VERIFY}")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_seal", sa.String(length=64), nullable=True))

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('ballot-link', 'reminder', 'code')", name=op.f("ck_message_kind")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')", name=op.f("ck_message_status")
        ),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballot.id"], name=op.f("fk_message_ballot_id_ballot")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_message_household_id_household")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_message_proposal_id_proposal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_ballot_id"), ["ballot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_proposal_id"), ["proposal_id"], unique=False)
        batch_op.create_index(
            "ix_message_status_next_try_at", ["status", "next_try_at"], unique=False
        )

    op.create_table(
        "sms_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballot.id"], name=op.f("fk_sms_code_ballot_id_ballot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_code")),
    )
    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_code_ballot_id_created_at", ["ballot_id", "created_at"], unique=False
        )

    op.create_table(
        "reminder",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_reminder_proposal_id_proposal")
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_reminder")),
    )


def downgrade() -> None:
    op.drop_table("reminder")
    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_code_ballot_id_created_at")
    op.drop_table("sms_code")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_status_next_try_at")
        batch_op.drop_index(batch_op.f("ix_message_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_message_ballot_id"))
    op.drop_table("message")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_column("link_seal")
    op.execute("UPDATE proposal SET verify = 'none' WHERE verify = 'sms'")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proposal_verify"), type_="check")
        batch_op.create_check_constraint(op.f("ck_proposal_verify"), f"verify IN {OLD_VERIFY}")
