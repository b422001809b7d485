"""Health, statistics and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal
from quantumtrade.api.schemas.common import ERROR_RESPONSES
from quantumtrade.api.schemas.system_out import HealthOut, StatsOut
from quantumtrade.core.security import constant_time_equals
from quantumtrade.domain.errors import Unauthenticated
from quantumtrade.services import system

router = APIRouter(tags=["system"], responses=ERROR_RESPONSES)


@router.get(
    "/api/health",
    summary="Health of the database, cache, bus and each registered service",
    responses={
        200: {"model": HealthOut, "description": "Healthy, or degraded but serving"},
        503: {"model": HealthOut, "description": "The database is down"},
    },
)
async def health(container: ContainerDep) -> JSONResponse:
    status_code, body = await system.health(container=container)
    return JSONResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


@router.get(
    "/api/stats",
    response_model=StatsOut,
    summary="Request, error, trade and AI-decision counts; uptime; resources",
)
async def stats(container: ContainerDep, _principal: CurrentPrincipal) -> dict[str, Any]:
    return await system.stats(container=container)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(
    container: ContainerDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    token = container.settings.metrics_token
    if token and not constant_time_equals(authorization or "", f"Bearer {token}"):
        raise Unauthenticated("A valid metrics token is required.", code="invalid_metrics_token")
    body, content_type = container.metrics.render()
    return Response(body, media_type=content_type)
