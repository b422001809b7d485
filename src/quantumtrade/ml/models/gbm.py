"""Gradient-boosted trees (LightGBM) on the feature table: P(up) and the expected return.

:class:`GbmModel` fits two boosters on the same rows: a binary classifier of the up move,
whose output is P(forward return > 0), and a least-squares regressor of the forward return,
whose output is its expected size. Both are small and strongly regularised, because a daily
series of a few thousand bars holds little signal and trees memorise noise readily:
``NUM_LEAVES`` leaves a tree, at least ``MIN_DATA_IN_LEAF`` rows a leaf, an L2 penalty
``LAMBDA_L2`` on leaf values, shrinkage ``LEARNING_RATE``, and row and column subsampling
(``BAGGING_FRACTION`` of the rows every ``BAGGING_FREQ`` trees, ``FEATURE_FRACTION`` of the
columns a tree) drawn from the model's seed.

The number of trees is chosen without looking at any test data: the last
``VALIDATION_FRACTION`` of the training rows (they are in time order) is held out, with a gap
of ``horizon`` rows so that no fitting label reaches into it, and boosting stops once the
held-out loss has not improved for ``EARLY_STOPPING_ROUNDS`` rounds (at most
``N_ESTIMATORS``). The booster is then refitted on all training rows with that many trees.
Below ``MIN_VALIDATION_ROWS`` held-out rows there is no early stopping and every tree is kept.

Reproducibility: LightGBM runs single-threaded with ``deterministic`` and ``force_row_wise``,
so the same seed and data give byte-identical boosters (see
:func:`~quantumtrade.ml.models.model_hash`). Missing feature values are allowed (LightGBM
learns where to send them). With one class only in training the model forecasts the
smoothed base rate and the training mean return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from quantumtrade.ml.models._common import BoolArray, FloatArray, matrix, smoothed_rate

NUM_LEAVES = 15
MIN_DATA_IN_LEAF = 50
LEARNING_RATE = 0.05
N_ESTIMATORS = 200
LAMBDA_L2 = 1.0
FEATURE_FRACTION = 0.8
BAGGING_FRACTION = 0.8
BAGGING_FREQ = 1
VALIDATION_FRACTION = 0.2
EARLY_STOPPING_ROUNDS = 20
MIN_VALIDATION_ROWS = 100


_JSON_SPECIAL = str.maketrans(dict.fromkeys('[]{},:"', "_"))


def _lightgbm_names(columns: Sequence[str]) -> list[str]:
    """Return the column names LightGBM accepts (it refuses JSON's special characters)."""
    return [c.translate(_JSON_SPECIAL) for c in columns]


class GbmModel:
    """LightGBM classifier of the up move and regressor of the forward return.

    Parameters:
        seed: drives the row and column subsampling (LightGBM's ``seed``).
        horizon: bars the label looks ahead; the gap left between the fitting rows and the
            early-stopping tail. Walk-forward runs build models from the seed alone, so for a
            horizon above 1 pass ``functools.partial(GbmModel, horizon=h)`` as the factory.
        columns: feature columns to use (default: every column of ``X``).
        n_estimators: most trees per booster; the other arguments default to the module
            constants of the same (upper-case) name.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        horizon: int = 1,
        columns: Sequence[str] | None = None,
        n_estimators: int = N_ESTIMATORS,
        num_leaves: int = NUM_LEAVES,
        min_data_in_leaf: int = MIN_DATA_IN_LEAF,
        learning_rate: float = LEARNING_RATE,
        lambda_l2: float = LAMBDA_L2,
        feature_fraction: float = FEATURE_FRACTION,
        bagging_fraction: float = BAGGING_FRACTION,
        validation_fraction: float = VALIDATION_FRACTION,
        early_stopping_rounds: int = EARLY_STOPPING_ROUNDS,
    ) -> None:
        if horizon < 1 or n_estimators < 1:
            raise ValueError("horizon and n_estimators must be at least 1")
        if not 0.0 <= validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        self.seed = int(seed)
        self.horizon = horizon
        self.columns = None if columns is None else [str(c) for c in columns]
        self.n_estimators = n_estimators
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.params: dict[str, Any] = {
            "num_leaves": num_leaves,
            "min_data_in_leaf": min_data_in_leaf,
            "learning_rate": learning_rate,
            "lambda_l2": lambda_l2,
            "feature_fraction": feature_fraction,
            "bagging_fraction": bagging_fraction,
            "bagging_freq": BAGGING_FREQ if bagging_fraction < 1.0 else 0,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }
        self.features: list[str] = []
        self.classifier: lgb.Booster | None = None
        self.regressor: lgb.Booster | None = None
        self.rate = 0.5
        self.mean = 0.0

    def _boost(self, x: FloatArray, target: FloatArray, objective: str) -> lgb.Booster:
        """Fit one booster, its tree count found on the time-ordered validation tail."""
        params = {**self.params, "objective": objective}
        n = x.shape[0]
        n_valid = round(self.validation_fraction * n)
        fit_end = n - n_valid - self.horizon
        rounds = self.n_estimators
        if n_valid >= MIN_VALIDATION_ROWS and fit_end >= 2 * int(params["min_data_in_leaf"]):
            names = _lightgbm_names(self.features)
            train = lgb.Dataset(x[:fit_end], target[:fit_end], feature_name=names, params=params)
            valid = lgb.Dataset(x[n - n_valid :], target[n - n_valid :], reference=train)
            probe = lgb.train(
                params,
                train,
                num_boost_round=self.n_estimators,
                valid_sets=[valid],
                callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
            rounds = max(1, int(probe.best_iteration or self.n_estimators))
        names = _lightgbm_names(self.features)
        full = lgb.Dataset(x, target, feature_name=names, params=params)
        return lgb.train(params, full, num_boost_round=rounds)

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        """Fit the classifier on ``y_up`` and the regressor on ``y_ret``."""
        self.features = [str(c) for c in X.columns] if self.columns is None else self.columns
        x = matrix(X, self.features)
        y = np.asarray(y_up, dtype=bool)
        r = np.asarray(y_ret, dtype=np.float64)
        self.rate = smoothed_rate(y)
        self.mean = float(r.mean()) if r.size else 0.0
        self.classifier = self.regressor = None
        if not self.features or not 0 < y.sum() < y.shape[0]:
            return
        self.classifier = self._boost(x, y.astype(np.float64), "binary")
        self.regressor = self._boost(x, r, "regression")

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row."""
        if self.classifier is None:
            return np.full(len(X), self.rate)
        return np.asarray(self.classifier.predict(matrix(X, self.features)), dtype=np.float64)

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return the expected forward return per row."""
        if self.regressor is None:
            return np.full(len(X), self.mean)
        return np.asarray(self.regressor.predict(matrix(X, self.features)), dtype=np.float64)

    def fingerprint(self) -> str:
        """Return the fitted state as text: the parameters and both boosters' dumps."""
        parts = [repr(sorted(self.params.items())), repr(self.features)]
        parts.append(repr((self.rate, self.mean)))
        for booster in (self.classifier, self.regressor):
            parts.append("" if booster is None else booster.model_to_string())
        return "\n".join(parts)
