"""Recovery shares: the providers (by NPI) a patient lets read their recovery record.

Revision ID: 0007_recovery_shares
Revises: 0006_recovery
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_recovery_shares"
down_revision = "0006_recovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recovery_shares",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(npi) = 10", name=op.f("ck_recovery_shares_npi_ten_digits")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_recovery_shares_owner_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_shares")),
        sa.UniqueConstraint("owner_id", "npi", name=op.f("uq_recovery_shares_owner_id_npi")),
    )
    op.create_index(op.f("ix_recovery_shares_owner_id"), "recovery_shares", ["owner_id"])
    op.create_index(op.f("ix_recovery_shares_npi"), "recovery_shares", ["npi"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_shares_npi"), table_name="recovery_shares")
    op.drop_index(op.f("ix_recovery_shares_owner_id"), table_name="recovery_shares")
    op.drop_table("recovery_shares")
