"""Technical indicators over float64 arrays: vectorised, strictly causal, NaN during warm-up.

Conventions shared by every function here:

- Inputs are 1-D sequences converted to ``float64``; outputs have the same length as the input.
- Causality: the value at index ``i`` depends only on ``inputs[0..i]``, so a prefix of the input
  gives the same prefix of the output.
- Warm-up: indices without enough history are NaN. Leading NaNs in the input shift the start of
  recursive indicators (EMA, Wilder smoothing); a NaN after the start propagates to every later
  value of a recursive indicator and to the windows that contain it for rolling ones.
- EMA: ``alpha = 2 / (n + 1)``, seeded at the n-th valid value with the simple mean of the first
  n valid values (the classic TA-Lib seeding). This equals pandas
  ``ewm(alpha=alpha, adjust=False)`` applied to a series whose first n values are replaced by
  NaN except the n-th, which holds their mean. Plain ``ewm(adjust=False)`` seeds with the first
  value instead and so differs during the first few dozen bars.
- Wilder smoothing (RSI, ATR): the same recursion with ``alpha = 1 / n`` and the same seeding.
- Standard deviations (Bollinger bands, z-score) are population ones (``ddof=0``).
- Rate of change is a fraction (``0.05`` means +5 %), not a percentage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "BollingerBands",
    "FloatArray",
    "Macd",
    "atr",
    "bollinger",
    "ema",
    "macd",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "true_range",
    "wilder",
    "zscore",
]


class Macd(NamedTuple):
    """MACD line, its signal line and the histogram (line minus signal)."""

    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


class BollingerBands(NamedTuple):
    """Middle band (SMA) with the upper and lower bands ``k`` standard deviations away."""

    middle: FloatArray
    upper: FloatArray
    lower: FloatArray


def _as_series(values: ArrayLike, name: str = "values") -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _check_window(n: int, name: str = "n") -> None:
    # bool is an int subclass; a window of True is a bug, not a window of 1
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")


@njit(cache=False)
def _smooth_kernel(x: FloatArray, n: int, alpha: float) -> FloatArray:  # pragma: no cover
    # Recursive smoothing cannot be vectorised in numpy; numba keeps it a tight loop.
    size = x.shape[0]
    out = np.full(size, np.nan)
    start = 0
    while start < size and np.isnan(x[start]):
        start += 1
    seed_at = start + n - 1
    if seed_at >= size:
        return out
    total = 0.0
    for j in range(start, seed_at + 1):
        total += x[j]
    prev = total / n
    out[seed_at] = prev
    for i in range(seed_at + 1, size):
        prev = alpha * x[i] + (1.0 - alpha) * prev
        out[i] = prev
    return out


def _smooth(x: FloatArray, n: int, alpha: float) -> FloatArray:
    out: FloatArray = _smooth_kernel(x, int(n), float(alpha))
    return out


def _rolling_windows(x: FloatArray, n: int) -> NDArray[np.float64] | None:
    if x.shape[0] < n:
        return None
    return sliding_window_view(x, n)


def sma(values: ArrayLike, n: int) -> FloatArray:
    """Return the simple moving average over the last ``n`` values (NaN for the first n-1)."""
    _check_window(n)
    x = _as_series(values)
    out = np.full(x.shape[0], np.nan)
    windows = _rolling_windows(x, n)
    if windows is not None:
        out[n - 1 :] = windows.mean(axis=1)
    return out


def rolling_std(values: ArrayLike, n: int) -> FloatArray:
    """Return the population (ddof=0) standard deviation over the last ``n`` values."""
    _check_window(n)
    x = _as_series(values)
    out = np.full(x.shape[0], np.nan)
    windows = _rolling_windows(x, n)
    if windows is not None:
        out[n - 1 :] = windows.std(axis=1)
    return out


def ema(values: ArrayLike, n: int) -> FloatArray:
    """Return the exponential moving average, ``alpha = 2/(n+1)``, seeded with an SMA of n."""
    _check_window(n)
    return _smooth(_as_series(values), n, 2.0 / (n + 1.0))


def wilder(values: ArrayLike, n: int) -> FloatArray:
    """Return Wilder's smoothing (``alpha = 1/n``), seeded with the SMA of the first n values."""
    _check_window(n)
    return _smooth(_as_series(values), n, 1.0 / n)


def rsi(close: ArrayLike, n: int = 14) -> FloatArray:
    """Return Wilder's relative strength index in [0, 100]; the first value is at index ``n``.

    With no losses in the smoothing window the RSI is 100; with neither gains nor losses
    (a flat market) it is 50.
    """
    _check_window(n)
    x = _as_series(close, "close")
    change = np.full(x.shape[0], np.nan)
    change[1:] = np.diff(x)
    avg_gain = _smooth(np.where(np.isnan(change), np.nan, np.maximum(change, 0.0)), n, 1.0 / n)
    avg_loss = _smooth(np.where(np.isnan(change), np.nan, np.maximum(-change, 0.0)), n, 1.0 / n)
    total = avg_gain + avg_loss
    with np.errstate(divide="ignore", invalid="ignore"):
        # 100 * g / (g + l) is 100 - 100 / (1 + g / l) without the division by a zero loss
        out = np.where(total > 0.0, 100.0 * avg_gain / total, 50.0)
    out[np.isnan(total)] = np.nan
    return out


def macd(close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    """Return the MACD line (fast EMA - slow EMA), its signal EMA and the histogram.

    The line starts at index ``slow - 1``, the signal and histogram at ``slow + signal - 2``.
    """
    _check_window(fast, "fast")
    _check_window(slow, "slow")
    _check_window(signal, "signal")
    if fast >= slow:
        raise ValueError(f"fast must be < slow, got fast={fast}, slow={slow}")
    x = _as_series(close, "close")
    line = ema(x, fast) - ema(x, slow)
    signal_line = ema(line, signal)
    return Macd(line, signal_line, line - signal_line)


def bollinger(close: ArrayLike, n: int = 20, k: float = 2.0) -> BollingerBands:
    """Return Bollinger bands: SMA of ``n`` plus and minus ``k`` population std deviations."""
    _check_window(n)
    if not k >= 0.0:
        raise ValueError(f"k must be >= 0, got {k}")
    x = _as_series(close, "close")
    middle = sma(x, n)
    width = k * rolling_std(x, n)
    return BollingerBands(middle, middle + width, middle - width)


def zscore(values: ArrayLike, n: int) -> FloatArray:
    """Return ``(x - SMA_n) / std_n`` (ddof=0); NaN where the window has zero spread."""
    _check_window(n)
    x = _as_series(values)
    mean = sma(x, n)
    std = rolling_std(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (x - mean) / std
    out[~(std > 0.0)] = np.nan
    return out


def roc(values: ArrayLike, n: int) -> FloatArray:
    """Return the rate of change ``x[i] / x[i-n] - 1`` as a fraction (NaN for the first n)."""
    _check_window(n)
    x = _as_series(values)
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] > n:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = x[n:] / x[:-n] - 1.0
    return out


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """Return the true range ``max(h - l, |h - c_prev|, |l - c_prev|)``; NaN at index 0."""
    h, lo, c = _aligned(high, low, close)
    out = np.full(c.shape[0], np.nan)
    if c.shape[0] > 1:
        prev = c[:-1]
        out[1:] = np.maximum(
            h[1:] - lo[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev))
        )
    return out


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> FloatArray:
    """Return Wilder's average true range; the first value is at index ``n`` (TA-Lib convention).

    The true range needs the previous close, so it starts at index 1 and the seed is the mean of
    the true ranges at indices 1..n.
    """
    _check_window(n)
    return _smooth(true_range(high, low, close), n, 1.0 / n)


def _aligned(*series: ArrayLike) -> Sequence[FloatArray]:
    names = ("high", "low", "close")
    arrays = [_as_series(s, name) for s, name in zip(series, names, strict=True)]
    if len({a.shape[0] for a in arrays}) != 1:
        lengths = ", ".join(f"{n}={a.shape[0]}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"high, low and close must have the same length, got {lengths}")
    return arrays
