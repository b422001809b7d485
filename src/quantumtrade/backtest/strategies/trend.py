"""Trend-following strategies: SMA crossover, MACD crossover, momentum (rate of change)."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike

from quantumtrade.backtest.strategies._base import (
    Int8Array,
    StrategyParams,
    as_inputs,
    cross_positions,
    positive_int,
    require,
)
from quantumtrade.domain import indicators


@dataclasses.dataclass(frozen=True, kw_only=True)
class SmaCrossoverParams(StrategyParams):
    """Fast and slow SMA windows (``1 <= fast < slow``)."""

    fast: int = 10
    slow: int = 30

    def validate(self) -> None:
        positive_int("fast", self.fast)
        positive_int("slow", self.slow)
        require(self.fast < self.slow, f"fast must be < slow, got {self.fast} >= {self.slow}")


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
    return cross_positions(indicators.sma(c, p.fast) - indicators.sma(c, p.slow), p.short_value)


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
