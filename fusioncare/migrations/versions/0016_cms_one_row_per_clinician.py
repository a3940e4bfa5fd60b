"""CMS clinicians: one row per clinician, with their practices, and the file's provenance in a row of its own.

The Doctors and Clinicians import wrote two rows per clinician (the practices in ``cms_clinician_practices``,
the facts in ``cms_clinicians``) with two indexes on the NPI, and the file's name, release year and demo flag on
every facts row. Writing the facts after the last chunk took a third of the import. Now ``cms_clinicians`` holds
the ``practices`` list too (the same JSON text as before) and is written chunk by chunk while the file is read;
``cms_clinicians_file`` holds the one file's provenance.

The upgrade keeps what was imported: each clinician's practice rows become one list, in their old order, and the
provenance of the facts rows becomes the file row. The downgrade gives one practices row per clinician back and
puts the provenance on every facts row again.

Revision ID: 0016_cms_one_row_per_clinician
Revises: 0015_cms_practice_lists
Create Date: 2026-12-03
"""

from contextlib import AbstractContextManager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0016_cms_one_row_per_clinician"
down_revision = "0015_cms_practice_lists"
branch_labels = None
depends_on = None

_KEPT = "cms_practice_lists_0016"


def _npi() -> sa.String:
    return sa.String(10).with_variant(sa.String(10, collation="C"), "postgresql")


def _provenance_columns() -> list[sa.Column]:
    return [sa.Column("source_file", sa.String(255), nullable=True),
            sa.Column("data_year", sa.SmallInteger(), nullable=True),
            sa.Column("is_demo", sa.Boolean(), nullable=True)]


def _clinicians_batch() -> AbstractContextManager[BatchOperations]:
    # SQLite rebuilds the table; the copy keeps its named CHECK constraint, which batch mode reflects. (Giving it
    # again here declared it twice: migration 0017 repairs the databases this revision rebuilt that way.)
    return op.batch_alter_table("cms_clinicians")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "cms_clinicians_file",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("data_year", sa.SmallInteger(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_cms_clinicians_file_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cms_clinicians_file")),
    )
    bind.exec_driver_sql("INSERT INTO cms_clinicians_file (id, source_file, data_year, is_demo) "
                         "SELECT 1, source_file, data_year, is_demo FROM cms_clinicians ORDER BY npi LIMIT 1")
    inner = "substr(practices, 2, length(practices) - 2)"  # a list's items, without its brackets
    if bind.dialect.name == "postgresql":
        joined = f"string_agg({inner}, ',' ORDER BY id)"
    else:  # in the subquery's id order
        joined = f"group_concat({inner}, ',')"
    bind.exec_driver_sql(f"CREATE TABLE {_KEPT} AS SELECT npi, '[' || {joined} || ']' AS practices "
                         f"FROM (SELECT * FROM cms_clinician_practices WHERE practices <> '[]' ORDER BY id) AS p "
                         f"GROUP BY npi")
    # Looked up once per clinician below: without an index PostgreSQL would scan the whole table each time.
    bind.exec_driver_sql(f"CREATE INDEX ix_{_KEPT}_npi ON {_KEPT} (npi)")
    with _clinicians_batch() as batch:
        for column in _provenance_columns():
            batch.drop_column(column.name)
        batch.add_column(sa.Column("practices", sa.Text(), nullable=True))
    bind.exec_driver_sql(f"UPDATE cms_clinicians SET practices = coalesce((SELECT k.practices FROM {_KEPT} k "
                         f"WHERE k.npi = cms_clinicians.npi), '[]')")
    with _clinicians_batch() as batch:
        batch.alter_column("practices", existing_type=sa.Text(), nullable=False)
    bind.exec_driver_sql(f"DROP TABLE {_KEPT}")
    op.drop_index("ix_cms_clinician_practices_npi", table_name="cms_clinician_practices")
    op.drop_table("cms_clinician_practices")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "cms_clinician_practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", _npi(), nullable=False),
        sa.Column("practices", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cms_clinician_practices")),
    )
    op.create_index("ix_cms_clinician_practices_npi", "cms_clinician_practices", ["npi"])
    bind.exec_driver_sql("INSERT INTO cms_clinician_practices (npi, practices) "
                         "SELECT npi, practices FROM cms_clinicians ORDER BY npi")
    with _clinicians_batch() as batch:
        batch.drop_column("practices")
        for column in _provenance_columns():
            batch.add_column(column)
    bind.exec_driver_sql(
        "UPDATE cms_clinicians SET "
        "source_file = coalesce((SELECT source_file FROM cms_clinicians_file), ''), "
        "data_year = coalesce((SELECT data_year FROM cms_clinicians_file), 0), "
        "is_demo = coalesce((SELECT is_demo FROM cms_clinicians_file), false)")
    with _clinicians_batch() as batch:
        batch.alter_column("source_file", existing_type=sa.String(255), nullable=False)
        batch.alter_column("data_year", existing_type=sa.SmallInteger(), nullable=False)
        batch.alter_column("is_demo", existing_type=sa.Boolean(), nullable=False)
    op.drop_table("cms_clinicians_file")
