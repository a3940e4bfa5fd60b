"""Migration 0013_cms_public_data: matches the models, and downgrades and upgrades cleanly (on each test database)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fusioncare import migrate
from fusioncare.db import Base
from tests.recovery.test_migration import table_of

CMS_TABLES = {"cms_procedure_volumes", "cms_clinician_practices", "cms_clinicians"}


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
