"""Matching domain errors."""

from __future__ import annotations

from fusioncare.errors import InvalidInput


class InvalidMatch(InvalidInput):
    """A match request that passed the schema but names nothing we know (an unknown ZIP...)."""

    code = "invalid_match"
