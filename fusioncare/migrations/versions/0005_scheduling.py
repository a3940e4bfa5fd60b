"""Scheduling: weekly hours, appointment types, exceptions, appointments, slot holds, idempotency keys, reminders.

Revision ID: 0005_scheduling
Revises: 0003_directory
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_scheduling"
down_revision = "0003_directory"
branch_labels = None
depends_on = None

HOLDING = "status IN ('requested', 'confirmed', 'completed', 'no_show')"


def upgrade() -> None:
    op.create_table(
        "scheduling_weekly_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(40), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_scheduling_weekly_hours_weekday_range")),
        sa.CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
                           name=op.f("ck_scheduling_weekly_hours_minutes_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_weekly_hours")),
    )
    op.create_index("ix_scheduling_weekly_hours_npi", "scheduling_weekly_hours", ["npi"])
    op.create_table(
        "scheduling_appointment_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 480 AND duration_minutes % 5 = 0",
                           name=op.f("ck_scheduling_appointment_types_duration_on_grid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_appointment_types")),
        sa.UniqueConstraint("npi", "code", name=op.f("uq_scheduling_appointment_types_npi_code")),
    )
    op.create_table(
        "scheduling_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('time_off', 'extra_hours')", name=op.f("ck_scheduling_exceptions_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_exceptions")),
    )
    op.create_index("ix_scheduling_exceptions_npi_starts_at", "scheduling_exceptions", ["npi", "starts_at"])
    op.create_table(
        "scheduling_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("type_code", sa.String(40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shared_assessment_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('requested', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show')",
                           name=op.f("ck_scheduling_appointments_status_known")),
        sa.ForeignKeyConstraint(["patient_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_appointments_patient_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_appointments")),
    )
    op.create_index("uq_scheduling_appointments_npi_start_active", "scheduling_appointments", ["npi", "starts_at"],
                    unique=True, sqlite_where=sa.text(HOLDING), postgresql_where=sa.text(HOLDING))
    op.create_index("ix_scheduling_appointments_patient_id", "scheduling_appointments", ["patient_id"])
    op.create_index("ix_scheduling_appointments_npi_starts_at", "scheduling_appointments", ["npi", "starts_at"])
    op.create_table(
        "scheduling_slot_holds",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("cell_start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["scheduling_appointments.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_slot_holds_appointment_id_scheduling_appointments")),
        sa.PrimaryKeyConstraint("npi", "cell_start_utc", name=op.f("pk_scheduling_slot_holds")),
    )
    op.create_index("ix_scheduling_slot_holds_appointment_id", "scheduling_slot_holds", ["appointment_id"])
    op.create_table(
        "scheduling_idempotency_keys",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_idempotency_keys_patient_id_users")),
        sa.ForeignKeyConstraint(["appointment_id"], ["scheduling_appointments.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_idempotency_keys_appointment_id_scheduling_appointments")),
        sa.PrimaryKeyConstraint("patient_id", "key", name=op.f("pk_scheduling_idempotency_keys")),
    )
    op.create_table(
        "scheduling_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["scheduling_appointments.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_reminders_appointment_id_scheduling_appointments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_reminders")),
        sa.UniqueConstraint("appointment_id", "kind", name=op.f("uq_scheduling_reminders_appointment_id_kind")),
    )
    op.create_index("ix_scheduling_reminders_due_at", "scheduling_reminders", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduling_reminders_due_at", table_name="scheduling_reminders")
    op.drop_table("scheduling_reminders")
    op.drop_table("scheduling_idempotency_keys")
    op.drop_index("ix_scheduling_slot_holds_appointment_id", table_name="scheduling_slot_holds")
    op.drop_table("scheduling_slot_holds")
    op.drop_index("ix_scheduling_appointments_npi_starts_at", table_name="scheduling_appointments")
    op.drop_index("ix_scheduling_appointments_patient_id", table_name="scheduling_appointments")
    op.drop_index("uq_scheduling_appointments_npi_start_active", table_name="scheduling_appointments")
    op.drop_table("scheduling_appointments")
    op.drop_index("ix_scheduling_exceptions_npi_starts_at", table_name="scheduling_exceptions")
    op.drop_table("scheduling_exceptions")
    op.drop_table("scheduling_appointment_types")
    op.drop_index("ix_scheduling_weekly_hours_npi", table_name="scheduling_weekly_hours")
    op.drop_table("scheduling_weekly_hours")
