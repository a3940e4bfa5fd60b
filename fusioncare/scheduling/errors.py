"""Scheduling domain errors; fusioncare/api/errors.py maps them to HTTP (422, 404, 409)."""

from __future__ import annotations

from fusioncare.errors import Conflict, InvalidInput


class InvalidBooking(InvalidInput):
    """A booking or availability request that names no bookable slot (past, outside hours, wrong length...)."""

    code = "invalid_booking"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came back with a different request body."""

    code = "idempotency_key_reused"


class SlotTaken(Conflict):
    """Someone else holds (part of) the slot; ``next_free_slots`` lists the next open ones."""

    code = "slot_taken"


class AppointmentNotChangeable(Conflict):
    """The appointment's status does not allow this change (e.g. cancelling a declined one)."""

    code = "appointment_not_changeable"


class AppointmentOverlaps(Conflict):
    """The patient already holds an appointment at that time (with any provider); ``overlapping_appointment``
    names it."""

    code = "appointment_overlaps"
