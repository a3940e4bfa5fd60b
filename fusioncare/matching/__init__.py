"""Find My Doctor: assessment + place + preferences -> ranked doctors with reasons."""
