"""Migrations 0006_recovery, 0007_recovery_shares and 0012_recovery_journey: match the models, and downgrades and
upgrades cleanly (on each test database)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fusioncare import migrate
from fusioncare.db import Base

RECOVERY_TABLES = {"diary_entries", "questionnaire_responses", "plan_items", "recovery_shares", "recovery_profiles"}


def table_of(diff) -> str:
    """The table an Alembic autogenerate difference is about."""
    item = diff[0] if isinstance(diff, list) else diff
    kind = item[0]
    if kind in ("add_table", "remove_table"):
        return item[1].name
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return item[2]
    return item[1].table.name  # indexes, constraints, foreign keys


def _about_recovery(diff) -> bool:
    return table_of(diff) in RECOVERY_TABLES


def test_migrated_recovery_tables_match_the_models(db_engine):
    with db_engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if _about_recovery(d)] == []
    assert RECOVERY_TABLES <= set(inspect(db_engine).get_table_names())


def test_recovery_migration_downgrades_and_upgrades_again(tmp_path):
    from fusioncare.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0005_scheduling")
    assert not RECOVERY_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert RECOVERY_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_recovery_journey_migration_downgrades_to_0011_and_upgrades_again(tmp_path):
    from fusioncare.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'j.sqlite3'}")
    migrate.upgrade(engine)
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0011_directory_import_runs")
    inspector = inspect(engine)
    assert "recovery_profiles" not in inspector.get_table_names()
    assert "safety_seen_at" not in {c["name"] for c in inspector.get_columns("diary_entries")}
    migrate.upgrade(engine)
    inspector = inspect(engine)
    assert "recovery_profiles" in inspector.get_table_names()
    assert "safety_seen_at" in {c["name"] for c in inspector.get_columns("diary_entries")}
    engine.dispose()
