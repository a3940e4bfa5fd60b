"""Provider directory: NPPES providers and their spatial search index.

Revision ID: 0003_directory
Revises: 0002_accounts
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_directory"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_providers",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("entity_type", sa.SmallInteger(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("name_search", sa.String(300), nullable=False),
        sa.Column("organization_name", sa.String(200), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("middle_name", sa.String(100), nullable=True),
        sa.Column("name_prefix", sa.String(20), nullable=True),
        sa.Column("name_suffix", sa.String(20), nullable=True),
        sa.Column("credential", sa.String(100), nullable=True),
        sa.Column("sex", sa.String(1), nullable=True),
        sa.Column("taxonomies", sa.JSON(), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("address_line1", sa.String(200), nullable=True),
        sa.Column("address_line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("state", sa.String(40), nullable=True),
        sa.Column("postal_code", sa.String(20), nullable=True),
        sa.Column("zip_code", sa.String(5), nullable=True),
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("time_zone", sa.String(40), nullable=True),
        sa.Column("enumeration_date", sa.Date(), nullable=True),
        sa.Column("last_update_date", sa.Date(), nullable=True),
        sa.Column("deactivation_date", sa.Date(), nullable=True),
        sa.Column("reactivation_date", sa.Date(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_digest", sa.String(32), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("insurance_plans", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("telehealth", sa.Boolean(), nullable=True),
        sa.Column("accepting_new", sa.Boolean(), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("profile_confirmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("npi", name=op.f("pk_directory_providers")),
    )
    op.create_table(
        "directory_search_index",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("specialty", sa.String(40), nullable=False),
        sa.Column("lat_band", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("npi", "specialty", name=op.f("pk_directory_search_index")),
    )
    op.create_index("ix_directory_search_index_cell", "directory_search_index",
                    ["specialty", "lat_band", "lon", "lat", "npi"])


def downgrade() -> None:
    op.drop_index("ix_directory_search_index_cell", table_name="directory_search_index")
    op.drop_table("directory_search_index")
    op.drop_table("directory_providers")
