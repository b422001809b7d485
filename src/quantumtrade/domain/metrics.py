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
    if values.size < 2:
        return math.nan
    return _cagr(float(values[0]), float(values[-1]), values.size, periods_per_year)


def _cagr(first: float, last: float, points: int, periods_per_year: int) -> float:
    if points < 2 or first <= 0.0:
        return math.nan
    if last <= 0.0:
        return -1.0
    years = (points - 1) / periods_per_year
    return float((last / first) ** (1.0 / years) - 1.0)


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


# A running summary of an equity curve, fed a block of points at a time: by
# ``performance_summary_values`` over an array, and by the backtest kernel as it writes each
# block of equity, while the block is still in the fastest cache. Its state is one float64
# array: the slots below, then a block of returns and the lane sums as scratch space.
SUMMARY_BLOCK = 1024
_LANES = 8
(
    _FIRST, _LAST, _POINTS, _TOTAL, _CARRY, _MEAN, _SPREAD, _DOWN,
    _PEAK, _PEAK_AT, _DEEPEST, _FLOOR, _LONGEST, _UNDERWATER, _HELD, _SHIFT,
) = range(16)  # fmt: skip
_SLOTS = 16


@njit(cache=True)
def summary_start(shift: float) -> FloatArray:  # pragma: no cover
    """Return the state of an empty running summary of returns net of ``shift`` a period."""
    state = np.zeros(_SLOTS + SUMMARY_BLOCK + 3 * _LANES)
    state[_SHIFT] = shift
    return state


@njit(cache=True)
def _low_bound(peak: float, deepest: float) -> float:  # pragma: no cover
    # Above any bar whose drop from ``peak`` is below ``deepest``, by far more than rounding.
    if not peak > 0.0:
        return math.inf
    bound = peak * (1.0 + deepest)
    return bound + abs(bound) * 1e-9


@njit(cache=True, error_model="numpy", inline="always")
def _feed_returns(state: FloatArray, e: FloatArray, m: int) -> None:  # pragma: no cover
    # Add the block's returns e[:m] (net of the shift): their compensated sum, and their squared
    # deviations from the block's own mean merged as Chan, Golub and LeVeque do (the pairwise
    # update), so no figure comes from a difference of large sums. The sums within the block
    # run in eight lanes side by side.
    lanes = state[_SLOTS + SUMMARY_BLOCK :].reshape((3, _LANES))
    e[m:] = 0.0  # a short block: zeros fill its last lanes and add nothing
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
    state[_TOTAL], state[_CARRY] = _add(state[_TOTAL], state[_CARRY], block_sum)
    count = max(state[_POINTS] - 1.0, 0.0)  # the returns summed so far
    merged = count + m
    delta = centre - state[_MEAN]
    state[_MEAN] += delta * m / merged
    state[_SPREAD] += lanes[1].sum() + delta * delta * count * m / merged
    state[_DOWN] += lanes[2].sum()


@njit(cache=True, error_model="numpy", inline="always")
def _feed_drawdown(state: FloatArray, values: FloatArray) -> None:  # pragma: no cover
    # Carry the running peak, the deepest drawdown and the longest one over the block. The
    # drawdown ratio is computed only where a bar may set a new low; a bound with a margin far
    # above rounding decides where, so the depth is what a ratio at every bar gives.
    base = int(state[_POINTS])
    peak = state[_PEAK]
    peak_at = int(state[_PEAK_AT])
    deepest = state[_DEEPEST]
    floor = state[_FLOOR]
    longest = int(state[_LONGEST])
    underwater = state[_UNDERWATER] != 0.0
    for j in range(values.shape[0]):
        value = values[j]
        if value >= peak:
            if underwater:
                longest = max(longest, base + j - peak_at)
            peak = value
            peak_at = base + j
            underwater = False
            floor = _low_bound(peak, deepest)
        else:
            underwater = True
            if value < floor:
                drop = value / peak - 1.0
                if drop < deepest:
                    deepest = drop
                    floor = _low_bound(peak, deepest)
    state[_PEAK] = peak
    state[_PEAK_AT] = peak_at
    state[_DEEPEST] = deepest
    state[_FLOOR] = floor
    state[_LONGEST] = longest
    state[_UNDERWATER] = underwater


@njit(cache=True, error_model="numpy")
def summary_feed(
    state: FloatArray, values: FloatArray, held: FloatArray
) -> None:  # pragma: no cover
    """Add the next equity points ``values`` and the positions ``held`` at them (one each, or
    empty for none) to the running summary ``state``."""
    e = state[_SLOTS : _SLOTS + SUMMARY_BLOCK]
    shift = state[_SHIFT]
    for lo in range(0, values.shape[0], SUMMARY_BLOCK):
        block = values[lo : lo + SUMMARY_BLOCK]
        m = block.shape[0]
        k = 0  # the returns in this block: one per point after the curve's first
        if state[_POINTS] == 0.0:
            state[_FIRST] = block[0]
            state[_PEAK] = block[0]
            state[_FLOOR] = _low_bound(block[0], 0.0)
        else:
            e[0] = (block[0] / state[_LAST] - 1.0) - shift
            k = 1
        for j in range(1, m):
            e[k + j - 1] = (block[j] / block[j - 1] - 1.0) - shift
        k += m - 1
        if k > 0:
            _feed_returns(state, e, k)
        _feed_drawdown(state, block)
        count = 0
        if held.shape[0]:
            for j in range(m):
                v = held[lo + j]
                count += (v != 0.0) & (v == v)  # neither zero nor NaN, without a branch
        state[_HELD] += count
        state[_POINTS] += m
        state[_LAST] = block[m - 1]


def summary_figures(
    state: FloatArray,
    trades_pl: FloatArray | None,
    with_exposure: bool,
    periods_per_year: int,
) -> dict[str, float]:
    """Return the figures of ``performance_summary`` from a running summary's state."""
    points = int(state[_POINTS])
    m = points - 1  # returns
    first, last = float(state[_FIRST]), float(state[_LAST])
    mean_e = float(state[_TOTAL] + state[_CARRY]) / m if m >= 1 else math.nan
    # The std of r and of r - shift are one figure: a shift moves no deviation.
    std = math.sqrt(state[_SPREAD] / (m - 1)) if m >= 2 else math.nan
    downside = math.sqrt(state[_DOWN] / m) if m >= 2 else math.nan
    max_dd = -float(state[_DEEPEST]) if points else math.nan
    longest = int(state[_LONGEST])
    if state[_UNDERWATER]:  # an unrecovered drawdown counts up to the last point
        longest = max(longest, points - 1 - int(state[_PEAK_AT]))
    root = math.sqrt(periods_per_year)
    growth = _cagr(first, last, points, periods_per_year)
    summary = {
        "total_return": last / first - 1.0 if points >= 2 else math.nan,
        "cagr": growth,
        "volatility": std * root if m >= 2 else math.nan,
        "sharpe": mean_e / std * root if m >= 2 and std >= _EPSILON else math.nan,
        "sortino": mean_e / downside * root if m >= 2 and downside >= _EPSILON else math.nan,
        "max_drawdown": max_dd,
        "max_drawdown_duration": float(longest),
        "calmar": growth / max_dd if max_dd > 0.0 else math.nan,
    }
    if trades_pl is not None:
        summary |= trade_stats(trades_pl)
    if with_exposure:
        summary["exposure"] = float(state[_HELD]) / points if points else math.nan
    return summary


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

    The same keys, order and formulas as ``performance_summary`` (no benchmark figures),
    computed by the running summary (``summary_feed``) in blocks of ``SUMMARY_BLOCK`` points;
    the results agree with the pandas path to float rounding. Meant for hot loops (backtests,
    parameter sweeps) where the equity is already an array; the backtest engine feeds the
    same summary as it runs, with the same blocks, so its metrics are these to the bit.
    """
    values = np.ascontiguousarray(equity, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"equity must be one-dimensional, got shape {values.shape}")
    held = _NONE if positions is None else np.ascontiguousarray(positions, dtype=np.float64)
    if positions is not None and held.shape != values.shape:
        raise ValueError(f"positions must have one entry per equity point, got {held.shape}")
    state = summary_start(per_period_rate(risk_free, periods_per_year))
    summary_feed(state, values, held)
    pl = None if trades_pl is None else np.asarray(trades_pl, dtype=np.float64)
    return summary_figures(state, pl, positions is not None, periods_per_year)
