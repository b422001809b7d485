"""A paper portfolio's performance: its daily equity curve, period returns and a JSON report.

The ledger is exact (``Decimal``) and analytics are float64. Cash and quantities are summed as
``Decimal`` and only the running totals are converted, so a closed position is exactly zero:
float drift would otherwise leave a "held" 1e-17 share that needs a price.

Deposits and withdrawals (events without a symbol) move money, they are not performance.
Returns are therefore time-weighted: ``r_t = equity_t / (equity_{t-1} + flow_t) - 1``, with a
session's net flow counted at its start, so money paid in on a session earns that session's
return and a first deposit into an empty account has a defined base.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain import metrics
from quantumtrade.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]

ZERO = Decimal(0)
CURVE_COLUMNS = ("cash", "long_market_value", "short_market_value", "equity", "net_flow")
_RULES = {"D": "D", "W": "W-FRI", "M": "ME"}
_BENCHMARK_FIGURES = ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown")
_EPSILON = 1e-12


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One ledger movement: a signed cash change and, for a fill, the signed quantity change."""

    at: datetime  # tz-aware
    cash_delta: Decimal  # deposit +, buy -(qty * price + fees), sell +(qty * price - fees)
    symbol: str | None = None  # None for a pure cash event (deposit, withdrawal, reset)
    qty_delta: Decimal = ZERO  # buy +, sell -


def equity_curve(
    events: Sequence[LedgerEvent],
    closes: pd.DataFrame,
    *,
    start_cash: Decimal = ZERO,
    tz: str = "America/New_York",
) -> pd.DataFrame:
    """Return cash, long and short market value, equity and net flow at each session's close.

    ``closes`` holds daily closes (tz-naive ascending session dates x symbols). An event
    counts on the session of its local date in ``tz``, or the next one (weekends); events
    before the first session are part of the starting state, those after the last are ignored.
    ``net_flow`` is the sum of the session's pure cash events (0 on the first session's
    pre-history). A missing close uses the symbol's last known close; a held symbol with no
    known close raises ``InvalidInput``.
    """
    dates = _session_dates(closes.index)
    n = len(dates)
    rows, before_start = _session_rows(events, dates, tz)

    cash_by_row: dict[int, Decimal] = defaultdict(Decimal)
    flow_by_row: dict[int, Decimal] = defaultdict(Decimal)
    qty_by_symbol: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for event, row, early in zip(events, rows.tolist(), before_start.tolist(), strict=True):
        if event.symbol is None and event.qty_delta != ZERO:
            raise InvalidInput("a quantity change needs a symbol", code="invalid_ledger_event")
        if row >= n:
            continue  # after the last session: not part of this curve
        cash_by_row[row] += event.cash_delta
        if event.symbol is None:
            if not early:
                flow_by_row[row] += event.cash_delta
        elif event.qty_delta != ZERO:
            qty_by_symbol[event.symbol][row] += event.qty_delta

    symbols = sorted(qty_by_symbol)
    cash = _running(cash_by_row, start_cash, n)
    positions = np.zeros((n, len(symbols)))
    for column, symbol in enumerate(symbols):
        positions[:, column] = _running(qty_by_symbol[symbol], ZERO, n)
    values = _market_values(positions, closes, symbols, dates)
    long_value = np.where(values > 0.0, values, 0.0).sum(axis=1)
    short_value = np.where(values < 0.0, values, 0.0).sum(axis=1)
    flows = np.zeros(n)
    for row, amount in flow_by_row.items():
        flows[row] = float(amount)
    return pd.DataFrame(
        {
            "cash": cash,
            "long_market_value": long_value,
            "short_market_value": short_value,
            "equity": cash + long_value + short_value,
            "net_flow": flows,
        },
        index=closes.index,
        columns=list(CURVE_COLUMNS),
        dtype="float64",
    )


def period_returns(equity: pd.Series, freq: str, *, flows: pd.Series | None = None) -> pd.Series:
    """Return compounded simple returns per calendar day ("D"), week to Friday ("W") or month ("M").

    Each period runs from the previous period's last value, the first from the first value;
    labels are the period ends. With ``flows`` (net deposits per point) returns are
    time-weighted. Points before the account first holds money are left out.
    """
    return _resampled(_growth(equity, flows), _rule(freq))


def portfolio_performance(
    curve: pd.DataFrame,
    *,
    trades_pl: Sequence[float] = (),
    benchmark_close: pd.Series | None = None,
    risk_free: float = 0.0,
) -> dict[str, Any]:
    """Return the JSON-ready performance report of a curve from :func:`equity_curve`.

    Figures come from the time-weighted growth of equity (flows taken out when the curve has
    ``net_flow``); the benchmark is compared on the dates both share. Every NaN or infinite
    figure is None, so ``json.dumps(..., allow_nan=False)`` accepts the result.
    """
    if not {"equity", "cash"} <= set(curve.columns):
        raise InvalidInput("an equity curve needs equity and cash columns", code="invalid_curve")
    flows = curve["net_flow"] if "net_flow" in curve.columns else None
    growth = _growth(curve["equity"], flows)
    report: dict[str, Any] = {
        "equity_curve": [
            {"date": _iso(at), "equity": _num(equity), "cash": _num(cash)}
            for at, equity, cash in zip(
                curve.index, curve["equity"].tolist(), curve["cash"].tolist(), strict=True
            )
        ],
        "returns": {
            name: [
                {"date": _iso(at), "return": _num(value)}
                for at, value in _resampled(growth, _rule(freq)).items()
            ]
            for name, freq in (("daily", "D"), ("weekly", "W"), ("monthly", "M"))
        },
        "summary": _summary(growth, trades_pl, risk_free),
    }
    if benchmark_close is not None:
        report["benchmark"] = _benchmark(growth, benchmark_close, risk_free)
    return report


def _session_dates(index: pd.Index) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is not None:
        raise InvalidInput(
            "closes must be indexed by tz-naive session dates", code="invalid_closes"
        )
    dates = index.normalize()
    if not (dates.is_monotonic_increasing and dates.is_unique):
        raise InvalidInput("session dates must be ascending and unique", code="invalid_closes")
    return dates


def _session_rows(
    events: Sequence[LedgerEvent], dates: pd.DatetimeIndex, tz: str
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Return each event's session row (``len(dates)`` past the end) and if it predates row 0."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {tz!r}", code="invalid_time_zone") from exc
    if not events:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.bool_)
    if any(event.at.utcoffset() is None for event in events):
        raise InvalidInput("ledger event times must be timezone-aware", code="naive_datetime")
    stamps = pd.DatetimeIndex(pd.to_datetime([event.at for event in events], utc=True))
    local_dates = stamps.tz_convert(tz).tz_localize(None).normalize()
    # The first session on or after the local date: weekend events land on Monday, earlier
    # ones on row 0 (the starting state), later ones past the end.
    rows = np.asarray(dates.searchsorted(local_dates, side="left"), dtype=np.intp)
    before = np.asarray(local_dates < dates[0], dtype=np.bool_) if len(dates) else rows < 0
    return rows, before


def _running(deltas: dict[int, Decimal], start: Decimal, n: int) -> FloatArray:
    """Return the running total at each of ``n`` rows, summed exactly, then as floats."""
    rows = sorted(deltas)
    totals = np.full(n, np.nan)
    running = list(accumulate((deltas[row] for row in rows), initial=start))[1:]
    totals[rows] = [float(total) for total in running]
    filled = pd.Series(totals, dtype="float64").ffill().fillna(float(start))
    return filled.to_numpy(dtype=np.float64)


def _market_values(
    positions: FloatArray, closes: pd.DataFrame, symbols: list[str], dates: pd.DatetimeIndex
) -> FloatArray:
    prices = closes.reindex(columns=symbols).astype("float64").ffill().to_numpy(dtype=np.float64)
    held = positions != 0.0
    unpriced = held & np.isnan(prices)
    if unpriced.any():
        missing = [symbols[i] for i in np.flatnonzero(unpriced.any(axis=0))]
        first = dates[int(np.flatnonzero(unpriced.any(axis=1))[0])]
        raise InvalidInput(
            f"no closing price for held symbol(s) {', '.join(missing)} on {_iso(first)}",
            code="unpriced_position",
            details={"symbols": missing, "date": _iso(first)},
        )
    return np.where(held, positions * np.nan_to_num(prices), 0.0)


def _rule(freq: str) -> str:
    try:
        return _RULES[freq]
    except KeyError:
        raise InvalidInput(
            f"unknown return frequency {freq!r}; use D, W or M", code="invalid_frequency"
        ) from None


def _growth(equity: pd.Series, flows: pd.Series | None) -> pd.Series:
    """Return the time-weighted growth of 1 from the last point before the first return."""
    if not isinstance(equity.index, pd.DatetimeIndex):
        raise InvalidInput("an equity curve needs a date index", code="invalid_curve")
    values = equity.to_numpy(dtype=np.float64, na_value=np.nan)
    flow = np.zeros(values.size)
    if flows is not None:
        flow = flows.reindex(equity.index).fillna(0.0).to_numpy(dtype=np.float64)
    base = np.full(values.size, np.nan)
    base[1:] = values[:-1] + flow[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(base > 0.0, values / base - 1.0, np.nan)
    measured = np.flatnonzero(~np.isnan(returns))
    if measured.size:
        start = int(measured[0]) - 1
    else:
        funded = np.flatnonzero(values > 0.0)
        if not funded.size:
            return pd.Series([], index=equity.index[:0], dtype="float64")
        start = int(funded[0])
    # A session that starts with no money has no return; it counts as flat.
    growth = np.cumprod(1.0 + np.nan_to_num(returns[start + 1 :], nan=0.0))
    return pd.Series(np.concatenate(([1.0], growth)), index=equity.index[start:], dtype="float64")


def _resampled(growth: pd.Series, rule: str) -> pd.Series:
    if growth.empty:
        return growth
    last = growth.resample(rule).last().dropna()
    ends = last.to_numpy(dtype=np.float64)
    starts = np.concatenate(([float(growth.iloc[0])], ends[:-1]))
    return pd.Series(ends / starts - 1.0, index=last.index, dtype="float64")


def _summary(growth: pd.Series, trades_pl: Sequence[float], risk_free: float) -> dict[str, Any]:
    figures: dict[str, float] = metrics.performance_summary(
        growth, trades_pl=list(trades_pl), risk_free=risk_free
    )
    if len(growth) < 2:
        # A single point has no history: no return, drawdown or ratio to speak of.
        figures |= dict.fromkeys(metrics.CURVE_METRICS, math.nan)
    summary: dict[str, Any] = {key: _num(value) for key, value in figures.items()}
    summary["n_trades"] = int(figures["n_trades"])
    if summary["max_drawdown_duration"] is not None:
        summary["max_drawdown_duration"] = int(summary["max_drawdown_duration"])
    return summary


def _benchmark(growth: pd.Series, close: pd.Series, risk_free: float) -> dict[str, Any]:
    ours, theirs = _common(growth, close)
    returns, bench = metrics.simple_returns(ours), metrics.simple_returns(theirs)
    figures = metrics.performance_summary(theirs, risk_free=risk_free)
    own_total = metrics.performance_summary(ours)["total_return"]
    alpha, beta = metrics.alpha_beta(returns, bench, risk_free)
    active = (returns - bench).to_numpy(dtype=np.float64)
    tracking = metrics.volatility(active)
    information = (
        float(np.mean(active)) * metrics.TRADING_DAYS / tracking
        if tracking > _EPSILON
        else math.nan
    )
    report: dict[str, Any] = {key: _num(figures[key]) for key in _BENCHMARK_FIGURES}
    report["relative"] = {
        "alpha": _num(alpha),
        "beta": _num(beta),
        "correlation": _num(_correlation(returns, bench)),
        "tracking_error": _num(tracking),
        "information_ratio": _num(information),
        "excess_return": _num(own_total - figures["total_return"]),
    }
    return report


def _common(growth: pd.Series, close: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return both series on the session dates they share, labelled by date."""
    if not isinstance(close.index, pd.DatetimeIndex):
        raise InvalidInput("a benchmark needs a date index", code="invalid_benchmark")
    theirs = close.astype("float64").dropna()
    # Only the calendar date matters: a tz-aware close is read at its local wall time.
    their_dates = pd.DatetimeIndex(theirs.index).tz_localize(None).normalize()
    theirs = pd.Series(theirs.to_numpy(), index=their_dates, dtype="float64")
    theirs = theirs[~their_dates.duplicated(keep="last")]
    our_dates = pd.DatetimeIndex(growth.index).normalize()
    ours = pd.Series(growth.to_numpy(), index=our_dates, dtype="float64")
    shared = our_dates.intersection(pd.DatetimeIndex(theirs.index))
    return ours.loc[shared], theirs.loc[shared]


def _correlation(a: pd.Series, b: pd.Series) -> float:
    x, y = a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)
    if x.size < 2 or np.std(x) < _EPSILON or np.std(y) < _EPSILON:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _iso(at: Any) -> str:
    return pd.Timestamp(at).date().isoformat()
