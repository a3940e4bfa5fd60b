"""SQLite: ``cms_clinicians`` declares its CHECK constraint once.

Migration 0016 rebuilt the table on SQLite and gave its CHECK constraint again while Alembic's batch mode had
already reflected it, so every SQLite database it upgraded declared the same rule twice (and checked it twice per
row). This rebuilds such a table once, from its declared form, keeping every row. A table that declares the rule
once, and PostgreSQL (which altered the table in place), are left as they are. The downgrade has nothing to undo.

Revision ID: 0017_cms_clinicians_one_check
Revises: 0016_cms_one_row_per_clinician
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_cms_clinicians_one_check"
down_revision = "0016_cms_one_row_per_clinician"
branch_labels = None
depends_on = None


def _declared() -> sa.Table:
    """cms_clinicians as migration 0016 left it, with its one CHECK constraint."""
    return sa.Table(
        "cms_clinicians", sa.MetaData(),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("accepts_assignment", sa.String(10), nullable=True),
        sa.Column("telehealth", sa.Boolean(), nullable=True),
        sa.Column("medical_school", sa.String(200), nullable=True),
        sa.Column("graduation_year", sa.SmallInteger(), nullable=True),
        sa.Column("specialty", sa.String(100), nullable=True),
        sa.Column("practices", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("npi", name="pk_cms_clinicians"),
        sa.CheckConstraint("accepts_assignment IN ('always', 'sometimes')",
                           name="ck_cms_clinicians_assignment_known"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or len(sa.inspect(bind).get_check_constraints("cms_clinicians")) < 2:
        return
    with op.batch_alter_table("cms_clinicians", copy_from=_declared(), recreate="always"):
        pass


def downgrade() -> None:
    pass
