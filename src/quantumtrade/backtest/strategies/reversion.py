"""Mean-reverting strategies: RSI oversold/overbought and Bollinger z-score reversion."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike

from quantumtrade.backtest.strategies._base import (
    Int8Array,
    StrategyParams,
    as_inputs,
    band_machine,
    level_machine,
    positive_int,
    require,
)
from quantumtrade.domain import indicators


@dataclasses.dataclass(frozen=True, kw_only=True)
class RsiParams(StrategyParams):
    """RSI period (>= 1) and levels (``0 <= oversold < overbought <= 100``)."""

    period: int = 14
    oversold: float = 30.0
    overbought: float = 70.0

    def validate(self) -> None:
        positive_int("period", self.period)
        require(0.0 <= self.oversold <= 100.0, f"oversold must be in [0, 100], got {self.oversold}")
        require(
            0.0 <= self.overbought <= 100.0,
            f"overbought must be in [0, 100], got {self.overbought}",
        )
        require(
            self.oversold < self.overbought,
            f"oversold must be < overbought, got {self.oversold} >= {self.overbought}",
        )


def rsi(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
    *,
    params: RsiParams | None = None,
) -> Int8Array:
    """Buy oversold, sell overbought (Wilder RSI).

    State machine, starting flat: RSI < oversold -> long; RSI > overbought -> flat, or short when
    ``allow_short``; in between (and during the warm-up) the previous position is held. So a
    long opened below ``oversold`` is kept until RSI rises above ``overbought``, and a short
    until RSI falls below ``oversold``.
    """
    p = params or RsiParams()
    c, *_ = as_inputs(close, high, low, volume)
    value = indicators.rsi(c, p.period)
    out: Int8Array = level_machine(value, float(p.oversold), float(p.overbought), p.short_value)
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeanReversionParams(StrategyParams):
    """Z-score window (>= 2) and bands (``0 <= exit_z < entry_z``), in standard deviations."""

    window: int = 20
    entry_z: float = 2.0
    exit_z: float = 0.5

    def validate(self) -> None:
        require(self.window >= 2, f"window must be >= 2, got {self.window}")
        require(
            bool(np.isfinite(self.entry_z)) and self.entry_z > 0.0,
            f"entry_z must be a finite number > 0, got {self.entry_z}",
        )
        require(self.exit_z >= 0.0, f"exit_z must be >= 0, got {self.exit_z}")
        require(
            self.exit_z < self.entry_z,
            f"exit_z must be < entry_z, got {self.exit_z} >= {self.entry_z}",
        )


def mean_reversion(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
    *,
    params: MeanReversionParams | None = None,
) -> Int8Array:
    """Fade moves outside the Bollinger bands; exit once the price is back near the mean.

    With ``z = (close - SMA) / std`` over ``window`` bars (ddof=0), starting flat:
    flat and ``z < -entry_z`` -> long; long and ``z >= -exit_z`` -> flat; with ``allow_short``,
    flat and ``z > entry_z`` -> short; short and ``z <= exit_z`` -> flat. An exit and a new
    entry can happen on the same bar (a jump from one band to the other reverses the position).
    Where ``z`` is undefined (warm-up, a window with zero spread) the position is held.
    """
    p = params or MeanReversionParams()
    c, *_ = as_inputs(close, high, low, volume)
    z = indicators.zscore(c, p.window)
    out: Int8Array = band_machine(z, float(p.entry_z), float(p.exit_z), bool(p.allow_short))
    return out
