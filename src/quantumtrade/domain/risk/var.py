"""Value at Risk and CVaR (expected shortfall) of a portfolio of positions.

Conventions, shared by the three methods so their figures compare:

- Inputs are market values in currency per position (negative = short) and a T x N matrix of
  historical *simple* daily returns, one column per position. The portfolio P&L of a scenario
  is ``returns @ values``; its loss is the negated P&L.
- VaR and CVaR are reported as **positive losses in currency** (a gain in the tail reads as a
  negative VaR). ``var_pct`` and ``cvar_pct`` divide by the **gross** value ``sum(|V_i|)``,
  which stays meaningful for a long-short book whose net value may be near zero.
- Horizon: every method scales the one-day risk by ``sqrt(horizon_days)`` (square-root-of-time,
  i.e. i.i.d. daily returns); a mean, when used, scales by ``horizon_days``. Historical VaR
  scales the one-day figure rather than using overlapping h-day windows, which would leave
  too few independent observations for a two-year history.
- Empirical quantile (historical and Monte Carlo): with ``n`` scenarios and
  ``k = ceil((1 - confidence) * n)``, VaR is the k-th largest loss and CVaR the mean of the k
  largest losses (the losses at or beyond VaR), so ``CVaR >= VaR`` always. Example: 20
  scenarios at 95 % give k = 1, the single worst loss.
- Parametric (variance-covariance, normal): ``sigma_p = sqrt(V' S V)`` with the sample
  covariance ``S`` (ddof=1), ``z = Phi^-1(confidence)``; ``VaR = z sigma_p sqrt(h) - mu_p h``
  and ``CVaR = sigma_p sqrt(h) phi(z) / (1 - confidence) - mu_p h``. The mean ``mu_p`` is zero
  by default (``mean="zero"``): daily sample means are noisy and would let a lucky history
  shrink the risk; ``mean="sample"`` uses the column means.
- Monte Carlo draws ``paths`` correlated normal h-day returns ``mu h + sqrt(h) L z`` with
  ``L L' = S``. ``L`` is the Cholesky factor; when ``S`` is not positive definite (more
  positions than days, duplicated series) the negative eigenvalues are clipped to zero and
  ``L = Q sqrt(Lambda)``, the factor of the nearest positive semi-definite matrix.
- Component VaR (Euler allocation): parametric components are
  ``V_i (S V)_i / sigma_p * z sqrt(h) - V_i mu_i h`` and sum to VaR. Historical and Monte
  Carlo components are each position's mean loss over the k tail scenarios and sum to
  **CVaR** (``component_basis == "cvar"``): a single quantile scenario is too noisy to allocate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from quantumtrade.domain.risk._inputs import (
    FloatArray,
    PositionsLike,
    ReturnsMatrix,
    check_confidence,
    check_horizon,
    positions_array,
    returns_matrix,
)

MeanMode = Literal["zero", "sample"]
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class VarResult:
    """VaR and CVaR of one method at one confidence level and horizon."""

    method: str
    confidence: float
    horizon_days: float
    var: float
    cvar: float
    var_pct: float
    cvar_pct: float
    component_var: tuple[float, ...]
    labels: tuple[str, ...]
    component_basis: Literal["var", "cvar"]

    @property
    def components(self) -> dict[str, float]:
        """Return the component figures keyed by position label."""
        return dict(zip(self.labels, self.component_var, strict=True))


def tail_count(confidence: float, scenarios: int) -> int:
    """Return ``k = ceil((1 - confidence) * scenarios)``, at least 1."""
    # The 1e-9 absorbs float noise such as (1 - 0.95) * 100 == 5.000000000000004.
    return max(1, math.ceil((1.0 - confidence) * scenarios - 1e-9))


def _mean_vector(matrix: FloatArray, mean: MeanMode) -> FloatArray:
    if mean == "zero":
        return np.zeros(matrix.shape[1], dtype=np.float64)
    if mean == "sample":
        return np.asarray(matrix.mean(axis=0), dtype=np.float64)
    raise ValueError(f"mean must be 'zero' or 'sample', got {mean!r}")


def _result(
    method: str,
    confidence: float,
    horizon_days: float,
    var: float,
    cvar: float,
    values: FloatArray,
    components: FloatArray,
    labels: tuple[str, ...],
    basis: Literal["var", "cvar"],
) -> VarResult:
    gross = float(np.abs(values).sum())
    return VarResult(
        method=method,
        confidence=confidence,
        horizon_days=horizon_days,
        var=var,
        cvar=cvar,
        var_pct=var / gross if gross > 0.0 else math.nan,
        cvar_pct=cvar / gross if gross > 0.0 else math.nan,
        component_var=tuple(float(c) for c in components),
        labels=labels,
        component_basis=basis,
    )


def _tail_indices(losses: FloatArray, k: int) -> FloatArray:
    """Return the indices of the k largest losses, largest first."""
    if k >= losses.size:
        top = np.arange(losses.size)
    else:
        top = np.argpartition(losses, losses.size - k)[losses.size - k :]
    return np.asarray(top[np.argsort(-losses[top], kind="stable")])


def historical_var(
    positions: PositionsLike,
    returns: ReturnsMatrix,
    confidence: float = 0.95,
    horizon_days: float = 1.0,
) -> VarResult:
    """Compute VaR and CVaR by revaluing the positions under each historical day."""
    check_confidence(confidence)
    scale = check_horizon(horizon_days)
    labels, values = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    losses = -(matrix @ values)
    k = tail_count(confidence, losses.size)
    tail = _tail_indices(losses, k)
    var = float(losses[tail[-1]]) * scale
    cvar = float(losses[tail].mean()) * scale
    components = -(matrix[tail].mean(axis=0) * values) * scale
    return _result(
        "historical", confidence, horizon_days, var, cvar, values, components, labels, "cvar"
    )


def parametric_var(
    positions: PositionsLike,
    returns: ReturnsMatrix,
    confidence: float = 0.95,
    horizon_days: float = 1.0,
    mean: MeanMode = "zero",
) -> VarResult:
    """Compute normal variance-covariance VaR and CVaR with Euler component VaR."""
    check_confidence(confidence)
    scale = check_horizon(horizon_days)
    labels, values = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    mu = _mean_vector(matrix, mean)
    covariance = np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1))
    marginal = covariance @ values
    sigma = math.sqrt(max(float(values @ marginal), 0.0))
    mu_p = float(mu @ values)
    z = _NORMAL.inv_cdf(confidence)
    var = z * sigma * scale - mu_p * horizon_days
    cvar = sigma * scale * _NORMAL.pdf(z) / (1.0 - confidence) - mu_p * horizon_days
    drift = values * mu * horizon_days
    # A riskless book (sigma 0) has no volatility to allocate, only drift.
    euler = values * marginal / sigma * z * scale if sigma > 0.0 else np.zeros_like(values)
    components = euler - drift
    return _result(
        "parametric", confidence, horizon_days, var, cvar, values, components, labels, "var"
    )


def covariance_factor(covariance: FloatArray) -> tuple[FloatArray, bool]:
    """Return ``L`` with ``L L' = covariance`` and whether eigenvalues had to be clipped."""
    try:
        return np.asarray(np.linalg.cholesky(covariance), dtype=np.float64), False
    except np.linalg.LinAlgError:
        symmetric = (covariance + covariance.T) / 2.0
        eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
        root = np.sqrt(np.clip(eigenvalues, 0.0, None))
        return np.asarray(eigenvectors * root, dtype=np.float64), True


def monte_carlo_var(
    positions: PositionsLike,
    returns: ReturnsMatrix,
    confidence: float = 0.95,
    horizon_days: float = 1.0,
    paths: int = 10_000,
    seed: int | np.random.Generator | None = None,
    mean: MeanMode = "zero",
) -> VarResult:
    """Compute VaR and CVaR from correlated normal paths fitted to the return history."""
    check_confidence(confidence)
    scale = check_horizon(horizon_days)
    if paths < 2:
        raise ValueError("paths must be at least 2")
    labels, values = positions_array(positions)
    matrix = returns_matrix(returns, labels)
    mu = _mean_vector(matrix, mean)
    factor, _ = covariance_factor(np.atleast_2d(np.cov(matrix, rowvar=False, ddof=1)))
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal((paths, values.size))
    # Project onto L'V first: the portfolio needs only paths x N work, not paths x N x N.
    drift = values * mu * horizon_days
    losses = -(shocks @ (factor.T @ values)) * scale - drift.sum()
    k = tail_count(confidence, paths)
    tail = _tail_indices(losses, k)
    var = float(losses[tail[-1]])
    cvar = float(losses[tail].mean())
    tail_returns = shocks[tail] @ factor.T
    components = -(tail_returns.mean(axis=0) * values) * scale - drift
    return _result(
        "monte_carlo", confidence, horizon_days, var, cvar, values, components, labels, "cvar"
    )
