"""Fit a sticky Gaussian HMM to a symbol's bars and name its states bull, bear or sideways.

The observation per bar is the log return and, when the bars carry volume, the log volume,
both standardised on the training bars. Transitions get a Dirichlet prior that favours
staying put (regimes last months, not days), and several restarts keep the best likelihood.

States are named without ground truth, from the annualised drift and volatility of their
return emission: a state whose volatility stands well above the calmest state's and whose
drift is not clearly positive is *bear* (markets fall in stress), and so is any state whose
Sharpe ratio (drift / volatility) is clearly negative and at least half the worst state's;
of the others, a state whose Sharpe ratio is clearly positive, and at least half the best
state's, is *bull*; any other state is *sideways*. After fitting the
states are put in a canonical order (by drift, then volatility), so a fit does not depend on
which random start found the optimum, and the names depend only on the fitted parameters.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from hmmlearn.hmm import GaussianHMM

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.regime._bars import check_bars, infer_periods_per_year
from quantumtrade.ml.regime.features import hmm_features

FloatArray = npt.NDArray[np.float64]

TREND_REGIMES = ("bull", "bear", "sideways")
MIN_FIT_BARS = 100
STRESS_RATIO = 1.3  # volatility, relative to the calmest state, that marks a stressed state
TREND_SHARPE = 0.2  # annual drift / annual volatility beyond which a state trends
STRESS_SHARPE = 0.1  # a stressed state needs at least this drift to escape the bear name


def name_states(drift: FloatArray, volatility: FloatArray) -> tuple[str, ...]:
    """Name each state from its annualised drift and volatility (see the module docstring)."""
    sharpe = drift / volatility
    stressed = volatility >= STRESS_RATIO * volatility.min()
    # A fitted drift is noisy (a year of a 15 % volatility state leaves +-15 % of drift), so
    # "clearly negative" and "clearly positive" are judged against the worst and the best
    # state too: half their Sharpe ratio at least. A calm state drifting a little down beside
    # a real sell-off is sideways, not a second bear.
    worst = min(float(sharpe.min()), 0.0)
    bear = (stressed & (sharpe < STRESS_SHARPE)) | (sharpe <= min(-TREND_SHARPE, worst / 2))
    best = sharpe[~bear].max() if (~bear).any() else 0.0
    bull = ~bear & (sharpe >= max(TREND_SHARPE, best / 2))
    return tuple(
        "bear" if b else "bull" if u else "sideways" for b, u in zip(bear, bull, strict=True)
    )


@dataclass(frozen=True, eq=False)
class RegimeModel:
    """A fitted regime HMM: everything :func:`classify` needs, nothing of the training bars.

    ``means`` and ``variances`` are per state and feature in standardised units;
    ``state_drift`` and ``state_volatility`` are the annualised log-return figures the state
    names come from. ``start_probability`` is the chain's stationary distribution, so the
    model applies to bars from any period, not only the one it was fitted on.
    """

    periods_per_year: float
    use_volume: bool
    feature_mean: FloatArray
    feature_scale: FloatArray
    start_probability: FloatArray
    transition: FloatArray
    means: FloatArray
    variances: FloatArray
    state_names: tuple[str, ...]
    state_drift: FloatArray
    state_volatility: FloatArray
    log_likelihood: float
    seed: int
    n_bars: int

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    def expected_duration(self) -> FloatArray:
        """Return the expected number of bars each state lasts once entered."""
        stay = np.diag(self.transition)
        out: FloatArray = 1.0 / np.maximum(1.0 - stay, 1e-12)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the model as JSON-ready values (see :meth:`from_dict`)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        out["state_names"] = list(self.state_names)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegimeModel:
        """Rebuild a model saved with :meth:`to_dict`."""
        arrays = {
            k: _frozen(np.asarray(v, np.float64)) for k, v in data.items() if k in _ARRAY_FIELDS
        }
        return cls(
            periods_per_year=float(data["periods_per_year"]),
            use_volume=bool(data["use_volume"]),
            state_names=tuple(data["state_names"]),
            log_likelihood=float(data["log_likelihood"]),
            seed=int(data["seed"]),
            n_bars=int(data["n_bars"]),
            **arrays,
        )


_ARRAY_FIELDS = frozenset(
    {
        "feature_mean",
        "feature_scale",
        "start_probability",
        "transition",
        "means",
        "variances",
        "state_drift",
        "state_volatility",
    }
)


def _frozen(a: FloatArray) -> FloatArray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _stationary(transition: FloatArray) -> FloatArray:
    k = transition.shape[0]
    # Solve pi (P - I) = 0 with sum(pi) = 1 as one least-squares system.
    system = np.vstack([transition.T - np.eye(k), np.ones((1, k))])
    target = np.zeros(k + 1)
    target[-1] = 1.0
    pi = np.linalg.lstsq(system, target, rcond=None)[0]
    pi = np.clip(pi, 1e-12, None)
    out: FloatArray = pi / pi.sum()
    return out


def _activity_init(z: FloatArray, n_states: int) -> tuple[FloatArray, FloatArray]:
    # A start that needs no random draw: bars grouped by how agitated their month was
    # (squared return plus volume). Random k-means starts then only have to beat it, which
    # keeps most seeds on the same optimum.
    score = pd.Series(z[:, 0] ** 2 + z[:, 1:].sum(axis=1)).rolling(20, min_periods=1).mean()
    groups = np.minimum((score.rank(pct=True).to_numpy() * n_states).astype(int), n_states - 1)
    means = np.array([z[groups == k].mean(axis=0) for k in range(n_states)])
    variances = np.array([z[groups == k].var(axis=0) + 1e-3 for k in range(n_states)])
    return means, variances


@contextlib.contextmanager
def _quiet_convergence_monitor() -> Iterator[None]:
    """Silence hmmlearn's "not converging" warnings during a fit.

    With a prior on the transitions, EM maximises the posterior, not the likelihood its
    monitor tracks, so the likelihood can dip by a hair between iterations: not a failure.
    """
    logger = logging.getLogger("hmmlearn.base")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fit_hmm(
    z: np.ndarray,
    n_states: int,
    max_iter: int,
    seed: int,
    prior: np.ndarray,
    restart: int,
    *,
    implementation: str,
) -> tuple[GaussianHMM, float]:
    """Fit one restart of the HMM to the standardised features; return it and its score."""
    hmm = GaussianHMM(
        n_components=n_states,
        covariance_type="diag",
        n_iter=max_iter,
        tol=1e-3,
        random_state=seed,
        transmat_prior=prior,
        implementation=implementation,
        init_params="st" if restart == 0 else "stmc",
    )
    if restart == 0:
        hmm.means_, hmm.covars_ = _activity_init(z, n_states)
    with _quiet_convergence_monitor():
        hmm.fit(z)
    return hmm, float(hmm.score(z))


def fit(
    bars: pd.DataFrame,
    *,
    n_states: int = 3,
    seed: int = 0,
    n_restarts: int = 3,
    periods_per_year: float | None = None,
    use_volume: bool | None = None,
    stickiness: float = 1.5,
    max_iter: int = 100,
) -> RegimeModel:
    """Fit a regime model to ``bars``; the same bars and seed give an identical model.

    ``periods_per_year`` defaults to the bar count per year over the bars' span. ``use_volume``
    defaults to whether the bars have a volume column. ``stickiness`` scales the prior
    weight on staying in a state: ``stickiness * bars / n_states`` pseudo-counts on the
    diagonal of the transition matrix.
    """
    if not 2 <= n_states <= 8:
        raise InvalidInput("n_states must be 2 to 8.", code="invalid_n_states")
    if n_restarts < 1:
        raise InvalidInput("n_restarts must be at least 1.", code="invalid_n_restarts")
    checked = check_bars(bars, min_bars=MIN_FIT_BARS)
    has_volume = "volume" in checked.columns
    volume = has_volume if use_volume is None else use_volume
    if volume and not has_volume:
        raise InvalidInput(
            "use_volume needs a 'volume' column.",
            code="missing_column",
            details={"column": "volume"},
        )
    ppy = periods_per_year or infer_periods_per_year(pd.DatetimeIndex(checked.index))
    x = hmm_features(checked, volume)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (x - mean) / scale
    n = z.shape[0]
    prior = np.ones((n_states, n_states)) + np.eye(n_states) * stickiness * n / n_states

    best: GaussianHMM | None = None
    best_score = -np.inf
    seeds = np.random.SeedSequence(seed).generate_state(n_restarts)
    for restart, restart_seed in enumerate(seeds):
        settings = (z, n_states, max_iter, int(restart_seed), prior, restart)
        try:
            hmm, score = _fit_hmm(*settings, implementation="scaling")  # the faster pass
        except ValueError as exc:
            # A state whose variance collapses can underflow the scaled forward pass (seen on
            # a crypto series); the log-space pass fits the same model without underflowing.
            if "underflow" not in str(exc):
                raise
            hmm, score = _fit_hmm(*settings, implementation="log")
        if score > best_score:  # ties keep the earlier restart: the choice is deterministic
            best, best_score = hmm, score
    assert best is not None
    variances = np.diagonal(best.covars_, axis1=1, axis2=2)
    drift = (best.means_[:, 0] * scale[0] + mean[0]) * ppy
    vol = np.sqrt(variances[:, 0] * ppy) * scale[0]
    order = np.lexsort((vol, drift))
    transition = best.transmat_[np.ix_(order, order)]
    return RegimeModel(
        periods_per_year=float(ppy),
        use_volume=volume,
        feature_mean=_frozen(mean),
        feature_scale=_frozen(scale),
        start_probability=_frozen(_stationary(transition)),
        transition=_frozen(transition),
        means=_frozen(best.means_[order]),
        variances=_frozen(variances[order]),
        state_names=name_states(drift[order], vol[order]),
        state_drift=_frozen(drift[order]),
        state_volatility=_frozen(vol[order]),
        log_likelihood=best_score,
        seed=seed,
        n_bars=len(checked),
    )
