"""Metric functions on hand-made label sequences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.regime.evaluation import (
    accuracy,
    confusion_matrix,
    detection_lags,
    per_regime_accuracy,
    summarise_lags,
)

LABELS = ("bull", "bear", "sideways")
TRUTH = ["bull"] * 4 + ["bear"] * 4 + ["sideways"] * 2 + ["bull"] * 2
PRED = ["bull"] * 5 + ["bear"] * 2 + ["bull"] * 3 + ["bear"] * 2


def test_accuracy_and_per_regime_accuracy_count_matching_bars() -> None:
    assert accuracy(TRUTH, PRED) == pytest.approx(6 / 12)
    per = per_regime_accuracy(TRUTH, PRED, LABELS)
    assert per == {"bull": 4 / 6, "bear": 2 / 4, "sideways": 0.0}


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    matrix = confusion_matrix(TRUTH, PRED, LABELS)
    assert matrix.loc["bear"].tolist() == [2, 2, 0]
    assert matrix.loc["bull"].tolist() == [4, 2, 0]
    assert int(matrix.to_numpy().sum()) == len(TRUTH)


def test_detection_lags_counts_bars_until_new_regime_is_seen_nan_when_missed() -> None:
    lags = detection_lags(TRUTH, PRED)
    np.testing.assert_array_equal(lags, [1.0, np.nan, np.nan])
    summary = summarise_lags(lags)
    assert (summary.changes, summary.detected, summary.mean, summary.median) == (3, 1, 1.0, 1.0)
    assert math.isnan(summarise_lags([np.nan]).mean)


def test_metrics_length_mismatch_raises() -> None:
    with pytest.raises(InvalidInput):
        accuracy(["bull"], ["bull", "bear"])
