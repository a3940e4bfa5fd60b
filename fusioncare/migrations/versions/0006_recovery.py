"""Recovery tracker: diary entries, questionnaire responses, management-plan items.

Revision ID: 0006_recovery
Revises: 0005_scheduling
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_recovery"
down_revision = "0005_scheduling"
branch_labels = None
depends_on = None


def _owner() -> sa.Column:
    return sa.Column("owner_id", sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.String(32), nullable=False),
        _owner(),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("leg_pain", sa.Integer(), nullable=False),
        sa.Column("back_pain", sa.Integer(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("medications", sa.JSON(), nullable=False),
        sa.Column("treatments_started", sa.JSON(), nullable=False),
        sa.Column("treatments_stopped", sa.JSON(), nullable=False),
        sa.Column("exercise_minutes", sa.Integer(), nullable=True),
        sa.Column("sleep_quality", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("safety", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("leg_pain BETWEEN 0 AND 10", name=op.f("ck_diary_entries_leg_pain_0_10")),
        sa.CheckConstraint("back_pain BETWEEN 0 AND 10", name=op.f("ck_diary_entries_back_pain_0_10")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_diary_entries_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
        sa.UniqueConstraint("owner_id", "entry_date", name=op.f("uq_diary_entries_owner_id_entry_date")),
    )
    op.create_index(op.f("ix_diary_entries_owner_id"), "diary_entries", ["owner_id"])
    op.create_table(
        "questionnaire_responses",
        sa.Column("id", sa.String(32), nullable=False),
        _owner(),
        sa.Column("instrument", sa.String(8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(40), nullable=True),
        sa.Column("interpretation", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("instrument IN ('peg', 'pgic', 'odi')",
                           name=op.f("ck_questionnaire_responses_instrument_known")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_questionnaire_responses_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_responses")),
    )
    op.create_index(op.f("ix_questionnaire_responses_owner_id"), "questionnaire_responses", ["owner_id"])
    op.create_table(
        "plan_items",
        sa.Column("id", sa.String(32), nullable=False),
        _owner(),
        sa.Column("strategy_code", sa.String(64), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_ins", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_plan_items_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
        sa.UniqueConstraint("owner_id", "strategy_code", name=op.f("uq_plan_items_owner_id_strategy_code")),
    )
    op.create_index(op.f("ix_plan_items_owner_id"), "plan_items", ["owner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_items_owner_id"), table_name="plan_items")
    op.drop_table("plan_items")
    op.drop_index(op.f("ix_questionnaire_responses_owner_id"), table_name="questionnaire_responses")
    op.drop_table("questionnaire_responses")
    op.drop_index(op.f("ix_diary_entries_owner_id"), table_name="diary_entries")
    op.drop_table("diary_entries")
