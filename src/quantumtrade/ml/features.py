"""Per-bar model inputs computed from past bars only, and the forward-looking targets.

:func:`feature_table` returns one row per bar. Every value in the row of bar ``t`` is computed
from bars ``0..t`` (and from ``extra`` values stamped at or before bar ``t``'s time), so
replacing or reordering the bars after ``t`` leaves rows ``0..t`` unchanged bit for bit, and a
prefix of the bars gives the same prefix of the table. Bars are read from their ``high``,
``low``, ``close`` and ``volume`` columns (``open`` is not used) on a timezone-aware,
strictly increasing index. Windows count bars: on daily bars a 20-bar window is 20 sessions.

Features (``log`` is the natural logarithm, ``r_t = log(close_t / close_{t-1})``):

``ret_{h}``
    Log return over the last ``h`` bars, ``log(close_t / close_{t-h})``, for each horizon.
``vol_{w}``
    Realised volatility: root mean square of the last ``w`` one-bar log returns
    (``VOL_WINDOWS``), per bar; multiply by the square root of bars per year to annualise.
``rsi``
    Wilder's RSI over ``RSI_PERIOD`` bars, in [0, 100].
``macd_hist``
    MACD histogram (``MACD_FAST``/``MACD_SLOW``/``MACD_SIGNAL`` EMAs) divided by the close, so
    that it compares across price levels.
``bb_pct_b``
    Bollinger %b: ``(close - lower) / (upper - lower)`` for bands ``BOLLINGER_K`` population
    standard deviations around the ``BOLLINGER_PERIOD``-bar SMA; 0 at the lower band, 1 at the
    upper one, 0.5 when the band has no width.
``bb_bandwidth``
    ``(upper - lower) / middle``.
``atr_pct``
    Wilder's average true range over ``ATR_PERIOD`` bars as a fraction of the close.
``stoch_k``, ``stoch_d``
    Slow stochastic %K and %D (``STOCH_K``, ``STOCH_SMOOTH``, ``STOCH_D``), in [0, 100].
``adx``, ``plus_di``, ``minus_di``
    Wilder's ADX and the directional indicators over ``ADX_PERIOD`` bars, in [0, 100].
``obv_slope_z``
    The ``OBV_SLOPE_WINDOW``-bar change of on-balance volume (its slope: net volume on up bars
    minus down bars) as a z-score against the last ``ZSCORE_WINDOW`` values of that change.
``volume_z``
    ``log(1 + volume)`` as a z-score against its last ``ZSCORE_WINDOW`` values.
``rel_volume``
    Volume over its ``RELATIVE_VOLUME_WINDOW``-bar mean (1 when that mean is 0).
``dist_high_{w}``, ``dist_low_{w}``
    ``log(close / highest high)`` (<= 0) and ``log(close / lowest low)`` (>= 0) over the last
    ``w`` bars including the current one (``RANGE_WINDOWS``).
``day_of_week``
    Day of the week of the bar's UTC timestamp, 0 = Monday .. 6 = Sunday.

Z-scores use population standard deviations and are 0 when the window has no spread.

A column is NaN while its window is not yet full; from :func:`warmup_bars` on every column is
finite. ``extra`` columns (regime probabilities, sentiment scores...) are joined as of the bar's
timestamp: row ``t`` holds the last non-missing value stamped at or before bar ``t``'s time
(optionally only if it is at most ``extra_max_age`` old). A bar stamped at the start of its
period (the simulator stamps daily bars at UTC midnight of the session) therefore sees a value
published during that session only from the next bar on: late, never early.

:func:`labels` is the target and the only forward-looking function here.

``FEATURE_VERSION`` identifies the feature definitions: ``FEATURE_REVISION`` (raised by hand
when a formula changes) and a fingerprint of the parameters above, which changes by itself
when one of them does. Store it with anything trained on the table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain import indicators as ind
from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.indicators import FloatArray

__all__ = [
    "ADX_PERIOD",
    "ATR_PERIOD",
    "BOLLINGER_K",
    "BOLLINGER_PERIOD",
    "FEATURE_REVISION",
    "FEATURE_VERSION",
    "MACD_FAST",
    "MACD_SIGNAL",
    "MACD_SLOW",
    "OBV_SLOPE_WINDOW",
    "RANGE_WINDOWS",
    "RELATIVE_VOLUME_WINDOW",
    "RETURN_HORIZONS",
    "RSI_PERIOD",
    "STOCH_D",
    "STOCH_K",
    "STOCH_SMOOTH",
    "VOL_WINDOWS",
    "ZSCORE_WINDOW",
    "feature_columns",
    "feature_table",
    "labels",
    "warmup_bars",
]

FEATURE_REVISION = 1

RETURN_HORIZONS = (1, 5, 20)
VOL_WINDOWS = (5, 20, 60)
RSI_PERIOD = 14
MACD_FAST = 12
MACD_SLOW = 26
MACD_SIGNAL = 9
BOLLINGER_PERIOD = 20
BOLLINGER_K = 2.0
ATR_PERIOD = 14
STOCH_K = 14
STOCH_SMOOTH = 3
STOCH_D = 3
ADX_PERIOD = 14
OBV_SLOPE_WINDOW = 20
ZSCORE_WINDOW = 60  # bars of history a volume or flow figure is compared with
RELATIVE_VOLUME_WINDOW = 20
RANGE_WINDOWS = (20, 50)

# a standard deviation (or band width) this small against the mean is rounding noise in a
# window of equal values: the z-score is then 0 and %b 0.5
_FLAT_SPREAD = 1e-12

# every parameter of the definitions, by name: changing one changes FEATURE_VERSION
_PARAMETERS = tuple(
    (name, globals()[name])
    for name in (
        "VOL_WINDOWS",
        "RSI_PERIOD",
        "MACD_FAST",
        "MACD_SLOW",
        "MACD_SIGNAL",
        "BOLLINGER_PERIOD",
        "BOLLINGER_K",
        "ATR_PERIOD",
        "STOCH_K",
        "STOCH_SMOOTH",
        "STOCH_D",
        "ADX_PERIOD",
        "OBV_SLOPE_WINDOW",
        "ZSCORE_WINDOW",
        "RELATIVE_VOLUME_WINDOW",
        "RANGE_WINDOWS",
        "_FLAT_SPREAD",
    )
)
_FINGERPRINT = hashlib.sha256(repr(_PARAMETERS).encode()).hexdigest()[:8]
FEATURE_VERSION = f"{FEATURE_REVISION}.{_FINGERPRINT}"

_COLUMNS = ("high", "low", "close", "volume")

# first row at which each fixed column is defined (bar index)
_WARMUP = {
    **{f"vol_{w}": w for w in VOL_WINDOWS},
    "rsi": RSI_PERIOD,
    "macd_hist": MACD_SLOW + MACD_SIGNAL - 2,
    "bb_pct_b": BOLLINGER_PERIOD - 1,
    "bb_bandwidth": BOLLINGER_PERIOD - 1,
    "atr_pct": ATR_PERIOD,
    "stoch_k": STOCH_K + STOCH_SMOOTH - 2,
    "stoch_d": STOCH_K + STOCH_SMOOTH + STOCH_D - 3,
    "adx": 2 * ADX_PERIOD - 1,
    "plus_di": ADX_PERIOD,
    "minus_di": ADX_PERIOD,
    "obv_slope_z": OBV_SLOPE_WINDOW + ZSCORE_WINDOW - 1,
    "volume_z": ZSCORE_WINDOW - 1,
    "rel_volume": RELATIVE_VOLUME_WINDOW - 1,
    **{f"dist_{side}_{w}": w - 1 for w in RANGE_WINDOWS for side in ("high", "low")},
    "day_of_week": 0,
}


def _check_horizon(h: object, name: str) -> int:
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
        raise InvalidInput(f"{name} must be a positive integer, got {h!r}.", code="invalid_horizon")
    return int(h)


def _check_horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    checked = tuple(_check_horizon(h, "each horizon") for h in horizons)
    if not checked or len(set(checked)) != len(checked):
        raise InvalidInput(
            f"horizons must be distinct and at least one, got {list(horizons)!r}.",
            code="invalid_horizon",
        )
    return checked


def feature_columns(horizons: Sequence[int] = RETURN_HORIZONS) -> tuple[str, ...]:
    """Return the names of the computed columns, in table order (``extra`` columns follow)."""
    return (*(f"ret_{h}" for h in _check_horizons(horizons)), *_WARMUP)


def warmup_bars(horizons: Sequence[int] = RETURN_HORIZONS) -> int:
    """Return the first row from which every computed column is finite."""
    return max(max(_check_horizons(horizons)), *_WARMUP.values())


def _utc_index(index: pd.Index, what: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidInput(
            f"{what} must be indexed by timezone-aware timestamps.", code="invalid_index"
        )
    return index.tz_convert("UTC")


def _bar_arrays(
    bars: pd.DataFrame, needed: Sequence[str] = _COLUMNS
) -> tuple[pd.DatetimeIndex, dict[str, FloatArray]]:
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput("bars must be a pandas DataFrame.", code="invalid_bars")
    missing = [c for c in needed if c not in bars.columns]
    if missing:
        raise InvalidInput(
            f"bars need the columns {', '.join(missing)}.",
            code="missing_column",
            details={"columns": missing},
        )
    index = _utc_index(bars.index, "bars")
    stamps = index.as_unit("ns").asi8
    if (np.diff(stamps) <= 0).any():
        raise InvalidInput("bar timestamps must strictly increase.", code="unordered_bars")
    values = {c: bars[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in needed}
    if not all(np.isfinite(v).all() for v in values.values()):
        raise InvalidInput("bars have missing or infinite values.", code="missing_values")
    if any((values[c] <= 0.0).any() for c in ("high", "low", "close") if c in values):
        raise InvalidInput("bar prices must be positive.", code="non_positive_price")
    if "volume" in values and (values["volume"] < 0.0).any():
        raise InvalidInput("bar volume must not be negative.", code="negative_volume")
    return index, values


def _lagged_difference(x: FloatArray, h: int) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] > h:
        out[h:] = x[h:] - x[:-h]
    return out


def _zscore(x: FloatArray, n: int) -> FloatArray:
    mean = ind.sma(x, n)
    std = ind.rolling_std(x, n)
    flat = std <= _FLAT_SPREAD * np.abs(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - mean) / std
    z[flat] = 0.0
    return z


def _rolling_extreme(x: FloatArray, n: int, highest: bool) -> FloatArray:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] >= n:
        windows = np.lib.stride_tricks.sliding_window_view(x, n)
        out[n - 1 :] = windows.max(axis=1) if highest else windows.min(axis=1)
    return out


def _ratio(numerator: FloatArray, denominator: FloatArray, when_zero: float) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    out[denominator == 0.0] = when_zero
    return out


def _as_of(
    stamps: npt.NDArray[np.int64],
    name: str,
    series: pd.Series,
    max_age: pd.Timedelta | None,
) -> FloatArray:
    """Return, for each bar stamp, the last non-missing value stamped at or before it."""
    if not isinstance(series, pd.Series):
        raise InvalidInput(f"extra {name!r} must be a pandas Series.", code="invalid_extra")
    index = _utc_index(series.index, f"extra {name!r}")
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"extra {name!r} must be numeric.", code="invalid_extra") from exc
    keep = ~np.isnan(values)
    times = index.as_unit("ns").asi8[keep]
    values = values[keep]
    # stable: of values sharing a stamp, the one given last wins
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    out = np.full(stamps.shape[0], np.nan)
    at = np.searchsorted(times, stamps, side="right") - 1
    found = at >= 0
    if max_age is not None:
        found &= stamps - times[np.maximum(at, 0)] <= max_age.value
    out[found] = values[at[found]]
    return out


def feature_table(
    bars: pd.DataFrame,
    *,
    horizons: Sequence[int] = RETURN_HORIZONS,
    extra: Mapping[str, pd.Series] | None = None,
    extra_max_age: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Return the features of every bar (see the module docstring), indexed like ``bars``.

    ``extra`` maps column names to time-stamped series (timezone-aware index) joined as of each
    bar's timestamp; ``extra_max_age`` drops values older than that. Raises ``InvalidInput``
    for malformed bars, horizons or extra series.
    """
    checked = _check_horizons(horizons)
    index, v = _bar_arrays(bars)
    high, low, close, volume = v["high"], v["low"], v["close"], v["volume"]
    log_close = np.log(close)
    one_bar = _lagged_difference(log_close, 1)
    squared = one_bar * one_bar

    columns: dict[str, FloatArray] = {f"ret_{h}": _lagged_difference(log_close, h) for h in checked}
    for w in VOL_WINDOWS:
        columns[f"vol_{w}"] = np.sqrt(ind.sma(squared, w))
    columns["rsi"] = ind.rsi(close, RSI_PERIOD)
    columns["macd_hist"] = ind.macd(close, MACD_FAST, MACD_SLOW, MACD_SIGNAL).histogram / close
    bands = ind.bollinger(close, BOLLINGER_PERIOD, BOLLINGER_K)
    width = bands.upper - bands.lower
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_b = (close - bands.lower) / width
    pct_b[width <= _FLAT_SPREAD * bands.middle] = 0.5
    columns["bb_pct_b"] = pct_b
    columns["bb_bandwidth"] = width / bands.middle
    columns["atr_pct"] = ind.atr(high, low, close, ATR_PERIOD) / close
    stoch = ind.stochastic(high, low, close, STOCH_K, STOCH_SMOOTH, STOCH_D)
    columns["stoch_k"], columns["stoch_d"] = stoch.k, stoch.d
    trend = ind.adx(high, low, close, ADX_PERIOD)
    columns["adx"], columns["plus_di"], columns["minus_di"] = trend
    flow = _lagged_difference(ind.obv(close, volume), OBV_SLOPE_WINDOW)
    columns["obv_slope_z"] = _zscore(flow, ZSCORE_WINDOW)
    columns["volume_z"] = _zscore(np.log1p(volume), ZSCORE_WINDOW)
    columns["rel_volume"] = _ratio(volume, ind.sma(volume, RELATIVE_VOLUME_WINDOW), 1.0)
    for w in RANGE_WINDOWS:
        columns[f"dist_high_{w}"] = log_close - np.log(_rolling_extreme(high, w, highest=True))
        columns[f"dist_low_{w}"] = log_close - np.log(_rolling_extreme(low, w, highest=False))
    columns["day_of_week"] = index.day_of_week.to_numpy().astype(np.float64)

    if extra:
        stamps = index.as_unit("ns").asi8
        for name, series in extra.items():
            if name in columns:
                raise InvalidInput(
                    f"extra {name!r} has the name of a computed column.", code="invalid_extra"
                )
            columns[name] = _as_of(stamps, name, series, extra_max_age)
    return pd.DataFrame(columns, index=bars.index)


def labels(bars: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Return the target of each bar: the log return over the next ``horizon`` bars, and its sign.

    ``forward_return`` at ``t`` is ``log(close_{t+horizon} / close_t)`` and ``sign`` is -1, 0 or
    +1; both are NaN for the last ``horizon`` bars, whose future is not in ``bars``. These
    columns look ahead by design: never use them as features.
    """
    h = _check_horizon(horizon, "horizon")
    _, v = _bar_arrays(bars, ("close",))
    log_close = np.log(v["close"])
    forward = np.full(log_close.shape[0], np.nan)
    if log_close.shape[0] > h:
        forward[:-h] = log_close[h:] - log_close[:-h]
    return pd.DataFrame({"forward_return": forward, "sign": np.sign(forward)}, index=bars.index)
