"""Stress tests: the portfolio's P&L under hypothetical shocks.

Each scenario moves every position by a simple return ``s_i`` and reports the P&L
``sum V_i s_i`` in currency (negative = loss) and ``pnl_pct = pnl / gross``:

- market shock: ``s_i = beta_i * shock`` (beta 1 for positions without one);
- sector shock: ``s_i = shock`` for the positions mapped to the sector, 0 otherwise;
- symbol shocks: ``s_i`` given per label, 0 for the labels not named;
- volatility spike: every return's deviation from its mean is scaled by ``k``, which scales the
  covariance by ``k**2`` and keeps correlations; reported as the resulting parametric VaR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from quantumtrade.domain.risk._inputs import (
    FloatArray,
    PositionsLike,
    ReturnsMatrix,
    positions_array,
    returns_matrix,
)
from quantumtrade.domain.risk.var import MeanMode, VarResult, parametric_var

DEFAULT_MARKET_SHOCKS = (-0.10, -0.20)


@dataclass(frozen=True, slots=True)
class StressResult:
    """P&L of one scenario, in total and per position (negative = loss)."""

    scenario: str
    pnl: float
    pnl_pct: float
    position_pnl: tuple[float, ...]
    labels: tuple[str, ...]


def _stress(
    scenario: str, labels: tuple[str, ...], values: FloatArray, moves: FloatArray
) -> StressResult:
    pnl = values * moves
    gross = float(np.abs(values).sum())
    total = float(pnl.sum())
    return StressResult(
        scenario=scenario,
        pnl=total,
        pnl_pct=total / gross if gross > 0.0 else math.nan,
        position_pnl=tuple(float(p) for p in pnl),
        labels=labels,
    )


def market_shock(
    positions: PositionsLike, betas: Mapping[str, float], shock: float
) -> StressResult:
    """Move each position by its beta times a market return ``shock`` (e.g. -0.10)."""
    labels, values = positions_array(positions)
    moves = np.array([betas.get(label, 1.0) * shock for label in labels], dtype=np.float64)
    return _stress(f"market {shock:+.0%}", labels, values, moves)


def market_shocks(
    positions: PositionsLike,
    betas: Mapping[str, float],
    shocks: tuple[float, ...] = DEFAULT_MARKET_SHOCKS,
) -> tuple[StressResult, ...]:
    """Run the market scenarios, -10 % and -20 % by default."""
    return tuple(market_shock(positions, betas, shock) for shock in shocks)


def sector_shock(
    positions: PositionsLike, sectors: Mapping[str, str], sector: str, shock: float
) -> StressResult:
    """Move the positions mapped to ``sector`` by ``shock``; leave the others unchanged."""
    labels, values = positions_array(positions)
    moves = np.array(
        [shock if sectors.get(label) == sector else 0.0 for label in labels], dtype=np.float64
    )
    return _stress(f"sector {sector} {shock:+.0%}", labels, values, moves)


def symbol_shocks(
    positions: PositionsLike, shocks: Mapping[str, float], scenario: str = "custom"
) -> StressResult:
    """Move each named position by its own shock; unnamed positions stay unchanged."""
    labels, values = positions_array(positions)
    unknown = set(shocks) - set(labels)
    if unknown:
        raise ValueError(f"shocks name unknown positions: {sorted(unknown)}")
    moves = np.array([shocks.get(label, 0.0) for label in labels], dtype=np.float64)
    return _stress(scenario, labels, values, moves)


def volatility_spike(
    positions: PositionsLike,
    returns: ReturnsMatrix,
    k: float,
    confidence: float = 0.99,
    horizon_days: float = 1.0,
    mean: MeanMode = "zero",
) -> VarResult:
    """Return the parametric VaR after scaling every return's volatility by ``k``."""
    if not k > 0.0:
        raise ValueError(f"k must be positive, got {k}")
    labels, _ = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    centre = matrix.mean(axis=0)
    spiked = centre + k * (matrix - centre)
    result = parametric_var(positions, spiked, confidence, horizon_days, mean)
    return replace(result, method=f"parametric_vol_x{k:g}")
