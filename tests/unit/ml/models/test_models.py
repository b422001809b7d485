"""Each forecaster honours the ProbabilisticModel protocol and learns what it should."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.evaluation import ProbabilisticModel
from quantumtrade.ml.features import feature_table, labels, warmup_bars
from quantumtrade.ml.models import (
    RULES,
    GbmModel,
    PatternModel,
    RulesModel,
    SentimentModel,
    rule_votes,
)
from unit.ml.models.simulated import simulate_bars

Factory = Callable[[int], ProbabilisticModel]
FACTORIES: dict[str, Factory] = {
    "gbm": lambda seed: GbmModel(seed, n_estimators=30),
    "rules": RulesModel,
    "pattern": PatternModel,
    "sentiment": SentimentModel,
}


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    bars = simulate_bars(0.01 * rng.standard_normal(1_200), rng)
    X = feature_table(bars).iloc[warmup_bars() : -1]
    X["pattern_p_up"] = rng.uniform(0.3, 0.7, len(X))
    X["pattern_n"] = rng.integers(0, 3, len(X)).astype(np.float64)
    X["sent_news"] = rng.standard_normal(len(X))
    forward = labels(bars, 1)["forward_return"].loc[X.index].to_numpy()
    return X, forward > 0, forward


@pytest.mark.parametrize("name", list(FACTORIES))
def test_each_model_fits_and_forecasts_a_probability_and_a_return_per_row(
    name: str, table: tuple[pd.DataFrame, np.ndarray, np.ndarray]
) -> None:
    X, up, ret = table
    model = FACTORIES[name](3)
    model.fit(X.iloc[:800], up[:800], ret[:800])
    p = model.predict_proba(X.iloc[800:])
    r = model.predict_return(X.iloc[800:])
    assert p.shape == r.shape == (len(X) - 800,)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert np.isfinite(r).all()
    # a model's return forecast is on the scale of the returns it was fitted on
    assert np.abs(r).max() < 5 * np.abs(ret).max()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_with_one_outcome_only_a_model_forecasts_without_failing(
    name: str, table: tuple[pd.DataFrame, np.ndarray, np.ndarray]
) -> None:
    X, _, _ = table
    model = FACTORIES[name](0)
    model.fit(X.iloc[:200], np.ones(200, dtype=bool), np.full(200, 0.01))
    rows = X.iloc[200:210]
    p = model.predict_proba(rows)
    expected = {
        "gbm": np.full(10, 201 / 202),  # the smoothed base rate
        "rules": np.full(10, 201 / 202),
        "sentiment": np.full(10, 0.5),  # nothing learnt: no view
        # nothing to recalibrate with: the raw vote where a pattern fired, else 0.5
        "pattern": np.where(rows["pattern_n"] > 0, rows["pattern_p_up"], 0.5),
    }[name]
    np.testing.assert_allclose(p, expected)


def test_gbm_learns_a_nonlinear_rule_a_linear_model_cannot() -> None:
    rng = np.random.default_rng(1)
    n = 3_000
    X = pd.DataFrame({"a": rng.standard_normal(n), "b": rng.standard_normal(n)})
    # up when |a| is large: symmetric, so invisible to a linear model of a
    up = (np.abs(X["a"]) > 0.8).to_numpy() ^ (rng.random(n) < 0.1)
    ret = np.where(up, 0.01, -0.01)
    model = GbmModel(0, n_estimators=80)
    model.fit(X.iloc[:2_000], up[:2_000], ret[:2_000])
    p = model.predict_proba(X.iloc[2_000:])
    assert np.mean((p > 0.5) == up[2_000:]) > 0.85
    r = model.predict_return(X.iloc[2_000:])
    assert np.corrcoef(r, p)[0, 1] > 0.8


def test_gbm_chooses_its_tree_count_on_the_training_tail_only() -> None:
    rng = np.random.default_rng(2)
    n = 1_000
    X = pd.DataFrame({"a": rng.standard_normal(n)})
    up = rng.random(n) < 0.5  # nothing to learn: early stopping keeps few trees
    model = GbmModel(0, n_estimators=200)
    model.fit(X, up, np.where(up, 0.01, -0.01))
    assert model.classifier is not None
    assert model.classifier.num_trees() < 200


def test_rule_votes_follow_the_documented_thresholds() -> None:
    X = pd.DataFrame(
        {
            "rsi": [25.0, 75.0, 50.0],
            "macd_hist": [0.1, -0.1, 0.0],
            "adx": [30.0, 30.0, 10.0],
            "plus_di": [30.0, 10.0, 30.0],
            "minus_di": [10.0, 30.0, 10.0],
            "bb_pct_b": [-0.1, 1.2, 0.5],
            "stoch_k": [15.0, 90.0, 50.0],
            "stoch_d": [10.0, 95.0, 40.0],
            "ret_20": [0.05, -0.05, 0.0],
            "dist_high_20": [0.0, -0.2, -0.1],
            "dist_low_20": [0.2, 0.0, 0.1],
            "atr_pct": [0.02, 0.02, 0.02],
        }
    )
    votes = rule_votes(X)
    assert list(votes.columns) == list(RULES)
    assert (votes.iloc[0] == 1).all()
    assert (votes.iloc[1] == -1).all()
    assert (votes.iloc[2] == 0).all()
    # a rule whose columns are missing (or NaN) abstains
    assert (rule_votes(X.drop(columns=["rsi"]))["rsi"] == 0).all()
    assert rule_votes(X.assign(macd_hist=np.nan))["macd"].eq(0).all()


def test_rules_model_weighs_a_working_rule_and_ignores_a_useless_one() -> None:
    rng = np.random.default_rng(4)
    n = 4_000
    macd = rng.standard_normal(n)
    rsi = rng.uniform(0, 100, n)
    # the MACD rule is right 65 % of the time; RSI says nothing
    up = np.where(rng.random(n) < 0.65, macd > 0, macd <= 0)
    X = pd.DataFrame({"macd_hist": macd, "rsi": rsi})
    model = RulesModel(0)
    model.fit(X, up, np.where(up, 0.01, -0.01))
    weights = model.weights
    assert weights["macd"] > 0.4
    assert abs(weights["rsi"]) < 0.1
    assert all(weights[name] == 0 for name in ("trend", "bollinger", "breakout"))


def test_pattern_model_has_no_view_when_no_pattern_fires() -> None:
    rng = np.random.default_rng(6)
    n = 2_000
    p_up = np.where(rng.random(n) < 0.3, rng.uniform(0.2, 0.8, n), 0.5)
    fired = (p_up != 0.5).astype(np.float64)
    up = np.where(fired > 0, rng.random(n) < p_up, rng.random(n) < 0.5)
    X = pd.DataFrame({"pattern_p_up": p_up, "pattern_n": fired})
    model = PatternModel(0)
    model.fit(X, up, np.where(up, 0.01, -0.01))
    p = model.predict_proba(X)
    assert (p[fired == 0] == 0.5).all()
    # the votes were honest probabilities: recalibration keeps them near themselves
    assert np.abs(p[fired > 0] - p_up[fired > 0]).mean() < 0.05
    assert (model.predict_return(X)[fired == 0] == 0).all()
    assert (PatternModel(0).predict_proba(pd.DataFrame({"x": [1.0, 2.0]})) == 0.5).all()


def test_sentiment_model_reads_sent_columns_and_has_no_view_without_them() -> None:
    rng = np.random.default_rng(7)
    n = 3_000
    score = rng.standard_normal(n)
    up = rng.random(n) < 1 / (1 + np.exp(-0.8 * score))
    X = pd.DataFrame({"sent_news": score, "rsi": rng.uniform(0, 100, n)})
    model = SentimentModel(0)
    model.fit(X, up, np.where(up, 0.01, -0.01))
    p = model.predict_proba(X)
    assert np.corrcoef(p, score)[0, 1] > 0.99
    blank = X.assign(sent_news=np.nan)
    assert (model.predict_proba(blank) == 0.5).all()
    none = SentimentModel(0)
    none.fit(X[["rsi"]], up, np.where(up, 0.01, -0.01))
    assert (none.predict_proba(X[["rsi"]]) == 0.5).all()
    empty = SentimentModel(0)
    empty.fit(blank, up, np.where(up, 0.01, -0.01))
    assert (empty.predict_proba(X) == 0.5).all()


def test_gbm_accepts_column_names_lightgbm_would_refuse() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"sent_[news]": rng.standard_normal(400), "a:b": rng.standard_normal(400)})
    up = X["sent_[news]"].to_numpy() > 0
    model = GbmModel(0, n_estimators=20)
    model.fit(X, up, np.where(up, 0.01, -0.01))
    assert np.mean((model.predict_proba(X) > 0.5) == up) > 0.9
