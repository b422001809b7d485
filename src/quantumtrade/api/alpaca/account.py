"""``/v2/account`` and ``/v2/positions``: the key's portfolio as Alpaca's account."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from quantumtrade.api.alpaca.deps import KeyPrincipalDep
from quantumtrade.api.alpaca.errors import ALPACA_ERRORS, AlpacaRoute
from quantumtrade.api.alpaca.schemas import (
    AlpacaAccountOut,
    AlpacaClosedPositionOut,
    AlpacaConfigurationsIn,
    AlpacaConfigurationsOut,
    AlpacaOrderOut,
    AlpacaPortfolioHistoryOut,
    AlpacaPositionOut,
)
from quantumtrade.api.alpaca.views import alpaca_account, alpaca_position, asset_id, order_out
from quantumtrade.api.deps import DeskDep, SessionDep
from quantumtrade.api.schemas.trading import Percent, Quantity
from quantumtrade.domain.errors import AppError, NotFound, Unprocessable
from quantumtrade.services import auth
from quantumtrade.services.trading import closing, performance, portfolios
from quantumtrade.services.trading.desk import TradingDesk

router = APIRouter(
    prefix="/v2", tags=["alpaca trading"], route_class=AlpacaRoute, responses=ALPACA_ERRORS
)
NEW_YORK = ZoneInfo("America/New_York")
_PERIOD_UNITS = {"D": 1, "W": 7, "M": 30, "A": 365}


async def _portfolio(db: SessionDep, key: auth.KeyPrincipal) -> Any:
    return await portfolios.get_portfolio(db, user_id=key.user.id, portfolio_id=key.portfolio_id)


def symbol_of(desk: TradingDesk, symbol_or_asset_id: str) -> str:
    """Return the symbol a path names, by symbol or by Alpaca asset id (unknown: 404)."""
    try:
        wanted = uuid.UUID(symbol_or_asset_id)
    except ValueError:
        try:
            return desk.symbol_info(symbol_or_asset_id).symbol
        except Unprocessable as exc:
            raise NotFound("asset not found", code="asset_not_found") from exc
    for info in desk.container.market.symbols():
        if asset_id(info.symbol) == str(wanted):
            return info.symbol
    raise NotFound("asset not found", code="asset_not_found")


@router.get(
    "/account",
    summary="The account (the key's portfolio)",
    responses={200: {"model": AlpacaAccountOut}},
)
async def get_account(db: SessionDep, key: KeyPrincipalDep, desk: DeskDep) -> JSONResponse:
    portfolio = await _portfolio(db, key)
    return JSONResponse(
        alpaca_account(await portfolios.summary(db, desk=desk, portfolio=portfolio))
    )


# What every portfolio answers for the configurations it cannot change.
_FIXED_CONFIGURATIONS: dict[str, Any] = {
    "dtbp_check": "entry",
    "fractional_trading": True,
    "pdt_check": "entry",
    "suspend_trade": False,
    "trade_confirm_email": "none",
    "ptp_no_exception_entry": False,
    "max_options_trading_level": 0,
}


def _configurations(portfolio: Any) -> dict[str, Any]:
    return {
        **_FIXED_CONFIGURATIONS,
        "max_margin_multiplier": str(portfolio.margin_multiplier),
        "no_shorting": not portfolio.shorting_enabled,
    }


@router.get(
    "/account/configurations",
    summary="Account configurations",
    responses={200: {"model": AlpacaConfigurationsOut}},
)
async def get_configurations(db: SessionDep, key: KeyPrincipalDep) -> JSONResponse:
    return JSONResponse(_configurations(await _portfolio(db, key)))


@router.patch(
    "/account/configurations",
    summary="Change shorting and the margin multiplier",
    responses={200: {"model": AlpacaConfigurationsOut}},
)
async def set_configurations(
    body: AlpacaConfigurationsIn, db: SessionDep, key: KeyPrincipalDep
) -> JSONResponse:
    sent = body.model_dump(exclude_none=True)
    refused = sorted(
        name
        for name, value in sent.items()
        if name in _FIXED_CONFIGURATIONS and value != _FIXED_CONFIGURATIONS[name]
    )
    if refused:
        raise Unprocessable(
            "these configurations cannot be changed here: " + ", ".join(refused),
            code="configuration_not_supported",
            details={"fields": refused},
        )
    portfolio = await portfolios.configure(
        db,
        user_id=key.user.id,
        portfolio_id=key.portfolio_id,
        margin_multiplier=None
        if body.max_margin_multiplier is None
        else int(body.max_margin_multiplier),
        shorting_enabled=None if body.no_shorting is None else not body.no_shorting,
    )
    return JSONResponse(_configurations(portfolio))


async def _positions(db: SessionDep, key: auth.KeyPrincipal, desk: TradingDesk) -> list[Any]:
    portfolio = await _portfolio(db, key)
    infos = {info.symbol: info for info in desk.container.market.symbols()}
    views = await portfolios.positions_view(db, desk=desk, portfolio=portfolio)
    return [alpaca_position(view, infos.get(view["symbol"])) for view in views]


@router.get(
    "/positions",
    summary="Open positions",
    responses={200: {"model": list[AlpacaPositionOut], "description": "Open positions"}},
)
async def list_positions(db: SessionDep, key: KeyPrincipalDep, desk: DeskDep) -> JSONResponse:
    return JSONResponse(await _positions(db, key, desk))


@router.get(
    "/positions/{symbol_or_asset_id}",
    summary="One open position",
    responses={200: {"model": AlpacaPositionOut}},
)
async def get_position(
    symbol_or_asset_id: Annotated[str, Path(min_length=1, max_length=64)],
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
) -> JSONResponse:
    symbol = symbol_of(desk, symbol_or_asset_id)
    for position in await _positions(db, key, desk):
        if position["symbol"] == symbol:
            return JSONResponse(position)
    raise NotFound("position does not exist", code="position_not_found")


@router.delete(
    "/positions",
    status_code=207,
    summary="Close every position with market orders",
    responses={
        207: {"model": list[AlpacaClosedPositionOut], "description": "One result per symbol"}
    },
)
async def close_all(
    db: SessionDep, key: KeyPrincipalDep, desk: DeskDep, cancel_orders: bool = False
) -> JSONResponse:
    results = await closing.close_all_positions(
        db,
        desk=desk,
        user_id=key.user.id,
        portfolio_id=key.portfolio_id,
        cancel_orders=cancel_orders,
    )
    body = []
    for symbol, outcome in results:
        if isinstance(outcome, AppError):
            body.append(
                {
                    "symbol": symbol,
                    "status": 422,
                    "body": {"code": 42210000, "message": outcome.message},
                }
            )
        else:
            body.append(
                {
                    "symbol": symbol,
                    "status": 200,
                    "order_id": str(outcome.id),
                    "body": order_out(outcome),
                }
            )
    return JSONResponse(body, status_code=207)


@router.delete(
    "/positions/{symbol_or_asset_id}",
    summary="Close a position (all of it, qty shares or percentage %)",
    responses={200: {"model": AlpacaOrderOut, "description": "The closing order"}},
)
async def close_position(
    symbol_or_asset_id: Annotated[str, Path(min_length=1, max_length=64)],
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
    qty: Annotated[Quantity | None, Query(gt=0)] = None,
    percentage: Annotated[Percent | None, Query(gt=0)] = None,
) -> JSONResponse:
    if qty is not None and percentage is not None:
        raise Unprocessable("only one of qty or percentage may be given", code="qty_and_percentage")
    order = await closing.close_position(
        db,
        desk=desk,
        user_id=key.user.id,
        portfolio_id=key.portfolio_id,
        symbol=symbol_of(desk, symbol_or_asset_id),
        qty=qty,
        percentage=percentage,
    )
    return JSONResponse(order_out(order))


def _period_days(period: str) -> int | None:
    if period == "all":
        return None
    number, unit = period[:-1], period[-1:].upper()
    if not number.isdigit() or unit not in _PERIOD_UNITS or int(number) < 1:
        raise Unprocessable(
            f"invalid period {period!r}: use e.g. 1W, 1M, 3M, 1A", code="invalid_period"
        )
    return int(number) * _PERIOD_UNITS[unit]


@router.get(
    "/account/portfolio/history",
    summary="Daily equity and P&L (timeframe 1D only)",
    responses={200: {"model": AlpacaPortfolioHistoryOut}},
)
async def portfolio_history(
    db: SessionDep,
    key: KeyPrincipalDep,
    desk: DeskDep,
    period: Annotated[str, Query(pattern=r"^(\d{1,4}[DWMAdwma]|all)$")] = "1M",
    timeframe: Annotated[str, Query(max_length=10)] = "1D",
    extended_hours: bool | None = None,
) -> JSONResponse:
    if timeframe != "1D":
        raise Unprocessable(
            "only the 1D timeframe is supported: the equity curve is kept per session close",
            code="timeframe_not_supported",
        )
    days = _period_days(period)
    portfolio = await _portfolio(db, key)
    report = await performance.report(db, desk=desk, portfolio=portfolio)
    points = [p for p in report["equity_curve"] if p["equity"] is not None]
    if days is not None:
        first = (desk.container.clock.now() - timedelta(days=days)).date()
        points = [p for p in points if str(p["date"]) >= first.isoformat()]
    equity = [float(Decimal(p["equity"])) for p in points]
    base = equity[0] if equity else float(portfolio.starting_cash)
    stamps = [
        int(datetime.combine(date.fromisoformat(str(p["date"])), time(), NEW_YORK).timestamp())
        for p in points
    ]
    profit = [round(e - base, 2) for e in equity]
    return JSONResponse(
        {
            "timestamp": stamps,
            "equity": equity,
            "profit_loss": profit,
            "profit_loss_pct": [round(p / base, 6) if base else None for p in profit],
            "base_value": base,
            "timeframe": "1D",
            "cashflow": {},
        }
    )
