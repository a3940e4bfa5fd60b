"""CMS practices: one row per clinician with their practices as a JSON list, not one row per practice.

The Doctors and Clinicians import wrote 14 values for each of about a million practice rows; binding values one
by one was most of its time on SQLite. Now a clinician's rows become one row (``npi``, ``practices``): a JSON
list of ``[name, address_line1, address_line2, city, state, zip_code, phone]`` lists, as text (PostgreSQL's json
type would parse it again on every insert). The columns no page read go: the group's PAC ID, and the
clinician's telehealth, assignment, school, graduation year and specialty as filed on each row; those facts are
kept per NPI in ``cms_clinicians``, as before.

The upgrade keeps the practices already imported (one row per NPI, in their old order). The downgrade turns each
list back into practice rows; the dropped columns come back empty until the next import.

Revision ID: 0015_cms_practice_lists
Revises: 0014_cms_bytewise_keys
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_cms_practice_lists"
down_revision = "0014_cms_bytewise_keys"
branch_labels = None
depends_on = None

_FIELDS = ("name", "address_line1", "address_line2", "city", "state", "zip_code", "phone")
_KEPT = "cms_practice_lists_0015"


def _old_columns() -> list[sa.Column]:
    """The practice columns before this revision, as new objects each time (a Column belongs to one table)."""
    lengths = {"name": 200, "address_line1": 200, "address_line2": 200, "city": 100, "state": 2, "zip_code": 9,
               "phone": 10}
    return [*(sa.Column(name, sa.String(lengths[name]), nullable=True) for name in _FIELDS),
            sa.Column("org_pac_id", sa.String(10), nullable=True), sa.Column("telehealth", sa.Boolean(), nullable=True),
            sa.Column("individual_assignment", sa.String(1), nullable=True),
            sa.Column("medical_school", sa.String(200), nullable=True),
            sa.Column("graduation_year", sa.SmallInteger(), nullable=True),
            sa.Column("specialty", sa.String(100), nullable=True)]


def upgrade() -> None:
    bind = op.get_bind()
    fields = ", ".join(_FIELDS)
    if bind.dialect.name == "postgresql":
        lists = f"json_agg(json_build_array({fields}) ORDER BY id)::text"
    else:  # the list is in the subquery's id order
        lists = f"json_group_array(json_array({fields}))"
    bind.exec_driver_sql(f"CREATE TABLE {_KEPT} AS SELECT npi, min(id) AS first_id, {lists} AS practices "
                         f"FROM (SELECT * FROM cms_clinician_practices ORDER BY id) AS p GROUP BY npi")
    bind.exec_driver_sql("DELETE FROM cms_clinician_practices")
    with op.batch_alter_table("cms_clinician_practices") as batch:
        for column in _old_columns():
            batch.drop_column(column.name)
        batch.add_column(sa.Column("practices", sa.Text(), nullable=False))
    bind.exec_driver_sql(f"INSERT INTO cms_clinician_practices (npi, practices) "
                         f"SELECT npi, practices FROM {_KEPT} ORDER BY first_id")
    bind.exec_driver_sql(f"DROP TABLE {_KEPT}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        values = ", ".join(f"p.value->>{i} AS {f}" for i, f in enumerate(_FIELDS))
        source = "cms_clinician_practices c, json_array_elements(c.practices::json) WITH ORDINALITY AS p(value, n)"
        order = "c.id, p.n"
    else:
        values = ", ".join(f"json_extract(p.value, '$[{i}]') AS {f}" for i, f in enumerate(_FIELDS))
        source = "cms_clinician_practices c, json_each(c.practices) AS p"
        order = "c.id, p.key"  # the position in the list
    bind.exec_driver_sql(f"CREATE TABLE {_KEPT} AS SELECT c.npi, {values}, row_number() OVER (ORDER BY {order}) "
                         f"AS n FROM {source}")
    bind.exec_driver_sql("DELETE FROM cms_clinician_practices")
    with op.batch_alter_table("cms_clinician_practices") as batch:
        batch.drop_column("practices")
        for column in _old_columns():
            batch.add_column(column)
    columns = ", ".join(_FIELDS)
    bind.exec_driver_sql(f"INSERT INTO cms_clinician_practices (npi, {columns}) "
                         f"SELECT npi, {columns} FROM {_KEPT} ORDER BY n")
    bind.exec_driver_sql(f"DROP TABLE {_KEPT}")
