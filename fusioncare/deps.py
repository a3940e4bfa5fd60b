"""FastAPI dependencies as named Annotated aliases, so route signatures read like sentences."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fusioncare.settings import Settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Services commit their own unit of work; anything left uncommitted is rolled back."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


DbSession = Annotated[Session, Depends(get_db)]


def get_read_db(request: Request, primary: DbSession) -> Iterator[Session]:
    """A session on the read replica when one is configured (FUSIONCARE_DATABASE_READ_URL), else the request's
    primary session itself (one connection per request, never two from the same pool).

    Only for reads that may lag the primary by a moment: directory search, provider profiles, matching. Anything
    that writes, or reads what this request or its user just wrote, takes ``DbSession``.
    """
    factory = request.app.state.read_session_factory
    if factory is None:
        yield primary
        return
    session: Session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


ReadDbSession = Annotated[Session, Depends(get_read_db)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
