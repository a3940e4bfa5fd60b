"""Accounts' domain errors (subclasses of fusioncare.errors, so the shared mapping applies)."""

from __future__ import annotations

from fusioncare.errors import DomainError, PermissionDenied


class AuthenticationRequired(DomainError):
    """No valid session or bearer token: 401 for the API, a redirect to sign-in for pages."""

    code = "not_authenticated"


class InvalidCredentials(DomainError):
    """Wrong e-mail or password; the message never says which, nor whether the account exists."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("The e-mail address or password is not right.")


class InvalidResetToken(DomainError):
    code = "invalid_reset_token"

    def __init__(self) -> None:
        super().__init__("This password reset link is not valid any more. Please ask for a new one.")


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("This form has expired or did not come from FusionCare. Please reload the page and try again.")


class CrossOriginRefused(PermissionDenied):
    """A state-changing API request carried the session cookie but came from another site's page."""

    code = "cross_origin_refused"

    def __init__(self) -> None:
        super().__init__("This request came from another website. Changes through the API with the browser's "
                         "session are accepted from FusionCare's own pages only.")
