"""FusionCare: care navigation for sciatica after spinal fusion."""

__version__ = "0.1.0"
