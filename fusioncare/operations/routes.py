"""Operations endpoints: /healthz (alive), /readyz (ready for traffic) and /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fusioncare.deps import AppSettings
from fusioncare.operations import metrics, service

router = APIRouter(tags=["operations"], include_in_schema=False)
READINESS_TIMEOUT_SECONDS = 3.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving: no database call, so a slow database never restarts a healthy app."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is current; 503 with the reason otherwise."""
    state = request.app.state
    try:
        found = await asyncio.wait_for(
            run_in_threadpool(service.readiness, engine=state.engine, read_engine=state.read_engine),
            timeout=READINESS_TIMEOUT_SECONDS)
    except TimeoutError:
        found = service.Readiness(ready=False, reason=f"the database did not answer within "
                                                     f"{READINESS_TIMEOUT_SECONDS:g} s")
    body: dict[str, str] = {"status": "ready" if found.ready else "unavailable", "reason": found.reason}
    if found.replica is not None:
        body["replica"] = found.replica
    return JSONResponse(body, status_code=200 if found.ready else 503)


@router.get("/metrics")
def metrics_endpoint(request: Request, settings: AppSettings) -> Response:
    """Prometheus text format; the configured token opens it, loopback clients need none outside production."""
    client = request.client.host if request.client else None
    if not metrics.may_read(settings, authorization=request.headers.get("authorization"), client_host=client):
        return JSONResponse({"detail": "Metrics need the bearer token from FUSIONCARE_METRICS_TOKEN.",
                             "code": "metrics_token_required"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    body = metrics.exposition(request.app.state.session_factory)
    return Response(body, media_type=metrics.CONTENT_TYPE)
