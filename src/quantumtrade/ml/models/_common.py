"""Helpers the forecasters share: column selection, base rates and move sizes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Probabilities are kept this far from 0 and 1 before taking a logit.
LOGIT_EPS = 1e-6


def logit(p: npt.ArrayLike) -> FloatArray:
    """Return ``log(p / (1 - p))`` with ``p`` clipped to ``[LOGIT_EPS, 1 - LOGIT_EPS]``."""
    q = np.clip(np.asarray(p, dtype=np.float64), LOGIT_EPS, 1.0 - LOGIT_EPS)
    out: FloatArray = np.log(q) - np.log1p(-q)
    return out


def sigmoid(z: npt.ArrayLike) -> FloatArray:
    """Return the logistic function of ``z``."""
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))
    return out


def smoothed_rate(y_up: BoolArray) -> float:
    """Return the Laplace-smoothed share of up moves, ``(ups + 1) / (n + 2)``."""
    y = np.asarray(y_up, dtype=bool)
    return (float(y.sum()) + 1.0) / (float(y.shape[0]) + 2.0)


def move_sizes(y_up: BoolArray, y_ret: FloatArray) -> tuple[float, float]:
    """Return the mean training return of up moves and of the others (0 without any)."""
    y = np.asarray(y_up, dtype=bool)
    r = np.asarray(y_ret, dtype=np.float64)
    up, down = r[y], r[~y]
    return (float(up.mean()) if up.size else 0.0, float(down.mean()) if down.size else 0.0)


def prefixed(X: pd.DataFrame, prefix: str) -> list[str]:
    """Return the names of the columns of ``X`` that start with ``prefix``, in table order."""
    return [str(c) for c in X.columns if str(c).startswith(prefix)]


def matrix(X: pd.DataFrame, columns: Sequence[str]) -> FloatArray:
    """Return the named columns of ``X`` as a float64 array (rows x columns)."""
    out: FloatArray = X.loc[:, list(columns)].to_numpy(dtype=np.float64, na_value=np.nan)
    return out
