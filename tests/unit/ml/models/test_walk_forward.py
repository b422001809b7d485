"""Every model and the consensus, walk-forward: no edge on noise, the edge of a planted signal.

Tolerances, for the runs of ``simulated`` (4 000 bars, first test bar after ~1 000, so about
2 900 out-of-fold points at horizon 1):

- the standard error of an accuracy near 50 % is ``0.5 / sqrt(n)``, about 0.0093: the noise
  band is ``NOISE_SE`` = 3 standard errors, about +-2.8 %;
- Brier score within ``BRIER_MARGIN`` (2 % of a coin's 0.25) of climatology;
- on the planted series (rho 0.25) the best accuracy is 1/2 + arcsin(rho)/pi = 58.0 % and the
  best rank IC (6/pi) arcsin(rho/2) = 0.239. A model must come within ``ACCURACY_GAP`` of that
  accuracy: 3 standard errors of sampling noise (~0.028) plus ~0.012 for learning the signal
  among 30 noise columns from ~1 000-3 000 rows. The IC of a fitted model is diluted by those
  noise columns far more than its sign is, so the IC must be significant and at least
  ``IC_SHARE`` of the best.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from quantumtrade.ml.consensus import Decision
from quantumtrade.ml.evaluation import Scorecard, scorecard
from unit.ml.models.simulated import PLANTED_RHO, Run, max_accuracy, max_ic

NOISE_SE = 3.0
BRIER_MARGIN = 0.005
ACCURACY_GAP = 0.04
IC_SHARE = 0.5
HOLD_SHARE = 0.8
COST = 0.001


def band(n: int) -> float:
    return NOISE_SE * 0.5 / math.sqrt(n)


def consensus_card(run: Run, rows: np.ndarray | None = None) -> Scorecard:
    report = run.report
    held = report.tested.to_numpy() if rows is None else rows
    return scorecard(
        run.consensus.probabilities.to_numpy()[held],
        report.outcomes.to_numpy()[held],
        report.forward_returns.to_numpy()[held],
        report.climatology.to_numpy()[held],
    )


def decisions(run: Run) -> list[Decision | None]:
    """Return the consensus decision on every tested bar (None: no consensus fitted yet)."""
    report = run.report
    atr = (run.X["atr_pct"] * run.bars["close"]).to_numpy()
    close = run.bars["close"].to_numpy()
    out: list[Decision | None] = []
    for i in np.flatnonzero(report.tested.to_numpy()):
        fit = run.consensus.fits[int(report.fold.iloc[i])]
        if fit is None:
            out.append(None)
            continue
        probs = report.probabilities.iloc[i].to_dict()
        returns = report.expected_returns.iloc[i].to_dict()
        out.append(fit.decide(probs, returns, atr=atr[i], price=close[i], cost=COST))
    return out


def hold_share(run: Run) -> float:
    made = decisions(run)
    return sum(d is None or d.action == "hold" for d in made) / len(made)


def test_no_model_and_no_consensus_has_an_edge_on_a_random_walk(random_walk: Run) -> None:
    cards = {**random_walk.report.scorecards, "consensus": consensus_card(random_walk)}
    for name, card in cards.items():
        assert card.n > 2_800
        assert abs(card.accuracy - 0.5) <= band(card.n), (name, card.accuracy)
        assert card.brier <= card.climatology_brier + BRIER_MARGIN, (name, card.brier)


def test_the_consensus_holds_on_most_random_walk_bars(random_walk: Run) -> None:
    assert hold_share(random_walk) > HOLD_SHARE


def test_the_consensus_weighs_almost_no_model_on_a_random_walk(random_walk: Run) -> None:
    # the gate lets a skill-less model through about 0.5 % of the time each: at most one
    for fit in random_walk.consensus.fits:
        assert fit is None or sum(w > 0 for w in fit.weights.values()) <= 1


def test_gbm_finds_a_planted_signal_up_to_its_theoretical_limit(planted: Run) -> None:
    best = max_accuracy(PLANTED_RHO)
    card = planted.report.scorecards["gbm"]
    assert best - ACCURACY_GAP <= card.accuracy <= best + band(card.n)
    assert card.ic.low > 0
    assert card.ic.ic >= IC_SHARE * max_ic(PLANTED_RHO)
    assert card.brier < card.climatology_brier


def test_the_consensus_finds_a_planted_signal_once_it_has_a_track_record(planted: Run) -> None:
    report = planted.report
    voting = [
        k for k, fit in enumerate(planted.consensus.fits) if fit and max(fit.weights.values()) > 0
    ]
    rows = report.fold.isin(voting).to_numpy()
    # it must take a view on most of the tested bars, not on a chosen sliver
    assert rows.sum() >= 0.5 * report.tested.sum()
    card = consensus_card(planted, rows)
    best = max_accuracy(PLANTED_RHO)
    assert best - ACCURACY_GAP <= card.accuracy <= best + band(card.n)
    assert card.ic.low > 0
    assert card.ic.ic >= IC_SHARE * max_ic(PLANTED_RHO)
    assert card.brier < card.climatology_brier
    # the skill-less inputs are left out of the stack
    for fit in planted.consensus.fits[len(planted.consensus.fits) - len(voting) :]:
        assert fit is not None
        for name in ("always_flat", "drift", "pattern", "sentiment"):
            assert fit.weights[name] == 0.0


def test_the_consensus_trades_more_when_there_is_a_signal(planted: Run, random_walk: Run) -> None:
    assert hold_share(planted) < hold_share(random_walk)


def test_out_of_fold_consensus_forecasts_are_probabilities(planted: Run) -> None:
    p = planted.consensus.probabilities[planted.report.tested]
    assert isinstance(p, pd.Series)
    assert p.between(0.0, 1.0).all()
