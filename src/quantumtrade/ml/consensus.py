"""The consensus of the forecasters, and the trading decision it supports.

**Combination.** :class:`Consensus` stacks the models' out-of-fold *calibrated* probabilities
(Wolpert's stacked generalisation): a logistic regression of the up move on the logits of the
models' probabilities,

    P(up) = sigmoid(b + sum_i w_i * logit(p_i)),   w_i >= 0,

fitted by maximum likelihood with an L2 penalty ``penalty / 2 * sum w_i^2`` on the weights
(a unit Gaussian prior for the default ``STACK_PENALTY``) and the intercept ``b`` free. The
weights are constrained non-negative, as in Breiman's stacked regressions: the inputs are
calibrated forecasts of the same event, so a negative weight can only be an artefact of noise
or of two models saying the same thing, and it would make the consensus bet against a model.
A model without skill gets a weight at or near 0; a single calibrated model with skill gets
about 1. ``method="skill"`` instead derives the weights from each model's measured Brier
skill score against climatology on the same rows, ``w_i = max(BSS_i, 0)``, and pools the
logits as ``sum w_i logit(p_i) / sum w_i`` (no view, 0.5, when no model has skill): fewer
parameters, for short track records.

Only models with a demonstrated edge take part (``gate=True``, the default): on the rows
the consensus is fitted on, a model needs a positive Brier skill score against climatology
*and* a positive information coefficient significant at ``GATE_P_VALUE`` (two-sided); the
others get weight 0. Stacking eight inputs on a few hundred rows otherwise lets a skill-less
model, whose calibrated logits are noise, win a sizeable weight by chance; at this level each
such model slips through about 0.5 % of the time. With every weight 0 the consensus has no
view: P(up) = 0.5.

The stacker must itself be fitted on forecasts it is not then judged on:
:func:`walk_forward_consensus` fits it for each walk-forward fold on the out-of-fold forecasts
of the earlier folds only (purged by the horizon), and has no view (0.5) before
``MIN_STACK_ROWS`` such forecasts exist.

**Decision.** From the consensus probability ``p`` and the typical sizes of up and down moves
over the horizon seen in the stacking data (``win``: mean positive forward return, ``loss``:
mean magnitude of the others), :meth:`Consensus.decide`:

- expected return ``p * win - (1 - p) * loss``; the *edge* of a trade is its expected return
  (negated for a short) minus the round-trip ``cost``; the decision is ``hold`` when the better
  side's edge is below ``threshold``, and always when no model carries weight (no view: the
  sizes of past moves alone are not a forecast);
- size: fractional Kelly, ``kelly_fraction * (q * b - (1 - q)) / b`` with ``q`` the probability
  the trade's side wins and ``b`` the payoff ratio net of cost (``(win - cost) / (loss + cost)``
  for a buy, the inverse roles for a sell), capped at ``max_position_fraction`` of equity; with
  these payoffs the Kelly fraction is positive exactly when the edge is;
- stop ``STOP_ATR`` and target ``TARGET_ATR`` average true ranges from the price (below and
  above for a buy, mirrored for a sell): 2 ATR sits outside a day's ordinary range, and a
  1.5 : 1 reward-to-risk target is the common default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from quantumtrade.ml.evaluation import EvaluationReport, scorecard

FloatArray = npt.NDArray[np.float64]
Action = Literal["buy", "sell", "hold"]
Method = Literal["stack", "skill"]

STACK_PENALTY = 1.0
GATE_P_VALUE = 0.01
MIN_STACK_ROWS = 100  # out-of-fold forecasts needed before the consensus takes a view
STOP_ATR = 2.0
TARGET_ATR = 3.0
DEFAULT_COST = 0.001  # round trip: 10 basis points of commission, spread and slippage
DEFAULT_THRESHOLD = 0.0
DEFAULT_KELLY_FRACTION = 0.25  # quarter Kelly: most of the growth, a fraction of the swings
DEFAULT_MAX_POSITION_FRACTION = 0.10
LOGIT_EPS = 1e-6


def _logit(p: npt.ArrayLike) -> FloatArray:
    q = np.clip(np.asarray(p, dtype=np.float64), LOGIT_EPS, 1.0 - LOGIT_EPS)
    out: FloatArray = np.log(q) - np.log1p(-q)
    return out


def _sigmoid(z: npt.ArrayLike) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))
    return out


@dataclass(frozen=True, slots=True)
class Vote:
    """One model's say in a decision: its P(up), expected return, stacking weight and record."""

    model: str
    probability_up: float
    expected_return: float
    weight: float
    track_record: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do at a bar, and why.

    ``confidence`` is the calibrated probability that the chosen side wins (``max(p, 1 - p)``
    on a hold); ``expected_return`` the expected forward return of the instrument over
    ``horizon`` bars, from the consensus probability and the fitted move sizes (each model's
    own estimate is in its vote); ``edge`` the better side's expected return net of cost;
    ``size_fraction`` the share of equity to commit (0 on a hold); ``stop``/``target`` the
    exit prices (None on a hold).
    """

    action: Action
    probability_up: float
    confidence: float
    expected_return: float
    edge: float
    horizon: int
    size_fraction: float
    stop: float | None
    target: float | None
    votes: tuple[Vote, ...]


class Consensus:
    """Stacked combination of calibrated model probabilities (see the module docstring)."""

    def __init__(
        self,
        *,
        horizon: int = 1,
        method: Method = "stack",
        penalty: float = STACK_PENALTY,
        gate: bool = True,
    ) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        if method not in ("stack", "skill"):
            raise ValueError(f"method must be 'stack' or 'skill', got {method!r}")
        if not penalty >= 0:
            raise ValueError(f"penalty must be non-negative, got {penalty}")
        self.horizon = horizon
        self.method: Method = method
        self.penalty = penalty
        self.gate = gate
        self.weights: dict[str, float] = {}
        self.intercept = 0.0
        self.win = 0.0
        self.loss = 0.0
        self.track_records: dict[str, dict[str, float]] = {}

    @classmethod
    def from_weights(
        cls,
        weights: Mapping[str, float],
        *,
        win: float,
        loss: float,
        intercept: float = 0.0,
        horizon: int = 1,
        track_records: Mapping[str, Mapping[str, float]] | None = None,
    ) -> Consensus:
        """Build a stacked consensus with given weights and move sizes (no fitting)."""
        if any(w < 0 or not math.isfinite(w) for w in weights.values()):
            raise ValueError("weights must be finite and non-negative")
        consensus = cls(horizon=horizon)
        consensus.weights = {str(k): float(v) for k, v in weights.items()}
        consensus.intercept, consensus.win, consensus.loss = float(intercept), win, loss
        consensus.track_records = {k: dict(v) for k, v in (track_records or {}).items()}
        return consensus

    def fit(
        self,
        probabilities: pd.DataFrame,
        outcomes: pd.Series | npt.ArrayLike,
        forward_returns: pd.Series | npt.ArrayLike,
        *,
        climatology: pd.Series | npt.ArrayLike | None = None,
    ) -> Consensus:
        """Fit on out-of-fold calibrated probabilities (one column per model) and outcomes.

        Rows with a missing probability or outcome are skipped. ``climatology`` is the base
        rate each forecast was up against (default: the share of up moves in these rows); it
        enters the models' track records, the gate and the skill weights.
        """
        p = probabilities.to_numpy(dtype=np.float64, na_value=np.nan)
        y = np.asarray(outcomes, dtype=np.float64)
        r = np.asarray(forward_returns, dtype=np.float64)
        keep = np.isfinite(p).all(axis=1) & np.isfinite(y) & np.isfinite(r)
        p, y, r = p[keep], y[keep], r[keep]
        if not y.shape[0]:
            raise ValueError("no row with every probability and an outcome to fit on")
        base = (
            np.full(y.shape[0], y.mean())
            if climatology is None
            else np.asarray(climatology, dtype=np.float64)[keep]
        )
        names = [str(c) for c in probabilities.columns]
        ups, downs = r[r > 0], r[r <= 0]
        self.win = float(ups.mean()) if ups.size else 0.0
        self.loss = float(-downs.mean()) if downs.size else 0.0
        cards = {name: scorecard(p[:, j], y, r, base) for j, name in enumerate(names)}
        self.track_records = {name: card.as_dict() for name, card in cards.items()}
        skill = {name: card.brier_skill for name, card in cards.items()}
        eligible = [
            j
            for j, name in enumerate(names)
            if not self.gate
            or (skill[name] > 0 and cards[name].ic.ic > 0 and cards[name].ic.p_value < GATE_P_VALUE)
        ]
        self.weights = dict.fromkeys(names, 0.0)
        self.intercept = 0.0
        if self.method == "skill":
            for j in eligible:
                s = skill[names[j]]
                self.weights[names[j]] = max(s, 0.0) if math.isfinite(s) else 0.0
        elif eligible:
            self.intercept, w = _stack(_logit(p[:, eligible]), y, self.penalty)
            for j, v in zip(eligible, w, strict=True):
                self.weights[names[j]] = float(v)
        return self

    def fit_report(self, report: EvaluationReport, rows: npt.ArrayLike | None = None) -> Consensus:
        """Fit on a walk-forward report's out-of-fold forecasts (``rows``: a mask of its bars)."""
        held = report.tested.to_numpy()
        if rows is not None:
            held = held & np.asarray(rows, dtype=bool)
        return self.fit(
            report.probabilities[held],
            report.outcomes.to_numpy()[held],
            report.forward_returns.to_numpy()[held],
            climatology=report.climatology.to_numpy()[held],
        )

    def _combine(self, z: FloatArray, names: list[str]) -> FloatArray:
        w = np.array([self.weights.get(n, 0.0) for n in names], dtype=np.float64)
        total = w.sum()
        if total <= 0:
            return np.full(z.shape[0], 0.5)
        if self.method == "skill":
            return _sigmoid(z @ w / total)
        return _sigmoid(self.intercept + z @ w)

    def predict_proba(self, probabilities: pd.DataFrame) -> FloatArray:
        """Return the consensus P(up) per row of a frame of model probabilities."""
        missing = [n for n in self.weights if n not in probabilities.columns]
        if missing:
            raise ValueError(f"no probabilities for the models {missing}")
        names = list(self.weights)
        return self._combine(_logit(probabilities[names].to_numpy(dtype=np.float64)), names)

    def probability(self, probs: Mapping[str, float]) -> float:
        """Return the consensus P(up) for one bar's model probabilities."""
        missing = [n for n in self.weights if n not in probs]
        if missing:
            raise ValueError(f"no probabilities for the models {missing}")
        names = list(self.weights)
        z = _logit(np.array([[probs[n] for n in names]], dtype=np.float64))
        return float(self._combine(z, names)[0])

    def expected_return(self, p: npt.ArrayLike) -> FloatArray:
        """Return ``p * win - (1 - p) * loss``, the expected forward return at P(up) ``p``."""
        q = np.asarray(p, dtype=np.float64)
        out: FloatArray = q * self.win - (1.0 - q) * self.loss
        return out

    def decide(
        self,
        probs: Mapping[str, float],
        expected_returns: Mapping[str, float] | None = None,
        *,
        atr: float,
        price: float,
        cost: float = DEFAULT_COST,
        threshold: float = DEFAULT_THRESHOLD,
        kelly_fraction: float = DEFAULT_KELLY_FRACTION,
        max_position_fraction: float = DEFAULT_MAX_POSITION_FRACTION,
        track_records: Mapping[str, Mapping[str, float]] | None = None,
    ) -> Decision:
        """Decide buy, sell or hold from the models' calibrated probabilities at one bar.

        ``expected_returns`` (per model) and ``track_records`` (per model, a scorecard as a
        flat mapping; default: the record measured when fitting) go into the votes.
        """
        if not (price > 0 and math.isfinite(price)) or not (atr >= 0 and math.isfinite(atr)):
            raise ValueError("price must be positive and atr non-negative, both finite")
        if not cost >= 0 or not 0 <= kelly_fraction <= 1 or not 0 <= max_position_fraction <= 1:
            raise ValueError("cost must be >= 0; kelly and position fractions within [0, 1]")
        p = self.probability(probs)
        expected = float(self.expected_return(p))
        win, loss = self.win - cost, self.loss + cost
        long_edge = p * self.win - (1.0 - p) * self.loss - cost
        short_edge = (1.0 - p) * self.loss - p * self.win - cost
        buy = long_edge >= short_edge
        edge = long_edge if buy else short_edge
        q = p if buy else 1.0 - p
        b = win / loss if buy else (self.loss - cost) / (self.win + cost)
        kelly = (q * b - (1.0 - q)) / b if b > 0 else 0.0
        records = self.track_records if track_records is None else track_records
        returns = expected_returns or {}
        votes = tuple(
            Vote(
                model=name,
                probability_up=float(probs[name]),
                expected_return=float(returns.get(name, math.nan)),
                weight=self.weights.get(name, 0.0),
                track_record=dict(records.get(name, {})),
            )
            for name in probs
        )
        no_view = not any(w > 0 for w in self.weights.values())
        if no_view or edge < threshold or kelly <= 0:
            return Decision(
                "hold", p, max(p, 1.0 - p), expected, edge, self.horizon, 0.0, None, None, votes
            )
        size = min(kelly_fraction * kelly, max_position_fraction)
        sign = 1.0 if buy else -1.0
        return Decision(
            action="buy" if buy else "sell",
            probability_up=p,
            confidence=q,
            expected_return=expected,
            edge=edge,
            horizon=self.horizon,
            size_fraction=size,
            stop=price - sign * STOP_ATR * atr,
            target=price + sign * TARGET_ATR * atr,
            votes=votes,
        )


def _stack(z: FloatArray, y: FloatArray, penalty: float) -> tuple[float, FloatArray]:
    """Fit ``sigmoid(b + z @ w)`` to ``y`` with ``w >= 0`` and an L2 penalty on ``w``."""
    m = z.shape[1]

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        s = theta[0] + z @ theta[1:]
        w = theta[1:]
        value = float(np.sum(np.logaddexp(0.0, s) - y * s) + 0.5 * penalty * (w @ w))
        err = _sigmoid(s) - y
        grad = np.concatenate(([err.sum()], z.T @ err + penalty * w))
        return value, grad

    bounds = [(None, None)] + [(0.0, None)] * m
    result = optimize.minimize(loss, np.zeros(m + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    theta = np.asarray(result.x, dtype=np.float64)
    return float(theta[0]), np.maximum(theta[1:], 0.0)


@dataclass(frozen=True, eq=False)
class ConsensusForecast:
    """Out-of-sample consensus forecasts: P(up) and expected return per bar (NaN untested).

    ``fits`` holds the consensus fitted for each fold (None: too short a track record, and
    the fold's forecasts are 0.5 with expected return 0).
    """

    probabilities: pd.Series
    expected_returns: pd.Series
    fits: tuple[Consensus | None, ...]


def walk_forward_consensus(
    report: EvaluationReport,
    *,
    horizon: int,
    method: Method = "stack",
    penalty: float = STACK_PENALTY,
    min_rows: int = MIN_STACK_ROWS,
) -> ConsensusForecast:
    """Forecast every tested bar with a consensus fitted on earlier folds' forecasts only.

    For the fold starting at bar position ``t0`` the stacker sees the out-of-fold forecasts of
    bars ``i`` with ``i + horizon < t0`` (their outcome was known before the fold began).
    """
    n = len(report.fold)
    positions = np.arange(n)
    tested = report.tested.to_numpy()
    fold = report.fold.to_numpy()
    probs = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    fits: list[Consensus | None] = []
    for k, split in enumerate(report.splits):
        t0 = int(split.test[0])
        rows = tested & (positions + horizon < t0)
        held = fold == k
        consensus: Consensus | None = None
        if int(rows.sum()) >= min_rows:
            consensus = Consensus(horizon=horizon, method=method, penalty=penalty)
            consensus.fit_report(report, rows)
        fits.append(consensus)
        if consensus is None:
            probs[held], expected[held] = 0.5, 0.0
        else:
            p = consensus.predict_proba(report.probabilities[held])
            probs[held], expected[held] = p, consensus.expected_return(p)
    index = report.fold.index
    return ConsensusForecast(
        probabilities=pd.Series(probs, index=index, name="consensus"),
        expected_returns=pd.Series(expected, index=index, name="consensus"),
        fits=tuple(fits),
    )
