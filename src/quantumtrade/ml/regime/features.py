"""Causal per-bar features: HMM inputs, realised volatility and its percentile, trend figures.

Every function here is causal unless it says otherwise: the value at bar ``t`` depends only on
bars ``0..t``, so a prefix of the bars gives the same prefix of the output, bit for bit. The
filtered classifier relies on that.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib

FloatArray = npt.NDArray[np.float64]

VOL_HALFLIFE = 10  # bars; short enough to follow a crisis, long enough to ignore one jump
ADX_PERIOD = 14
SLOPE_WINDOW = 20
SLOPE_T_THRESHOLD = 2.0  # a slope two standard errors from zero is a trend, not noise
MIN_PERCENTILE_HISTORY = 20
VOL_BANDS = ((25.0, "low"), (75.0, "normal"), (95.0, "high"))
VOLATILITY_REGIMES = ("low", "normal", "high", "extreme")
DIRECTIONS = ("up", "down", "flat")


def log_returns(close: FloatArray) -> FloatArray:
    """Return bar-to-bar log returns; the first bar has none and gets NaN."""
    out = np.full(close.shape[0], np.nan)
    out[1:] = np.diff(np.log(close))
    return out


def hmm_features(bars: pd.DataFrame, use_volume: bool) -> FloatArray:
    """Return the HMM's observation per bar from bar 1 on: log return, and log volume if used.

    Daily log volume carries the regime cleanly: participation rises in sell-offs whatever
    the volatility clustering does, which blurs the return-only picture.
    """
    columns = [log_returns(bars["close"].to_numpy())[1:]]
    if use_volume:
        columns.append(np.log1p(bars["volume"].to_numpy()[1:]))
    return np.column_stack(columns)


def realised_volatility(returns: FloatArray, periods_per_year: float) -> FloatArray:
    """Return the annualised exponentially weighted volatility of the returns (NaN at bar 0)."""
    squared = pd.Series(returns**2)
    mean = squared.ewm(halflife=VOL_HALFLIFE, adjust=True, ignore_na=True).mean()
    return np.sqrt(mean.to_numpy() * periods_per_year)


def volatility_percentile(volatility: FloatArray, *, expanding: bool) -> FloatArray:
    """Return each bar's volatility percentile (0-100) against the symbol's own history.

    ``expanding`` ranks each bar among the bars up to it (causal); otherwise among all bars.
    """
    series = pd.Series(volatility)
    ranks = series.expanding(min_periods=1).rank(pct=True) if expanding else series.rank(pct=True)
    return np.asarray(ranks.to_numpy(dtype=np.float64) * 100.0, dtype=np.float64)


def volatility_labels(percentile: FloatArray) -> npt.NDArray[np.object_]:
    """Name each bar's volatility band; bars with too little history count as normal."""
    labels = np.full(percentile.shape[0], "extreme", dtype=object)
    for bound, name in reversed(VOL_BANDS):
        labels[percentile < bound] = name
    history = np.arange(percentile.shape[0]) + 1
    labels[(history < MIN_PERCENTILE_HISTORY) | np.isnan(percentile)] = "normal"
    return labels


def adx(bars: pd.DataFrame, period: int = ADX_PERIOD) -> FloatArray:
    """Return ADX(period) from high, low and close; from close alone when high/low are absent.

    With close only, the bar's range collapses to the close and directional movement is the
    close-to-close change: still Wilder's measure of how one-sided the moves are.
    """
    close = bars["close"].to_numpy()
    has_range = "high" in bars.columns and "low" in bars.columns
    high = bars["high"].to_numpy() if has_range else close
    low = bars["low"].to_numpy() if has_range else close
    out: FloatArray = np.asarray(talib.ADX(high, low, close, timeperiod=period), np.float64)
    return out


def slope_tstat(close: FloatArray, window: int = SLOPE_WINDOW) -> FloatArray:
    """Return the t-statistic of the least-squares slope of log price over a trailing window.

    For a simple regression ``t = r * sqrt((n - 2) / (1 - r^2))`` with ``r`` the correlation
    of log price with time; pandas' rolling correlation is causal and numerically stable.
    """
    y = pd.Series(np.log(close))
    x = pd.Series(np.arange(close.shape[0], dtype=np.float64))
    r = y.rolling(window).corr(x).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt((window - 2) / np.maximum(1.0 - r**2, 1e-12))
    return np.where(np.isfinite(t), t, np.where(np.isnan(r), np.nan, 0.0))


def directions(tstat: FloatArray) -> npt.NDArray[np.object_]:
    """Name the trend direction of each bar from the slope's t-statistic."""
    out = np.full(tstat.shape[0], "flat", dtype=object)
    out[tstat >= SLOPE_T_THRESHOLD] = "up"
    out[tstat <= -SLOPE_T_THRESHOLD] = "down"
    return out
