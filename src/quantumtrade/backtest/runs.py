"""A backtest run as the API and the CLI make it: a validated request, then the engine's output
shaped for storage (JSON-safe, the equity curve downsampled).

Pure: no database, no app. ``services.backtests`` stores, schedules and serves runs; the CLI
runs them in its own process and needs nothing more than this module and the engine.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.backtest.strategies import STRATEGIES, from_dict, get_spec
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.market import Timeframe

TIMEFRAMES = (Timeframe.DAY_1, Timeframe.HOUR_1, Timeframe.MIN_1)
MAX_BARS = 2_000_000
MAX_EQUITY_POINTS = 2_000
MAX_RETURN_POINTS = 10_000
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(BacktestConfig))
TRADE_COLUMNS = (  # a stored trade's fields, as exported
    "entry_time",
    "exit_time",
    "side",
    "qty",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "exit_reason",
)
EQUITY_COLUMNS = ("time", "equity", "drawdown")  # a stored equity point's fields
_PERIODS_PER_YEAR = {
    ("us_equity", Timeframe.DAY_1): 252,
    ("us_equity", Timeframe.HOUR_1): 252 * 7,
    ("us_equity", Timeframe.MIN_1): 252 * 390,
    ("crypto", Timeframe.DAY_1): 365,
    ("crypto", Timeframe.HOUR_1): 365 * 24,
    ("crypto", Timeframe.MIN_1): 365 * 1440,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSpec:
    """A validated backtest request."""

    name: str | None
    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe: Timeframe
    start: datetime
    end: datetime
    config: BacktestConfig
    dataset_id: uuid.UUID | None = None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def prepare_backtest(
    *,
    strategy: str,
    params: dict[str, Any],
    symbol: str,
    known_symbols: dict[str, str],
    timeframe: str,
    start: datetime,
    end: datetime,
    config: dict[str, Any],
    name: str | None = None,
    dataset_id: uuid.UUID | None = None,
    bars_given: bool = False,
) -> BacktestSpec:
    """Validate a request (``known_symbols`` maps symbol to asset class) or raise 422.

    With ``dataset_id`` the bars come from that uploaded file, whose size was checked when it
    was stored, so the range is not checked against ``MAX_BARS``; nor with ``bars_given``
    (the CLI's ``--data`` file, already in memory, whose size is the file's).
    """
    if strategy not in STRATEGIES:
        try:
            get_spec(strategy)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="unknown_strategy") from exc
    try:
        full_params = dataclasses.asdict(from_dict(strategy, params))
    except (ValueError, TypeError) as exc:
        raise Unprocessable(str(exc), code="invalid_params") from exc
    try:
        frame = Timeframe.parse(timeframe)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_timeframe") from exc
    if frame not in TIMEFRAMES:
        allowed = ", ".join(t.value for t in TIMEFRAMES)
        raise Unprocessable(f"timeframe must be one of {allowed}.", code="invalid_timeframe")
    canonical = symbol.strip().upper()
    if canonical not in known_symbols:
        canonical = canonical.replace("-", "/")
    if canonical not in known_symbols:
        raise Unprocessable(f"Unknown symbol {symbol.strip()[:30]!r}.", code="unknown_symbol")
    start, end = _utc(start), _utc(end)
    if start >= end:
        raise Unprocessable("start must be before end.", code="invalid_range")
    estimated = (end - start) / frame.delta
    if dataset_id is None and not bars_given and estimated > MAX_BARS:
        raise Unprocessable(
            f"The range spans about {estimated:,.0f} {frame.value} bars; the limit is "
            f"{MAX_BARS:,} bars a run (the bars, signals, positions and equity curve are held "
            "in memory together). Shorten it, use a longer timeframe, split it into runs, or "
            "run `quantumtrade backtest --data FILE` on a bar file, which has no such limit.",
            code="range_too_large",
        )
    asset_class = known_symbols[canonical]
    options = {"periods_per_year": _PERIODS_PER_YEAR.get((asset_class, frame), 252), **config}
    if asset_class == "crypto":
        options["fractional"] = True  # crypto trades in fractions, whatever the sizing
    unknown = sorted(set(options) - set(CONFIG_FIELDS))
    if unknown:
        raise Unprocessable(f"Unknown option(s): {', '.join(unknown)}.", code="invalid_config")
    try:
        backtest_config = BacktestConfig(**options)
    except (ValueError, TypeError) as exc:
        raise Unprocessable(str(exc), code="invalid_config") from exc
    return BacktestSpec(
        name=name,
        strategy=strategy,
        params=full_params,
        symbol=canonical,
        timeframe=frame,
        start=start,
        end=end,
        config=backtest_config,
        dataset_id=dataset_id,
    )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def compute(bars: pd.DataFrame, spec: BacktestSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the engine and shape its output for storage (JSON-safe, downsampled)."""
    outcome = run_strategy(bars, spec.strategy, spec.params, spec.config)
    equity = outcome.equity.to_numpy(dtype=np.float64)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    metrics: dict[str, Any] = {k: _finite(v) for k, v in outcome.metrics.items()}
    metrics |= {
        "final_equity": float(equity[-1]),
        "initial_cash": spec.config.initial_cash,
        "bars": len(equity),
    }
    n = len(equity)
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_EQUITY_POINTS)).round().astype(np.int64))
    times = outcome.equity.index
    curve = [
        {"time": times[i].isoformat(), "equity": float(equity[i]), "drawdown": float(drawdown[i])}
        for i in keep
    ]
    frame = outcome.trades
    trades = [
        {
            "entry_time": entry.isoformat(),
            "exit_time": exit_.isoformat(),
            "side": "long" if side > 0 else "short",
            "qty": float(qty),
            "entry_price": float(entry_price),
            "exit_price": float(exit_price),
            "fees": float(fees),
            "pnl": float(pnl),
            "exit_reason": str(reason),
        }
        for entry, exit_, side, qty, entry_price, exit_price, fees, pnl, reason in zip(
            *(frame[c].tolist() for c in TRADE_COLUMNS), strict=True
        )
    ]
    # Compound consecutive bars into at most MAX_RETURN_POINTS periods for the bootstrap.
    per = max(1, -(-(n - 1) // MAX_RETURN_POINTS))
    marks = equity[::per] if (n - 1) % per == 0 else np.append(equity[::per], equity[-1])
    returns = (marks[1:] / marks[:-1] - 1.0).tolist()
    result = {
        "equity": curve,
        "trades": trades,
        "returns": returns,
        "bars_per_return": per,
    }
    return metrics, result
