"""Score regime labels against known regimes: accuracy, confusion matrix, detection lag.

Pure functions over label sequences of equal length (any hashable labels, usually strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]


def _pair(truth: npt.ArrayLike, predicted: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    if t.shape != p.shape or t.ndim != 1:
        raise InvalidInput(
            f"truth and predicted must be 1-D of one length, got {t.shape} and {p.shape}.",
            code="length_mismatch",
        )
    return t, p


def accuracy(truth: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Return the share of bars whose predicted label equals the true one (NaN if none)."""
    t, p = _pair(truth, predicted)
    return float(np.mean(t == p)) if t.shape[0] else float("nan")


def per_regime_accuracy(
    truth: npt.ArrayLike, predicted: npt.ArrayLike, labels: Sequence[str]
) -> dict[str, float]:
    """Return, per true regime, the share of its bars labelled right (its recall)."""
    t, p = _pair(truth, predicted)
    out = {}
    for label in labels:
        held = t == label
        out[label] = float(np.mean(p[held] == label)) if held.any() else float("nan")
    return out


def confusion_matrix(
    truth: npt.ArrayLike, predicted: npt.ArrayLike, labels: Sequence[str]
) -> pd.DataFrame:
    """Return bar counts with true regimes as rows and predicted labels as columns."""
    t, p = _pair(truth, predicted)
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    where = {label: i for i, label in enumerate(labels)}
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        if a in where and b in where:
            counts[where[a], where[b]] += 1
    index = pd.Index(list(labels), name="true")
    return pd.DataFrame(counts, index=index, columns=pd.Index(list(labels), name="predicted"))


def detection_lags(truth: npt.ArrayLike, predicted: npt.ArrayLike) -> FloatArray:
    """Return, per change of the true regime, the bars until the new regime is first predicted.

    A change at bar ``i`` to regime ``r`` has lag ``j - i`` for the first ``j >= i`` with
    ``predicted[j] == r`` while ``r`` still holds; NaN if ``r`` ends before it is predicted
    (a missed change). Lag 0 means the change was labelled on its first bar.
    """
    t, p = _pair(truth, predicted)
    changes = np.flatnonzero(t[1:] != t[:-1]) + 1
    ends = np.concatenate([changes[1:], [t.shape[0]]])
    lags = np.full(changes.shape[0], np.nan)
    for n, (start, end) in enumerate(zip(changes.tolist(), ends.tolist(), strict=True)):
        hits = np.flatnonzero(p[start:end] == t[start])
        if hits.shape[0]:
            lags[n] = float(hits[0])
    return lags


@dataclass(frozen=True, slots=True)
class LagSummary:
    """Detection lags in bars over the regime changes: mean and median of the detected ones."""

    changes: int
    detected: int
    mean: float
    median: float


def summarise_lags(lags: npt.ArrayLike) -> LagSummary:
    """Summarise :func:`detection_lags` output (NaN lags count as missed)."""
    values = np.asarray(lags, dtype=np.float64)
    found = values[~np.isnan(values)]
    mean = float(found.mean()) if found.shape[0] else float("nan")
    median = float(np.median(found)) if found.shape[0] else float("nan")
    return LagSummary(int(values.shape[0]), int(found.shape[0]), mean, median)
