"""The application factory: one FastAPI app serving the JSON API and the web pages."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from fusioncare import __version__
from fusioncare.api import errors as api_errors
from fusioncare.api.router import api_router
from fusioncare.db import make_engine, make_session_factory
from fusioncare.settings import Settings, get_settings
from fusioncare.web import directory_pages
from fusioncare.web import routes as web_routes
from fusioncare.web.templating import STATIC_DIR


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and engine; `fusioncare serve` uses the environment."""
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    engine = engine or make_engine(settings.effective_database_url)

    app = FastAPI(
        title="FusionCare",
        version=__version__,
        description="Care navigation for sciatica after spinal fusion.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)

    api_errors.install(app)
    app.include_router(api_router)
    app.include_router(web_routes.router)
    app.include_router(directory_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
