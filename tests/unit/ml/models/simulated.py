"""Simulated daily bars with and without a planted signal, and walk-forward runs over them.

The bars come from a geometric random walk with 1 % daily volatility. On the planted series
a known feature ``signal`` (standard normal, known at bar t) drives the next bar's return:
``r_{t+1} = VOL * (rho * s_t + sqrt(1 - rho^2) * e_{t+1})``, so the best possible direction
call is ``sign(s_t)``, right with probability ``1/2 + arcsin(rho)/pi`` (Sheppard), and the
best rank IC of any forecast with the forward return is ``(6/pi) arcsin(rho/2)``.

Every model sees the whole feature table, the candlestick patterns' vote (``pattern_p_up``,
``pattern_n``) and two sentiment columns of pure noise (``sent_news``, ``sent_social``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from quantumtrade.ml.consensus import ConsensusForecast, walk_forward_consensus
from quantumtrade.ml.evaluation import (
    BASELINES,
    EvaluationReport,
    LogisticModel,
    ModelFactory,
    walk_forward_evaluate,
)
from quantumtrade.ml.features import feature_table, labels, warmup_bars
from quantumtrade.ml.models import GbmModel, PatternModel, RulesModel, SentimentModel
from quantumtrade.ml.patterns import candle_patterns, pattern_votes

N_BARS = 4_000
VOL = 0.01
HORIZON = 1
N_SPLITS = 5
MIN_TRAIN = 800
PLANTED_RHO = 0.25
TEST_TREES = 60  # fewer trees than the default keeps the suite fast

MODELS: dict[str, ModelFactory] = {
    **BASELINES,
    "logit": LogisticModel,
    "gbm": partial(GbmModel, n_estimators=TEST_TREES),
    "rules": RulesModel,
    "pattern": PatternModel,
    "sentiment": SentimentModel,
}


def simulate_bars(returns: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Return OHLCV daily bars whose close-to-close log returns are ``returns``."""
    n = returns.shape[0]
    close = 100.0 * np.exp(np.cumsum(returns))
    opened = close * np.exp(-returns * rng.uniform(0.0, 1.0, n))
    wick = VOL * np.abs(rng.standard_normal((2, n)))
    index = pd.bdate_range("2005-01-03", periods=n, tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": opened,
            "high": np.maximum(opened, close) * np.exp(wick[0]),
            "low": np.minimum(opened, close) * np.exp(-wick[1]),
            "close": close,
            "volume": 1e6 * np.exp(0.3 * rng.standard_normal(n)),
        },
        index=index,
    )


def planted_series(n: int, rho: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Return bars, features and forward returns (warm-up cut); rho 0 is a pure random walk."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal(n)
    e = rng.standard_normal(n)
    returns = np.empty(n)
    returns[0] = VOL * e[0]
    returns[1:] = VOL * (rho * s[:-1] + math.sqrt(1.0 - rho * rho) * e[1:])
    bars = simulate_bars(returns, rng)
    X = feature_table(bars)
    votes = pattern_votes(bars, candle_patterns(bars), HORIZON)
    X["pattern_p_up"] = votes["p_up"]
    X["pattern_n"] = votes["n_patterns"].astype(np.float64)
    X["sent_news"] = rng.standard_normal(n)
    X["sent_social"] = rng.standard_normal(n)
    if rho:
        X["signal"] = s
    forward = labels(bars, HORIZON)["forward_return"]
    start = warmup_bars()
    return bars.iloc[start:], X.iloc[start:], forward.iloc[start:]


def max_accuracy(rho: float) -> float:
    """Return the best achievable directional accuracy on the planted series."""
    return 0.5 + math.asin(rho) / math.pi


def max_ic(rho: float) -> float:
    """Return the best achievable rank IC on the planted series."""
    return 6.0 / math.pi * math.asin(rho / 2.0)


@dataclass(frozen=True)
class Run:
    bars: pd.DataFrame
    X: pd.DataFrame
    report: EvaluationReport
    consensus: ConsensusForecast


def run(rho: float, seed: int) -> Run:
    bars, X, forward = planted_series(N_BARS, rho, seed)
    report = walk_forward_evaluate(
        X, forward, MODELS, horizon=HORIZON, n_splits=N_SPLITS, min_train=MIN_TRAIN, seed=seed
    )
    return Run(bars, X, report, walk_forward_consensus(report, horizon=HORIZON))
