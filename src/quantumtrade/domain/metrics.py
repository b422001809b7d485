"""Performance metrics for backtests and live portfolios, in float64.

Conventions, shared by every caller so backtest and live figures compare:

- A year has ``periods_per_year`` periods, 252 by default (trading days).
- Returns are simple: ``r_t = equity_t / equity_{t-1} - 1``.
- ``risk_free`` (and the Sortino ``target``) are annual rates, compounded down to one period:
  ``rf_p = (1 + rf) ** (1 / periods_per_year) - 1``.
- Sharpe ``= mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods_per_year)``.
- Sortino ``= (mean(r) - t_p) / DD * sqrt(periods_per_year)`` with the downside deviation
  ``DD = sqrt(mean(min(r - t_p, 0) ** 2))`` taken over *all* periods (Sortino & Price 1994).
- Both ratios are ``nan`` when their denominator is zero (below 1e-12, which absorbs float
  noise from a constant-return path) or there are fewer than two returns: a riskless path
  has no meaningful risk-adjusted score, and 0 would wrongly read as "no skill".
- CAGR ``= (last / first) ** (1 / years) - 1`` with ``years = (points - 1) / periods_per_year``:
  elapsed trading periods, not calendar days, so it needs no timestamps.
- Volatility ``= std(r, ddof=1) * sqrt(periods_per_year)``.
- Drawdown ``= equity / running_peak - 1`` (zero or negative). ``max_drawdown`` reports its
  magnitude as a positive fraction (0.2 = 20 %). Its duration is the longest stretch, in
  periods, from a peak to the first period back at or above it, or to the end if it never
  recovers.
- Calmar ``= CAGR / max_drawdown``; ``nan`` without a drawdown.
- Trade statistics take one P&L per closed trade. Win rate counts P&L > 0 over all trades.
  Profit factor ``= gross profit / |gross loss|``: ``inf`` with profits and no losses,
  ``nan`` with neither. Average loss is negative. Every statistic is ``nan`` with no trades.
- Exposure is the fraction of periods with a non-zero position.
- Beta ``= cov(r, b) / var(b)`` (OLS slope, ddof=1) on the periods both series share;
  Jensen's alpha ``= (mean(r - rf_p) - beta * mean(b - rf_p)) * periods_per_year``
  (annualised arithmetically).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

TRADING_DAYS = 252
_EPSILON = 1e-12
# The names ``performance_summary`` gives its figures: of the curve, of the trades, exposure.
CURVE_METRICS = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration",
    "calmar",
)
TRADE_METRICS = (
    "n_trades",
    "win_rate",
    "profit_factor",
    "expectancy",
    "average_win",
    "average_loss",
)

FloatArray = npt.NDArray[np.float64]
ReturnsLike = pd.Series | FloatArray | Iterable[float]


def _array(values: ReturnsLike) -> FloatArray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(list(values) if not isinstance(values, np.ndarray) else values, np.float64)


def per_period_rate(annual_rate: float, periods_per_year: int = TRADING_DAYS) -> float:
    """Convert an annual rate to the compounding-equivalent rate for one period."""
    return float((1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0)


def simple_returns(equity: pd.Series) -> pd.Series:
    """Return the simple period returns of an equity curve (one fewer point)."""
    values = equity.astype("float64")
    return (values / values.shift(1) - 1.0).iloc[1:]


def volatility(returns: ReturnsLike, periods_per_year: int = TRADING_DAYS) -> float:
    """Return the annualised standard deviation of returns (``nan`` with < 2 returns)."""
    r = _array(returns)
    if r.size < 2:
        return math.nan
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(
    returns: ReturnsLike, risk_free: float = 0.0, periods_per_year: int = TRADING_DAYS
) -> float:
    """Return the annualised Sharpe ratio of period returns against an annual risk-free rate."""
    excess = _array(returns) - per_period_rate(risk_free, periods_per_year)
    if excess.size < 2:
        return math.nan
    std = float(np.std(excess, ddof=1))
    if std < _EPSILON:
        return math.nan
    return float(np.mean(excess)) / std * math.sqrt(periods_per_year)


def sortino_ratio(
    returns: ReturnsLike, target: float = 0.0, periods_per_year: int = TRADING_DAYS
) -> float:
    """Return the annualised Sortino ratio against an annual target return."""
    excess = _array(returns) - per_period_rate(target, periods_per_year)
    if excess.size < 2:
        return math.nan
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside < _EPSILON:
        return math.nan
    return float(np.mean(excess)) / downside * math.sqrt(periods_per_year)


def cagr(equity: pd.Series, periods_per_year: int = TRADING_DAYS) -> float:
    """Return the compound annual growth rate from the first and last equity values."""
    return cagr_of_values(_array(equity), periods_per_year)


def cagr_of_values(values: FloatArray, periods_per_year: int = TRADING_DAYS) -> float:
    """Return ``cagr`` of an equity curve given as a float64 array."""
    if values.size < 2 or values[0] <= 0.0:
        return math.nan
    if values[-1] <= 0.0:
        return -1.0
    years = (values.size - 1) / periods_per_year
    return float((values[-1] / values[0]) ** (1.0 / years) - 1.0)


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Return the drawdown at each point: ``equity / running peak - 1`` (zero or negative)."""
    values = equity.astype("float64")
    return values / values.cummax() - 1.0


def max_drawdown(equity: pd.Series) -> float:
    """Return the largest peak-to-trough fall as a positive fraction (0.2 = 20 %)."""
    if equity.empty:
        return math.nan
    return float(-drawdown_series(equity).min())


@njit(cache=True)
def _drawdown_duration_kernel(values: FloatArray) -> int:  # pragma: no cover
    longest = 0
    peak = -math.inf
    peak_at = 0
    underwater = False
    for i in range(values.shape[0]):
        value = values[i]
        if value >= peak:
            if underwater:
                longest = max(longest, i - peak_at)
            peak = value
            peak_at = i
            underwater = False
        else:
            underwater = True
    if underwater:
        # An unrecovered drawdown still counts, up to the last observation.
        longest = max(longest, values.shape[0] - 1 - peak_at)
    return longest


def max_drawdown_duration(equity: pd.Series) -> int:
    """Return the longest peak-to-recovery stretch in periods (to the end if unrecovered)."""
    values = np.ascontiguousarray(_array(equity))
    return int(_drawdown_duration_kernel(values))


def calmar_ratio(equity: pd.Series, periods_per_year: int = TRADING_DAYS) -> float:
    """Return CAGR divided by the maximum drawdown (``nan`` without a drawdown)."""
    mdd = max_drawdown(equity)
    if not mdd > 0.0:
        return math.nan
    return cagr(equity, periods_per_year) / mdd


@njit(cache=True)
def _add(total: float, carry: float, value: float) -> tuple[float, float]:  # pragma: no cover
    # Neumaier's compensated addition: ``carry`` keeps the low-order bits ``total`` lost.
    t = total + value
    if abs(total) >= abs(value):
        carry += (total - t) + value
    else:
        carry += (value - t) + total
    return t, carry


@njit(cache=True)
def _trade_sums(pl: FloatArray) -> tuple[int, float, int, float, float]:  # pragma: no cover
    # Wins and their sum, losses and their (negative) sum, and the sum of all (NaN if any
    # P&L is), each compensated.
    wins = losses = 0
    profit = profit_carry = loss = loss_carry = total = carry = 0.0
    for i in range(pl.shape[0]):
        v = pl[i]
        total, carry = _add(total, carry, v)
        if v > 0.0:
            wins += 1
            profit, profit_carry = _add(profit, profit_carry, v)
        elif v < 0.0:
            losses += 1
            loss, loss_carry = _add(loss, loss_carry, v)
    return wins, profit + profit_carry, losses, loss + loss_carry, total + carry


def trade_stats(trades_pl: ReturnsLike) -> dict[str, float]:
    """Return trade count, win rate, profit factor, expectancy, average win and average loss."""
    pl = np.ascontiguousarray(_array(trades_pl))
    size = pl.size
    wins, gross_profit, losses, loss, total = _trade_sums(pl)
    if size == 0:
        profit_factor = math.nan
    elif loss < 0.0:
        profit_factor = gross_profit / -loss
    else:
        profit_factor = math.inf if gross_profit > 0.0 else math.nan
    return {
        "n_trades": float(size),
        "win_rate": wins / size if size else math.nan,
        "profit_factor": profit_factor,
        "expectancy": total / size if size else math.nan,
        "average_win": gross_profit / wins if wins else math.nan,
        "average_loss": loss / losses if losses else math.nan,
    }


def exposure(positions: ReturnsLike) -> float:
    """Return the fraction of periods holding a non-zero position."""
    held = _array(positions)
    if held.size == 0:
        return math.nan
    return float(np.count_nonzero(np.nan_to_num(held)) / held.size)


def alpha_beta(
    returns: pd.Series,
    benchmark: pd.Series,
    risk_free: float = 0.0,
    periods_per_year: int = TRADING_DAYS,
) -> tuple[float, float]:
    """Return Jensen's annualised alpha and the OLS beta of ``returns`` on ``benchmark``."""
    joined = pd.concat([returns, benchmark], axis=1, join="inner").dropna()
    if len(joined) < 2:
        return math.nan, math.nan
    r = joined.iloc[:, 0].to_numpy(dtype=np.float64)
    b = joined.iloc[:, 1].to_numpy(dtype=np.float64)
    variance = float(np.var(b, ddof=1))
    if variance < _EPSILON**2:
        return math.nan, math.nan
    beta = float(np.cov(r, b, ddof=1)[0, 1]) / variance
    rf = per_period_rate(risk_free, periods_per_year)
    alpha = (float(np.mean(r - rf)) - beta * float(np.mean(b - rf))) * periods_per_year
    return alpha, beta


def performance_summary(
    equity: pd.Series,
    *,
    trades_pl: ReturnsLike | None = None,
    benchmark: pd.Series | None = None,
    risk_free: float = 0.0,
    positions: ReturnsLike | None = None,
    periods_per_year: int = TRADING_DAYS,
) -> dict[str, float]:
    """Summarise an equity curve; add trade, exposure and benchmark figures when given.

    ``benchmark`` is a series of benchmark period returns aligned on the equity index.
    """
    returns = simple_returns(equity)
    values = _array(equity)
    total = float(values[-1] / values[0] - 1.0) if values.size >= 2 else math.nan
    summary = {
        "total_return": total,
        "cagr": cagr(equity, periods_per_year),
        "volatility": volatility(returns, periods_per_year),
        "sharpe": sharpe_ratio(returns, risk_free, periods_per_year),
        "sortino": sortino_ratio(returns, risk_free, periods_per_year),
        "max_drawdown": max_drawdown(equity),
        "max_drawdown_duration": float(max_drawdown_duration(equity)),
        "calmar": calmar_ratio(equity, periods_per_year),
    }
    if trades_pl is not None:
        summary |= trade_stats(trades_pl)
    if positions is not None:
        summary["exposure"] = exposure(positions)
    if benchmark is not None:
        summary["alpha"], summary["beta"] = alpha_beta(
            returns, benchmark, risk_free, periods_per_year
        )
    return summary


# Returns are summed a block at a time: the block's returns and their sums stay in the
# fastest cache, and the sums run in eight lanes side by side instead of one long chain.
_BLOCK = 1024
_LANES = 8


@njit(cache=True)
def _low_bound(peak: float, deepest: float) -> float:  # pragma: no cover
    # Above any bar whose drop from ``peak`` is below ``deepest``, by far more than rounding.
    if not peak > 0.0:
        return math.inf
    bound = peak * (1.0 + deepest)
    return bound + abs(bound) * 1e-9


@njit(cache=True, error_model="numpy")
def _return_moments(
    values: FloatArray, shift: float
) -> tuple[float, float, float]:  # pragma: no cover
    """The mean of ``e = r - shift`` over the simple returns ``r`` of ``values``, the sum of
    squared deviations of ``e`` from that mean, and the sum of ``min(e, 0) ** 2``.

    Each block's deviations are taken from the block's own mean and the blocks are merged as
    Chan, Golub and LeVeque do (the pairwise update), so no figure comes from a difference of
    large sums; the block sums are added with compensation. Within a block the sums run in
    eight lanes side by side.
    """
    n = values.shape[0]
    e = np.empty(_BLOCK)
    lanes = np.empty((3, _LANES))
    total = carry = 0.0
    count = 0
    mean = spread = down = 0.0
    for lo in range(1, n, _BLOCK):
        m = min(_BLOCK, n - lo)
        for j in range(m):
            e[j] = (values[lo + j] / values[lo + j - 1] - 1.0) - shift
        e[m:] = 0.0  # a short last block: zeros fill its lanes and add nothing
        lanes[:] = 0.0
        for j in range(0, m, _LANES):
            for q in range(_LANES):
                lanes[0, q] += e[j + q]
        block_sum = lanes[0].sum()
        centre = block_sum / m
        for j in range(0, m, _LANES):
            for q in range(_LANES):
                x = e[j + q]
                d = x - centre if j + q < m else 0.0
                lanes[1, q] += d * d
                d = min(x, 0.0)
                lanes[2, q] += d * d
        total, carry = _add(total, carry, block_sum)
        delta = centre - mean
        merged = count + m
        mean += delta * m / merged
        spread += lanes[1].sum() + delta * delta * count * m / merged
        down += lanes[2].sum()
        count = merged
    return (total + carry) / count if count else math.nan, spread, down


@njit(cache=True, error_model="numpy")
def _drawdown_pass(
    values: FloatArray, held: FloatArray
) -> tuple[float, int, int]:  # pragma: no cover
    """The deepest drawdown, the longest drawdown and the count of bars holding a position
    (``held`` empty: none).

    The drawdown ratio is computed only where a bar may set a new low; a bound with a margin
    far above rounding decides where, so the depth is what a ratio at every bar gives.
    """
    n = values.shape[0]
    peak = values[0] if n else 0.0
    deepest = 0.0
    floor = _low_bound(peak, deepest)  # below it a bar may set a new low
    longest = 0
    peak_at = 0
    underwater = False
    for i in range(n):
        value = values[i]
        if value >= peak:
            if underwater:
                longest = max(longest, i - peak_at)
            peak = value
            peak_at = i
            underwater = False
            floor = _low_bound(peak, deepest)
        else:
            underwater = True
            if value < floor:
                drop = value / peak - 1.0
                if drop < deepest:
                    deepest = drop
                    floor = _low_bound(peak, deepest)
    if underwater:
        longest = max(longest, n - 1 - peak_at)
    count = 0
    for i in range(held.shape[0]):
        v = held[i]
        count += (v != 0.0) & (v == v)  # neither zero nor NaN, without a branch
    return -deepest, longest, count


def _spreads(values: FloatArray, rf_p: float) -> tuple[float, float, float, float]:
    # The mean of r - rf_p, the std of r and of r - rf_p (equal: a shift moves no deviation)
    # and the downside deviation below rf_p; NaN under 2 returns.
    m = values.size - 1
    if m < 1:
        return math.nan, math.nan, math.nan, math.nan
    mean_e, spread, down = _return_moments(values, rf_p)
    if m < 2:
        return mean_e, math.nan, math.nan, math.nan
    std = math.sqrt(spread / (m - 1))
    return mean_e, std, std, math.sqrt(down / m)


_NONE = np.empty(0, dtype=np.float64)


def performance_summary_values(
    equity: FloatArray,
    *,
    trades_pl: FloatArray | None = None,
    risk_free: float = 0.0,
    positions: FloatArray | None = None,
    periods_per_year: int = TRADING_DAYS,
) -> dict[str, float]:
    """Return ``performance_summary`` of a finite float64 equity array, without pandas.

    The same keys, order and formulas as ``performance_summary`` (no benchmark figures); the
    sums are compensated, so the results agree with the pandas path to float rounding. Meant
    for hot loops (backtests, parameter sweeps) where the equity is already an array.
    """
    values = np.ascontiguousarray(equity, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"equity must be one-dimensional, got shape {values.shape}")
    rf_p = per_period_rate(risk_free, periods_per_year)
    size = values.size
    held = _NONE if positions is None else np.ascontiguousarray(positions, dtype=np.float64)
    max_dd, longest, count = _drawdown_pass(values, held) if size else (math.nan, 0, 0)
    mean_e, std_r, std_e, downside = _spreads(values, rf_p)
    root = math.sqrt(periods_per_year)
    growth = cagr_of_values(values, periods_per_year)
    summary = {
        "total_return": float(values[-1] / values[0] - 1.0) if size >= 2 else math.nan,
        "cagr": growth,
        "volatility": std_r * root if size >= 3 else math.nan,
        "sharpe": mean_e / std_e * root if size >= 3 and std_e >= _EPSILON else math.nan,
        "sortino": mean_e / downside * root if size >= 3 and downside >= _EPSILON else math.nan,
        "max_drawdown": max_dd,
        "max_drawdown_duration": float(longest),
        "calmar": growth / max_dd if max_dd > 0.0 else math.nan,
    }
    if trades_pl is not None:
        summary |= trade_stats(np.asarray(trades_pl, dtype=np.float64))
    if positions is not None:
        summary["exposure"] = count / held.size if held.size else math.nan
    return summary
