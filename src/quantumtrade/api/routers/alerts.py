"""``/api/alerts``: price, percent-change and volume alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal, OffsetQuery, SessionDep
from quantumtrade.api.schemas.alerts import (
    AlertCreate,
    AlertOut,
    AlertPage,
    AlertStatus,
    AlertUpdate,
)
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid
from quantumtrade.db.models.market import Alert
from quantumtrade.services import alerts

router = APIRouter(prefix="/api/alerts", tags=["alerts"], responses=ERROR_RESPONSES)


def _out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(alert, from_attributes=True)


@router.get("", summary="List your alerts")
async def list_alerts(
    db: SessionDep,
    principal: CurrentPrincipal,
    status_filter: Annotated[AlertStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: OffsetQuery = 0,
) -> AlertPage:
    items, total = await alerts.list_alerts(
        db, user_id=principal.user.id, status=status_filter, limit=limit, offset=offset
    )
    return AlertPage(items=[_out(a) for a in items], total=total, limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an alert")
async def create_alert(
    body: AlertCreate, db: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> AlertOut:
    alert = await alerts.create_alert(
        db,
        bus=container.bus,
        user_id=principal.user.id,
        symbol=body.symbol,
        kind=body.kind,
        condition=body.condition,
        message=body.message,
        known_symbols=[info.symbol for info in container.market.symbols()],
        now=container.clock.now(),
    )
    return _out(alert)


@router.get("/{alert_id}", summary="Get one of your alerts")
async def get_alert(alert_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> AlertOut:
    return _out(await alerts.get_alert(db, user_id=principal.user.id, alert_id=alert_id))


@router.patch("/{alert_id}", summary="Change or re-arm an alert")
async def update_alert(
    alert_id: Uuid,
    body: AlertUpdate,
    db: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
) -> AlertOut:
    alert = await alerts.update_alert(
        db,
        bus=container.bus,
        user_id=principal.user.id,
        alert_id=alert_id,
        condition=body.condition,
        message=body.message,
        message_set="message" in body.model_fields_set,
        status=body.status,
    )
    return _out(alert)


@router.delete("/{alert_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an alert")
async def delete_alert(
    alert_id: Uuid, db: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> Response:
    await alerts.delete_alert(db, bus=container.bus, user_id=principal.user.id, alert_id=alert_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
