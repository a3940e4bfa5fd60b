"""Wires the operations pieces into the app: the request-context middleware, the endpoints, pool metrics."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from fusioncare.operations import logs, metrics
from fusioncare.operations.routes import router
from fusioncare.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Call after every other middleware is added: the request context must be the outermost layer, so the
    request id reaches every log line and every answer (a 413 from the size limit included)."""
    metrics.instrument_engine(app.state.engine, label="primary")
    if app.state.read_engine is not None:
        metrics.instrument_engine(app.state.read_engine, label="replica")
    app.add_middleware(logs.RequestContextMiddleware, observers=metrics.observers())
    app.include_router(router)

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Mapping[str, Any] | None]:
        async with previous(application) as state:
            yield state
        metrics.mark_process_dead(os.getpid())

    # The wrapped lifespan yields whatever state the previous one did (None or a mapping): Starlette types the two
    # cases as separate callables.
    app.router.lifespan_context = lifespan  # type: ignore[assignment]
