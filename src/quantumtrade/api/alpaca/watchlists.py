"""``/v2/watchlists``: Alpaca's watchlists, kept per portfolio (the key's account).

Symbols are checked against the market (an unknown one answers 422) and stored as the market
names them; a watchlist of another portfolio, even the same user's, answers 404. The
``:by_name`` forms address a watchlist by its name, as Alpaca's do.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from quantumtrade.api.alpaca.deps import KeyPrincipalDep
from quantumtrade.api.alpaca.errors import ALPACA_ERRORS, AlpacaRoute
from quantumtrade.api.alpaca.schemas import (
    AlpacaWatchlistIn,
    AlpacaWatchlistOut,
    AlpacaWatchlistSymbol,
    AlpacaWatchlistUpdate,
)
from quantumtrade.api.alpaca.views import alpaca_asset
from quantumtrade.api.deps import DeskDep, SessionDep
from quantumtrade.api.schemas.common import Uuid
from quantumtrade.db.models import Watchlist
from quantumtrade.domain.errors import NotFound
from quantumtrade.services import auth
from quantumtrade.services.trading import watchlists
from quantumtrade.services.trading.desk import TradingDesk

router = APIRouter(
    prefix="/v2", tags=["alpaca trading"], route_class=AlpacaRoute, responses=ALPACA_ERRORS
)

_ONE: dict[int | str, dict[str, Any]] = {
    200: {"model": AlpacaWatchlistOut, "description": "The watchlist, with its assets"}
}
Name = Annotated[str, Query(min_length=1, max_length=64, description="The watchlist's name.")]
WatchlistId = Annotated[Uuid, Path(description="The watchlist's id.")]


def _out(row: Watchlist, desk: TradingDesk | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(row.id),
        "account_id": str(row.portfolio_id),
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if desk is not None:
        body["assets"] = [alpaca_asset(desk.symbol_info(s)) for s in row.symbols]
    return body


def _resolve(desk: TradingDesk) -> watchlists.Resolve:
    return lambda text: desk.symbol_info(text).symbol


async def _by_name(db: SessionDep, key: auth.KeyPrincipal, name: str) -> uuid.UUID:
    for row in await watchlists.list_watchlists(db, portfolio_id=key.portfolio_id):
        if row.name == name:
            return row.id
    raise NotFound("watchlist not found", code="watchlist_not_found")


@router.get(
    "/watchlists",
    summary="The account's watchlists (without their assets)",
    responses={200: {"model": list[AlpacaWatchlistOut]}},
)
async def list_watchlists(db: SessionDep, key: KeyPrincipalDep) -> JSONResponse:
    rows = await watchlists.list_watchlists(db, portfolio_id=key.portfolio_id)
    return JSONResponse([_out(row, None) for row in rows])


@router.post("/watchlists", summary="Create a watchlist", responses=_ONE)
async def create_watchlist(
    body: AlpacaWatchlistIn, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    row = await watchlists.create_watchlist(
        db,
        portfolio_id=key.portfolio_id,
        name=body.name,
        symbols=body.symbols,
        resolve=_resolve(desk),
        now=desk.container.clock.now(),
    )
    return JSONResponse(_out(row, desk))


async def _change(
    db: SessionDep,
    key: auth.KeyPrincipal,
    desk: TradingDesk,
    watchlist_id: uuid.UUID,
    **change: Any,
) -> JSONResponse:
    row = await watchlists.change_watchlist(
        db,
        portfolio_id=key.portfolio_id,
        watchlist_id=watchlist_id,
        resolve=_resolve(desk),
        now=desk.container.clock.now(),
        **change,
    )
    return JSONResponse(_out(row, desk))


@router.get("/watchlists:by_name", summary="One watchlist, by name", responses=_ONE)
async def get_watchlist_by_name(
    name: Name, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    watchlist_id = await _by_name(db, key, name)
    row = await watchlists.get_watchlist(
        db, portfolio_id=key.portfolio_id, watchlist_id=watchlist_id
    )
    return JSONResponse(_out(row, desk))


@router.put("/watchlists:by_name", summary="Rename or replace a watchlist, by name", responses=_ONE)
async def update_watchlist_by_name(
    name: Name, body: AlpacaWatchlistUpdate, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    watchlist_id = await _by_name(db, key, name)
    return await _change(db, key, desk, watchlist_id, name=body.name, symbols=body.symbols)


@router.post("/watchlists:by_name", summary="Add a symbol to a watchlist, by name", responses=_ONE)
async def add_to_watchlist_by_name(
    name: Name, body: AlpacaWatchlistSymbol, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    return await _change(db, key, desk, await _by_name(db, key, name), add=body.symbol)


@router.delete("/watchlists:by_name", status_code=204, summary="Delete a watchlist, by name")
async def delete_watchlist_by_name(name: Name, db: SessionDep, key: KeyPrincipalDep) -> Response:
    watchlist_id = await _by_name(db, key, name)
    await watchlists.delete_watchlist(db, portfolio_id=key.portfolio_id, watchlist_id=watchlist_id)
    return Response(status_code=204)


@router.get("/watchlists/{watchlist_id}", summary="One watchlist, with its assets", responses=_ONE)
async def get_watchlist(
    watchlist_id: WatchlistId, db: SessionDep, key: KeyPrincipalDep, desk: DeskDep
) -> JSONResponse:
    row = await watchlists.get_watchlist(
        db, portfolio_id=key.portfolio_id, watchlist_id=watchlist_id
    )
    return JSONResponse(_out(row, desk))


@router.put("/watchlists/{watchlist_id}", summary="Rename or replace a watchlist", responses=_ONE)
async def update_watchlist(
    watchlist_id: WatchlistId,
    body: AlpacaWatchlistUpdate,
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
) -> JSONResponse:
    return await _change(db, key, desk, watchlist_id, name=body.name, symbols=body.symbols)


@router.post("/watchlists/{watchlist_id}", summary="Add a symbol to a watchlist", responses=_ONE)
async def add_to_watchlist(
    watchlist_id: WatchlistId,
    body: AlpacaWatchlistSymbol,
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
) -> JSONResponse:
    return await _change(db, key, desk, watchlist_id, add=body.symbol)


@router.delete(
    "/watchlists/{watchlist_id}/{symbol}",
    summary="Remove a symbol from a watchlist",
    responses=_ONE,
)
async def remove_from_watchlist(
    watchlist_id: WatchlistId,
    symbol: Annotated[str, Path(min_length=1, max_length=20)],
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
) -> JSONResponse:
    return await _change(db, key, desk, watchlist_id, remove=symbol)


@router.delete("/watchlists/{watchlist_id}", status_code=204, summary="Delete a watchlist")
async def delete_watchlist(
    watchlist_id: WatchlistId, db: SessionDep, key: KeyPrincipalDep
) -> Response:
    await watchlists.delete_watchlist(db, portfolio_id=key.portfolio_id, watchlist_id=watchlist_id)
    return Response(status_code=204)
