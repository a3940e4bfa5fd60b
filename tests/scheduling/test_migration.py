"""Migration 0010_booking_horizon_outbox: the tables match the models on each test database, and on a database
with appointments from before it, the reminders move into the outbox, every holding appointment holds its
patient's cells, and a downgrade gives the reminders back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from fusioncare import migrate
from fusioncare.db import Base, make_engine
from tests.recovery.test_migration import table_of

TABLES = {"scheduling_provider_settings", "scheduling_patient_holds", "scheduling_outbox", "scheduling_appointments"}


def test_migrated_scheduling_tables_match_the_models(db_engine):
    with db_engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if table_of(d) in TABLES or table_of(d) == "scheduling_reminders"] == []


def test_upgrade_moves_reminders_into_the_outbox_and_holds_patients_cells_and_downgrade_gives_them_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    cfg = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0009_security_round_2")
    start = datetime(2031, 3, 3, 14, 0, tzinfo=UTC)
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (id, email, password_hash, role, created_at, password_changed_at) "
                                "VALUES (1, 'ann@example.org', 'x', 'patient', :now, :now)"),
                           {"now": datetime.now(UTC).strftime(stamp)})
        for appointment_id, status in ((1, "requested"), (2, "cancelled")):
            connection.execute(text(
                "INSERT INTO scheduling_appointments (id, patient_id, npi, type_code, starts_at, ends_at, time_zone, "
                "status, created_at, updated_at) VALUES (:id, 1, '1700000015', 'new_patient', :s, :e, "
                "'America/New_York', :status, :s, :s)"),
                {"id": appointment_id, "status": status, "s": start.strftime(stamp),
                 "e": (start + timedelta(minutes=45)).strftime(stamp)})
        connection.execute(text("INSERT INTO scheduling_slot_holds (npi, cell_start_utc, appointment_id) VALUES "
                                "('1700000015', :s, 1)"), {"s": start.strftime(stamp)})
        connection.execute(text("INSERT INTO scheduling_reminders (appointment_id, kind, due_at) VALUES "
                                "(1, '24h', :due), (1, '2h', :due2)"),
                           {"due": (start - timedelta(hours=24)).strftime(stamp),
                            "due2": (start - timedelta(hours=2)).strftime(stamp)})
    migrate.upgrade(engine)
    with engine.connect() as connection:
        kinds = sorted(connection.execute(text("SELECT kind FROM scheduling_outbox")).scalars())
        holds = connection.execute(text("SELECT appointment_id, count(*) FROM scheduling_patient_holds "
                                        "GROUP BY appointment_id")).all()
    assert kinds == ["reminder_24h", "reminder_2h"]
    assert holds == [(1, 9)], "the requested appointment holds its nine cells; the cancelled one none"
    assert "scheduling_reminders" not in inspect(engine).get_table_names()

    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0009_security_round_2")
    with engine.connect() as connection:
        back = sorted(connection.execute(text("SELECT kind FROM scheduling_reminders")).scalars())
    assert back == ["24h", "2h"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM scheduling_slot_holds")).scalar() == 1, "holds kept"
    assert not {"scheduling_outbox", "scheduling_patient_holds"} & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
