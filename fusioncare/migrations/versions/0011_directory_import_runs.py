"""Directory import runs: one row per data import, for operators (last successful import per source).

Revision ID: 0011_directory_import_runs
Revises: 0010_booking_horizon_outbox
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_directory_import_runs"
down_revision = "0010_booking_horizon_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("all_taxonomies", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("rows", "imported", "updated", "deactivated", "skipped", "rejected", "unchanged")),
        sa.Column("error", sa.String(200), nullable=True),
        sa.CheckConstraint("status IN ('succeeded', 'failed')", name=op.f("ck_directory_import_runs_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_import_runs")),
    )
    op.create_index("ix_directory_import_runs_source_finished_at", "directory_import_runs",
                    ["source", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_directory_import_runs_source_finished_at", table_name="directory_import_runs")
    op.drop_table("directory_import_runs")
