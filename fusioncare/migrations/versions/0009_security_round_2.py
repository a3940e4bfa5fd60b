"""Security round 2: rate-limit bucket rows (locked to reserve an attempt atomically) and the patient's consent
to show their assessments on a recovery share (off for every existing share: none was made with it).

Revision ID: 0009_security_round_2
Revises: 0008_assessment_drafts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from fusioncare.accounts.models import UtcDateTime

revision = "0009_security_round_2"
down_revision = "0008_assessment_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_buckets",
        sa.Column("bucket", sa.String(120), nullable=False),
        sa.Column("touched_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limit_buckets")),
    )
    op.create_index(op.f("ix_rate_limit_buckets_touched_at"), "rate_limit_buckets", ["touched_at"])
    with op.batch_alter_table("recovery_shares") as batch:
        batch.add_column(sa.Column("share_assessments", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("recovery_shares") as batch:
        batch.drop_column("share_assessments")
    op.drop_index(op.f("ix_rate_limit_buckets_touched_at"), table_name="rate_limit_buckets")
    op.drop_table("rate_limit_buckets")
