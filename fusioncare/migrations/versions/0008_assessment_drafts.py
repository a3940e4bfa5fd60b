"""Assessment drafts: questionnaire answers in progress, server-side under an opaque id, owned by one browser.

Revision ID: 0008_assessment_drafts
Revises: 0007_recovery_shares
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from fusioncare.accounts.models import UtcDateTime

revision = "0008_assessment_drafts"
down_revision = "0007_recovery_shares"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_drafts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_key", sa.String(64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("steps_done", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("place", sa.JSON(), nullable=False),
        sa.Column("alerted_urgency", sa.String(16), nullable=True),
        sa.Column("saved_assessment_id", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["saved_assessment_id"], ["saved_assessments.id"],
                                name=op.f("fk_assessment_drafts_saved_assessment_id_saved_assessments"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_drafts")),
    )
    op.create_index(op.f("ix_assessment_drafts_expires_at"), "assessment_drafts", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_assessment_drafts_expires_at"), table_name="assessment_drafts")
    op.drop_table("assessment_drafts")
