"""A portfolio's performance: the daily equity curve rebuilt from the ledger, and its ratios.

The curve values the journaled positions at each session's close (today at the last price),
from the last reset on. Completed days are stored in ``performance_metrics``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, PerformanceMetric, Portfolio
from quantumtrade.domain.market import Timeframe
from quantumtrade.domain.trading.performance import (
    LedgerEvent,
    equity_curve,
    portfolio_performance,
)
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.views import text

ZERO = Decimal(0)


async def _entries(db: AsyncSession, portfolio: Portfolio) -> list[LedgerEntry]:
    last_reset = await db.scalar(
        sa.select(sa.func.max(LedgerEntry.seq)).where(
            LedgerEntry.portfolio_id == portfolio.id, LedgerEntry.kind == "reset"
        )
    )
    query = sa.select(LedgerEntry).where(LedgerEntry.portfolio_id == portfolio.id)
    if last_reset is not None:
        query = query.where(LedgerEntry.seq > last_reset)
    return list(await db.scalars(query.order_by(LedgerEntry.seq)))


async def _closes(
    desk: TradingDesk, symbols: list[str], start: datetime, now: datetime
) -> pd.DataFrame:
    columns = {}
    for symbol in symbols:
        bars = await desk.container.market.get_bars(
            symbol, Timeframe.DAY_1, start - timedelta(days=7), now
        )
        index = pd.DatetimeIndex(bars.index).tz_convert(UTC).tz_localize(None).normalize()
        today = pd.DatetimeIndex([pd.Timestamp(now.astimezone(UTC).date())])
        series = pd.concat(
            [
                pd.Series(bars["close"].to_numpy(dtype="float64"), index=index),
                pd.Series([float(await desk.last_price(symbol))], index=today),
            ]
        )
        columns[symbol] = series[~series.index.duplicated(keep="last")]
    frame = pd.DataFrame(columns).sort_index()
    return frame


async def report(
    db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio, benchmark: str = "SPY"
) -> dict[str, Any]:
    """Return the equity curve, period returns, ratios and the benchmark comparison."""
    now = desk.container.clock.now()
    bench = desk.symbol_info(benchmark).symbol
    entries = await _entries(db, portfolio)
    start_cash = ZERO
    start = portfolio.reset_at or portfolio.created_at
    if portfolio.reset_at is not None:
        start_cash = portfolio.starting_cash
    events = [
        LedgerEvent(
            at=entry.at,
            cash_delta=entry.cash_delta,
            symbol=entry.symbol,
            qty_delta=(entry.qty if entry.side == "buy" else -entry.qty) if entry.symbol else ZERO,
        )
        for entry in entries
    ]
    symbols = sorted({e.symbol for e in events if e.symbol} | {bench})
    closes = await _closes(desk, symbols, start, now)
    closes = closes[closes.index >= pd.Timestamp(start.astimezone(UTC).date())]
    held = closes.drop(columns=[bench]) if bench not in {e.symbol for e in events} else closes
    curve = equity_curve(events, held, start_cash=start_cash)
    trades_pl = [float(e.realized_pl) for e in entries if e.kind == "fill" and e.realized_pl != 0]
    body = _money_as_text(
        portfolio_performance(curve, trades_pl=trades_pl, benchmark_close=closes[bench])
    )
    body["portfolio_id"] = str(portfolio.id)
    body["benchmark_symbol"] = bench
    body["since"] = start.isoformat()
    await _store_daily(db, portfolio, curve, now)
    return body


# Dollar figures of the report: sent as decimal strings to the cent, as every money field is.
_MONEY_SUMMARY = ("expectancy", "average_win", "average_loss")


def _money_as_text(body: dict[str, Any]) -> dict[str, Any]:
    """Return the report with its dollar amounts as cent strings (ratios stay numbers)."""
    for point in body["equity_curve"]:
        point["equity"] = _cents(point["equity"])
        point["cash"] = _cents(point["cash"])
    summary = body["summary"]
    for name in _MONEY_SUMMARY:
        summary[name] = _cents(summary.get(name))
    return body


def _cents(value: float | None) -> str | None:
    if value is None:
        return None
    return text(Decimal(repr(value)).quantize(Decimal("0.01")))


async def _store_daily(
    db: AsyncSession, portfolio: Portfolio, curve: pd.DataFrame, now: datetime
) -> None:
    """Keep the completed days' figures in ``performance_metrics`` (replacing older ones)."""
    done = curve[curve.index < pd.Timestamp(now.astimezone(UTC).date())]
    if done.empty:
        return
    equity = [float(v) for v in done["equity"]]
    cash = [float(v) for v in done["cash"]]
    times = [
        datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC)
        for stamp in pd.DatetimeIndex(done.index)
    ]
    first = equity[0] or None
    rows: list[dict[str, Any]] = []
    previous: Decimal | None = None
    for i, moment in enumerate(times):
        value = Decimal(repr(equity[i])).quantize(Decimal("0.01"))
        rows.append(
            {
                "portfolio_id": portfolio.id,
                "time": moment,
                "equity": value,
                "cash": Decimal(repr(cash[i])).quantize(Decimal("0.01")),
                "daily_pl": value - previous if previous is not None else ZERO,
                "daily_return": equity[i] / equity[i - 1] - 1 if i and equity[i - 1] else None,
                "cumulative_return": equity[i] / first - 1 if first else None,
            }
        )
        previous = value
    await db.execute(
        sa.delete(PerformanceMetric).where(
            PerformanceMetric.portfolio_id == portfolio.id,
            PerformanceMetric.time >= times[0],
            PerformanceMetric.time <= times[-1],
        )
    )
    await db.execute(sa.insert(PerformanceMetric), rows)
    await db.commit()
