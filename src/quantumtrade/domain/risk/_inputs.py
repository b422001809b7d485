"""Normalise position and return inputs to labelled float64 arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
PositionsLike = pd.Series | Mapping[str, float] | Sequence[float] | FloatArray
ReturnsMatrix = pd.DataFrame | FloatArray | Sequence[Sequence[float]]


def positions_array(positions: PositionsLike) -> tuple[tuple[str, ...], FloatArray]:
    """Return the position labels and market values; unlabelled positions get "0", "1", ..."""
    if isinstance(positions, pd.Series):
        labels = tuple(str(label) for label in positions.index)
        values = positions.to_numpy(dtype=np.float64)
    elif isinstance(positions, Mapping):
        labels = tuple(str(label) for label in positions)
        values = np.asarray(list(positions.values()), dtype=np.float64)
    else:
        values = np.asarray(positions, dtype=np.float64)
        labels = tuple(str(i) for i in range(values.size))
    if values.ndim != 1 or values.size == 0:
        raise ValueError("positions must be a non-empty one-dimensional set of market values")
    if not np.all(np.isfinite(values)):
        raise ValueError("positions must be finite")
    return labels, values


def returns_matrix(returns: ReturnsMatrix, labels: tuple[str, ...]) -> FloatArray:
    """Return a T x N float64 matrix whose columns follow ``labels``.

    A DataFrame whose columns contain every label is reordered to match; one with unnamed
    (0..N-1) columns, or any other input, must already be in position order. A frame with named
    columns that lacks a position's label is refused rather than matched by position.
    """
    if isinstance(returns, pd.DataFrame):
        columns = [str(c) for c in returns.columns]
        if set(labels) <= set(columns):
            frame = returns.set_axis(columns, axis=1)
            matrix = frame.loc[:, list(labels)].to_numpy(dtype=np.float64)
        elif isinstance(returns.columns, pd.RangeIndex):
            matrix = returns.to_numpy(dtype=np.float64)
        else:
            missing = sorted(set(labels) - set(columns))
            raise ValueError(f"returns have no column for positions {missing}")
    else:
        matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(labels):
        raise ValueError(f"returns must be T x {len(labels)}, got shape {matrix.shape}")
    if matrix.shape[0] < 2:
        raise ValueError("returns need at least two observations")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("returns must be finite (drop or fill missing days first)")
    return matrix


def check_confidence(confidence: float) -> None:
    """Reject a confidence level outside the open interval (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def check_horizon(horizon_days: float) -> float:
    """Return the square-root-of-time factor for a positive horizon in days."""
    if not horizon_days > 0.0 or not math.isfinite(horizon_days):
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    return math.sqrt(horizon_days)
