"""Trend-following strategies: SMA crossover, MACD crossover, momentum (rate of change)."""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from quantumtrade.backtest.strategies._base import (
    FloatArray,
    Int8Array,
    StrategyParams,
    as_inputs,
    cross_positions,
    positive_int,
    require,
)
from quantumtrade.backtest.strategies.shared import WindowIndicators
from quantumtrade.domain import indicators
from quantumtrade.domain.indicators import window_sums

_BLOCK = 1024


@dataclasses.dataclass(frozen=True, kw_only=True)
class SmaCrossoverParams(StrategyParams):
    """Fast and slow SMA windows (``1 <= fast < slow``)."""

    fast: int = 10
    slow: int = 30

    def validate(self) -> None:
        positive_int("fast", self.fast)
        positive_int("slow", self.slow)
        require(self.fast < self.slow, f"fast must be < slow, got {self.fast} >= {self.slow}")


@njit(cache=True, error_model="numpy")
def _sma_cross_kernel(
    x: FloatArray, fast: int, slow: int, short_value: int
) -> Int8Array:  # pragma: no cover
    # cross_positions(sma(x, fast) - sma(x, slow)) block by block: the same window sums in the
    # same order, so the same differences, without the three full-length float arrays.
    size = x.shape[0]
    out = np.zeros(size, dtype=np.int8)
    fast_sums = np.empty(_BLOCK)
    slow_sums = np.empty(_BLOCK)
    state = 0
    prev = np.nan  # the difference is NaN before bar slow - 1, so no cross is possible there
    for first in range(slow - 1, size, _BLOCK):
        m = min(_BLOCK, size - first)
        f = fast_sums[:m]
        s = slow_sums[:m]
        window_sums(x, fast, first, f)
        window_sums(x, slow, first, s)
        for j in range(m):  # a loop of its own, so the divisions run side by side (SIMD)
            f[j] = f[j] / fast - s[j] / slow
        for j in range(m):
            diff = f[j]
            if prev <= 0.0 and diff > 0.0:
                state = 1
            elif prev >= 0.0 and diff < 0.0:
                state = short_value
            out[first + j] = state
            prev = diff
    return out


def sma_crossover(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
    *,
    params: SmaCrossoverParams | None = None,
) -> Int8Array:
    """Go long when the fast SMA crosses above the slow one; flat (or short) on the cross below.

    Positions change only at crosses (``fast - slow`` changing sign through or from zero), so
    the strategy is flat until the first cross after the warm-up.
    """
    p = params or SmaCrossoverParams()
    c, *_ = as_inputs(close, high, low, volume)
    out: Int8Array = _sma_cross_kernel(c, int(p.fast), int(p.slow), int(p.short_value))
    return out


@njit(cache=True)
def _cross_of_kernel(
    fast: FloatArray, slow: FloatArray, short_value: int
) -> Int8Array:  # pragma: no cover
    # _sma_cross_kernel's loop on SMAs computed beforehand: the same differences, so the same
    # positions (NaN before the slow window fills, and no cross from a NaN).
    out = np.zeros(fast.shape[0], dtype=np.int8)
    state = 0
    prev = np.nan
    for i in range(fast.shape[0]):
        diff = fast[i] - slow[i]
        if prev <= 0.0 and diff > 0.0:
            state = 1
        elif prev >= 0.0 and diff < 0.0:
            state = short_value
        out[i] = state
        prev = diff
    return out


def sma_crossover_shared(
    shared: WindowIndicators, *, params: SmaCrossoverParams | None = None
) -> Int8Array:
    """``sma_crossover`` on SMAs from a sweep's shared indicators: the same signals."""
    p = params or SmaCrossoverParams()
    out: Int8Array = _cross_of_kernel(
        shared.sma(int(p.fast)), shared.sma(int(p.slow)), int(p.short_value)
    )
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class MacdParams(StrategyParams):
    """MACD EMA spans (``1 <= fast < slow``, ``signal >= 1``)."""

    fast: int = 12
    slow: int = 26
    signal: int = 9

    def validate(self) -> None:
        positive_int("fast", self.fast)
        positive_int("slow", self.slow)
        positive_int("signal", self.signal)
        require(self.fast < self.slow, f"fast must be < slow, got {self.fast} >= {self.slow}")


def macd(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
    *,
    params: MacdParams | None = None,
) -> Int8Array:
    """Go long when the MACD line crosses above its signal line; flat (or short) on the cross below.

    As for ``sma_crossover``, positions change only at crosses of the histogram through zero.
    """
    p = params or MacdParams()
    c, *_ = as_inputs(close, high, low, volume)
    hist = indicators.macd(c, p.fast, p.slow, p.signal).histogram
    return cross_positions(hist, p.short_value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MomentumParams(StrategyParams):
    """Rate-of-change lookback (bars, >= 1) and the threshold it must clear (>= 0, a fraction)."""

    lookback: int = 20
    threshold: float = 0.0

    def validate(self) -> None:
        positive_int("lookback", self.lookback)
        require(
            bool(np.isfinite(self.threshold)) and self.threshold >= 0.0,
            f"threshold must be a finite number >= 0, got {self.threshold}",
        )


def momentum(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
    *,
    params: MomentumParams | None = None,
) -> Int8Array:
    """Hold long while ``close[i] / close[i - lookback] - 1 > threshold``.

    Short (when allowed) while the rate of change is below ``-threshold``; flat otherwise and
    during the warm-up. This is time-series momentum: each bar is judged on its own, no state.
    """
    p = params or MomentumParams()
    c, *_ = as_inputs(close, high, low, volume)
    change = indicators.roc(c, p.lookback)
    out = np.zeros(c.shape[0], dtype=np.int8)
    with np.errstate(invalid="ignore"):
        out[change > p.threshold] = 1
        if p.allow_short:
            out[change < -p.threshold] = -1
    return out
