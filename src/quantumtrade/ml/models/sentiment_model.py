"""The sentiment model: a logistic regression of the up move on the sentiment features.

It reads every column whose name starts with ``PREFIX`` (``sent_``: news and social scores,
buzz, insider and options flow... joined to the feature table as of each bar) and ignores the
rest. The columns are standardised on the training rows and a missing value (NaN: nothing was
published yet) counts as the training mean, i.e. neutral. An L2 penalty (strength ``C``) keeps
the weights of uninformative columns near 0.

With no sentiment column, or none with a finite value in training, or one outcome only, the
model has no view and forecasts 0.5; a row whose sentiment columns are all NaN also gets 0.5.
The expected return mixes the training mean of up and of down moves by the forecast
probability (0 on rows without a view).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from quantumtrade.ml.models._common import BoolArray, FloatArray, matrix, move_sizes, prefixed

PREFIX = "sent_"
DEFAULT_C = 0.1


class SentimentModel:
    """Penalised logistic regression on the ``sent_`` columns; 0.5 without sentiment."""

    def __init__(self, seed: int = 0, *, C: float = DEFAULT_C) -> None:
        self.seed = int(seed)
        self.C = C
        self.columns: list[str] = []
        self.center: FloatArray = np.empty(0)
        self.scale: FloatArray = np.empty(0)
        self.mean_up = 0.0
        self.mean_down = 0.0
        self._logit: Any = None

    def _standardised(self, X: pd.DataFrame) -> tuple[FloatArray, BoolArray]:
        """Return the standardised columns (NaN as 0) and which rows have any sentiment."""
        x = matrix(X, self.columns)
        present: BoolArray = np.asarray(np.isfinite(x).any(axis=1), dtype=bool)
        z = (x - self.center) / self.scale
        out: FloatArray = np.where(np.isfinite(z), z, 0.0)
        return out, present

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        """Fit the weights of the sentiment columns that have data."""
        y = np.asarray(y_up, dtype=bool)
        self.mean_up, self.mean_down = move_sizes(y, np.asarray(y_ret, dtype=np.float64))
        self._logit = None
        candidates = prefixed(X, PREFIX)
        x = matrix(X, candidates)
        has_data = np.asarray(np.isfinite(x).any(axis=0), dtype=bool)
        self.columns = [c for c, ok in zip(candidates, has_data.tolist(), strict=True) if ok]
        if not self.columns or not 0 < y.sum() < y.shape[0]:
            return
        x = x[:, has_data]
        with np.errstate(invalid="ignore"):
            self.center = np.nanmean(x, axis=0)
            spread = np.nanstd(x, axis=0)
        self.scale = np.where(spread > 0, spread, 1.0)
        z, present = self._standardised(X)
        if not present.any():
            return
        model = LogisticRegression(C=self.C, max_iter=1_000, random_state=self.seed)
        model.fit(z, y)
        self._logit = model

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row; 0.5 where there is no sentiment."""
        out = np.full(len(X), 0.5)
        if self._logit is None or not len(X):
            return out
        if not set(self.columns) <= set(map(str, X.columns)):
            return out
        z, present = self._standardised(X)
        if present.any():
            out[present] = self._logit.predict_proba(z[present])[:, 1]
        return out

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return ``p * mean_up + (1 - p) * mean_down``; 0 where there is no view."""
        p = self.predict_proba(X)
        out: FloatArray = np.where(p != 0.5, p * self.mean_up + (1.0 - p) * self.mean_down, 0.0)
        return out
