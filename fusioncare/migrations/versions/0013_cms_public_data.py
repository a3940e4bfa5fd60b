"""CMS public data: Medicare procedure volumes per clinician, code, place of service and year; the Doctors and
Clinicians file's practices per clinician and the facts derived per NPI.

Revision ID: 0013_cms_public_data
Revises: 0012_recovery_journey
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_cms_public_data"
down_revision = "0012_recovery_journey"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cms_procedure_volumes",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("hcpcs_code", sa.String(5), nullable=False),
        sa.Column("place_of_service", sa.String(1), nullable=False),
        sa.Column("data_year", sa.SmallInteger(), nullable=False),
        sa.Column("patients", sa.Integer(), nullable=False),
        sa.Column("services", sa.Float(), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.CheckConstraint("place_of_service IN ('F', 'O')", name=op.f("ck_cms_procedure_volumes_place_known")),
        sa.CheckConstraint("patients >= 11", name=op.f("ck_cms_procedure_volumes_published_count")),
        sa.PrimaryKeyConstraint("npi", "hcpcs_code", "place_of_service", "data_year",
                                name=op.f("pk_cms_procedure_volumes")),
    )
    op.create_index("ix_cms_procedure_volumes_data_year", "cms_procedure_volumes", ["data_year"])
    op.create_table(
        "cms_clinician_practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("org_pac_id", sa.String(10), nullable=True),
        sa.Column("address_line1", sa.String(200), nullable=True),
        sa.Column("address_line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("state", sa.String(2), nullable=True),
        sa.Column("zip_code", sa.String(9), nullable=True),
        sa.Column("phone", sa.String(10), nullable=True),
        sa.Column("telehealth", sa.Boolean(), nullable=True),
        sa.Column("individual_assignment", sa.String(1), nullable=True),
        sa.Column("medical_school", sa.String(200), nullable=True),
        sa.Column("graduation_year", sa.SmallInteger(), nullable=True),
        sa.Column("specialty", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cms_clinician_practices")),
    )
    op.create_index("ix_cms_clinician_practices_npi", "cms_clinician_practices", ["npi"])
    op.create_table(
        "cms_clinicians",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("accepts_assignment", sa.String(10), nullable=True),
        sa.Column("telehealth", sa.Boolean(), nullable=True),
        sa.Column("medical_school", sa.String(200), nullable=True),
        sa.Column("graduation_year", sa.SmallInteger(), nullable=True),
        sa.Column("specialty", sa.String(100), nullable=True),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("data_year", sa.SmallInteger(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.CheckConstraint("accepts_assignment IN ('always', 'sometimes')",
                           name=op.f("ck_cms_clinicians_assignment_known")),
        sa.PrimaryKeyConstraint("npi", name=op.f("pk_cms_clinicians")),
    )


def downgrade() -> None:
    op.drop_table("cms_clinicians")
    op.drop_index("ix_cms_clinician_practices_npi", table_name="cms_clinician_practices")
    op.drop_table("cms_clinician_practices")
    op.drop_index("ix_cms_procedure_volumes_data_year", table_name="cms_procedure_volumes")
    op.drop_table("cms_procedure_volumes")
