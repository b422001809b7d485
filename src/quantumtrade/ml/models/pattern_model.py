"""The pattern model: the measured vote of the chart and candlestick patterns, recalibrated.

Its inputs are two feature columns built from
:func:`~quantumtrade.ml.patterns.pattern_votes` (computed with the model's horizon):
``PROBABILITY_COLUMN`` (``pattern_p_up``, the patterns' causal, shrunk hit-rate vote) and
``COUNT_COLUMN`` (``pattern_n``, how many patterns fired on the bar). Without the count
column a bar counts as firing when its vote differs from 0.5.

The vote is already a probability, but one measured per pattern on the symbol's own past and
averaged: it can be systematically over- or under-confident. :class:`PatternModel` fits a
logistic regression of the up move on ``logit(pattern_p_up)`` over the training bars where a
pattern fired (a Platt-style recalibration with an intercept for the base rate of those
bars), and keeps the raw vote when fewer than ``MIN_FIRING`` such bars (or only one outcome)
are available. A bar where no pattern fires gets exactly 0.5: no view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from quantumtrade.ml.models._common import BoolArray, FloatArray, logit, move_sizes

PROBABILITY_COLUMN = "pattern_p_up"
COUNT_COLUMN = "pattern_n"
MIN_FIRING = 30  # firing bars needed before the vote is recalibrated
DEFAULT_C = 1.0


class PatternModel:
    """Recalibrated pattern vote; 0.5 on bars with no pattern firing."""

    def __init__(self, seed: int = 0, *, C: float = DEFAULT_C) -> None:
        self.seed = int(seed)
        self.C = C
        self.mean_up = 0.0
        self.mean_down = 0.0
        self._logit: Any = None

    @staticmethod
    def _inputs(X: pd.DataFrame) -> tuple[FloatArray, BoolArray]:
        """Return the vote per row (0.5 where missing) and whether a pattern fired."""
        if PROBABILITY_COLUMN not in X.columns:
            return np.full(len(X), 0.5), np.zeros(len(X), dtype=bool)
        p = X[PROBABILITY_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
        p = np.where(np.isfinite(p), np.clip(p, 0.0, 1.0), 0.5)
        if COUNT_COLUMN in X.columns:
            n = X[COUNT_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
            firing = np.nan_to_num(n) > 0
        else:
            firing = p != 0.5
        return p, firing

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        """Recalibrate the vote on the training bars where a pattern fired."""
        y = np.asarray(y_up, dtype=bool)
        p, firing = self._inputs(X)
        self.mean_up, self.mean_down = move_sizes(y, np.asarray(y_ret, dtype=np.float64))
        self._logit = None
        fired = y[firing]
        if fired.shape[0] >= MIN_FIRING and 0 < fired.sum() < fired.shape[0]:
            model = LogisticRegression(C=self.C, max_iter=1_000, random_state=self.seed)
            model.fit(logit(p[firing])[:, None], fired)
            self._logit = model

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row: 0.5 where no pattern fires."""
        p, firing = self._inputs(X)
        out = np.full(len(X), 0.5)
        if self._logit is None:
            out[firing] = p[firing]
        elif firing.any():
            out[firing] = self._logit.predict_proba(logit(p[firing])[:, None])[:, 1]
        return out

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return ``p * mean_up + (1 - p) * mean_down``; 0 where no pattern fires."""
        p = self.predict_proba(X)
        _, firing = self._inputs(X)
        out: FloatArray = np.where(firing, p * self.mean_up + (1.0 - p) * self.mean_down, 0.0)
        return out
