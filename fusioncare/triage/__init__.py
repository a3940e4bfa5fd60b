"""Assessment answers -> urgency, reasons, possible contributors, specialties and treatment options."""
