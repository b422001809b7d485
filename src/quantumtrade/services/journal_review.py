"""Reviewing a journal: mistakes with their evidence, performance by group, patterns, advice.

The rules and statistics are pure (:mod:`quantumtrade.domain.journal_review`); this module
gathers what they need about each trip from the portfolio's records:

* the stop orders alive while the trip was open, oldest first (how the stop moved);
* the equity at entry: the starting cash plus the net P&L of the trips closed since the last
  reset before the entry (realised equity: open positions' gains and losses do not count);
* the portfolio's ``max_position_pct`` risk limit, as set now;
* the run-up before entry: the move over the 5 daily closes before the entry day, in the
  trade's direction, in units of ATR(14) of those days (from the market's daily bars);
* the AI decision for the symbol in force at entry (the newest one the portfolio's owner
  received before the entry that had not expired).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import AIDecision, JournalEntry, LedgerEntry, Portfolio
from quantumtrade.domain import journal_review as review
from quantumtrade.domain.errors import AppError
from quantumtrade.domain.indicators import atr
from quantumtrade.domain.journal import LONG
from quantumtrade.domain.risk.limits import RiskLimits
from quantumtrade.services import journal, market
from quantumtrade.services.container import Container
from quantumtrade.services.trading.views import text

RUN_UP_BARS = 5
ATR_BARS = 14
# Daily bars fetched before the first entry: enough for ATR(14) and the run-up over holidays.
_LOOKBACK = timedelta(days=45)


async def trips(
    db: AsyncSession,
    *,
    container: Container,
    portfolio: Portfolio,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[review.ReviewTrip]:
    """The portfolio's trips opened in ``[since, until)``, with what the review rules need."""
    await journal.sync(db, container=container, portfolio=portfolio)
    where: list[Any] = [JournalEntry.portfolio_id == portfolio.id]
    if since is not None:
        where.append(JournalEntry.opened_at >= since)
    if until is not None:
        where.append(JournalEntry.opened_at < until)
    rows = list(
        await db.scalars(
            sa.select(JournalEntry).where(*where).order_by(JournalEntry.opened_at, JournalEntry.key)
        )
    )
    if not rows:
        return []
    now = container.clock.now()
    stops = await journal.load_stops(db, portfolio.id)
    equity = await _equity_at(db, portfolio, rows)
    limit = RiskLimits.from_dict(portfolio.risk_limits or {}).max_position_pct
    run_ups = await _run_ups(container, rows)
    ai = await _ai_in_force(db, portfolio.user_id, rows)
    out = []
    for row in rows:
        moves = journal.stops_alive(
            stops,
            symbol=row.symbol,
            direction=row.direction,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            now=now,
        )
        decision = ai.get(row.id)
        out.append(
            review.ReviewTrip(
                id=str(row.id),
                symbol=row.symbol,
                direction=row.direction,
                status=row.status,
                opened_at=row.opened_at,
                closed_at=row.closed_at,
                entry_price=row.entry_price,
                max_qty=row.max_qty,
                net_pl=row.net_pl,
                return_pct=row.return_pct,
                holding_seconds=row.holding_seconds,
                r_multiple=row.r_multiple,
                stop_price=row.stop_price,
                stop_source=row.stop_source,
                stop_moves=tuple(moves),
                tags=tuple(row.tags or ()),
                setup=row.setup,
                strategy=row.strategy,
                regime=row.regime,
                emotion_before=row.emotion_before,
                emotion_before_intensity=row.emotion_before_intensity,
                emotion_after=row.emotion_after,
                equity_at_entry=equity.get(row.id),
                max_position_pct=limit,
                run_up_atr=run_ups.get(row.id),
                ai_action=None if decision is None else decision[0],
                ai_decision_id=None if decision is None else str(decision[1]),
            )
        )
    return out


async def _equity_at(
    db: AsyncSession, portfolio: Portfolio, rows: list[JournalEntry]
) -> dict[Any, Decimal]:
    resets = list(
        await db.scalars(
            sa.select(LedgerEntry.at)
            .where(LedgerEntry.portfolio_id == portfolio.id, LedgerEntry.kind == "reset")
            .order_by(LedgerEntry.at)
        )
    )
    closed: list[tuple[datetime, Decimal]] = sorted(
        (closed_at, net)
        for closed_at, net in await db.execute(
            sa.select(JournalEntry.closed_at, JournalEntry.net_pl).where(
                JournalEntry.portfolio_id == portfolio.id,
                JournalEntry.status == "closed",
            )
        )
        if closed_at is not None
    )
    times = [closed_at for closed_at, _net in closed]
    running = [Decimal(0)]
    for _closed_at, net in closed:
        running.append(running[-1] + net)

    def realised_by(moment: datetime) -> Decimal:
        """Net P&L of the trips closed at or before ``moment``."""
        return running[bisect_right(times, moment)]

    out: dict[Any, Decimal] = {}
    for row in rows:
        last_reset = bisect_right(resets, row.opened_at)
        since_reset = realised_by(row.opened_at)
        if last_reset:
            since_reset -= realised_by(resets[last_reset - 1])
        out[row.id] = portfolio.starting_cash + since_reset
    return out


async def _run_ups(container: Container, rows: list[JournalEntry]) -> dict[Any, float]:
    by_symbol: dict[str, list[JournalEntry]] = defaultdict(list)
    for row in rows:
        by_symbol[row.symbol].append(row)
    out: dict[Any, float] = {}
    for symbol, group in by_symbol.items():
        first = min(r.opened_at for r in group)
        last = max(r.opened_at for r in group)
        try:
            page = await market.history(
                container,
                symbol=symbol,
                timeframe="1Day",
                start=first - _LOOKBACK,
                end=last,
                limit=market.MAX_LIMIT,
            )
        except AppError:
            continue
        bars = page.bars
        if len(bars) <= ATR_BARS:
            continue
        out.update(await asyncio.to_thread(_run_up_of, bars, group))
    return out


def _run_up_of(bars: pd.DataFrame, rows: list[JournalEntry]) -> dict[Any, float]:
    ranges = atr(bars["high"], bars["low"], bars["close"], ATR_BARS)
    closes = bars["close"].to_numpy(dtype=float)
    # A daily bar is complete once its day is over: the bars before the entry's day count.
    index = pd.DatetimeIndex(bars.index)
    days = index.normalize()
    out: dict[Any, float] = {}
    for row in rows:
        entry_day = pd.Timestamp(row.opened_at).tz_convert(index.tz).normalize()
        known = int(days.searchsorted(entry_day, side="left"))
        if known <= max(ATR_BARS, RUN_UP_BARS):
            continue
        scale = float(ranges[known - 1])
        if not np.isfinite(scale) or scale <= 0:
            continue
        entry = float(Decimal(row.fills[0]["price"]))
        move = entry - float(closes[known - 1 - RUN_UP_BARS])
        out[row.id] = (move if row.direction == LONG else -move) / scale
    return out


async def _ai_in_force(
    db: AsyncSession, user_id: Any, rows: list[JournalEntry]
) -> dict[Any, tuple[str, Any]]:
    symbols = sorted({row.symbol for row in rows})
    last = max(row.opened_at for row in rows)
    by_symbol: dict[str, list[tuple[datetime, datetime | None, str, Any]]] = defaultdict(list)
    for symbol, created_at, expires_at, action, decision_id in await db.execute(
        sa.select(
            AIDecision.symbol,
            AIDecision.created_at,
            AIDecision.expires_at,
            AIDecision.action,
            AIDecision.id,
        )
        .where(
            AIDecision.user_id == user_id,
            AIDecision.symbol.in_(symbols),
            AIDecision.created_at <= last,
        )
        .order_by(AIDecision.created_at, AIDecision.id)
    ):
        by_symbol[symbol].append((created_at, expires_at, action, decision_id))
    made = {
        symbol: [created_at for created_at, *_rest in decisions]
        for symbol, decisions in by_symbol.items()
    }
    out: dict[Any, tuple[str, Any]] = {}
    for row in rows:
        decisions = by_symbol.get(row.symbol, [])
        # The newest decision made by the entry that had not expired at it.
        for index in range(bisect_right(made.get(row.symbol, []), row.opened_at) - 1, -1, -1):
            _created_at, expires_at, action, decision_id = decisions[index]
            if expires_at is None or expires_at > row.opened_at:
                out[row.id] = (action, decision_id)
                break
    return out


def as_json(value: Any) -> Any:
    """A review result (dataclasses, tuples, Decimals, datetimes) as JSON-ready values."""
    if hasattr(value, "__dataclass_fields__"):
        return as_json(asdict(value))
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, Decimal):
        return text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- use cases

_MONEY = {
    "expectancy",
    "expectancy_ci",
    "total_net_pl",
    "base_expectancy",
    "avg_net_pl",
    "excess_net_pl",
    "extra_size_net_pl",
}
_MONEY_FIGURES = {"expectancy", "net_pl"}
_UNITS = {
    "avg_r": "R",
    "expectancy": "USD",
    "net_pl": "USD",
    "loss_rate": "fraction",
    "win_rate": "fraction",
    "size_ratio": "ratio",
}


def _usd(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [_usd(v) for v in value]
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


def _money_view(value: Any) -> Any:
    """A review dataclass as JSON, its dollar figures as decimal strings to the cent."""
    if hasattr(value, "__dataclass_fields__"):
        out = {}
        for name in value.__dataclass_fields__:
            item = getattr(value, name)
            out[name] = _usd(item) if name in _MONEY else _money_view(item)
        return out
    if isinstance(value, list | tuple):
        return [_money_view(v) for v in value]
    return as_json(value)


def recommendation_view(advice: review.Recommendation) -> dict[str, Any]:
    evidence = advice.evidence
    money = evidence.figure in _MONEY_FIGURES
    return {
        "kind": advice.kind,
        "code": advice.code,
        "message": advice.message,
        "score": advice.score,
        "evidence": {
            "dimension": evidence.dimension,
            "key": evidence.key,
            "n": evidence.n,
            "figure": evidence.figure,
            "unit": _UNITS.get(evidence.figure, "number"),
            "value": _usd(evidence.value) if money else as_json(evidence.value),
            "interval": _usd(evidence.interval) if money else as_json(evidence.interval),
            "trip_ids": list(evidence.trip_ids),
        },
    }


async def mistakes(
    db: AsyncSession,
    *,
    container: Container,
    portfolio: Portfolio,
    rules: review.MistakeRules,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The mistakes found in the trips opened in ``[since, until)``, with the rules used."""
    found = await trips(db, container=container, portfolio=portfolio, since=since, until=until)
    return {
        "portfolio_id": str(portfolio.id),
        "trips": len(found),
        "rules": as_json(rules.thresholds()),
        "mistakes": [as_json(m) for m in review.find_mistakes(found, rules)],
    }


async def analysis(
    db: AsyncSession,
    *,
    container: Container,
    portfolio: Portfolio,
    dimensions: tuple[str, ...] = review.DIMENSIONS,
    min_sample: int = 10,
    confidence: float = 0.95,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Performance overall and by each dimension, with intervals, and the patterns."""
    found = await trips(db, container=container, portfolio=portfolio, since=since, until=until)
    groups = review.analyse_all(
        found, dimensions=dimensions, min_sample=min_sample, confidence=confidence
    )

    def flagged(stats: Any) -> dict[str, Any]:
        view: dict[str, Any] = _money_view(stats)
        view["small_sample"] = stats.n < min_sample
        return view

    emotions = _money_view(review.emotion_patterns(found, min_sample, confidence=confidence))
    for item in emotions["before"]:
        item["small_sample"] = item["n"] < min_sample
    return {
        "portfolio_id": str(portfolio.id),
        "min_sample": min_sample,
        "overall": flagged(review.overall(found, min_sample=min_sample, confidence=confidence)),
        "groups": {name: [flagged(row) for row in rows] for name, rows in groups.items()},
        "emotions": emotions,
        "streaks": _money_view(review.streaks(found, min_sample, confidence=confidence)),
    }


async def recommendations(
    db: AsyncSession,
    *,
    container: Container,
    portfolio: Portfolio,
    rules: review.MistakeRules,
    min_sample: int = 10,
    confidence: float = 0.95,
    limit: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Advice from the trader's own figures, strongest first, each with its evidence."""
    found = await trips(db, container=container, portfolio=portfolio, since=since, until=until)
    advice = review.recommend(
        found, rules=rules, min_sample=min_sample, confidence=confidence, limit=limit
    )
    closed = sum(t.status == "closed" for t in found)
    return {
        "portfolio_id": str(portfolio.id),
        "trips": len(found),
        "closed_trips": closed,
        "recommendations": [recommendation_view(a) for a in advice],
    }
