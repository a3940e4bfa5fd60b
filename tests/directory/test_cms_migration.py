"""Migration 0013_cms_public_data: matches the models, and downgrades and upgrades cleanly (on each test database)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from fusioncare import migrate
from fusioncare.db import Base
from tests.conftest import migrated_database
from tests.recovery.test_migration import table_of

CMS_TABLES = {"cms_procedure_volumes", "cms_clinicians", "cms_clinicians_file"}


def test_migrated_cms_tables_match_the_models(db_engine):
    with db_engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if table_of(d) in CMS_TABLES] == []
    assert CMS_TABLES <= set(inspect(db_engine).get_table_names())


def test_cms_migration_downgrades_and_upgrades_again(tmp_path):
    from fusioncare.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0012_recovery_journey")
    assert not CMS_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert CMS_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


KEY_COLUMNS = {("cms_procedure_volumes", "npi"), ("cms_procedure_volumes", "hcpcs_code"),
               ("cms_procedure_volumes", "place_of_service"), ("cms_clinicians", "npi")}


def _collations(connection) -> dict[tuple[str, str], str | None]:
    rows = connection.exec_driver_sql(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()")
    return {(table, column): collation for table, column, collation in rows if (table, column) in KEY_COLUMNS}


def test_cms_keys_compare_bytes_and_the_data_year_index_is_gone(db_engine):
    """0014: the code keys of the CMS tables in the "C" collation on PostgreSQL (SQLite compares bytes anyway);
    no index on the data year of procedure volumes."""
    indexes = {i["name"] for i in inspect(db_engine).get_indexes("cms_procedure_volumes")}
    assert "ix_cms_procedure_volumes_data_year" not in indexes
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as connection:
            assert _collations(connection) == {key: "C" for key in KEY_COLUMNS}


@pytest.fixture
def own_engine(db_engine, tmp_path) -> Iterator[Engine]:
    """A freshly migrated database of db_engine's kind that only this test migrates up and down."""
    with migrated_database(db_engine.dialect.name, tmp_path) as engine:
        yield engine


def test_0014_downgrades_to_the_locale_collation_and_the_year_index_and_upgrades_again(own_engine):
    cfg = migrate.alembic_config(own_engine.url.render_as_string(hide_password=False))
    with own_engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0013_cms_public_data")
    assert "ix_cms_procedure_volumes_data_year" in {i["name"] for i in inspect(own_engine).get_indexes(
        "cms_procedure_volumes")}
    if own_engine.dialect.name == "postgresql":
        with own_engine.connect() as connection:
            assert _collations(connection) == {key: None for key in KEY_COLUMNS}  # the database's default
    migrate.upgrade(own_engine)
    test_cms_keys_compare_bytes_and_the_data_year_index_is_gone(own_engine)


def _migrate_to(engine: Engine, revision: str, *, down: bool) -> None:
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_0015_turns_practice_rows_into_one_list_per_clinician_and_back(own_engine):
    """Practices imported before 0015 survive it, in their order; the downgrade gives the rows back (the columns
    0015 dropped come back empty)."""
    _migrate_to(own_engine, "0014_cms_bytewise_keys", down=True)
    rows = [("1234567893", "SPINE CARE, LLC", "1 MAIN ST", "NEW YORK", "2125550100"),
            ("1245319599", None, "9 PARK AVE", "ALBANY", None),
            ("1234567893", 'METRO "BACK" CARE', "2 ELM ST", "BUFFALO", "7165550100")]
    with own_engine.begin() as connection:
        for npi, name, line1, city, phone in rows:
            connection.execute(text("INSERT INTO cms_clinician_practices (npi, name, address_line1, city, phone, "
                                    "specialty) VALUES (:npi, :name, :line1, :city, :phone, 'CHIROPRACTIC')"),
                               {"npi": npi, "name": name, "line1": line1, "city": city, "phone": phone})

    _migrate_to(own_engine, "0015_cms_practice_lists", down=False)
    with own_engine.connect() as connection:
        stored = [(npi, json.loads(p)) for npi, p in connection.execute(text(
            "SELECT npi, practices FROM cms_clinician_practices ORDER BY id"))]
    assert stored == [  # [name, address_line1, address_line2, city, state, zip_code, phone] (PRACTICE_FIELDS)
        ("1234567893", [["SPINE CARE, LLC", "1 MAIN ST", None, "NEW YORK", None, None, "2125550100"],
                        ['METRO "BACK" CARE', "2 ELM ST", None, "BUFFALO", None, None, "7165550100"]]),
        ("1245319599", [[None, "9 PARK AVE", None, "ALBANY", None, None, None]]),
    ]

    _migrate_to(own_engine, "0014_cms_bytewise_keys", down=True)
    with own_engine.connect() as connection:
        back = connection.execute(text("SELECT npi, name, address_line1, city, phone, specialty "
                                       "FROM cms_clinician_practices ORDER BY id")).all()
    assert [tuple(r) for r in back] == [(*row, None) for row in (rows[0], rows[2], rows[1])]


def test_0016_puts_each_clinicians_practices_on_their_row_and_the_provenance_on_the_files_row_and_back(own_engine):
    """What was imported before 0016 survives it: a clinician's practice rows become one list in their old order,
    on the clinician's row; the provenance of the rows becomes the file's one row. The downgrade gives both back."""
    _migrate_to(own_engine, "0015_cms_practice_lists", down=True)
    a, b = ["SPINE CARE, LLC", "1 MAIN ST", None, "NEW YORK", "NY", "100011234", "2125550100"], \
        [None, "2 ELM ST", None, "BUFFALO", "NY", None, None]
    c = ['METRO "BACK" CARE', "9 PARK AVE", None, "ALBANY", "NY", None, None]
    with own_engine.begin() as connection:
        for npi, school in (("1234567893", "BAYLOR"), ("1245319599", None)):
            connection.execute(text("INSERT INTO cms_clinicians (npi, accepts_assignment, medical_school, "
                                    "source_file, data_year, is_demo) VALUES (:npi, 'always', :school, "
                                    "'DAC_NationalDownloadableFile.csv', 2025, false)"),
                               {"npi": npi, "school": school})
        for npi, practices in (("1234567893", [a]), ("1245319599", [c]), ("1234567893", [b])):
            connection.execute(text("INSERT INTO cms_clinician_practices (npi, practices) VALUES (:npi, :p)"),
                               {"npi": npi, "p": json.dumps(practices)})

    migrate.upgrade(own_engine)
    assert "cms_clinician_practices" not in inspect(own_engine).get_table_names()
    with own_engine.connect() as connection:
        rows = [(npi, school, json.loads(p)) for npi, school, p in connection.execute(text(
            "SELECT npi, medical_school, practices FROM cms_clinicians ORDER BY npi"))]
        file = connection.execute(text("SELECT id, source_file, data_year, is_demo FROM cms_clinicians_file")).all()
    assert rows == [("1234567893", "BAYLOR", [a, b]), ("1245319599", None, [c])]
    assert [tuple(r) for r in file] == [(1, "DAC_NationalDownloadableFile.csv", 2025, False)]
    with pytest.raises(IntegrityError):  # one row only
        with own_engine.begin() as connection:
            connection.execute(text("INSERT INTO cms_clinicians_file (id, source_file, data_year, is_demo) "
                                    "VALUES (2, 'x.csv', 2025, false)"))
    with pytest.raises(IntegrityError):  # the rebuilt table kept its check
        with own_engine.begin() as connection:
            connection.execute(text("INSERT INTO cms_clinicians (npi, accepts_assignment, practices) "
                                    "VALUES ('1215911011', 'never', '[]')"))

    _migrate_to(own_engine, "0015_cms_practice_lists", down=True)
    with own_engine.connect() as connection:
        back = [(npi, json.loads(p)) for npi, p in connection.execute(text(
            "SELECT npi, practices FROM cms_clinician_practices ORDER BY id"))]
        provenance = connection.execute(text(
            "SELECT DISTINCT source_file, data_year, is_demo FROM cms_clinicians")).all()
    assert back == [("1234567893", [a, b]), ("1245319599", [c])]
    assert [tuple(r) for r in provenance] == [("DAC_NationalDownloadableFile.csv", 2025, False)]


_RULE = "CONSTRAINT ck_cms_clinicians_assignment_known CHECK (accepts_assignment IN ('always', 'sometimes'))"


def _clinicians_sql(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'cms_clinicians'").scalar_one()


def test_0017_declares_the_clinicians_check_once_and_keeps_every_row(own_engine):
    """0016 as first shipped gave the table's CHECK again to SQLite's batch rebuild, which had reflected it already:
    the rule was declared twice. A fresh database now declares it once; one left with the rule twice, and rows, comes
    out of 0017 with the rule once, every row, and the rule still enforced."""
    if own_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL altered the table in place and declares the rule once")
    assert _clinicians_sql(own_engine).count(_RULE) == 1
    _migrate_to(own_engine, "0016_cms_one_row_per_clinician", down=True)
    rows = [("1234567893", "always", 1, "BAYLOR", 1999, "CHIROPRACTIC", '[["SPINE CARE", null]]'),
            ("1245319599", None, None, None, None, None, "[]")]
    with own_engine.begin() as connection:  # the table as 0016 first left it
        sql = _clinicians_sql(own_engine)
        connection.exec_driver_sql("ALTER TABLE cms_clinicians RENAME TO cms_clinicians_0016")
        connection.exec_driver_sql(sql.replace(_RULE, f"{_RULE}, \n\t{_RULE}"))
        connection.exec_driver_sql("DROP TABLE cms_clinicians_0016")
        for row in rows:
            connection.exec_driver_sql("INSERT INTO cms_clinicians (npi, accepts_assignment, telehealth, "
                                       "medical_school, graduation_year, specialty, practices) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    assert _clinicians_sql(own_engine).count(_RULE) == 2

    migrate.upgrade(own_engine)

    assert _clinicians_sql(own_engine).count(_RULE) == 1
    with own_engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT npi, accepts_assignment, telehealth, medical_school, "
                                          "graduation_year, specialty, practices FROM cms_clinicians ORDER BY npi")
        assert [tuple(r) for r in kept] == rows
    with pytest.raises(IntegrityError):
        with own_engine.begin() as connection:
            connection.execute(text("INSERT INTO cms_clinicians (npi, accepts_assignment, practices) "
                                    "VALUES ('1215911011', 'never', '[]')"))
    test_migrated_cms_tables_match_the_models(own_engine)
