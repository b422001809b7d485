"""``/v2/assets``, ``/v2/clock``, ``/v2/calendar`` and ``/v2/account/activities``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from quantumtrade.api.alpaca.account import symbol_of
from quantumtrade.api.alpaca.deps import KeyPrincipalDep
from quantumtrade.api.alpaca.errors import ALPACA_ERRORS, AlpacaRoute
from quantumtrade.api.alpaca.schemas import (
    AlpacaActivityOut,
    AlpacaAssetOut,
    AlpacaCalendarOut,
    AlpacaClockOut,
)
from quantumtrade.api.alpaca.views import alpaca_asset
from quantumtrade.api.deps import ContainerDep, DeskDep, SessionDep
from quantumtrade.api.schemas.common import IsoDateTime
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.services import market
from quantumtrade.services.trading.activities import Activity, activities
from quantumtrade.services.trading.views import text

router = APIRouter(
    prefix="/v2", tags=["alpaca trading"], route_class=AlpacaRoute, responses=ALPACA_ERRORS
)
NEW_YORK = ZoneInfo("America/New_York")
MAX_CALENDAR_DAYS = 3660
# Alpaca's activity types (alpaca-py's ActivityType); we produce FILL, CSD and JNLC.
_TYPES = (
    "FILL ACATC ACATS CFEE CIL CSD CSW DIV DIVCGL DIVCGS DIVNRA DIVROC DIVTXEX DIVWH EXTRD "
    "FEE FXTRD INT INTPNL JNLC JNLS MA MEM NC OCT OPASN OPCA OPCSH OPEXC OPEXP OPTRD PTC "
    "PTR REORG SPIN SPLIT SWP VOF WH "
)
ACTIVITY_TYPES = frozenset(_TYPES.split())


@router.get(
    "/assets",
    summary="Tradable assets",
    responses={200: {"model": list[AlpacaAssetOut], "description": "Assets"}},
)
async def list_assets(
    key: KeyPrincipalDep,
    desk: DeskDep,
    status: Literal["active", "inactive"] | None = None,
    asset_class: Literal["us_equity", "crypto", "us_option"] | None = None,
    exchange: Annotated[str | None, Query(max_length=20)] = None,
) -> JSONResponse:
    if status == "inactive":
        return JSONResponse([])
    assets = [
        alpaca_asset(info)
        for info in desk.container.market.symbols()
        if (asset_class is None or info.asset_class == asset_class)
    ]
    if exchange:
        assets = [a for a in assets if a["exchange"] == exchange]
    return JSONResponse(assets)


@router.get(
    "/assets/{symbol_or_asset_id}",
    summary="One asset, by symbol or asset id",
    responses={200: {"model": AlpacaAssetOut}},
)
async def get_asset(
    symbol_or_asset_id: Annotated[str, Path(min_length=1, max_length=64)],
    key: KeyPrincipalDep,
    desk: DeskDep,
) -> JSONResponse:
    return JSONResponse(alpaca_asset(desk.symbol_info(symbol_of(desk, symbol_or_asset_id))))


@router.get("/clock", summary="The market clock", responses={200: {"model": AlpacaClockOut}})
async def get_clock(key: KeyPrincipalDep, container: ContainerDep) -> JSONResponse:
    now = market.clock(container)
    return JSONResponse({k: now[k] for k in ("timestamp", "is_open", "next_open", "next_close")})


@router.get(
    "/calendar",
    summary="Trading days with their open and close (New York time)",
    responses={200: {"model": list[AlpacaCalendarOut], "description": "Sessions"}},
)
async def get_calendar(
    key: KeyPrincipalDep,
    container: ContainerDep,
    start: date | None = None,
    end: date | None = None,
) -> JSONResponse:
    first = start or container.clock.now().astimezone(NEW_YORK).date()
    last = end or first + timedelta(days=30)
    if last < first or (last - first).days > MAX_CALENDAR_DAYS:
        raise Unprocessable(
            f"end must be on or after start, at most {MAX_CALENDAR_DAYS} days later",
            code="invalid_range",
        )
    days = []
    for day, opens, closes in market.trading_days(container, first, last):
        local_open, local_close = opens.astimezone(NEW_YORK), closes.astimezone(NEW_YORK)
        # A session of 24 hours (crypto-like, or MARKET_ALWAYS_OPEN) closes at 23:59 its day.
        close_text = "23:59" if local_close.date() > day else f"{local_close:%H:%M}"
        days.append(
            {
                "date": day.isoformat(),
                "open": f"{local_open:%H:%M}",
                "close": close_text,
                "session_open": "0400",
                "session_close": "2000",
                "settlement_date": (day + timedelta(days=1)).isoformat(),
            }
        )
    return JSONResponse(days)


def _activity(item: Activity, account_id: str) -> dict[str, Any]:
    entry, order = item.entry, item.order
    base = {"id": item.id, "account_id": account_id, "activity_type": item.type}
    if item.type != "FILL":
        return base | {
            "date": entry.at.astimezone(NEW_YORK).date().isoformat(),
            "net_amount": text(entry.cash_delta),
            "description": "initial deposit" if item.type == "CSD" else "portfolio reset",
            "status": "executed",
            "symbol": None,
            "qty": None,
            "per_share_amount": None,
        }
    cum = order.filled_qty if order is not None else entry.qty
    leaves = (order.qty or cum) - cum if order is not None else Decimal(0)
    status = order.status if order is not None else "filled"
    return base | {
        "transaction_time": entry.at.isoformat(),
        "type": "fill" if status == "filled" else "partial_fill",
        "price": text(entry.price),
        "qty": text(entry.qty),
        "side": entry.side,
        "symbol": entry.symbol,
        "leaves_qty": text(max(leaves, Decimal(0))),
        "order_id": str(entry.order_id),
        "cum_qty": text(cum),
        "order_status": status,
    }


async def _activities(
    db: SessionDep,
    key: KeyPrincipalDep,
    types: list[str],
    after: datetime | None,
    until: datetime | None,
    direction: str,
    page_size: int,
    page_token: str | None,
) -> JSONResponse:
    unknown = sorted(set(types) - ACTIVITY_TYPES)
    if unknown:
        raise Unprocessable(f"unknown activity types: {', '.join(unknown)}", code="invalid_type")
    rows = await activities(
        db,
        portfolio_id=key.portfolio_id,
        types=types,
        after=after,
        until=until,
        direction=direction,
        page_size=page_size,
        page_token=page_token,
    )
    return JSONResponse([_activity(row, str(key.portfolio_id)) for row in rows])


ActivityList: dict[int | str, dict[str, Any]] = {
    200: {"model": list[AlpacaActivityOut], "description": "Activities"}
}
PageSize = Annotated[int, Query(ge=1, le=100)]
PageToken = Annotated[str | None, Query(max_length=100)]


@router.get(
    "/account/activities",
    summary="Account activities: fills (FILL), deposits (CSD) and resets (JNLC)",
    responses=ActivityList,
)
async def list_activities(
    db: SessionDep,
    key: KeyPrincipalDep,
    activity_types: Annotated[str | None, Query(max_length=500)] = None,
    after: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> JSONResponse:
    types = (
        [t.strip().upper() for t in activity_types.split(",") if t.strip()]
        if activity_types
        else ["FILL", "CSD", "JNLC"]
    )
    return await _activities(db, key, types, after, until, direction, page_size, page_token)


@router.get(
    "/account/activities/{activity_type}",
    summary="Account activities of one type",
    responses=ActivityList,
)
async def activities_of_type(
    activity_type: Annotated[str, Path(min_length=1, max_length=10)],
    db: SessionDep,
    key: KeyPrincipalDep,
    after: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> JSONResponse:
    return await _activities(
        db, key, [activity_type.upper()], after, until, direction, page_size, page_token
    )
