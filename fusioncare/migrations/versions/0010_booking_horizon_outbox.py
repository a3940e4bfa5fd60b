"""Booking: each provider's booking horizon, patient holds (no two overlapping appointments per patient), the
patient's name, reason and who cancelled on appointments, and one e-mail outbox for every appointment message
(the reminders move into it).

Revision ID: 0010_booking_horizon_outbox
Revises: 0009_security_round_2
Create Date: 2026-12-02
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from fusioncare.accounts.models import UtcDateTime

revision = "0010_booking_horizon_outbox"
down_revision = "0009_security_round_2"
branch_labels = None
depends_on = None

HOLDING = ("requested", "confirmed", "completed", "no_show")
CELL = timedelta(minutes=5)

appointments = sa.table("scheduling_appointments", sa.column("id", sa.Integer), sa.column("patient_id", sa.Integer),
                        sa.column("starts_at", UtcDateTime()), sa.column("ends_at", UtcDateTime()),
                        sa.column("status", sa.String))
patient_holds = sa.table("scheduling_patient_holds", sa.column("patient_id", sa.Integer),
                         sa.column("cell_start_utc", UtcDateTime()), sa.column("appointment_id", sa.Integer))
reminders = sa.table("scheduling_reminders", sa.column("id", sa.Integer), sa.column("appointment_id", sa.Integer),
                     sa.column("kind", sa.String), sa.column("due_at", UtcDateTime()),
                     sa.column("claimed_by", sa.String), sa.column("claimed_at", UtcDateTime()),
                     sa.column("sent_at", UtcDateTime()), sa.column("last_error", sa.Text))
outbox = sa.table("scheduling_outbox", sa.column("appointment_id", sa.Integer), sa.column("kind", sa.String),
                  sa.column("recipient", sa.String), sa.column("due_at", UtcDateTime()),
                  sa.column("created_at", UtcDateTime()), sa.column("attempts", sa.Integer),
                  sa.column("done_at", UtcDateTime()), sa.column("outcome", sa.String),
                  sa.column("last_error", sa.Text))


def upgrade() -> None:
    op.create_table(
        "scheduling_provider_settings",
        sa.Column("npi", sa.String(10), nullable=False),
        sa.Column("booking_horizon_days", sa.Integer(), nullable=False, server_default="90"),
        sa.CheckConstraint("booking_horizon_days BETWEEN 1 AND 365",
                           name=op.f("ck_scheduling_provider_settings_horizon_range")),
        sa.PrimaryKeyConstraint("npi", name=op.f("pk_scheduling_provider_settings")),
    )
    # Plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+ has both): a batch copy of the table would drop the old one,
    # and on SQLite that cascades to the slot holds, reminders and idempotency keys that point at it.
    op.add_column("scheduling_appointments", sa.Column("patient_name", sa.String(200), nullable=True))
    op.add_column("scheduling_appointments", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("scheduling_appointments", sa.Column("cancelled_by", sa.String(16), nullable=True))
    op.add_column("scheduling_appointments", sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "scheduling_patient_holds",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("cell_start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_patient_holds_patient_id_users")),
        sa.ForeignKeyConstraint(["appointment_id"], ["scheduling_appointments.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_patient_holds_appointment_id_scheduling_appointments")),
        sa.PrimaryKeyConstraint("patient_id", "cell_start_utc", name=op.f("pk_scheduling_patient_holds")),
    )
    op.create_index("ix_scheduling_patient_holds_appointment_id", "scheduling_patient_holds", ["appointment_id"])
    _hold_existing_appointments()
    op.create_table(
        "scheduling_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("recipient IN ('patient', 'provider')", name=op.f("ck_scheduling_outbox_recipient_known")),
        sa.ForeignKeyConstraint(["appointment_id"], ["scheduling_appointments.id"], ondelete="CASCADE",
                                name=op.f("fk_scheduling_outbox_appointment_id_scheduling_appointments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_outbox")),
    )
    op.create_index("ix_scheduling_outbox_pending", "scheduling_outbox", ["done_at", "due_at"])
    op.create_index("ix_scheduling_outbox_appointment_id", "scheduling_outbox", ["appointment_id"])
    bind = op.get_bind()
    now = datetime.now(UTC)
    moved = [{"appointment_id": r.appointment_id, "kind": f"reminder_{r.kind}", "recipient": "patient",
              "due_at": r.due_at, "created_at": now, "attempts": 0, "done_at": r.sent_at,
              "outcome": "sent" if r.sent_at else None, "last_error": r.last_error}
             for r in bind.execute(sa.select(reminders))]
    if moved:
        bind.execute(sa.insert(outbox), moved)
    op.drop_index("ix_scheduling_reminders_due_at", table_name="scheduling_reminders")
    op.drop_table("scheduling_reminders")


def _hold_existing_appointments() -> None:
    """Every holding appointment holds its patient's cells; an overlap booked before this rule keeps the first."""
    bind = op.get_bind()
    taken: set[tuple[int, datetime]] = set()
    rows = []
    for appointment in bind.execute(sa.select(appointments).where(appointments.c.status.in_(HOLDING))
                                    .order_by(appointments.c.id)):
        cell = appointment.starts_at
        while cell < appointment.ends_at:
            if (appointment.patient_id, cell) not in taken:
                taken.add((appointment.patient_id, cell))
                rows.append({"patient_id": appointment.patient_id, "cell_start_utc": cell,
                             "appointment_id": appointment.id})
            cell += CELL
    if rows:
        bind.execute(sa.insert(patient_holds), rows)


def downgrade() -> None:
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
    bind = op.get_bind()
    kept = [{"appointment_id": r.appointment_id, "kind": r.kind.removeprefix("reminder_"), "due_at": r.due_at,
             "sent_at": r.done_at, "last_error": r.last_error}
            for r in bind.execute(sa.select(outbox).where(outbox.c.kind.in_(("reminder_24h", "reminder_2h"))))]
    if kept:
        bind.execute(sa.insert(reminders), kept)
    op.drop_index("ix_scheduling_outbox_appointment_id", table_name="scheduling_outbox")
    op.drop_index("ix_scheduling_outbox_pending", table_name="scheduling_outbox")
    op.drop_table("scheduling_outbox")
    op.drop_index("ix_scheduling_patient_holds_appointment_id", table_name="scheduling_patient_holds")
    op.drop_table("scheduling_patient_holds")
    for column in ("sequence", "cancelled_by", "reason", "patient_name"):
        op.drop_column("scheduling_appointments", column)
    op.drop_table("scheduling_provider_settings")
