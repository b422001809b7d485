"""``/api/orders`` and the seed's ``POST /api/trade``: Alpaca-style order management."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from quantumtrade.api.deps import (
    AccessTokenDep,
    CurrentPrincipal,
    DeskDep,
    OrderBatcherDep,
    SessionDep,
)
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime, Uuid, refused
from quantumtrade.api.schemas.orders_out import CancelResult, OrderEventOut, OrderOut
from quantumtrade.api.schemas.trading import OrderCreate, OrderReplace, order_spec
from quantumtrade.services.trading import orders
from quantumtrade.services.trading.batch import OrderBatcher
from quantumtrade.services.trading.views import order_view, text

router = APIRouter(
    tags=["orders"],
    responses={**ERROR_RESPONSES, **refused("Refused by a risk limit or a trading rule")},
)


async def _submit(body: OrderCreate, access_token: str, batcher: OrderBatcher) -> JSONResponse:
    view = await batcher.place(
        access_token=access_token, portfolio_id=body.portfolio_id, spec=order_spec(body)
    )
    return JSONResponse(view, status_code=status.HTTP_201_CREATED)


@router.post(
    "/api/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order",
    responses={201: {"model": OrderOut, "description": "The order, as stored (and filled)"}},
)
async def place_order(
    body: OrderCreate, access_token: AccessTokenDep, batcher: OrderBatcherDep
) -> JSONResponse:
    """Place an order; it is answered once stored (and filled, where it fills at once)."""
    return await _submit(body, access_token, batcher)


@router.post(
    "/api/trade",
    status_code=status.HTTP_201_CREATED,
    summary="Execute a trade",
    responses={201: {"model": OrderOut, "description": "The order, as stored (and filled)"}},
)
async def trade(
    body: OrderCreate, access_token: AccessTokenDep, batcher: OrderBatcherDep
) -> JSONResponse:
    """The spec's trade endpoint: the same order as ``POST /api/orders`` (market by default)."""
    return await _submit(body, access_token, batcher)


@router.get("/api/orders", response_model=list[OrderOut], summary="List orders (open by default)")
async def list_orders(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    status_filter: Annotated[Literal["open", "closed", "all"], Query(alias="status")] = "open",
    portfolio_id: Uuid | None = None,
    symbols: Annotated[str | None, Query(max_length=2000)] = None,
    side: Literal["buy", "sell"] | None = None,
    after: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    nested: bool = True,
) -> list[dict[str, Any]]:
    listed = await orders.list_orders(
        db,
        desk=desk,
        user_id=principal.user.id,
        status=status_filter,
        portfolio_id=portfolio_id,
        symbols=symbols,
        side=side,
        after=after,
        until=until,
        direction=direction,
        limit=limit,
        nested=nested,
    )
    return [order_view(row, legs) for row, legs in listed]


@router.get(
    "/api/orders:by_client_order_id",
    response_model=OrderOut,
    summary="Find an order by its client_order_id",
)
async def by_client_order_id(
    db: SessionDep,
    principal: CurrentPrincipal,
    client_order_id: Annotated[str, Query(min_length=1, max_length=128)],
    portfolio_id: Uuid | None = None,
) -> dict[str, Any]:
    order = await orders.get_by_client_order_id(
        db, user_id=principal.user.id, client_order_id=client_order_id, portfolio_id=portfolio_id
    )
    legs = await orders.legs_of(db, [order])
    return order_view(order, legs.get(order.id) or None)


@router.delete(
    "/api/orders",
    status_code=207,
    response_model=list[CancelResult],
    summary="Cancel all open orders",
)
async def cancel_all(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: Uuid | None = None,
) -> list[dict[str, object]]:
    return await orders.cancel_all(
        db, desk=desk, user_id=principal.user.id, portfolio_id=portfolio_id
    )


@router.get("/api/orders/{order_id}", response_model=OrderOut, summary="Get an order")
async def get_order(order_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    order = await orders.get_order(db, user_id=principal.user.id, order_id=order_id)
    legs = await orders.legs_of(db, [order])
    return order_view(order, legs.get(order.id) or None)


@router.get(
    "/api/orders/{order_id}/events",
    response_model=list[OrderEventOut],
    summary="Every status change and fill of an order",
)
async def order_events(
    order_id: Uuid, db: SessionDep, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    rows = await orders.order_events(db, user_id=principal.user.id, order_id=order_id)
    return [
        {
            "event": row.event,
            "status": row.status,
            "qty": text(row.qty),
            "price": text(row.price),
            "reason": row.reason,
            "at": row.at.isoformat(),
        }
        for row in rows
    ]


@router.patch(
    "/api/orders/{order_id}",
    response_model=OrderOut,
    summary="Replace an order (the new order has a new id)",
)
async def replace_order(
    order_id: Uuid,
    body: OrderReplace,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
) -> dict[str, Any]:
    new = await orders.replace_order(
        db,
        desk=desk,
        user_id=principal.user.id,
        order_id=order_id,
        changes=body.model_dump(exclude_none=True),
    )
    return order_view(new)


@router.delete("/api/orders/{order_id}", status_code=204, summary="Cancel an order")
async def cancel_order(
    order_id: Uuid, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> Response:
    await orders.cancel_order(db, desk=desk, user_id=principal.user.id, order_id=order_id)
    return Response(status_code=204)
