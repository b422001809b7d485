"""Walk-forward evaluation of probabilistic direction forecasts: splits, calibration, scores.

Every forecaster here answers one question per bar ``i``: the probability that the forward
return over the horizon, from bar ``i`` to bar ``i + horizon``, is positive (and its expected
size). The label of bar ``i`` is only known at ``i + horizon``, so an honest evaluation must
never train on a label that reaches into the bars it tests. This module provides the pieces:

- :func:`purged_walk_forward` cuts a series into time-ordered folds. Each fold tests one block
  of bars and trains only on bars before it; training bars whose label window ``[i, i + horizon]``
  reaches the test block (or the calibration slice) are *purged*, and the ``embargo`` bars right
  after each test block never enter a later fold's training or calibration (López de Prado,
  *Advances in Financial Machine Learning*, ch. 7). The last part of each fold's pre-test data
  is held out as a *calibration slice*.
- :class:`PlattCalibrator` and :class:`IsotonicCalibrator` map a model's raw probabilities to
  calibrated ones, fitted on the calibration slice; :func:`calibrate` picks one by a fixed rule.
- The metrics: :func:`directional_accuracy`, :func:`brier`, :func:`log_loss`, :func:`ece` with
  its :func:`reliability` table, the information coefficient (the sentiment module's
  :func:`~quantumtrade.ml.sentiment.aggregate.information_coefficient`) and
  :func:`climatology_brier`, the score of always forecasting the training base rate: a model
  with no edge cannot beat it. :func:`scorecard` bundles them in a :class:`Scorecard`.
- The naive baselines every model must beat, behind the :class:`ProbabilisticModel` protocol:
  :class:`AlwaysFlat`, :class:`PreviousDirection` and :class:`Drift`; and :class:`LogisticModel`,
  a standardised logistic regression, the simplest learnable model.
- :func:`walk_forward_evaluate` runs models through the folds and returns their out-of-fold
  predictions with a scorecard per model and per fold (:class:`EvaluationReport`).

Pure code on arrays and DataFrames: no I/O, deterministic for a given seed.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from quantumtrade.ml.sentiment.aggregate import InformationCoefficient, information_coefficient

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Share of each fold's label-safe pre-test bars held out to fit the calibrator.
DEFAULT_CALIBRATION_FRACTION = 0.2
# Training bars the first fold needs at least: one year of daily bars.
DEFAULT_MIN_TRAIN = 252
# Isotonic regression needs many points or it memorises noise (Niculescu-Mizil & Caruana,
# 2005: Platt scaling wins below about a thousand calibration points); below this, Platt.
ISOTONIC_MIN_SAMPLES = 1_000
# A calibrated probability is kept within [CALIBRATED_MIN, 1 - CALIBRATED_MIN]: an empty or
# one-class isotonic block would otherwise claim certainty about a market's next move.
CALIBRATED_MIN = 0.005
# Probabilities within this distance of 0.5 are abstentions: no call on the direction.
ABSTAIN_TOLERANCE = 1e-12
# Log loss clips probabilities to [LOG_LOSS_EPS, 1 - LOG_LOSS_EPS] so it stays finite.
LOG_LOSS_EPS = 1e-15
DEFAULT_ECE_BINS = 10

CalibrationMethod = Literal["auto", "platt", "isotonic", "identity"]
BinStrategy = Literal["uniform", "quantile"]


# -- splits -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Split:
    """One walk-forward fold: positions (0-based, ascending) of its three disjoint parts.

    Every ``train`` position ``i`` has ``i + horizon`` before the first ``calibrate`` position
    (or before the first ``test`` position when there is no calibration slice), and every
    ``calibrate`` position has ``i + horizon`` before the first ``test`` position.
    """

    train: IntArray
    calibrate: IntArray
    test: IntArray


def _check_int(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")


def _calibration_size(usable: int, fraction: float) -> int:
    """Return the calibration slice's length: at least one bar unless ``fraction`` is 0."""
    return max(1, round(fraction * usable)) if fraction > 0 else 0


def purged_walk_forward(
    n: int,
    *,
    n_splits: int,
    horizon: int,
    embargo: int = 0,
    min_train: int = DEFAULT_MIN_TRAIN,
    expanding: bool = True,
    calibration_fraction: float = DEFAULT_CALIBRATION_FRACTION,
) -> list[Split]:
    """Cut ``n`` bars into ``n_splits`` time-ordered folds, purged and embargoed.

    Parameters:
        n: bars in the series; bar ``i``'s label is the return from ``i`` to ``i + horizon``.
        n_splits: test blocks. They are contiguous, in time order, of near-equal length, and
            cover every bar from the first test start to the end.
        horizon: bars the label looks ahead (at least 1).
        embargo: bars after each test block kept out of every later fold's training and
            calibration data (features built over a look-back window at those bars still
            contain the test block's prices). It can thin the calibration slice, or empty it
            when longer than the slice; a fold without one leaves its models uncalibrated.
        min_train: training bars the first fold gets (with ``expanding=False``, every fold).
        expanding: train on all earlier usable bars (True) or on the last ``min_train`` of
            them (False: a sliding window).
        calibration_fraction: share of the label-safe pre-test bars held out at the end of
            each training window to fit a calibrator, in ``[0, 1)``. 0 gives no slice.

    Layout of a fold testing ``[t0, t1)``: bars ``i < t0 - horizon`` have labels that end
    before the test block. The last ``calibration_fraction`` of ``[0, t0 - horizon)`` (less
    the purge) is the calibration slice ``[c0, t0 - horizon)``; training is ``i < c0 - horizon``
    so no training label reaches the calibration slice either. Then the embargoed bars are
    removed. The first test block starts at the earliest bar leaving ``min_train`` training bars.
    """
    _check_int("n", n, 1)
    _check_int("n_splits", n_splits, 1)
    _check_int("horizon", horizon, 1)
    _check_int("embargo", embargo, 0)
    _check_int("min_train", min_train, 1)
    if not 0.0 <= calibration_fraction < 1.0 or not math.isfinite(calibration_fraction):
        raise ValueError(f"calibration_fraction must be in [0, 1), got {calibration_fraction}")

    # Size of the calibration slice for a fold whose usable pre-test span is ``usable`` bars
    # (the span minus one purge gap between training and calibration).
    if expanding:
        usable = math.ceil(min_train / (1.0 - calibration_fraction))
        while usable - _calibration_size(usable, calibration_fraction) < min_train:
            usable += 1
        fixed_cal = None
    else:
        fixed_cal = _calibration_size(
            math.ceil(min_train / (1.0 - calibration_fraction)), calibration_fraction
        )
        usable = min_train + fixed_cal
    first_cal = _calibration_size(usable, calibration_fraction) if fixed_cal is None else fixed_cal
    first_test = usable + horizon + (horizon if first_cal else 0)
    if n - first_test < n_splits:
        raise ValueError(
            f"{n} bars are too few for {n_splits} test blocks after {min_train} training bars, "
            f"a calibration slice and horizon {horizon}: at least {first_test + n_splits} needed"
        )

    blocks = np.array_split(np.arange(first_test, n, dtype=np.int64), n_splits)
    splits: list[Split] = []
    embargoed = np.zeros(n, dtype=bool)
    for block in blocks:
        t0 = int(block[0])
        pre = t0 - horizon  # positions [0, pre) have labels ending before the test block
        if fixed_cal is None:
            n_cal = _calibration_size(pre - horizon, calibration_fraction)
        else:
            n_cal = fixed_cal
        c0 = pre - n_cal
        train_end = c0 - horizon if n_cal else pre
        calibrate = np.arange(c0, pre, dtype=np.int64)
        calibrate = calibrate[~embargoed[calibrate]]
        candidates = np.arange(0, train_end, dtype=np.int64)
        candidates = candidates[~embargoed[candidates]]
        # Embargoed bars all follow the first test block, so the first fold's training bars
        # stay candidates in every fold: there are always at least ``min_train``.
        train = candidates if expanding else candidates[-min_train:]
        splits.append(Split(train=train, calibrate=calibrate, test=block))
        t1 = int(block[-1]) + 1
        embargoed[t1 : t1 + embargo] = True
    return splits


# -- metrics ----------------------------------------------------------------------------------


def _prob_outcome(probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"probs and outcomes must be 1-d of one length, got {p.shape}, {y.shape}")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must be finite and within [0, 1]")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("outcomes must be 0 or 1 (1: the forward return was positive)")
    return p, y


def directional_accuracy(probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> float:
    """Return the share of right direction calls; an abstention (p = 0.5) counts as half right.

    Counting abstentions as half a hit (as ties are in the area under the ROC curve) keeps
    a forecaster that always abstains at exactly 50 %, the score of a coin, and makes the
    accuracy of models that abstain at different rates comparable. NaN when empty.
    """
    p, y = _prob_outcome(probs, outcomes)
    if not p.shape[0]:
        return float("nan")
    flat = np.abs(p - 0.5) <= ABSTAIN_TOLERANCE
    right = (p > 0.5) == (y == 1)
    return float(np.mean(np.where(flat, 0.5, right.astype(np.float64))))


def brier(probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> float:
    """Return the mean squared error of the probabilities against the 0/1 outcomes."""
    p, y = _prob_outcome(probs, outcomes)
    return float(np.mean((p - y) ** 2)) if p.shape[0] else float("nan")


def log_loss(probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> float:
    """Return the mean negative log-likelihood (natural log); ln 2 for a coin."""
    p, y = _prob_outcome(probs, outcomes)
    if not p.shape[0]:
        return float("nan")
    q = np.clip(p, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log1p(-q)))


def climatology_brier(outcomes: npt.ArrayLike, base_rate: npt.ArrayLike | float) -> float:
    """Return the Brier score of always forecasting the base rate of up moves.

    ``base_rate`` is the share of up moves in the training data: one number, or one per
    outcome when the outcomes pool several folds each with its own training set. A model
    without an edge cannot beat this score out of sample.
    """
    y = np.asarray(outcomes, dtype=np.float64)
    rate = np.broadcast_to(np.asarray(base_rate, dtype=np.float64), y.shape)
    return brier(rate, y)


def reliability(
    probs: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    bins: int = DEFAULT_ECE_BINS,
    *,
    strategy: BinStrategy = "uniform",
) -> pd.DataFrame:
    """Return the reliability table: per bin of forecast probability, how often it came true.

    Columns: ``low``, ``high`` (the bin's edges), ``count``, ``mean_prob`` (mean forecast),
    ``frequency`` (observed share of up moves) and ``gap`` (``|mean_prob - frequency|``).
    ``strategy`` is ``"uniform"`` (equal-width bins over [0, 1]) or ``"quantile"`` (bins of
    equal count, better when forecasts crowd near 0.5). Empty bins are left out.
    """
    p, y = _prob_outcome(probs, outcomes)
    _check_int("bins", bins, 1)
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    edges: FloatArray = np.linspace(0.0, 1.0, bins + 1)
    if strategy == "quantile" and p.size:
        # Tied forecasts can share a quantile: merge those bins.
        edges = np.unique(np.quantile(p, edges))
    # Right-closed on the last bin so p = 1 (or the largest quantile) is counted.
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in range(max(len(edges) - 1, 1)):
        held = which == b
        count = int(held.sum())
        if not count:
            continue
        mean_prob = float(p[held].mean())
        frequency = float(y[held].mean())
        rows.append(
            (float(edges[b]), float(edges[min(b + 1, len(edges) - 1)]), count, mean_prob, frequency)
        )
    table = pd.DataFrame(rows, columns=["low", "high", "count", "mean_prob", "frequency"])
    table["gap"] = (table["mean_prob"] - table["frequency"]).abs()
    return table


def ece(
    probs: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    bins: int = DEFAULT_ECE_BINS,
    *,
    strategy: BinStrategy = "uniform",
) -> float:
    """Return the expected calibration error: the count-weighted mean gap of :func:`reliability`.

    Even a perfectly calibrated forecaster shows an ECE of about ``0.8 * sqrt(p(1-p)/m)`` from
    sampling noise alone, ``m`` being the points per bin: judge it against that floor.
    """
    table = reliability(probs, outcomes, bins, strategy=strategy)
    total = int(table["count"].sum())
    if not total:
        return float("nan")
    return float((table["count"] * table["gap"]).sum() / total)


@dataclass(frozen=True, slots=True)
class Scorecard:
    """How good a set of out-of-sample probability forecasts was.

    ``accuracy`` counts abstentions as half right (see :func:`directional_accuracy`);
    ``hit_rate`` is the accuracy over the calls only (NaN without calls) and ``coverage`` the
    share of forecasts that made a call. ``ic`` is the rank correlation of the forecast
    probability with the realised forward return. ``climatology_brier`` is the Brier score of
    forecasting the training base rate on the same points; ``base_rate`` is the observed share
    of up moves among them.
    """

    n: int
    accuracy: float
    hit_rate: float
    coverage: float
    brier: float
    log_loss: float
    ece: float
    ic: InformationCoefficient
    climatology_brier: float
    base_rate: float

    @property
    def brier_skill(self) -> float:
        """Return 1 - brier / climatology_brier: above 0 beats the base rate, 0 ties it."""
        if not self.climatology_brier > 0:
            return float("nan")
        return 1.0 - self.brier / self.climatology_brier

    def as_dict(self) -> dict[str, float]:
        """Return the scores as one flat mapping (the IC as ``ic``, ``ic_low``, ``ic_high``)."""
        return {
            "n": float(self.n),
            "accuracy": self.accuracy,
            "hit_rate": self.hit_rate,
            "coverage": self.coverage,
            "brier": self.brier,
            "log_loss": self.log_loss,
            "ece": self.ece,
            "ic": self.ic.ic,
            "ic_low": self.ic.low,
            "ic_high": self.ic.high,
            "ic_p_value": self.ic.p_value,
            "climatology_brier": self.climatology_brier,
            "brier_skill": self.brier_skill,
            "base_rate": self.base_rate,
        }


def scorecard(
    probs: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    forward_returns: npt.ArrayLike,
    base_rate: npt.ArrayLike | float,
    *,
    bins: int = DEFAULT_ECE_BINS,
) -> Scorecard:
    """Score probabilities of an up move against outcomes and the realised forward returns.

    ``base_rate`` is the training share of up moves behind :func:`climatology_brier` (one
    number, or one per point).
    """
    p, y = _prob_outcome(probs, outcomes)
    r = np.asarray(forward_returns, dtype=np.float64)
    if r.shape != p.shape:
        raise ValueError("forward_returns must have the shape of probs")
    n = int(p.shape[0])
    called = np.abs(p - 0.5) > ABSTAIN_TOLERANCE
    hit_rate = float(np.mean((p[called] > 0.5) == (y[called] == 1))) if called.any() else math.nan
    return Scorecard(
        n=n,
        accuracy=directional_accuracy(p, y),
        hit_rate=hit_rate,
        coverage=float(called.mean()) if n else math.nan,
        brier=brier(p, y),
        log_loss=log_loss(p, y),
        ece=ece(p, y, bins) if n else math.nan,
        ic=information_coefficient(p, r),
        climatology_brier=climatology_brier(y, base_rate) if n else math.nan,
        base_rate=float(y.mean()) if n else math.nan,
    )


# -- calibration ------------------------------------------------------------------------------


class Calibrator(Protocol):
    """Maps raw probabilities of an up move to calibrated ones; fitted on held-out data."""

    method: str

    def transform(self, probs: npt.ArrayLike) -> FloatArray: ...


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    out: FloatArray = np.log(q) - np.log1p(-q)
    return out


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


class IdentityCalibrator:
    """Leaves probabilities as they are (no data, or no spread to map)."""

    method = "identity"

    def transform(self, probs: npt.ArrayLike) -> FloatArray:
        return np.asarray(probs, dtype=np.float64).copy()


class PlattCalibrator:
    """Platt scaling: ``sigmoid(a * logit(p) + b)``, fitted by maximum likelihood.

    Follows Platt (1999): the targets are smoothed to ``(N+ + 1) / (N+ + 2)`` and
    ``1 / (N- + 2)``, which keeps the fit finite when the slice is small or one-sided.
    Identity (``a = 1, b = 0``) before fitting. Two parameters: safe on a few hundred points.
    """

    method = "platt"

    def __init__(self) -> None:
        self.a = 1.0
        self.b = 0.0

    def fit(self, probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> PlattCalibrator:
        p, y = _prob_outcome(probs, outcomes)
        if not p.shape[0]:
            return self
        z = _logit(p)
        n_up = float(y.sum())
        n_down = float(y.shape[0]) - n_up
        t = np.where(y == 1, (n_up + 1.0) / (n_up + 2.0), 1.0 / (n_down + 2.0))

        def loss(theta: FloatArray) -> tuple[float, FloatArray]:
            s = theta[0] * z + theta[1]
            # -[t log sigmoid(s) + (1 - t) log(1 - sigmoid(s))] = logaddexp(0, s) - t s
            value = float(np.sum(np.logaddexp(0.0, s) - t * s))
            err = _sigmoid(s) - t
            return value, np.array([float(err @ z), float(err.sum())])

        start = np.array([1.0, 0.0])
        result = optimize.minimize(loss, start, jac=True, method="BFGS")
        a, b = (float(v) for v in result.x)
        if math.isfinite(a) and math.isfinite(b):
            self.a, self.b = a, b
        return self

    def transform(self, probs: npt.ArrayLike) -> FloatArray:
        p = np.asarray(probs, dtype=np.float64)
        out: FloatArray = np.clip(
            _sigmoid(self.a * _logit(p) + self.b), CALIBRATED_MIN, 1.0 - CALIBRATED_MIN
        )
        return out


class IsotonicCalibrator:
    """Isotonic regression: the best non-decreasing map from raw to observed frequency.

    Free-form, so it needs many points (:data:`ISOTONIC_MIN_SAMPLES`); inputs beyond the
    fitted range take the end values. Identity before fitting.
    """

    method = "isotonic"

    def __init__(self) -> None:
        self._model: IsotonicRegression | None = None

    def fit(self, probs: npt.ArrayLike, outcomes: npt.ArrayLike) -> IsotonicCalibrator:
        p, y = _prob_outcome(probs, outcomes)
        if p.shape[0]:
            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            model.fit(p, y)
            self._model = model
        return self

    def transform(self, probs: npt.ArrayLike) -> FloatArray:
        p = np.asarray(probs, dtype=np.float64)
        if self._model is None:
            return p.copy()
        out: FloatArray = np.clip(
            np.asarray(self._model.predict(p), dtype=np.float64),
            CALIBRATED_MIN,
            1.0 - CALIBRATED_MIN,
        )
        return out


def calibrate(
    probs: npt.ArrayLike, outcomes: npt.ArrayLike, method: CalibrationMethod = "auto"
) -> Calibrator:
    """Fit a calibrator on held-out raw probabilities and their outcomes.

    The rule for ``method="auto"``: no points, or raw probabilities without spread (a constant
    forecaster such as :class:`AlwaysFlat` or :class:`Drift` has nothing to map), give the
    identity; :data:`ISOTONIC_MIN_SAMPLES` points or more with both outcomes present give
    isotonic regression; anything else gets Platt scaling. An explicit ``method`` is honoured,
    except that an empty slice always gives the identity.
    """
    p, y = _prob_outcome(probs, outcomes)
    if method not in ("auto", "platt", "isotonic", "identity"):
        raise ValueError(f"unknown calibration method {method!r}")
    if method == "identity" or not p.shape[0]:
        return IdentityCalibrator()
    if method == "platt":
        return PlattCalibrator().fit(p, y)
    if method == "isotonic":
        return IsotonicCalibrator().fit(p, y)
    if np.ptp(p) <= ABSTAIN_TOLERANCE:
        return IdentityCalibrator()
    both = 0 < y.sum() < y.shape[0]
    if p.shape[0] >= ISOTONIC_MIN_SAMPLES and both:
        return IsotonicCalibrator().fit(p, y)
    return PlattCalibrator().fit(p, y)


# -- models -----------------------------------------------------------------------------------


class ProbabilisticModel(Protocol):
    """A direction forecaster: fit on features and forward returns, then forecast.

    ``X`` has one row per bar of features known at that bar; ``y_up`` says whether the forward
    return over the horizon was positive and ``y_ret`` is that return.
    """

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None: ...

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row."""
        ...

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return the expected forward return per row."""
        ...


ModelFactory = Callable[[int], ProbabilisticModel]
"""Builds a fresh, unfitted model from a seed (the model classes here are factories)."""


def _sizes(y_up: BoolArray, y_ret: FloatArray) -> tuple[float, float]:
    """Return the mean training return of up moves and of the others (0 without any)."""
    up = y_ret[y_up]
    down = y_ret[~y_up]
    return (float(up.mean()) if up.size else 0.0, float(down.mean()) if down.size else 0.0)


class AlwaysFlat:
    """Baseline: no view, ever. P(up) = 0.5 and expected return 0, so it always abstains."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        return None

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        return np.full(len(X), 0.5)

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        return np.zeros(len(X))


class Drift:
    """Baseline: the market drifts as it did. P(up) = training share of up moves, for every bar;
    expected return = the training mean."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rate = 0.5
        self.mean = 0.0

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        if y_up.size:
            self.rate = float(np.mean(y_up))
            self.mean = float(np.mean(y_ret))

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        return np.full(len(X), self.rate)

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        return np.full(len(X), self.mean)


class PreviousDirection:
    """Baseline: the next move repeats the last one, as often as it did in training.

    ``persistence`` is the training share of bars whose forward return had the sign of the
    last return (the feature ``column``, default the first). P(up) is ``persistence`` after an
    up move and ``1 - persistence`` after a down move; after a zero return, the training
    base rate. The expected return is the training mean forward return after a move of the
    same sign.
    """

    def __init__(self, seed: int = 0, *, column: str | None = None) -> None:
        self.seed = seed
        self.column = column
        self.persistence = 0.5
        self.rate = 0.5
        self.mean_after = {1: 0.0, -1: 0.0, 0: 0.0}

    def _last(self, X: pd.DataFrame) -> FloatArray:
        column = X.columns[0] if self.column is None else self.column
        return np.sign(np.asarray(X[column], dtype=np.float64))

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        last = self._last(X)
        moved = last != 0
        if moved.any():
            self.persistence = float(np.mean((last[moved] > 0) == y_up[moved]))
        if y_up.size:
            self.rate = float(np.mean(y_up))
            self.mean_after[0] = float(np.mean(y_ret))
        for sign in (1, -1):
            held = last == sign
            self.mean_after[sign] = float(np.mean(y_ret[held])) if held.any() else 0.0

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        last = self._last(X)
        out: FloatArray = np.where(
            last > 0, self.persistence, np.where(last < 0, 1.0 - self.persistence, self.rate)
        )
        return out

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        last = self._last(X)
        out: FloatArray = np.where(
            last > 0,
            self.mean_after[1],
            np.where(last < 0, self.mean_after[-1], self.mean_after[0]),
        )
        return out


class LogisticModel:
    """Logistic regression of the up move on standardised features (L2 penalty ``C``).

    The expected return mixes the training mean of up moves and of the others by the
    forecast probability, ``p * mean_up + (1 - p) * mean_down``: the size of a move is taken
    as unrelated to the features once its sign is known. With one class only in training it
    forecasts the (smoothed) base rate.
    """

    def __init__(self, seed: int = 0, *, C: float = 1.0, max_iter: int = 1_000) -> None:
        self.seed = seed
        self.C = C
        self.max_iter = max_iter
        self._pipeline: Any = None
        self.rate = 0.5
        self.mean_up = 0.0
        self.mean_down = 0.0

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        x = np.asarray(X, dtype=np.float64)
        y = np.asarray(y_up, dtype=bool)
        self.mean_up, self.mean_down = _sizes(y, np.asarray(y_ret, dtype=np.float64))
        self.rate = (float(y.sum()) + 1.0) / (y.shape[0] + 2.0)
        self._pipeline = None
        if 0 < y.sum() < y.shape[0]:
            pipeline = make_pipeline(
                StandardScaler(),
                LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.seed),
            )
            pipeline.fit(x, y)
            self._pipeline = pipeline

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        if self._pipeline is None:
            return np.full(len(X), self.rate)
        x = np.asarray(X, dtype=np.float64)
        proba = self._pipeline.predict_proba(x)
        return np.asarray(proba[:, 1], dtype=np.float64)

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        p = self.predict_proba(X)
        out: FloatArray = p * self.mean_up + (1.0 - p) * self.mean_down
        return out


BASELINES: Mapping[str, ModelFactory] = {
    "always_flat": AlwaysFlat,
    "previous_direction": PreviousDirection,
    "drift": Drift,
}
"""The naive baselines, by name, as factories for :func:`walk_forward_evaluate`."""


# -- the walk-forward run ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Out-of-fold forecasts of every model and how good they were.

    ``probabilities`` and ``expected_returns`` are indexed like the features, one column per
    model, NaN on bars no fold tested (or without a finite label and features). ``fold`` is the
    fold that tested each bar (-1 for none) and ``climatology`` that fold's training base rate.
    ``scorecards`` pool every tested bar; ``fold_scorecards`` hold one per fold (in fold
    order); ``calibration`` names the calibrator each fold used per model.
    """

    probabilities: pd.DataFrame
    expected_returns: pd.DataFrame
    outcomes: pd.Series
    forward_returns: pd.Series
    fold: pd.Series
    climatology: pd.Series
    splits: tuple[Split, ...]
    scorecards: Mapping[str, Scorecard]
    fold_scorecards: Mapping[str, tuple[Scorecard, ...]]
    calibration: Mapping[str, tuple[str, ...]]

    @property
    def tested(self) -> pd.Series:
        """Return a boolean Series: the bars with an out-of-fold forecast."""
        return self.fold >= 0

    def score(self, probs: pd.Series | npt.ArrayLike) -> Scorecard:
        """Score another forecast (a consensus, say) on the tested bars, the same way.

        A Series is aligned on the report's index, anything else taken in its order; the
        forecast must be a probability on every tested bar.
        """
        if isinstance(probs, pd.Series):
            values = probs.reindex(self.fold.index).to_numpy(dtype=np.float64)
        else:
            values = np.asarray(probs, dtype=np.float64)
        if values.shape != (len(self.fold),):
            raise ValueError(f"expected {len(self.fold)} forecasts, got shape {values.shape}")
        held = self.tested.to_numpy()
        return scorecard(
            values[held],
            self.outcomes.to_numpy()[held],
            self.forward_returns.to_numpy()[held],
            self.climatology.to_numpy()[held],
        )

    def summary(self) -> pd.DataFrame:
        """Return the pooled scorecards as a table, one row per model."""
        return pd.DataFrame({name: card.as_dict() for name, card in self.scorecards.items()}).T


def fold_seed(seed: int, fold: int, name: str) -> int:
    """Return the seed a model gets in a fold: fixed by the run's seed, the fold and the name.

    Independent of the other models in the run and of their order.
    """
    sequence = np.random.SeedSequence([seed, fold, zlib.crc32(name.encode())])
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def walk_forward_evaluate(
    X: pd.DataFrame,
    y_ret: pd.Series,
    models: Mapping[str, ModelFactory],
    *,
    horizon: int,
    n_splits: int,
    embargo: int = 0,
    seed: int = 0,
    min_train: int = DEFAULT_MIN_TRAIN,
    expanding: bool = True,
    calibration_fraction: float = DEFAULT_CALIBRATION_FRACTION,
    calibration: CalibrationMethod = "auto",
) -> EvaluationReport:
    """Train, calibrate and test every model through :func:`purged_walk_forward` folds.

    ``X`` holds the features known at each bar, ``y_ret`` (same index) the forward return
    from that bar over ``horizon`` bars, NaN where unknown. Bars with a non-finite label or
    feature take no part but keep their place in time, so purging and embargo still count
    bars. Per fold and model: a fresh model from its factory (seed from :func:`fold_seed`),
    fitted on the training bars; a calibrator (:func:`calibrate` with ``calibration``) fitted
    on its raw forecasts for the calibration slice; the calibrated forecast of the test block.
    The climatology of a fold is the share of up moves among its training bars.
    """
    if not isinstance(X, pd.DataFrame) or not isinstance(y_ret, pd.Series):
        raise ValueError("X must be a DataFrame and y_ret a Series")
    if not X.index.equals(y_ret.index):
        raise ValueError("X and y_ret must share one index")
    if not models:
        raise ValueError("no models to evaluate")
    _check_int("seed", seed, 0)
    n = len(X)
    features = X.to_numpy(dtype=np.float64)
    returns = y_ret.to_numpy(dtype=np.float64)
    valid = np.isfinite(returns) & np.isfinite(features).all(axis=1)
    up = returns > 0
    splits = purged_walk_forward(
        n,
        n_splits=n_splits,
        horizon=horizon,
        embargo=embargo,
        min_train=min_train,
        expanding=expanding,
        calibration_fraction=calibration_fraction,
    )
    names = list(models)
    probs = np.full((n, len(names)), np.nan)
    expected = np.full((n, len(names)), np.nan)
    fold_of = np.full(n, -1, dtype=np.int64)
    climate = np.full(n, np.nan)
    methods: dict[str, list[str]] = {name: [] for name in names}
    for k, split in enumerate(splits):
        train = split.train[valid[split.train]]
        cal = split.calibrate[valid[split.calibrate]]
        test = split.test[valid[split.test]]
        if not train.shape[0]:
            raise ValueError(f"fold {k} has no training bar with a finite label and features")
        fold_of[test] = k
        climate[test] = float(up[train].mean())
        x_train, x_cal, x_test = X.iloc[train], X.iloc[cal], X.iloc[test]
        for j, name in enumerate(names):
            model = models[name](fold_seed(seed, k, name))
            model.fit(x_train, up[train], returns[train])
            raw_cal = _forecast(model, x_cal, name)
            calibrator = calibrate(raw_cal, up[cal], calibration)
            methods[name].append(calibrator.method)
            if test.shape[0]:
                probs[test, j] = calibrator.transform(_forecast(model, x_test, name))
                expected[test, j] = _expected(model, x_test, name)

    columns = pd.Index(names)
    outcomes = pd.Series(np.where(valid, up.astype(np.float64), np.nan), index=X.index)
    report_probs = pd.DataFrame(probs, index=X.index, columns=columns)
    tested = fold_of >= 0
    pooled = {
        name: scorecard(probs[tested, j], up[tested], returns[tested], climate[tested])
        for j, name in enumerate(names)
    }
    per_fold: dict[str, tuple[Scorecard, ...]] = {}
    for j, name in enumerate(names):
        cards = []
        for k in range(len(splits)):
            held = fold_of == k
            cards.append(scorecard(probs[held, j], up[held], returns[held], climate[held]))
        per_fold[name] = tuple(cards)
    return EvaluationReport(
        probabilities=report_probs,
        expected_returns=pd.DataFrame(expected, index=X.index, columns=columns),
        outcomes=outcomes,
        forward_returns=pd.Series(np.where(valid, returns, np.nan), index=X.index),
        fold=pd.Series(fold_of, index=X.index),
        climatology=pd.Series(climate, index=X.index),
        splits=tuple(splits),
        scorecards=pooled,
        fold_scorecards=per_fold,
        calibration={name: tuple(m) for name, m in methods.items()},
    )


def _forecast(model: ProbabilisticModel, X: pd.DataFrame, name: str) -> FloatArray:
    """Return the model's P(up) for the rows of ``X`` (none asked for no rows), checked."""
    if not len(X):
        return np.empty(0)
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    if p.shape != (len(X),):
        raise ValueError(f"model {name!r} returned {p.shape} probabilities for {len(X)} rows")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"model {name!r} returned probabilities outside [0, 1]")
    return p


def _expected(model: ProbabilisticModel, X: pd.DataFrame, name: str) -> FloatArray:
    r = np.asarray(model.predict_return(X), dtype=np.float64)
    if r.shape != (len(X),):
        raise ValueError(f"model {name!r} returned {r.shape} expected returns for {len(X)} rows")
    return r
