"""Bars for the regime service: a symbol's history from the market, or bars a client sends.

Client bars are checked row by row; every offending row is named in one 422, so a client can
fix a file in one pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.services import market
from quantumtrade.services.container import Container

MAX_BARS = 100_000
MAX_REPORTED_ROWS = 50
# How far back a symbol's regime is read: enough history for the model and the volatility
# percentile, per timeframe.
LOOKBACK = {
    Timeframe.DAY_1: timedelta(days=3653),
    Timeframe.HOUR_1: timedelta(days=730),
    Timeframe.MIN_15: timedelta(days=120),
    Timeframe.MIN_5: timedelta(days=45),
    Timeframe.MIN_1: timedelta(days=10),
}
_PRICE_FIELDS = ("open", "high", "low", "close")


async def history(
    container: Container,
    symbol: str,
    timeframe: Timeframe,
    *,
    end: datetime | None = None,
    start: datetime | None = None,
) -> pd.DataFrame:
    """Return ``symbol``'s bars over the regime lookback ending at ``end`` (default: now)."""
    end = end or container.clock.now()
    lookback = LOOKBACK[timeframe]
    if timeframe is Timeframe.DAY_1:
        lookback = timedelta(days=container.settings.regime_history_days)
    start = start or end - lookback
    page = await market.history(
        container,
        symbol=symbol,
        timeframe=timeframe.value,
        start=start,
        end=end,
        limit=market.MAX_LIMIT,
    )
    return page.bars


def frame_from_rows(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return a UTC-indexed bar frame from client rows, or raise 422 naming bad rows."""
    if not rows:
        raise Unprocessable("Send at least one bar.", code="invalid_bars")
    if len(rows) > MAX_BARS:
        raise Unprocessable(
            f"At most {MAX_BARS} bars per request.",
            code="too_many_bars",
            details={"max": MAX_BARS, "given": len(rows)},
        )
    problems: list[dict[str, Any]] = []
    times: list[pd.Timestamp] = []
    for i, row in enumerate(rows):
        reason = _row_problem(row)
        stamp = _timestamp(row.get("timestamp")) if reason is None else None
        if reason is None and stamp is None:
            reason = "timestamp is not an ISO 8601 time"
        elif stamp is not None:
            if times and stamp <= times[-1]:
                reason = "timestamp is not after the previous row's"
            times.append(stamp)
        if reason is not None:
            problems.append({"row": i, "message": reason})
            if len(problems) >= MAX_REPORTED_ROWS:
                break
    if problems:
        raise Unprocessable(
            f"{len(problems)} bar(s) are invalid; the first: row {problems[0]['row']}: "
            f"{problems[0]['message']}.",
            code="invalid_bars",
            details={"rows": problems},
        )
    columns = {
        name: [float(row[name]) for row in rows]
        for name in (*_PRICE_FIELDS, "volume")
        if all(row.get(name) is not None for row in rows)
    }
    return pd.DataFrame(columns, index=pd.DatetimeIndex(times, name="time"))


def _timestamp(value: Any) -> pd.Timestamp | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _row_problem(row: dict[str, Any]) -> str | None:
    if row.get("timestamp") is None:
        return "timestamp is missing"
    close = row.get("close")
    if close is None:
        return "close is missing"
    for name in (*_PRICE_FIELDS, "volume"):
        value = row.get(name)
        if value is None:
            continue
        number = float(value)
        if not math.isfinite(number) or (name != "volume" and number <= 0):
            return f"{name} must be a finite positive number"
        if name == "volume" and number < 0:
            return "volume must not be negative"
    high, low = row.get("high"), row.get("low")
    if high is not None and low is not None and float(high) < float(low):
        return "high is below low"
    return None
