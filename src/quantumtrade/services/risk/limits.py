"""Risk limits of a portfolio: read, change, and enforce inside an order's transaction.

:func:`enforce` runs after the portfolio is locked, so two concurrent orders cannot together
slip past a limit: the second one sees the first one's fill.

The trading day for the daily loss limit starts at midnight in New York: the loss is the
equity now against the equity at the last close (the positions and cash held at the start of
the day, valued at the previous closes).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, Order, PerformanceMetric, Portfolio, Position
from quantumtrade.domain.errors import Forbidden
from quantumtrade.domain.execution import Side
from quantumtrade.domain.risk.limits import OrderRisk, RiskLimits, check_order
from quantumtrade.domain.trading.ledger import AccountFigures, exposure_increase
from quantumtrade.services.trading.ledger import lock_portfolio

if TYPE_CHECKING:
    from quantumtrade.services.trading.desk import TradingDesk

ZERO = Decimal(0)
NEW_YORK = ZoneInfo("America/New_York")


def limits_of(portfolio: Portfolio) -> RiskLimits:
    """Return the portfolio's limits (the defaults until some are set)."""
    return RiskLimits.from_dict(dict(portfolio.risk_limits or {}))


async def set_limits(
    db: AsyncSession, *, user_id: uuid.UUID, portfolio_id: uuid.UUID, changes: dict[str, Any]
) -> RiskLimits:
    """Change some limits (the others stay); ``null`` switches a rule off."""
    portfolio = await lock_portfolio(db, portfolio_id, user_id=user_id)
    merged = {**limits_of(portfolio).to_dict(), **changes}
    limits = RiskLimits.from_dict(merged)
    portfolio.risk_limits = limits.to_dict()
    await db.commit()
    return limits


def day_start(moment: datetime) -> datetime:
    """Return midnight in New York of ``moment``'s New York date, in UTC."""
    local = moment.astimezone(NEW_YORK)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(moment.tzinfo)


async def last_equity(
    db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio, now: datetime
) -> float:
    """Return the equity at the last close: today's fills undone, valued at previous closes."""
    from quantumtrade.services.trading.portfolios import lastday_price

    since = day_start(now)
    if portfolio.reset_at is not None and portfolio.reset_at > since:
        since = portfolio.reset_at  # a reset starts the day afresh
    # Only fills are undone: deposits and resets are flows, not profit or loss.
    rows = (
        await db.execute(
            sa.select(
                LedgerEntry.symbol, LedgerEntry.side, LedgerEntry.qty, LedgerEntry.cash_delta
            ).where(
                LedgerEntry.portfolio_id == portfolio.id,
                LedgerEntry.at >= since,
                LedgerEntry.kind == "fill",
            )
        )
    ).all()
    cash = portfolio.cash - sum((row.cash_delta for row in rows), ZERO)
    held = {
        p.symbol: p.qty
        for p in await db.scalars(sa.select(Position).where(Position.portfolio_id == portfolio.id))
    }
    for row in rows:
        if row.symbol:
            signed = row.qty if row.side == Side.BUY.value else -row.qty
            held[row.symbol] = held.get(row.symbol, ZERO) - signed
    value = ZERO
    for symbol, qty in held.items():
        if qty:
            close = await lastday_price(desk, symbol) or await desk.last_price(symbol)
            value += qty * close
    return float(cash + value)


async def peak_equity(db: AsyncSession, portfolio: Portfolio) -> float:
    since = portfolio.reset_at or portfolio.created_at
    stored = await db.scalars(
        sa.select(PerformanceMetric.equity).where(
            PerformanceMetric.portfolio_id == portfolio.id, PerformanceMetric.time >= since
        )
    )
    return float(max([portfolio.starting_cash, *stored]))


def needs_history(limits: RiskLimits) -> bool:
    """Return whether checking ``limits`` reads the portfolio's history from the database."""
    return (
        limits.max_orders_per_minute is not None
        or limits.daily_loss_limit_pct is not None
        or limits.daily_loss_limit_value is not None
        or limits.max_drawdown_pct is not None
    )


async def enforce(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    symbol: str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    positions: dict[str, Position],
    prices: dict[str, Decimal],
    account: AccountFigures,
    now: datetime,
) -> None:
    """Refuse (403) an order that breaks a limit, naming every rule it breaks."""
    limits = limits_of(portfolio)
    held = positions[symbol].qty if symbol in positions else ZERO
    adds_risk = exposure_increase(held, side, qty) > ZERO
    recent = 0
    if limits.max_orders_per_minute is not None:
        count = await db.scalar(
            sa.select(sa.func.count())
            .select_from(Order)
            .where(
                Order.portfolio_id == portfolio.id,
                Order.submitted_at >= now - timedelta(minutes=1),
                Order.parent_order_id.is_(None),
            )
        )
        recent = int(count or 0)
    start = peak = None
    if adds_risk and (
        limits.daily_loss_limit_pct is not None or limits.daily_loss_limit_value is not None
    ):
        start = await last_equity(db, desk=desk, portfolio=portfolio, now=now)
    if adds_risk and limits.max_drawdown_pct is not None:
        peak = await peak_equity(db, portfolio)
    check_limits(
        limits,
        sectors=desk.sectors(),
        symbol=symbol,
        side=side,
        qty=qty,
        price=price,
        positions=positions,
        prices=prices,
        account=account,
        recent_orders=recent,
        start_equity=start,
        peak_equity=peak,
    )


def check_limits(
    limits: RiskLimits,
    *,
    sectors: dict[str, str | None],
    symbol: str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    positions: dict[str, Position],
    prices: dict[str, Decimal],
    account: AccountFigures,
    recent_orders: int = 0,
    start_equity: float | None = None,
    peak_equity: float | None = None,
) -> None:
    """Refuse (403) an order that breaks ``limits``; the history figures come from the caller.

    ``start_equity`` (the equity at the last close) and ``peak_equity`` are given when the
    daily loss and drawdown rules are on and the order adds risk.
    """
    held = positions[symbol].qty if symbol in positions else ZERO
    adds_risk = exposure_increase(held, side, qty) > ZERO
    after = held + (qty if side is Side.BUY else -qty)
    quotes = {**prices, symbol: price}
    exposures = {s: abs(p.qty * quotes[s]) for s, p in positions.items()}
    exposures[symbol] = abs(after * price)
    sector = sectors.get(symbol)
    equity = float(account.equity)
    risk = OrderRisk(
        symbol=symbol,
        sector=sector,
        adds_risk=adds_risk,
        order_value=float(qty * price),
        equity=equity,
        symbol_exposure_after=float(exposures[symbol]),
        sector_exposure_after=float(
            sum((v for s, v in exposures.items() if sector and sectors.get(s) == sector), ZERO)
        ),
        gross_after=float(sum(exposures.values(), ZERO)),
        open_positions_after=sum(1 for v in exposures.values() if v > ZERO),
        day_pl=0.0,
        last_equity=equity,
        drawdown=0.0,
        orders_last_minute=recent_orders,
    )
    if start_equity is not None:
        risk = _replace(risk, day_pl=equity - start_equity, last_equity=start_equity)
    if peak_equity is not None:
        peak = max(peak_equity, equity)
        risk = _replace(risk, drawdown=equity / peak - 1 if peak > 0 else 0.0)
    breaches = check_order(limits, risk)
    if breaches:
        first = breaches[0]
        raise Forbidden(
            first.message,
            code=first.code,
            details={
                "rule": first.rule,
                "limit": first.limit,
                "value": first.value,
                "breaches": [
                    {
                        "code": b.code,
                        "rule": b.rule,
                        "limit": b.limit,
                        "value": b.value,
                        "message": b.message,
                    }
                    for b in breaches
                ],
            },
        )


def _replace(risk: OrderRisk, **changes: Any) -> OrderRisk:
    from dataclasses import replace

    return replace(risk, **changes)
