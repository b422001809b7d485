"""What a portfolio's daily report is built from, read once: ledger, prices, orders, decisions.

Every read is bounded by the session's close, so a past day's report depends only on the
ledger and the market data, never on when it is built (AI outcomes, recorded later, aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import (
    AIDecision,
    LedgerEntry,
    Order,
    PerformanceMetric,
    Portfolio,
    RegimeChange,
)
from quantumtrade.domain.market import Timeframe
from quantumtrade.domain.news import NewsItem
from quantumtrade.domain.reports import DayFigures, Holdings, day_figures, holdings_at
from quantumtrade.domain.trading.performance import LedgerEvent
from quantumtrade.marketdata.information import InformationUnavailable
from quantumtrade.services.container import Container
from quantumtrade.services.reports._days import TradingDay
from quantumtrade.services.trading.execute import OPEN_VALUES

ZERO = Decimal(0)
BENCHMARK = "SPY"
STEP = Timeframe.MIN_5
LOOKBACK = timedelta(days=5)  # bars read before the previous close, to price it
MAX_NEWS = 5


@dataclass
class PortfolioDay:
    """A portfolio's trading day, as the section builders read it."""

    container: Container
    portfolio: Portfolio
    session: TradingDay
    figures: DayFigures
    day_events: list[LedgerEvent]  # the day's ledger lines, in ledger order
    fills: list[LedgerEntry]  # the day's fills, in ledger order
    start_prices: dict[str, Decimal]
    end_prices: dict[str, Decimal]
    benchmark: str
    benchmark_start: Decimal | None
    benchmark_end: Decimal | None
    reset_at: datetime | None  # a reset during the day starts it afresh
    all_fills: list[tuple[str, Decimal, Decimal]]  # (symbol, signed qty, price) to the close
    orders: list[Order]  # placed during the day
    open_orders: list[Order]  # open at the close
    decisions: list[AIDecision]
    regimes: list[RegimeChange]
    news: list[NewsItem]
    peak_equity: Decimal
    sectors: dict[str, str | None]
    intraday: dict[str, Any] = field(default_factory=dict)  # times, equity, benchmark prices


def _event(entry: LedgerEntry) -> LedgerEvent:
    signed = ZERO
    if entry.symbol:
        signed = entry.qty if entry.side == "buy" else -entry.qty
    return LedgerEvent(
        at=entry.at, cash_delta=entry.cash_delta, symbol=entry.symbol, qty_delta=signed
    )


async def _bars(container: Container, symbol: str, start: datetime, end: datetime) -> pd.DataFrame:
    bars = await container.market.get_bars(symbol, STEP, start, end)
    return (
        bars
        if len(bars)
        else await container.market.get_bars(
            symbol, Timeframe.DAY_1, start - timedelta(days=10), end
        )
    )


def _ends(bars: pd.DataFrame) -> pd.DatetimeIndex:
    """Return when each bar's close was known: the end of its period."""
    index = pd.DatetimeIndex(bars.index).tz_convert("UTC")
    step = STEP.delta if len(index) < 2 or (index[1] - index[0]) < timedelta(days=1) else None
    return index + (step if step is not None else timedelta(days=1))


def price_at(bars: pd.DataFrame, moment: datetime) -> Decimal | None:
    """Return the close of the last bar that ended at or before ``moment``."""
    if not len(bars):
        return None
    ends = _ends(bars)
    known = bars["close"].to_numpy(dtype="float64")[ends <= pd.Timestamp(moment)]
    return Decimal(repr(float(known[-1]))) if len(known) else None


def series_at(bars: pd.DataFrame, times: list[datetime], fallback: Decimal | None) -> list[float]:
    """Return the last known close at each of ``times`` (``fallback`` before the first bar)."""
    ends = _ends(bars) if len(bars) else pd.DatetimeIndex([], tz="UTC")
    closes: list[float] = bars["close"].to_numpy(dtype="float64").tolist() if len(bars) else []
    out = []
    for moment in times:
        i = int(ends.searchsorted(pd.Timestamp(moment), side="right")) - 1
        if i >= 0:
            out.append(float(closes[i]))
        else:
            out.append(float(fallback) if fallback is not None else float("nan"))
    return out


async def load(
    db: AsyncSession, container: Container, portfolio: Portfolio, session: TradingDay
) -> PortfolioDay:
    """Read everything the report of ``portfolio`` on ``session`` needs."""
    close, previous = session.close, session.previous_close
    entries = list(
        await db.scalars(
            sa.select(LedgerEntry)
            .where(LedgerEntry.portfolio_id == portfolio.id, LedgerEntry.at <= close)
            .order_by(LedgerEntry.seq)
        )
    )
    resets = [i for i, e in enumerate(entries) if e.kind == "reset"]
    start_cash, reset_at = ZERO, None
    if resets:
        last = entries[resets[-1]]
        entries = entries[resets[-1] + 1 :]
        start_cash = last.cash_after
        if last.at > previous:
            reset_at = last.at
    events = [_event(e) for e in entries]
    if reset_at is not None:
        start = Holdings(start_cash, {})
        day_entries = entries
    else:
        start = holdings_at(events, start_cash, previous)
        day_entries = [e for e in entries if e.at > previous]
    day_events = [_event(e) for e in day_entries]
    symbols = sorted(set(start.qty) | {e.symbol for e in day_entries if e.symbol} | {BENCHMARK})
    bars = {s: await _bars(container, s, previous - LOOKBACK, close) for s in symbols}
    start_prices = {s: p for s in symbols if (p := price_at(bars[s], previous)) is not None}
    end_prices = {s: p for s in symbols if (p := price_at(bars[s], close)) is not None}
    figures = day_figures(start, day_events, start_prices, end_prices)

    times = [
        moment.to_pydatetime()
        for moment in _ends(bars[BENCHMARK])
        if session.open < moment.to_pydatetime() <= close
    ]
    held = sorted({s for s in symbols if s != BENCHMARK})
    prices = {s: series_at(bars[s], times, start_prices.get(s)) for s in held}
    bench = series_at(bars[BENCHMARK], times, start_prices.get(BENCHMARK))
    intraday = {"times": times, "prices": prices, "benchmark": bench, "start": start}

    orders = list(
        await db.scalars(
            sa.select(Order)
            .where(
                Order.portfolio_id == portfolio.id,
                Order.created_at > previous,
                Order.created_at <= close,
            )
            .order_by(Order.created_at, Order.id)
        )
    )
    open_orders = [
        o
        for o in await db.scalars(
            sa.select(Order)
            .where(
                Order.portfolio_id == portfolio.id,
                Order.created_at <= close,
                sa.or_(Order.status.in_(OPEN_VALUES), Order.updated_at > close),
                Order.status != "held",
            )
            .order_by(Order.symbol, Order.created_at, Order.id)
        )
    ]
    decisions = list(
        await db.scalars(
            sa.select(AIDecision)
            .where(
                AIDecision.user_id == portfolio.user_id,
                AIDecision.created_at > previous,
                AIDecision.created_at <= close,
            )
            .order_by(AIDecision.created_at, AIDecision.id)
        )
    )
    regimes = list(
        await db.scalars(
            sa.select(RegimeChange)
            .where(RegimeChange.detected_at > previous, RegimeChange.detected_at <= close)
            .order_by(RegimeChange.symbol, RegimeChange.timeframe, RegimeChange.time)
        )
    )
    stored_peak = await db.scalar(
        sa.select(sa.func.max(PerformanceMetric.equity)).where(
            PerformanceMetric.portfolio_id == portfolio.id,
            PerformanceMetric.time < close,
            PerformanceMetric.time >= (reset_at or portfolio.reset_at or portfolio.created_at),
        )
    )
    peak = max(
        [
            figures.equity_start,
            figures.equity_end,
            Decimal(stored_peak or 0),
            portfolio.starting_cash,
        ]
    )
    return PortfolioDay(
        container=container,
        portfolio=portfolio,
        session=session,
        figures=figures,
        day_events=day_events,
        fills=[e for e in day_entries if e.kind == "fill"],
        start_prices=start_prices,
        end_prices=end_prices,
        benchmark=BENCHMARK,
        benchmark_start=start_prices.get(BENCHMARK),
        benchmark_end=end_prices.get(BENCHMARK),
        reset_at=reset_at,
        all_fills=[
            (e.symbol, ev.qty_delta, e.price)
            for e, ev in zip(entries, events, strict=True)
            if e.kind == "fill" and e.symbol
        ],
        orders=orders,
        open_orders=open_orders,
        decisions=decisions,
        regimes=regimes,
        news=await _news(container, sorted(figures.end.qty), previous, close),
        peak_equity=peak,
        sectors={info.symbol: info.sector for info in container.market.symbols()},
        intraday=intraday,
    )


async def _news(
    container: Container, symbols: list[str], start: datetime, end: datetime
) -> list[NewsItem]:
    """Return the day's latest stories on the held symbols (none where no source has news)."""
    if not symbols or container.information is None:
        return []
    try:
        items = await container.information.get_news(symbols, start, end)
    except (InformationUnavailable, NotImplementedError):
        return []
    items = sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)
    return items[:MAX_NEWS]
