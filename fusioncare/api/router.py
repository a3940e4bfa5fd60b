"""Assembles /api/v1 from each domain's router."""

from fastapi import APIRouter
from sqlalchemy import text

from fusioncare.deps import DbSession
from fusioncare.directory.routes import router as directory_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(directory_router)


@api_router.get("/health", tags=["operations"])
def health(db: DbSession) -> dict[str, str]:
    """Liveness and database reachability, for load balancers."""
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
