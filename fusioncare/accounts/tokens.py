"""Random secrets for sessions, bearer and reset tokens; only their SHA-256 ever reaches the database."""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    # A fast hash is right here: the secret has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()
