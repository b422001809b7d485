"""Classic technical-analysis rules, each a vote, weighed by a logistic regression.

Every rule reads columns of :func:`~quantumtrade.ml.features.feature_table` at one bar and
votes +1 (up), -1 (down) or 0 (no view). A rule whose columns are missing, or NaN on a bar,
votes 0. The rules (thresholds are the textbook ones, module constants):

``rsi``
    Mean reversion: +1 when RSI is below ``RSI_OVERSOLD``, -1 above ``RSI_OVERBOUGHT``.
``macd``
    Momentum: the sign of the MACD histogram.
``trend``
    Trend following: when ADX is above ``ADX_TRENDING`` (a trending market), +1 if +DI is
    above -DI, -1 if below; 0 in a ranging market.
``bollinger``
    Mean reversion: +1 when %b is below 0 (close under the lower band), -1 above 1.
``stochastic``
    +1 when %K is above %D (a bullish cross has happened) with %D below ``STOCH_OVERSOLD``,
    -1 when %K is below %D with %D above ``STOCH_OVERBOUGHT``.
``momentum``
    Price against its level ``MOMENTUM_COLUMN`` bars ago (the moving-average rule's cousin):
    the sign of that log return.
``breakout``
    Donchian channel: +1 when the close is within ``BREAKOUT_ATR`` average true ranges of the
    highest high of the last ``BREAKOUT_WINDOW`` bars (a new high, or nearly), -1 when that
    close to the lowest low.

No rule is assumed to work: :class:`RulesModel` fits an L2-penalised logistic regression
(strength ``C``) of the up move on the votes, so a rule's coefficient is what it was worth in
training, and a useless rule gets a weight near 0. The expected return mixes the training mean
of up and of down moves by the forecast probability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from quantumtrade.ml.models._common import BoolArray, FloatArray, move_sizes, smoothed_rate

RSI_OVERSOLD = 30.0
RSI_OVERBOUGHT = 70.0
ADX_TRENDING = 25.0
STOCH_OVERSOLD = 20.0
STOCH_OVERBOUGHT = 80.0
MOMENTUM_COLUMN = "ret_20"
BREAKOUT_WINDOW = 20
BREAKOUT_ATR = 0.25
DEFAULT_C = 0.1  # strong shrinkage: a rule must earn its weight over many bars


def _col(X: pd.DataFrame, name: str) -> FloatArray | None:
    if name not in X.columns:
        return None
    return X[name].to_numpy(dtype=np.float64, na_value=np.nan)


def _sign_where(up: BoolArray, down: BoolArray) -> FloatArray:
    out: FloatArray = np.where(up, 1.0, np.where(down, -1.0, 0.0))
    return out


def _rsi(X: pd.DataFrame) -> FloatArray | None:
    rsi = _col(X, "rsi")
    return None if rsi is None else _sign_where(rsi < RSI_OVERSOLD, rsi > RSI_OVERBOUGHT)


def _macd(X: pd.DataFrame) -> FloatArray | None:
    hist = _col(X, "macd_hist")
    return None if hist is None else _sign_where(hist > 0, hist < 0)


def _trend(X: pd.DataFrame) -> FloatArray | None:
    adx, plus, minus = (_col(X, c) for c in ("adx", "plus_di", "minus_di"))
    if adx is None or plus is None or minus is None:
        return None
    trending = adx > ADX_TRENDING
    return _sign_where(trending & (plus > minus), trending & (plus < minus))


def _bollinger(X: pd.DataFrame) -> FloatArray | None:
    pct_b = _col(X, "bb_pct_b")
    return None if pct_b is None else _sign_where(pct_b < 0.0, pct_b > 1.0)


def _stochastic(X: pd.DataFrame) -> FloatArray | None:
    k, d = _col(X, "stoch_k"), _col(X, "stoch_d")
    if k is None or d is None:
        return None
    return _sign_where((k > d) & (d < STOCH_OVERSOLD), (k < d) & (d > STOCH_OVERBOUGHT))


def _momentum(X: pd.DataFrame) -> FloatArray | None:
    ret = _col(X, MOMENTUM_COLUMN)
    return None if ret is None else _sign_where(ret > 0, ret < 0)


def _breakout(X: pd.DataFrame) -> FloatArray | None:
    high = _col(X, f"dist_high_{BREAKOUT_WINDOW}")
    low = _col(X, f"dist_low_{BREAKOUT_WINDOW}")
    atr = _col(X, "atr_pct")
    if high is None or low is None or atr is None:
        return None
    # dist_high <= 0 <= dist_low are log distances; ATR as a fraction of the close is close to
    # the same scale for moves of a few ATRs
    near = BREAKOUT_ATR * atr
    return _sign_where(-high <= near, low <= near)


RULES: Mapping[str, Callable[[pd.DataFrame], FloatArray | None]] = {
    "rsi": _rsi,
    "macd": _macd,
    "trend": _trend,
    "bollinger": _bollinger,
    "stochastic": _stochastic,
    "momentum": _momentum,
    "breakout": _breakout,
}
"""The rules by name; each maps a feature table to votes in {-1, 0, 1} (None: columns missing)."""


def rule_votes(X: pd.DataFrame) -> pd.DataFrame:
    """Return every rule's vote per row of ``X`` (0 where its columns are missing or NaN)."""
    votes = {}
    for name, rule in RULES.items():
        vote = rule(X)
        votes[name] = np.zeros(len(X)) if vote is None else vote
    return pd.DataFrame(votes, index=X.index)


class RulesModel:
    """Logistic regression of the up move on the votes of :data:`RULES`.

    ``weights`` (after fitting) maps each rule to its coefficient: positive when the rule's
    calls came true more often than not in training, near 0 when it was worthless. With one
    class only in training it forecasts the smoothed base rate.
    """

    def __init__(self, seed: int = 0, *, C: float = DEFAULT_C) -> None:
        self.seed = int(seed)
        self.C = C
        self.rate = 0.5
        self.mean_up = 0.0
        self.mean_down = 0.0
        self._logit: Any = None

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        """Learn how much each rule's vote is worth."""
        y = np.asarray(y_up, dtype=bool)
        self.rate = smoothed_rate(y)
        self.mean_up, self.mean_down = move_sizes(y, np.asarray(y_ret, dtype=np.float64))
        self._logit = None
        if 0 < y.sum() < y.shape[0]:
            model = LogisticRegression(C=self.C, max_iter=1_000, random_state=self.seed)
            model.fit(rule_votes(X).to_numpy(), y)
            self._logit = model

    @property
    def weights(self) -> dict[str, float]:
        """Return each rule's fitted coefficient (all 0 before fitting)."""
        if self._logit is None:
            return dict.fromkeys(RULES, 0.0)
        return {name: float(w) for name, w in zip(RULES, self._logit.coef_[0], strict=True)}

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row."""
        if self._logit is None:
            return np.full(len(X), self.rate)
        proba = self._logit.predict_proba(rule_votes(X).to_numpy())
        return np.asarray(proba[:, 1], dtype=np.float64)

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return ``p * mean_up + (1 - p) * mean_down`` per row."""
        p = self.predict_proba(X)
        out: FloatArray = p * self.mean_up + (1.0 - p) * self.mean_down
        return out
