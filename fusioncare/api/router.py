"""Assembles /api/v1 from each domain's router."""

from fastapi import APIRouter
from sqlalchemy import text

from fusioncare.accounts import routes as accounts_routes
from fusioncare.deps import DbSession
from fusioncare.directory.routes import router as directory_router
from fusioncare.matching.routes import router as matching_router
from fusioncare.recovery.routes import router as recovery_router
from fusioncare.scheduling.routes import router as scheduling_router
from fusioncare.triage import record_routes as triage_record_routes
from fusioncare.triage.routes import router as triage_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(triage_router)
api_router.include_router(accounts_routes.router)
api_router.include_router(triage_record_routes.router)
api_router.include_router(directory_router)
api_router.include_router(matching_router)
api_router.include_router(scheduling_router)
api_router.include_router(recovery_router)


@api_router.get("/health", tags=["operations"])
def health(db: DbSession) -> dict[str, str]:
    """Liveness and database reachability, for load balancers."""
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
