"""The application factory: one FastAPI app serving the JSON API and the web pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from fusioncare import __version__
from fusioncare.accounts import deps as account_deps
from fusioncare.accounts import hardening
from fusioncare.api import errors as api_errors
from fusioncare.api.router import api_router
from fusioncare.db import make_engine, make_session_factory
from fusioncare.knowledge.articles import get_library
from fusioncare.knowledge.loader import get_pack
from fusioncare.notifications import build_notifier
from fusioncare.operations import app as operations
from fusioncare.operations import logs
from fusioncare.operations.metrics import metered_pool_class
from fusioncare.settings import Settings, get_settings
from fusioncare.web import (
    account_pages,
    assess_pages,
    directory_pages,
    matching_pages,
    recovery_pages,
    scheduling_pages,
)
from fusioncare.web import routes as web_routes
from fusioncare.web.templating import STATIC_DIR
from fusioncare.web.wording import get_wording


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               read_engine: Engine | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and engines; `fusioncare serve` uses the environment."""
    settings = settings or get_settings()
    hardening.check_production_settings(settings)
    logs.configure(settings)
    engine = engine or make_engine(settings.effective_database_url, poolclass=metered_pool_class("primary"))
    if read_engine is None and settings.effective_database_read_url:
        read_engine = make_engine(settings.effective_database_read_url, poolclass=metered_pool_class("replica"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Appointment e-mails go out without anyone remembering a cron job: each app process runs a worker thread
        # (the outbox claim makes several safe). `fusioncare worker` is the same loop for a separate process.
        worker = None
        if settings.outbox_worker == "in-process":
            from fusioncare.scheduling.outbox import OutboxWorker

            worker = OutboxWorker(session_factory=app.state.session_factory, notifier=app.state.notifier,
                                  base_url=settings.base_url, poll_seconds=settings.outbox_poll_seconds)
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="FusionCare",
        version=__version__,
        description="Care navigation for sciatica after spinal fusion.",
        # Swagger UI loads its scripts from a CDN and runs inline code: neither works offline or under our CSP.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    # The read replica (FUSIONCARE_DATABASE_READ_URL), for the reads that may lag a moment: see deps.ReadDbSession.
    app.state.read_engine = read_engine
    app.state.read_session_factory = make_session_factory(read_engine) if read_engine is not None else None
    # Loaded and validated once; a broken knowledge pack stops start-up with the file and the place in it.
    app.state.knowledge_pack = get_pack(settings.knowledge_pack_dir)

    app.state.notifier = build_notifier(settings)

    api_errors.install(app)
    account_deps.install(app)
    hardening.install(app, settings)
    operations.install(app, settings)  # last: its middleware is the outermost
    app.include_router(api_router)
    app.include_router(web_routes.router)
    app.include_router(assess_pages.router)
    app.include_router(account_pages.router)
    app.include_router(directory_pages.router)
    app.include_router(matching_pages.router)
    app.include_router(scheduling_pages.router)
    app.include_router(recovery_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    get_wording()  # a bad wording file stops start-up here, naming the code
    get_library()  # a bad article file stops start-up here, naming the file and the field
    return app
