"""Availability, slots, appointments, reminders and calendar files."""
