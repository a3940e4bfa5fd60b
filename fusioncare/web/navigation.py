"""Who the site navigation is for: the signed-in person of this browser, looked up once per page render.

Pages do not all depend on the current user, yet every page shows "My appointments" to a signed-in patient and
"My dashboard" to a verified provider; this reads the session cookie the way ``accounts.deps`` does."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import pass_context

from fusioncare.accounts import service as accounts
from fusioncare.accounts.deps import SESSION_COOKIE
from fusioncare.accounts.models import Role, TokenKind


@dataclass(frozen=True)
class NavUser:
    role: str
    is_provider: bool  # a provider account an admin has verified

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


@pass_context
def nav_user(context) -> NavUser | None:
    request = context.get("request")
    if request is None:
        return None
    cached = request.state._state.get("nav_user", False)
    if cached is not False:
        return cached
    found = None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with request.app.state.session_factory() as db:
            resolved = accounts.resolve_token(db, secret=secret, kind=TokenKind.session)
            if resolved is not None:
                user = resolved[0]
                found = NavUser(role=user.role, is_provider=user.verified_npi is not None)
    request.state.nav_user = found
    return found
