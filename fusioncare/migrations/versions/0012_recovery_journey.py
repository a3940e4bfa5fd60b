"""Recovery journey: when the patient has seen a diary entry's safety re-check, and the recovery profile
(operation details, long-standing symptoms, name and date of birth for the visit summary).

Revision ID: 0012_recovery_journey
Revises: 0011_directory_import_runs
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_recovery_journey"
down_revision = "0011_directory_import_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("diary_entries") as batch:
        batch.add_column(sa.Column("safety_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "recovery_profiles",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("operation_date", sa.Date(), nullable=True),
        sa.Column("fusion_region", sa.String(16), nullable=False),
        sa.Column("fusion_levels", sa.String(100), nullable=False),
        sa.Column("fusion_approach", sa.String(16), nullable=False),
        sa.Column("surgeon", sa.String(200), nullable=False),
        sa.Column("long_standing_symptoms", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fusion_approach IN ('posterior', 'anterior', 'lateral', 'unknown')",
                           name=op.f("ck_recovery_profiles_fusion_approach_known")),
        sa.CheckConstraint("fusion_region IN ('lumbar', 'thoracic', 'cervical')",
                           name=op.f("ck_recovery_profiles_fusion_region_known")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_recovery_profiles_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_recovery_profiles")),
    )


def downgrade() -> None:
    op.drop_table("recovery_profiles")
    with op.batch_alter_table("diary_entries") as batch:
        batch.drop_column("safety_seen_at")
