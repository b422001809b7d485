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
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "Adx",
    "BollingerBands",
    "FloatArray",
    "Macd",
    "Stochastic",
    "adx",
    "atr",
    "bollinger",
    "ema",
    "macd",
    "obv",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "stochastic",
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


@njit(cache=True)
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


# Rolling windows are summed left to right, block by block: the inner loop runs across the
# outputs of a block, so it vectorises without reordering any sum, and every window is summed
# afresh (no running total whose rounding error would drift over a long series).
_BLOCK = 1024


@njit(cache=True, error_model="numpy")
def window_sums(x: FloatArray, n: int, first: int, acc: FloatArray) -> None:  # pragma: no cover
    """Set ``acc[j]`` to the left-to-right sum of the ``n`` values ending at ``first + j``."""
    m = acc.shape[0]
    lo = first - n + 1
    acc[:] = x[lo : lo + m]
    k = 1
    # Four terms a pass keep the running sums in registers; the additions stay in the same
    # left-to-right order, so every sum is the same to the last bit.
    while k + 3 < n:
        a = x[lo + k : lo + k + m]
        b = x[lo + k + 1 : lo + k + 1 + m]
        c = x[lo + k + 2 : lo + k + 2 + m]
        d = x[lo + k + 3 : lo + k + 3 + m]
        for j in range(m):
            acc[j] = (((acc[j] + a[j]) + b[j]) + c[j]) + d[j]
        k += 4
    for rest in range(k, n):
        window = x[lo + rest : lo + rest + m]
        for j in range(m):
            acc[j] += window[j]


@njit(cache=True, error_model="numpy")
def _rolling_mean_kernel(x: FloatArray, n: int) -> FloatArray:  # pragma: no cover
    size = x.shape[0]
    out = np.full(size, np.nan)
    for first in range(n - 1, size, _BLOCK):
        acc = out[first : min(first + _BLOCK, size)]
        window_sums(x, n, first, acc)
        for j in range(acc.shape[0]):
            acc[j] = acc[j] / n
    return out


@njit(cache=True, error_model="numpy")
def _rolling_std_kernel(x: FloatArray, n: int) -> FloatArray:  # pragma: no cover
    # Two passes per window, as numpy's std: the mean first, then the mean squared deviation.
    size = x.shape[0]
    out = np.full(size, np.nan)
    block = np.empty(_BLOCK)
    for first in range(n - 1, size, _BLOCK):
        m = min(_BLOCK, size - first)
        mean = block[:m]
        window_sums(x, n, first, mean)
        acc = out[first : first + m]
        lo = first - n + 1
        for j in range(m):
            mean[j] = mean[j] / n
            d = x[lo + j] - mean[j]
            acc[j] = d * d
        for k in range(1, n):
            window = x[lo + k : lo + k + m]
            for j in range(m):
                d = window[j] - mean[j]
                acc[j] += d * d
        for j in range(m):
            acc[j] = np.sqrt(acc[j] / n)
    return out


def sma(values: ArrayLike, n: int) -> FloatArray:
    """Return the simple moving average over the last ``n`` values (NaN for the first n-1)."""
    _check_window(n)
    out: FloatArray = _rolling_mean_kernel(_as_series(values), int(n))
    return out


def rolling_std(values: ArrayLike, n: int) -> FloatArray:
    """Return the population (ddof=0) standard deviation over the last ``n`` values."""
    _check_window(n)
    out: FloatArray = _rolling_std_kernel(_as_series(values), int(n))
    return out


def ema(values: ArrayLike, n: int) -> FloatArray:
    """Return the exponential moving average, ``alpha = 2/(n+1)``, seeded with an SMA of n."""
    _check_window(n)
    return _smooth(_as_series(values), n, 2.0 / (n + 1.0))


def wilder(values: ArrayLike, n: int) -> FloatArray:
    """Return Wilder's smoothing (``alpha = 1/n``), seeded with the SMA of the first n values."""
    _check_window(n)
    return _smooth(_as_series(values), n, 1.0 / n)


@njit(cache=True)
def _rsi_kernel(x: FloatArray, n: int) -> FloatArray:  # pragma: no cover
    # Wilder-smoothed gains and losses as ``_smooth_kernel`` computes them, in one pass and
    # without the intermediate arrays. Gains and losses are NaN at the same places, so both
    # smoothings start and seed at the same index.
    size = x.shape[0]
    out = np.full(size, np.nan)
    alpha = 1.0 / n
    start = 1
    while start < size and np.isnan(x[start] - x[start - 1]):
        start += 1
    seed_at = start + n - 1
    if seed_at >= size:
        return out
    gain_total = 0.0
    loss_total = 0.0
    for j in range(start, seed_at + 1):
        change = x[j] - x[j - 1]
        gain_total += max(change, 0.0) if not np.isnan(change) else np.nan
        loss_total += max(-change, 0.0) if not np.isnan(change) else np.nan
    gain = gain_total / n
    loss = loss_total / n
    for i in range(seed_at, size):
        if i > seed_at:
            change = x[i] - x[i - 1]
            up = max(change, 0.0) if not np.isnan(change) else np.nan
            down = max(-change, 0.0) if not np.isnan(change) else np.nan
            gain = alpha * up + (1.0 - alpha) * gain
            loss = alpha * down + (1.0 - alpha) * loss
        total = gain + loss
        if np.isnan(total):
            out[i] = np.nan
        elif total > 0.0:
            # 100 * g / (g + l) is 100 - 100 / (1 + g / l) without the division by a zero loss
            out[i] = 100.0 * gain / total
        else:
            out[i] = 50.0
    return out


def rsi(close: ArrayLike, n: int = 14) -> FloatArray:
    """Return Wilder's relative strength index in [0, 100]; the first value is at index ``n``.

    With no losses in the smoothing window the RSI is 100; with neither gains nor losses
    (a flat market) it is 50.
    """
    _check_window(n)
    out: FloatArray = _rsi_kernel(_as_series(close, "close"), int(n))
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


# --- Stochastic oscillator, ADX / directional indicators, on-balance volume -------------------
#
# These follow TA-Lib's STOCH (SMA smoothing), ADX / PLUS_DI / MINUS_DI and OBV: the same
# formulas, seeds and first valid index, so their values agree with TA-Lib's after its warm-up.
# Where TA-Lib blanks an output only to line it up with another one (STOCH's %K until %D
# starts), the output here starts at its own first valid index, as ``macd`` does.

STOCH_FLAT = 50.0  # %K when the window's high equals its low: the close is at both ends


class Stochastic(NamedTuple):
    """Slow stochastic: ``k`` is the smoothed %K (TA-Lib ``slowk``), ``d`` its SMA (``slowd``)."""

    k: FloatArray
    d: FloatArray


class Adx(NamedTuple):
    """Wilder's average directional index with the directional indicators it is built from."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


def _same_length(named: dict[str, ArrayLike]) -> list[FloatArray]:
    arrays = [_as_series(values, name) for name, values in named.items()]
    if len({a.shape[0] for a in arrays}) > 1:
        lengths = ", ".join(f"{n}={a.shape[0]}" for n, a in zip(named, arrays, strict=True))
        raise ValueError(f"{', '.join(named)} must have the same length, got {lengths}")
    return arrays


def _rolling_extremes(x: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Return the rolling max and min over the last ``n`` values; NaN if the window has one."""
    highest = np.full(x.shape[0], np.nan)
    lowest = np.full(x.shape[0], np.nan)
    if x.shape[0] >= n:
        windows = np.lib.stride_tricks.sliding_window_view(x, n)
        highest[n - 1 :] = windows.max(axis=1)
        lowest[n - 1 :] = windows.min(axis=1)
    return highest, lowest


def stochastic(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, k: int = 14, k_smooth: int = 3, d: int = 3
) -> Stochastic:
    """Return the slow stochastic oscillator in [0, 100] (TA-Lib ``STOCH`` with SMA smoothing).

    Fast %K is ``100 * (close - lowest low) / (highest high - lowest low)`` over the last ``k``
    bars including the current one; %K is the ``k_smooth``-bar SMA of fast %K and %D the
    ``d``-bar SMA of %K. %K starts at index ``k + k_smooth - 2`` and %D at
    ``k + k_smooth + d - 3`` (TA-Lib reports both from the latter). A window whose high equals
    its low gives a fast %K of ``STOCH_FLAT`` (50) where TA-Lib gives 0.
    """
    _check_window(k, "k")
    _check_window(k_smooth, "k_smooth")
    _check_window(d, "d")
    h, lo, c = _same_length({"high": high, "low": low, "close": close})
    highest, _ = _rolling_extremes(h, int(k))
    _, lowest = _rolling_extremes(lo, int(k))
    span = highest - lowest
    with np.errstate(divide="ignore", invalid="ignore"):
        # TA-Lib's exact expression, divided by the span in percent
        fast = (c - lowest) / (span / 100.0)
    fast[(span == 0.0) & ~np.isnan(c)] = STOCH_FLAT
    slow_k = sma(fast, k_smooth)
    return Stochastic(slow_k, sma(slow_k, d))


@njit(cache=True)
def _adx_kernel(
    h: FloatArray, lo: FloatArray, c: FloatArray, n: int
) -> tuple[FloatArray, FloatArray, FloatArray]:  # pragma: no cover
    # TA-Lib's ADX loop: directional movements and true ranges are Wilder-smoothed as running
    # sums (``s - s / n + x``) seeded with the sum of the first n - 1 values; DI = 100 * DM / TR.
    size = h.shape[0]
    adx = np.full(size, np.nan)
    plus_di = np.full(size, np.nan)
    minus_di = np.full(size, np.nan)
    start = 0
    while start < size and (np.isnan(h[start]) or np.isnan(lo[start]) or np.isnan(c[start])):
        start += 1
    if start + n >= size:
        return adx, plus_di, minus_di
    plus_dm = 0.0
    minus_dm = 0.0
    tr_sum = 0.0
    dx_sum = 0.0
    prev_adx = np.nan
    for i in range(start + 1, size):
        up = h[i] - h[i - 1]
        down = lo[i - 1] - lo[i]
        if np.isnan(up) or np.isnan(down):
            up_move = np.nan
            down_move = np.nan
        else:
            up_move = up if (up > 0.0 and up > down) else 0.0
            down_move = down if (down > 0.0 and down > up) else 0.0
        prev_close = c[i - 1]
        tr = h[i] - lo[i]
        if np.isnan(tr) or np.isnan(prev_close):
            tr = np.nan
        else:
            tr = max(tr, abs(h[i] - prev_close), abs(lo[i] - prev_close))
        if i < start + n:
            plus_dm += up_move
            minus_dm += down_move
            tr_sum += tr
            continue
        plus_dm = plus_dm - plus_dm / n + up_move
        minus_dm = minus_dm - minus_dm / n + down_move
        tr_sum = tr_sum - tr_sum / n + tr
        if tr_sum != 0.0:
            p = 100.0 * (plus_dm / tr_sum)
            m = 100.0 * (minus_dm / tr_sum)
        else:
            p = 0.0
            m = 0.0
        plus_di[i] = p
        minus_di[i] = m
        # DX is skipped (TA-Lib: the ADX carries over) when there is no range or no movement
        dx = np.nan
        skip = tr_sum == 0.0 or p + m == 0.0
        if not skip:
            dx = 100.0 * (abs(m - p) / (m + p))
        if i < start + 2 * n - 1:
            if not skip:
                dx_sum += dx
        elif i == start + 2 * n - 1:
            if not skip:
                dx_sum += dx
            prev_adx = dx_sum / n
            adx[i] = prev_adx
        else:
            if not skip:
                prev_adx = (prev_adx * (n - 1) + dx) / n
            adx[i] = prev_adx
    return adx, plus_di, minus_di


def adx(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> Adx:
    """Return Wilder's ADX with +DI and -DI (TA-Lib ``ADX``, ``PLUS_DI``, ``MINUS_DI``).

    +DM is the rise of the high and -DM the fall of the low when that move is positive and the
    larger of the two, else 0. +DM, -DM and the true range are Wilder-smoothed as TA-Lib does:
    a running sum seeded with the first ``n - 1`` values (indices 1..n-1), then
    ``s = s - s / n + x``; ``+DI = 100 * +DM_s / TR_s`` (0 when ``TR_s`` is 0), likewise -DI.
    ``DX = 100 * |+DI - -DI| / (+DI + -DI)``; the ADX is seeded with the mean DX of indices
    n..2n-1 and then Wilder-smoothed; a bar without range or movement leaves it unchanged.

    The DIs start at index ``n`` and the ADX at ``2n - 1``, as in TA-Lib. TA-Lib treats a
    smoothed true range below 1e-8 as zero; here only an exact zero is, so that the indicator
    does not depend on the price scale.
    """
    _check_window(n)
    h, lo, c = _same_length({"high": high, "low": low, "close": close})
    out = _adx_kernel(h, lo, c, int(n))
    return Adx(out[0], out[1], out[2])


def obv(close: ArrayLike, volume: ArrayLike) -> FloatArray:
    """Return on-balance volume: the running sum of volume signed by the close's move.

    The first value is the first bar's volume (TA-Lib ``OBV``); a bar adds its volume when the
    close rose, subtracts it when it fell and leaves the total unchanged when it did not move.
    Leading bars with a NaN close or volume are skipped; a later NaN propagates to the end.
    """
    c, v = _same_length({"close": close, "volume": volume})
    out = np.full(c.shape[0], np.nan)
    valid = ~(np.isnan(c) | np.isnan(v))
    if not valid.any():
        return out
    start = int(np.argmax(valid))
    steps = np.empty(c.shape[0] - start)
    steps[0] = v[start]
    steps[1:] = np.sign(np.diff(c[start:])) * v[start + 1 :]
    # summed left to right as TA-Lib does, so the totals agree bit for bit
    out[start:] = np.cumsum(steps)
    return out
