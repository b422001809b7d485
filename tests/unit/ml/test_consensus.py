"""The consensus: stacking weights, the skill gate, and decisions checked by hand."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.consensus import (
    STOP_ATR,
    TARGET_ATR,
    Consensus,
    walk_forward_consensus,
)
from quantumtrade.ml.evaluation import AlwaysFlat, LogisticModel, brier, walk_forward_evaluate


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# -- decisions --------------------------------------------------------------------------------


def test_a_buy_is_sized_by_fractional_kelly_and_bracketed_by_atr() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.02, loss=0.01, horizon=5)
    d = consensus.decide(
        {"a": 0.6},
        {"a": 0.007},
        atr=2.0,
        price=100.0,
        cost=0.002,
        kelly_fraction=0.5,
        max_position_fraction=0.5,
        track_records={"a": {"accuracy": 0.55}},
    )
    assert d.action == "buy" and d.horizon == 5
    assert d.probability_up == pytest.approx(0.6) and d.confidence == pytest.approx(0.6)
    # 0.6 * 2 % - 0.4 * 1 % = 0.8 %; less 0.2 % cost
    assert d.expected_return == pytest.approx(0.008)
    assert d.edge == pytest.approx(0.006)
    # net payoffs 1.8 % / 1.2 %: b = 1.5, Kelly (0.6 * 1.5 - 0.4) / 1.5 = 1/3, half of it
    assert d.size_fraction == pytest.approx(1 / 6)
    assert d.stop == pytest.approx(100.0 - STOP_ATR * 2.0)
    assert d.target == pytest.approx(100.0 + TARGET_ATR * 2.0)
    (vote,) = d.votes
    assert (vote.model, vote.probability_up, vote.expected_return, vote.weight) == (
        "a",
        0.6,
        0.007,
        1.0,
    )
    assert vote.track_record == {"accuracy": 0.55}


def test_the_position_cap_binds_on_a_large_kelly_fraction() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.02, loss=0.01)
    d = consensus.decide(
        {"a": 0.6}, atr=2.0, price=100.0, cost=0.002, kelly_fraction=0.5, max_position_fraction=0.1
    )
    assert d.size_fraction == pytest.approx(0.1)


def test_a_sell_mirrors_the_buy() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.01, loss=0.01)
    d = consensus.decide(
        {"a": 0.3}, atr=2.0, price=100.0, cost=0.0, kelly_fraction=0.25, max_position_fraction=0.5
    )
    assert d.action == "sell"
    assert d.confidence == pytest.approx(0.7)
    assert d.expected_return == pytest.approx(-0.004)
    assert d.edge == pytest.approx(0.004)
    # even payoff: Kelly 0.7 - 0.3 = 0.4, a quarter of it
    assert d.size_fraction == pytest.approx(0.1)
    assert d.stop == pytest.approx(100.0 + STOP_ATR * 2.0)
    assert d.target == pytest.approx(100.0 - TARGET_ATR * 2.0)


def test_an_edge_smaller_than_the_cost_or_the_threshold_is_a_hold() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.01, loss=0.01)
    # 0.04 * 1 % = 0.04 % of edge does not pay 0.1 % of cost
    d = consensus.decide({"a": 0.52}, atr=1.0, price=50.0, cost=0.001)
    assert (d.action, d.size_fraction, d.stop, d.target) == ("hold", 0.0, None, None)
    assert d.edge == pytest.approx(0.0004 - 0.001)
    # 0.2 % of expected return, 0.1 % after cost: above a 0.05 % threshold, below 0.15 %
    assert (
        consensus.decide({"a": 0.6}, atr=1.0, price=50.0, cost=0.001, threshold=0.0005).action
        == "buy"
    )
    assert (
        consensus.decide({"a": 0.6}, atr=1.0, price=50.0, cost=0.001, threshold=0.0015).action
        == "hold"
    )


def test_kelly_is_positive_exactly_when_the_edge_after_cost_is() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.012, loss=0.009)
    for p in np.linspace(0.3, 0.7, 81):
        d = consensus.decide(
            {"a": float(p)},
            atr=1.0,
            price=10.0,
            cost=0.001,
            kelly_fraction=1.0,
            max_position_fraction=1.0,
        )
        assert (d.action != "hold") == (d.edge > 0)
        assert (d.size_fraction > 0) == (d.action != "hold")


def test_the_stack_combines_logits_with_its_weights() -> None:
    consensus = Consensus.from_weights({"a": 1.0, "b": 0.5}, win=0.01, loss=0.01, intercept=0.1)
    expected = sigmoid(0.1 + logit(0.6) + 0.5 * logit(0.7))
    assert consensus.probability({"a": 0.6, "b": 0.7, "c": 0.9}) == pytest.approx(expected)
    with pytest.raises(ValueError):
        consensus.probability({"a": 0.6})
    with pytest.raises(ValueError):
        Consensus.from_weights({"a": -1.0}, win=0.01, loss=0.01)


def test_bad_decision_inputs_are_refused() -> None:
    consensus = Consensus.from_weights({"a": 1.0}, win=0.01, loss=0.01)
    for atr, price in ((-1.0, 10.0), (1.0, 0.0), (math.nan, 10.0)):
        with pytest.raises(ValueError):
            consensus.decide({"a": 0.6}, atr=atr, price=price)
    with pytest.raises(ValueError):
        consensus.decide({"a": 0.6}, atr=1.0, price=10.0, kelly_fraction=2.0)


# -- fitting ----------------------------------------------------------------------------------


def forecasts(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A calibrated forecaster, its mirror image, and a coin-like one, with outcomes."""
    rng = np.random.default_rng(seed)
    truth = 1 / (1 + np.exp(-0.8 * rng.standard_normal(n)))
    up = rng.random(n) < truth
    returns = np.where(up, 0.01, -0.01) * rng.uniform(0.5, 1.5, n)
    frame = pd.DataFrame({"good": truth, "mirror": 1 - truth, "noise": rng.uniform(0.45, 0.55, n)})
    return frame, up.astype(np.float64), returns


def test_stacking_recovers_a_calibrated_model_and_never_bets_against_one() -> None:
    frame, up, returns = forecasts(5_000, 1)
    ungated = Consensus(gate=False).fit(frame, up, returns)
    assert all(w >= 0 for w in ungated.weights.values())
    assert ungated.weights["good"] == pytest.approx(1.0, abs=0.15)
    assert ungated.weights["mirror"] == 0.0
    gated = Consensus().fit(frame, up, returns)
    assert gated.weights["mirror"] == gated.weights["noise"] == 0.0
    assert gated.weights["good"] == pytest.approx(1.0, abs=0.15)
    p = gated.predict_proba(frame)
    assert brier(p, up) < brier(np.full(len(up), up.mean()), up)
    # the move sizes behind the expected return come from the same rows
    assert gated.win == pytest.approx(returns[returns > 0].mean())
    assert gated.loss == pytest.approx(-returns[returns <= 0].mean())
    assert gated.track_records["good"]["accuracy"] > 0.6


def test_skill_weights_are_the_positive_brier_skill_scores() -> None:
    frame, up, returns = forecasts(5_000, 2)
    consensus = Consensus(method="skill").fit(frame, up, returns)
    climate = brier(np.full(len(up), up.mean()), up)
    assert consensus.weights["good"] == pytest.approx(1 - brier(frame["good"], up) / climate)
    assert consensus.weights["mirror"] == consensus.weights["noise"] == 0.0
    # one skilled model: the pool is that model
    np.testing.assert_allclose(consensus.predict_proba(frame), frame["good"], atol=1e-5)


def test_without_a_skilled_model_the_consensus_has_no_view() -> None:
    frame, up, returns = forecasts(3_000, 3)
    consensus = Consensus().fit(frame[["mirror", "noise"]], up, returns)
    assert (consensus.predict_proba(frame[["mirror", "noise"]]) == 0.5).all()


def test_rows_without_every_forecast_are_skipped() -> None:
    frame, up, returns = forecasts(2_000, 4)
    holed = frame.copy()
    holed.iloc[:500, 0] = np.nan
    a = Consensus().fit(holed, up, returns)
    b = Consensus().fit(frame.iloc[500:], up[500:], returns[500:])
    assert a.weights == pytest.approx(b.weights)


def test_walk_forward_consensus_uses_only_outcomes_known_before_each_fold() -> None:
    rng = np.random.default_rng(5)
    n, horizon = 1_800, 3
    s = rng.standard_normal(n)
    r = 0.01 * (0.3 * np.roll(s, 1) + rng.standard_normal(n))
    forward = pd.Series(r).rolling(horizon).sum().shift(-horizon)
    X = pd.DataFrame({"s": s})
    report = walk_forward_evaluate(
        X,
        forward,
        {"logit": LogisticModel, "flat": AlwaysFlat},
        horizon=horizon,
        n_splits=4,
        min_train=300,
    )
    first = walk_forward_consensus(report, horizon=horizon)
    assert first.fits[0] is None
    assert (first.probabilities[report.fold == 0] == 0.5).all()
    assert all(fit is not None for fit in first.fits[1:])
    # rewriting every outcome not yet known when fold 2 starts leaves its consensus alone
    t0 = int(report.splits[2].test[0])
    flipped = report.outcomes.copy()
    flipped.iloc[t0 - horizon :] = 1.0 - flipped.iloc[t0 - horizon :]
    second = walk_forward_consensus(dataclasses.replace(report, outcomes=flipped), horizon=horizon)
    for k in (1, 2):
        assert second.fits[k].weights == first.fits[k].weights  # type: ignore[union-attr]
    assert second.fits[3].weights != first.fits[3].weights  # type: ignore[union-attr]
