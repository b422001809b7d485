"""Monte Carlo robustness checks of a backtest: trade reshuffling and a block bootstrap.

Both draw ``n_simulations`` (default 1,000) equity paths from a seeded ``numpy`` Generator, so
the same seed gives the same figures. Each path starts at ``initial_cash``; drawdown is
``equity / running peak - 1`` as in ``domain.metrics``, reported as a positive fraction. A path
is ruined when its equity at any point is at or below ``ruin_fraction * initial_cash``.

- ``reshuffle_trades`` permutes the order of closed-trade P&L (dollars, additive): every path
  ends at the same equity, but the path, and so the drawdown, depends on the order.
- ``block_bootstrap`` resamples period returns in contiguous blocks (circular, the start of
  each block uniform), keeping short-range autocorrelation, and compounds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantumtrade.domain.metrics import ReturnsLike

FloatArray = npt.NDArray[np.float64]
PERCENTILES = (5, 25, 50, 75, 95)


@dataclass(frozen=True)
class MonteCarloResult:
    """Final equity and max drawdown per simulated path, their percentiles, and ruin odds."""

    final_equity: FloatArray
    max_drawdown: FloatArray
    final_equity_percentiles: dict[int, float]
    max_drawdown_percentiles: dict[int, float]
    probability_of_ruin: float


def _array(values: ReturnsLike) -> FloatArray:
    out = np.asarray(values if isinstance(values, np.ndarray) else list(values), np.float64)
    if out.ndim != 1 or not np.isfinite(out).all():
        raise ValueError("expected a one-dimensional array of finite numbers")
    return out


def _summarise(paths: FloatArray, initial_cash: float, ruin_fraction: float) -> MonteCarloResult:
    # ``paths`` is (simulations, points) and already starts with the initial cash.
    peaks = np.maximum.accumulate(paths, axis=1)
    drawdown = -(paths / peaks - 1.0).min(axis=1)
    final = paths[:, -1].copy()
    ruined = (paths <= ruin_fraction * initial_cash).any(axis=1)
    return MonteCarloResult(
        final_equity=final,
        max_drawdown=drawdown,
        final_equity_percentiles={p: float(np.percentile(final, p)) for p in PERCENTILES},
        max_drawdown_percentiles={p: float(np.percentile(drawdown, p)) for p in PERCENTILES},
        probability_of_ruin=float(ruined.mean()),
    )


def _check(n_simulations: int, initial_cash: float, ruin_fraction: float, size: int) -> None:
    if n_simulations < 1:
        raise ValueError("n_simulations must be >= 1")
    if not initial_cash > 0.0:
        raise ValueError("initial_cash must be positive")
    if not 0.0 <= ruin_fraction < 1.0:
        raise ValueError("ruin_fraction must be in [0, 1)")
    if size == 0:
        raise ValueError("need at least one trade or return")


def reshuffle_trades(
    trades_pl: ReturnsLike,
    initial_cash: float,
    *,
    n_simulations: int = 1000,
    ruin_fraction: float = 0.5,
    seed: int | np.random.Generator | None = None,
) -> MonteCarloResult:
    """Replay the closed-trade P&L in random orders and summarise the equity paths."""
    pl = _array(trades_pl)
    _check(n_simulations, initial_cash, ruin_fraction, pl.size)
    rng = np.random.default_rng(seed)
    order = rng.permuted(np.tile(np.arange(pl.size), (n_simulations, 1)), axis=1)
    paths = np.empty((n_simulations, pl.size + 1), dtype=np.float64)
    paths[:, 0] = initial_cash
    np.cumsum(pl[order], axis=1, out=paths[:, 1:])
    paths[:, 1:] += initial_cash
    return _summarise(paths, initial_cash, ruin_fraction)


def block_bootstrap(
    returns: ReturnsLike,
    initial_cash: float,
    *,
    block_size: int = 20,
    horizon: int | None = None,
    n_simulations: int = 1000,
    ruin_fraction: float = 0.5,
    seed: int | np.random.Generator | None = None,
) -> MonteCarloResult:
    """Resample period returns in circular blocks over ``horizon`` periods and compound them.

    ``horizon`` defaults to the number of returns given.
    """
    r = _array(returns)
    _check(n_simulations, initial_cash, ruin_fraction, r.size)
    if block_size < 1:
        raise ValueError("block_size must be >= 1")
    length = r.size if horizon is None else horizon
    if length < 1:
        raise ValueError("horizon must be >= 1")
    rng = np.random.default_rng(seed)
    n_blocks = -(-length // block_size)
    starts = rng.integers(0, r.size, size=(n_simulations, n_blocks))
    offsets = np.arange(block_size)
    index = (starts[:, :, None] + offsets).reshape(n_simulations, -1)[:, :length] % r.size
    paths = np.empty((n_simulations, length + 1), dtype=np.float64)
    paths[:, 0] = initial_cash
    paths[:, 1:] = initial_cash * np.cumprod(1.0 + r[index], axis=1)
    return _summarise(paths, initial_cash, ruin_fraction)
