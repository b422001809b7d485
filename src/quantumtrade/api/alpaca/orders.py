"""``/v2/orders``: Alpaca's order endpoints over the paper-trading services.

Every order goes through :func:`orders.submit_order` and friends, on the portfolio the API
key is bound to; an order of another portfolio, even the same user's, answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from quantumtrade.api.alpaca.deps import KeyPrincipalDep
from quantumtrade.api.alpaca.errors import ALPACA_ERRORS, AlpacaRoute
from quantumtrade.api.alpaca.schemas import (
    AlpacaCancelOut,
    AlpacaOrderOut,
    AlpacaOrderRequest,
    AlpacaReplaceRequest,
)
from quantumtrade.api.alpaca.views import order_out
from quantumtrade.api.deps import DeskDep, SessionDep
from quantumtrade.api.schemas.common import IsoDateTime, Uuid
from quantumtrade.api.schemas.trading import order_spec
from quantumtrade.db.models import Order
from quantumtrade.domain.errors import NotFound, Unprocessable
from quantumtrade.domain.trading.orders import OrderSpec
from quantumtrade.services import auth
from quantumtrade.services.trading import orders

router = APIRouter(
    prefix="/v2", tags=["alpaca trading"], route_class=AlpacaRoute, responses=ALPACA_ERRORS
)

_ORDER: dict[int | str, dict[str, Any]] = {
    200: {"model": AlpacaOrderOut, "description": "The order (Alpaca's order object)"}
}


def _spec(body: AlpacaOrderRequest) -> OrderSpec:
    if body.order_class == "mleg" or body.legs:
        raise Unprocessable(
            "multi-leg (options) orders are not supported", code="mleg_not_supported"
        )
    return order_spec(body)


def _mine(order: Order, key: auth.KeyPrincipal) -> Order:
    """Refuse an order of another portfolio than the key's, as if it did not exist."""
    if order.portfolio_id != key.portfolio_id:
        raise NotFound("order not found", code="order_not_found")
    return order


async def _answer(db: SessionDep, order: Order, nested: bool = True) -> JSONResponse:
    legs = await orders.legs_of(db, [order]) if nested else {}
    return JSONResponse(order_out(order, legs.get(order.id) or None))


@router.post("/orders", summary="Place an order", responses=_ORDER)
async def submit_order(
    body: AlpacaOrderRequest, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    order = await orders.submit_order(
        db,
        desk=desk,
        user_id=key.user.id,
        portfolio_id=key.portfolio_id,
        spec=_spec(body),
        source="alpaca",
    )
    return await _answer(db, order)


@router.get(
    "/orders",
    summary="List orders (open by default)",
    responses={200: {"model": list[AlpacaOrderOut], "description": "Orders, newest first"}},
)
async def list_orders(
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
    status: Literal["open", "closed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    nested: bool = False,
    symbols: Annotated[str | None, Query(max_length=2000)] = None,
    side: Literal["buy", "sell"] | None = None,
) -> JSONResponse:
    listed = await orders.list_orders(
        db,
        desk=desk,
        user_id=key.user.id,
        status=status,
        portfolio_id=key.portfolio_id,
        symbols=symbols,
        side=side,
        after=after,
        until=until,
        direction=direction,
        limit=limit,
        nested=nested,
    )
    return JSONResponse([order_out(row, legs) for row, legs in listed])


@router.delete(
    "/orders",
    status_code=207,
    summary="Cancel every open order",
    responses={207: {"model": list[AlpacaCancelOut], "description": "One status per order"}},
)
async def cancel_all(db: SessionDep, key: KeyPrincipalDep, desk: DeskDep) -> JSONResponse:
    results = await orders.cancel_all(
        db, desk=desk, user_id=key.user.id, portfolio_id=key.portfolio_id
    )
    return JSONResponse(results, status_code=207)


@router.get(
    "/orders:by_client_order_id", summary="Get an order by client_order_id", responses=_ORDER
)
async def by_client_order_id(
    db: SessionDep,
    key: KeyPrincipalDep,
    client_order_id: Annotated[str, Query(min_length=1, max_length=128)],
) -> JSONResponse:
    order = await orders.get_by_client_order_id(
        db,
        user_id=key.user.id,
        client_order_id=client_order_id,
        portfolio_id=key.portfolio_id,
    )
    return await _answer(db, order)


@router.get("/orders/{order_id}", summary="Get an order", responses=_ORDER)
async def get_order(
    order_id: Uuid, db: SessionDep, key: KeyPrincipalDep, nested: bool = True
) -> JSONResponse:
    order = _mine(await orders.get_order(db, user_id=key.user.id, order_id=order_id), key)
    return await _answer(db, order, nested)


@router.patch(
    "/orders/{order_id}", summary="Replace an order (the new one has a new id)", responses=_ORDER
)
async def replace_order(
    order_id: Uuid, body: AlpacaReplaceRequest, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    _mine(await orders.get_order(db, user_id=key.user.id, order_id=order_id), key)
    new = await orders.replace_order(
        db,
        desk=desk,
        user_id=key.user.id,
        order_id=order_id,
        changes=body.model_dump(exclude_none=True),
    )
    return JSONResponse(order_out(new))


@router.delete("/orders/{order_id}", status_code=204, summary="Cancel an order")
async def cancel_order(
    order_id: Uuid, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> Response:
    _mine(await orders.get_order(db, user_id=key.user.id, order_id=order_id), key)
    await orders.cancel_order(db, desk=desk, user_id=key.user.id, order_id=order_id)
    return Response(status_code=204)
