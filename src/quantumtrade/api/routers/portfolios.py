"""``/api/portfolios``: portfolios, their positions, performance, trades and reset."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from quantumtrade.api.deps import CurrentPrincipal, DeskDep, OffsetQuery, SessionDep
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime, Uuid
from quantumtrade.api.schemas.portfolios_out import (
    PerformanceOut,
    PortfolioOut,
    PositionOut,
    TradesPage,
)
from quantumtrade.api.schemas.trading import PortfolioCreate
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.services.trading import performance, portfolios
from quantumtrade.services.trading.views import text

router = APIRouter(prefix="/api/portfolios", tags=["portfolios"], responses=ERROR_RESPONSES)


@router.get(
    "",
    response_model=list[PortfolioOut],
    summary="List your portfolios with their account figures",
)
async def list_portfolios(
    db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> list[dict[str, Any]]:
    rows = await portfolios.list_portfolios(db, user_id=principal.user.id)
    return [await portfolios.summary(db, desk=desk, portfolio=row) for row in rows]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PortfolioOut,
    summary="Create a portfolio",
)
async def create_portfolio(
    body: PortfolioCreate, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> dict[str, Any]:
    if body.type == "live":
        raise Unprocessable(
            "Live portfolios trade through a broker connection, which this server does not "
            "have configured; create a paper portfolio.",
            code="live_trading_unavailable",
        )
    if body.shorting_enabled and body.margin_multiplier == 1:
        raise Unprocessable(
            "Shorting needs a margin portfolio (margin_multiplier 2 or 4).",
            code="shorting_needs_margin",
        )
    portfolio = await portfolios.create_portfolio(
        db,
        user_id=principal.user.id,
        name=body.name,
        type=body.type,
        starting_cash=body.starting_cash or desk.container.settings.paper_starting_cash,
        margin_multiplier=body.margin_multiplier,
        shorting_enabled=body.shorting_enabled,
        now=desk.container.clock.now(),
    )
    return await portfolios.summary(db, desk=desk, portfolio=portfolio)


@router.get(
    "/{portfolio_id}",
    response_model=PortfolioOut,
    summary="Portfolio summary: cash, equity, buying power, P&L",
)
async def get_portfolio(
    portfolio_id: Uuid, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> dict[str, Any]:
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await portfolios.summary(db, desk=desk, portfolio=portfolio)


@router.get(
    "/{portfolio_id}/positions",
    response_model=list[PositionOut],
    summary="Open positions, valued now",
)
async def get_positions(
    portfolio_id: Uuid, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> list[dict[str, Any]]:
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await portfolios.positions_view(db, desk=desk, portfolio=portfolio)


@router.get(
    "/{portfolio_id}/performance",
    response_model=PerformanceOut,
    summary="Equity curve, returns and ratios vs SPY",
)
async def get_performance(
    portfolio_id: Uuid,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    benchmark: Annotated[str, Query(max_length=20)] = "SPY",
) -> dict[str, Any]:
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await performance.report(db, desk=desk, portfolio=portfolio, benchmark=benchmark)


@router.get(
    "/{portfolio_id}/trades",
    response_model=TradesPage,
    summary="Executions, newest first, paged and filtered",
)
async def get_trades(
    portfolio_id: Uuid,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    symbol: Annotated[str | None, Query(max_length=20)] = None,
    side: Literal["buy", "sell"] | None = None,
    after: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    if symbol is not None:
        symbol = desk.symbol_info(symbol).symbol
    rows, total = await portfolios.trades_page(
        db,
        portfolio=portfolio,
        symbol=symbol,
        side=side,
        after=after,
        until=until,
        limit=limit,
        offset=offset,
    )
    items = [
        {
            "id": str(row.id),
            "order_id": str(row.order_id) if row.order_id else None,
            "symbol": row.symbol,
            "side": row.side,
            "qty": text(row.qty),
            "price": text(row.price),
            "commission": text(row.commission),
            "fees": text(row.fees),
            "slippage": text(row.slippage),
            "realized_pl": text(row.realized_pl),
            "executed_at": row.executed_at.isoformat(),
        }
        for row in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/{portfolio_id}/reset",
    response_model=PortfolioOut,
    summary="Cancel orders, drop positions, restore the cash",
)
async def reset_portfolio(
    portfolio_id: Uuid, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> dict[str, Any]:
    portfolio = await portfolios.reset_portfolio(
        db, desk=desk, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await portfolios.summary(db, desk=desk, portfolio=portfolio)
