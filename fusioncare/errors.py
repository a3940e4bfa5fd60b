"""Domain exceptions. Services raise these; fusioncare.api.errors maps them to HTTP, the CLI to exit codes."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class; ``code`` is a stable lower_snake_case identifier clients can branch on."""

    code = "domain_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidInput(DomainError):
    """Input that passed the schema but is wrong for the domain (unknown ZIP, slot in the past...)."""

    code = "invalid_input"

    def __init__(self, field: str, message: str, *, location: str = "body", **extra: Any) -> None:
        super().__init__(f"{field}: {message}", **extra)
        self.field = field
        self.field_message = message
        self.location = location  # where a request carries the field: "body" (or a query parameter), "header"


class NotFound(DomainError):
    """The record does not exist *or the caller may not know it exists* (we never leak which)."""

    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class PermissionDenied(DomainError):
    code = "permission_denied"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_seconds: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.retry_after_seconds = retry_after_seconds
