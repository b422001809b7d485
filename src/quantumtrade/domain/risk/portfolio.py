"""Exposure, beta, volatility, correlation, concentration and drawdown of a portfolio.

Conventions:

- Positions are market values in currency (negative = short). Gross ``= sum |V_i|``, net
  ``= sum V_i``, long ``= sum of positive V_i``, short ``= sum of |negative V_i|`` (a positive
  number), so ``net = long - short`` and ``gross = long + short``.
- Portfolio returns are ``returns @ V / gross``: the simple return on gross capital, equal to
  the return on net value for a long-only book and still defined for a dollar-neutral one.
- Beta ``= cov(r_p, b) / var(b)`` (ddof=1), via ``domain.metrics.alpha_beta``.
- Volatility is annualised with 252 periods (``domain.metrics.volatility``).
- Correlated pairs are those with ``|rho| >= threshold`` (0.8 by default); the signed
  correlation is reported, since a strong negative one matters as much for a hedge.
- Herfindahl ``= sum (|V_i| / gross) ** 2``: 1/N for equal weights, 1 for a single position.
- Drawdowns are positive fractions of the running peak (0.2 = 20 % below the peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantumtrade.domain import metrics
from quantumtrade.domain.risk._inputs import (
    FloatArray,
    PositionsLike,
    ReturnsMatrix,
    positions_array,
    returns_matrix,
)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Gross, net, long and short exposure in currency (short as a positive number)."""

    gross: float
    net: float
    long: float
    short: float


@dataclass(frozen=True, slots=True)
class CorrelatedPair:
    """Two positions whose return correlation reaches the threshold in magnitude."""

    first: str
    second: str
    correlation: float


@dataclass(frozen=True)
class CorrelationReport:
    """Correlation matrix of holdings and the pairs at or above the threshold."""

    matrix: pd.DataFrame
    threshold: float
    pairs: tuple[CorrelatedPair, ...]


@dataclass(frozen=True, slots=True)
class DrawdownState:
    """Current and maximum drawdown of an equity series, as positive fractions."""

    current: float
    maximum: float


def exposure(positions: PositionsLike) -> Exposure:
    """Return gross, net, long and short exposure of the positions."""
    _, values = positions_array(positions)
    long = float(values[values > 0.0].sum())
    short = float(-values[values < 0.0].sum())
    return Exposure(gross=long + short, net=long - short, long=long, short=short)


def portfolio_returns(positions: PositionsLike, returns: ReturnsMatrix) -> FloatArray:
    """Return the portfolio's simple returns on gross capital for each historical day."""
    labels, values = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    gross = float(np.abs(values).sum())
    if gross == 0.0:
        raise ValueError("positions have no gross exposure")
    return np.asarray(matrix @ values / gross, dtype=np.float64)


def beta(returns: FloatArray | pd.Series, benchmark: FloatArray | pd.Series) -> float:
    """Return the OLS beta of a return series on a benchmark return series."""
    series = returns if isinstance(returns, pd.Series) else pd.Series(np.asarray(returns))
    bench = benchmark if isinstance(benchmark, pd.Series) else pd.Series(np.asarray(benchmark))
    return metrics.alpha_beta(series, bench)[1]


def annualised_volatility(returns: FloatArray | pd.Series) -> float:
    """Return the annualised volatility of daily simple returns (252 periods)."""
    return metrics.volatility(returns)


def correlation_report(
    positions: PositionsLike, returns: ReturnsMatrix, threshold: float = 0.8
) -> CorrelationReport:
    """Return the holdings' correlation matrix and the pairs with ``|rho| >= threshold``."""
    labels, _ = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A constant series has no correlation; numpy yields nan, which never matches.
        rho = np.atleast_2d(np.corrcoef(matrix, rowvar=False))
    first, second = np.triu_indices(len(labels), k=1)
    picked = np.abs(rho[first, second]) >= threshold
    pairs = tuple(
        CorrelatedPair(labels[i], labels[j], float(rho[i, j]))
        for i, j in zip(first[picked], second[picked], strict=True)
    )
    frame = pd.DataFrame(rho, index=list(labels), columns=list(labels))
    return CorrelationReport(matrix=frame, threshold=threshold, pairs=pairs)


def herfindahl(positions: PositionsLike) -> float:
    """Return the Herfindahl index of absolute weights (1/N when equal, 1 when one)."""
    _, values = positions_array(positions)
    gross = float(np.abs(values).sum())
    if gross == 0.0:
        return math.nan
    return float(((np.abs(values) / gross) ** 2).sum())


def drawdown_state(equity: pd.Series) -> DrawdownState:
    """Return the current and the maximum drawdown of an equity series."""
    if equity.empty:
        return DrawdownState(current=math.nan, maximum=math.nan)
    # Adding 0.0 turns the negated zero at a peak (-0.0) into a plain 0.0.
    current = -float(metrics.drawdown_series(equity).iloc[-1]) + 0.0
    return DrawdownState(current=current, maximum=metrics.max_drawdown(equity))
