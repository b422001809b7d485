"""Feature table: no look-ahead, as-of joins, targets, warm-up, reference values, speed."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml import features as ft

N = 400
SMA = talib.MA_Type.SMA


def make_bars(seed: int, n: int = N, start: str = "2015-01-05") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    spread = np.abs(rng.normal(0.0, 0.01, (2, n)))
    return pd.DataFrame(
        {
            "open": close * np.exp(rng.normal(0.0, 0.005, n)),
            "high": close * np.exp(spread[0]),
            "low": close * np.exp(-spread[1]),
            "close": close,
            "volume": np.round(rng.lognormal(14.0, 0.5, n)),
        },
        index=pd.bdate_range(start, periods=n, tz="UTC", name="time"),
    )


def replace_after(bars: pd.DataFrame, t: int, seed: int, how: str) -> pd.DataFrame:
    """Return ``bars`` with every row after ``t`` shuffled or replaced by unrelated noise."""
    out = bars.copy()
    rng = np.random.default_rng(seed)
    if how == "shuffle":
        tail = out.iloc[t + 1 :].to_numpy()
        out.iloc[t + 1 :] = tail[rng.permutation(len(tail))]
    else:
        noise = make_bars(seed + 1, len(out) - t - 1)
        out.iloc[t + 1 :] = noise.to_numpy() * rng.uniform(0.2, 5.0)
    return out


def assert_rows_identical(a: pd.DataFrame, b: pd.DataFrame, rows: int) -> None:
    assert list(a.columns) == list(b.columns)
    # assert_array_equal is bit equality with NaN equal to NaN
    np.testing.assert_array_equal(a.iloc[:rows].to_numpy(), b.iloc[:rows].to_numpy())


def sentiment(bars: pd.DataFrame, seed: int, per_bar: int = 3) -> pd.Series:
    """Scores stamped at random times across the bars' span, some between bars, some on them."""
    rng = np.random.default_rng(seed)
    lo, hi = bars.index[0].value, bars.index[-1].value + 3 * 86_400 * 10**9
    stamps = rng.integers(lo, hi, per_bar * len(bars))
    stamps[::7] = bars.index.as_unit("ns").asi8[rng.integers(0, len(bars), len(stamps[::7]))]
    stamps = np.unique(stamps)  # sorted, one value per stamp
    return pd.Series(rng.uniform(-1.0, 1.0, len(stamps)), index=pd.to_datetime(stamps, utc=True))


# --- no look-ahead ---------------------------------------------------------------------------


FULL = make_bars(1)
FULL_TABLE = ft.feature_table(FULL)


@settings(max_examples=25, deadline=None)
@given(
    t=st.integers(min_value=0, max_value=N - 2),
    seed=st.integers(min_value=0, max_value=10_000),
    how=st.sampled_from(["shuffle", "noise"]),
)
def test_changing_the_future_leaves_past_rows_bit_identical(t: int, seed: int, how: str) -> None:
    bars = replace_after(FULL, t, seed, how)
    changed = ft.feature_table(bars)
    assert_rows_identical(changed, FULL_TABLE, t + 1)
    if not bars.equals(FULL):  # a shuffle of one row changes nothing
        assert not np.array_equal(
            changed.iloc[t + 1 :].to_numpy(), FULL_TABLE.iloc[t + 1 :].to_numpy(), equal_nan=True
        )


@pytest.mark.parametrize("t", [0, 1, 13, 33, 78, 79, 80, 250, N - 2])
def test_a_prefix_of_the_bars_gives_the_same_prefix_of_the_table(t: int) -> None:
    assert_rows_identical(ft.feature_table(FULL.iloc[: t + 1]), FULL_TABLE, t + 1)


@pytest.mark.parametrize("t", [5, 60, 200, 390])
def test_extra_values_after_a_bar_do_not_reach_it_or_any_earlier_bar(t: int) -> None:
    scores = sentiment(FULL, seed=t)
    base = ft.feature_table(FULL, extra={"sentiment": scores})
    cut = FULL.index[t]
    future = scores.index > cut
    altered = scores.copy()
    altered[future] = np.random.default_rng(t).uniform(-1.0, 1.0, int(future.sum()))
    # and a few new values stamped just after the bar, out of order and with NaNs
    late = pd.Series([9.0, np.nan, -9.0], index=[cut + pd.Timedelta(ns) for ns in (1, 5, 3)])
    changed_bars = replace_after(FULL, t, seed=t, how="noise")
    changed = ft.feature_table(
        changed_bars, extra={"sentiment": pd.concat([late, altered, late]).iloc[::-1]}
    )
    assert_rows_identical(changed, base, t + 1)


# --- the as-of join --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_extra_is_the_last_value_stamped_at_or_before_each_bar(seed: int) -> None:
    bars = make_bars(seed, 120)
    scores = sentiment(bars, seed)
    scores.iloc[::5] = np.nan  # missing scores are skipped, not carried
    regime = pd.Series(np.linspace(0.0, 1.0, 120), index=bars.index)
    table = ft.feature_table(bars, extra={"sentiment": scores, "p_bull": regime})
    known = scores.dropna()
    reference = pd.merge_asof(
        pd.DataFrame({"time": bars.index.as_unit("ns")}),
        pd.DataFrame({"time": known.index, "s": known.to_numpy()}),
        on="time",
        direction="backward",
        allow_exact_matches=True,
    )["s"].to_numpy()
    np.testing.assert_array_equal(table["sentiment"].to_numpy(), reference)
    # a series on the bars' own stamps lines up exactly
    np.testing.assert_array_equal(table["p_bull"].to_numpy(), regime.to_numpy())


def test_a_value_stamped_one_nanosecond_after_a_bar_reaches_only_the_next_bar() -> None:
    bars = make_bars(2, 10)
    stamps = bars.index
    extra = pd.Series([1.0, 2.0, 3.0], index=[stamps[3], stamps[5] + pd.Timedelta(1), stamps[5]])
    column = ft.feature_table(bars, extra={"x": extra})["x"].to_numpy()
    np.testing.assert_array_equal(column, [np.nan] * 3 + [1.0, 1.0, 3.0] + [2.0] * 4)


def test_extra_in_another_timezone_joins_on_the_same_instant() -> None:
    bars = make_bars(2, 10)
    utc = pd.Series([1.0, 2.0], index=[bars.index[2], bars.index[6] - pd.Timedelta(hours=1)])
    local = utc.tz_convert("America/New_York")
    a = ft.feature_table(bars, extra={"x": utc})["x"]
    b = ft.feature_table(bars, extra={"x": local})["x"]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert a.iloc[6] == 2.0 and a.iloc[5] == 1.0


def test_of_values_sharing_a_stamp_the_last_given_wins() -> None:
    bars = make_bars(2, 5)
    extra = pd.Series([1.0, 2.0, 3.0], index=[bars.index[1]] * 3)
    assert ft.feature_table(bars, extra={"x": extra})["x"].iloc[1] == 3.0


def test_extra_max_age_drops_stale_values() -> None:
    bars = make_bars(2, 10)  # business days: 2015-01-05 (Mon) ..
    extra = pd.Series([1.0], index=[bars.index[0]])
    column = ft.feature_table(bars, extra={"x": extra}, extra_max_age=pd.Timedelta(days=3))["x"]
    ages = bars.index - bars.index[0]
    expected = np.where(ages <= pd.Timedelta(days=3), 1.0, np.nan)
    np.testing.assert_array_equal(column.to_numpy(), expected)


def test_bad_extra_is_rejected() -> None:
    bars = make_bars(2, 10)
    naive = pd.Series([1.0], index=[pd.Timestamp("2015-01-06")])
    with pytest.raises(InvalidInput, match="timezone-aware") as err:
        ft.feature_table(bars, extra={"x": naive})
    assert err.value.code == "invalid_index"
    clash = pd.Series([1.0], index=bars.index[:1])
    with pytest.raises(InvalidInput, match="computed column"):
        ft.feature_table(bars, extra={"rsi": clash})
    text = pd.Series(["up"], index=bars.index[:1])
    with pytest.raises(InvalidInput, match="numeric"):
        ft.feature_table(bars, extra={"x": text})


# --- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_labels_are_the_actual_forward_log_return_and_its_sign(horizon: int) -> None:
    bars = make_bars(3, 100)
    bars.iloc[10 + horizon, bars.columns.get_loc("close")] = bars["close"].iloc[10]  # a zero
    out = ft.labels(bars, horizon)
    assert list(out.columns) == ["forward_return", "sign"]
    assert out.index.equals(bars.index)
    close = bars["close"].tolist()
    for t in range(100 - horizon):
        expected = math.log(close[t + horizon] / close[t])
        assert out["forward_return"].iloc[t] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert out["sign"].iloc[t] == (expected > 0) - (expected < 0)
    assert out["sign"].iloc[10] == 0.0
    assert out.iloc[100 - horizon :].isna().all().all()


def test_labels_need_only_the_close_and_a_positive_horizon() -> None:
    closes = make_bars(3, 30)[["close"]]
    assert ft.labels(closes, 2)["forward_return"].notna().sum() == 28
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInput, match="horizon"):
            ft.labels(closes, bad)  # type: ignore[arg-type]


# --- warm-up, values, determinism ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("horizons", [(1, 5, 20), (1, 3, 120), (10,)])
def test_every_column_is_finite_from_the_warm_up_on_and_not_before(
    seed: int, horizons: tuple[int, ...]
) -> None:
    bars = make_bars(seed)
    table = ft.feature_table(bars, horizons=horizons)
    assert tuple(table.columns) == ft.feature_columns(horizons)
    assert (table.dtypes == np.float64).all()
    warmup = ft.warmup_bars(horizons)
    assert np.isfinite(table.iloc[warmup:].to_numpy()).all()
    assert table.iloc[warmup - 1].isna().any()
    for h in horizons:
        column = table[f"ret_{h}"].to_numpy()
        assert np.isnan(column[:h]).all() and np.isfinite(column[h:]).all()


def test_the_table_is_deterministic_and_leaves_the_bars_alone() -> None:
    bars = make_bars(4)
    before = bars.copy()
    a = ft.feature_table(bars, extra={"s": sentiment(bars, 4)})
    b = ft.feature_table(bars, extra={"s": sentiment(bars, 4)})
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(bars, before, check_exact=True)
    assert a.index.equals(bars.index)


def zscore(s: pd.Series, n: int) -> pd.Series:
    return (s - s.rolling(n).mean()) / s.rolling(n).std(ddof=0)


@pytest.mark.parametrize("seed", [1, 2])
def test_features_equal_independent_references(seed: int) -> None:
    bars = make_bars(seed)
    table = ft.feature_table(bars)
    c, h, lo, v = (bars[k] for k in ("close", "high", "low", "volume"))
    ch, hh, lh, vh = (bars[k].to_numpy() for k in ("close", "high", "low", "volume"))
    r = np.log(c).diff()
    upper, middle, lower = talib.BBANDS(ch, 20, 2.0, 2.0, SMA)
    slow_k, slow_d = talib.STOCH(hh, lh, ch, 14, 3, SMA, 3, SMA)
    expected = {
        "ret_5": np.log(c / c.shift(5)),
        "vol_20": np.sqrt((r**2).rolling(20).mean()),
        "vol_60": np.sqrt((r**2).rolling(60).mean()),
        "rsi": talib.RSI(ch, 14),
        "bb_pct_b": (ch - lower) / (upper - lower),
        "bb_bandwidth": (upper - lower) / middle,
        "atr_pct": talib.ATR(hh, lh, ch, 14) / ch,
        "stoch_k": slow_k,
        "stoch_d": slow_d,
        "adx": talib.ADX(hh, lh, ch, 14),
        "plus_di": talib.PLUS_DI(hh, lh, ch, 14),
        "minus_di": talib.MINUS_DI(hh, lh, ch, 14),
        "obv_slope_z": zscore(pd.Series(talib.OBV(ch, vh)).diff(20), 60),
        "volume_z": zscore(np.log1p(v), 60),
        "rel_volume": v / v.rolling(20).mean(),
        "dist_high_50": np.log(c / h.rolling(50).max()),
        "dist_low_20": np.log(c / lo.rolling(20).min()),
        "day_of_week": bars.index.day_of_week,
    }
    for name, ref in expected.items():
        ref = np.asarray(ref, dtype=np.float64)
        known = ~np.isnan(ref)
        np.testing.assert_allclose(table[name].to_numpy()[known], ref[known], rtol=1e-8, atol=1e-10)
    # MACD settles onto TA-Lib's once its different seeding has died out
    hist = talib.MACD(ch, 12, 26, 9)[2] / ch
    np.testing.assert_allclose(table["macd_hist"].to_numpy()[250:], hist[250:], atol=1e-10)


def test_flat_volume_and_a_flat_band_stay_finite() -> None:
    bars = make_bars(5, 200)
    bars.loc[:, "volume"] = 1000.0
    bars.iloc[100:130, :4] = 0.1  # a halted stretch: no move, no range (0.1 is inexact)
    table = ft.feature_table(bars)
    after = table.iloc[ft.warmup_bars() :]
    assert np.isfinite(after.to_numpy()).all()
    assert (table["volume_z"].iloc[59:] == 0.0).all()
    assert (table["rel_volume"].iloc[19:] == 1.0).all()
    assert table["bb_pct_b"].iloc[125] == 0.5 and abs(table["bb_bandwidth"].iloc[125]) < 1e-12


# --- version, inputs, speed ----------------------------------------------------------------------


def test_feature_version_fingerprints_every_parameter() -> None:
    assert re.fullmatch(rf"{ft.FEATURE_REVISION}\.[0-9a-f]{{8}}", ft.FEATURE_VERSION)
    parameters = dict(ft._PARAMETERS)
    constants = {
        name
        for name in ft.__all__
        if name.isupper() and name not in {"FEATURE_REVISION", "FEATURE_VERSION"}
    }
    # the horizons are in the column names; every other constant is in the fingerprint
    assert constants - set(parameters) == {"RETURN_HORIZONS"}
    for name, value in parameters.items():
        assert getattr(ft, name) == value


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda b: b.tz_localize(None), "invalid_index"),
        (lambda b: b.drop(columns="volume"), "missing_column"),
        (lambda b: b.iloc[::-1], "unordered_bars"),
        (lambda b: b.assign(close=b["close"].where(b.index != b.index[3])), "missing_values"),
        (lambda b: b.assign(low=b["low"] - b["low"].iloc[7]), "non_positive_price"),
        (lambda b: b.assign(volume=-b["volume"]), "negative_volume"),
    ],
)
def test_malformed_bars_are_rejected(
    change: Callable[[pd.DataFrame], pd.DataFrame], code: str
) -> None:
    bars = change(make_bars(6, 30))
    with pytest.raises(InvalidInput) as err:
        ft.feature_table(bars)
    assert err.value.code == code


@pytest.mark.parametrize("horizons", [(), (0,), (5, 5), (2.0,)])
def test_bad_horizons_are_rejected(horizons: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInput, match="horizon"):
        ft.feature_table(make_bars(6, 30), horizons=horizons)


def test_short_and_empty_bars_give_nan_rows_not_errors() -> None:
    short = ft.feature_table(make_bars(7, 10))
    assert short.shape == (10, len(ft.feature_columns()))
    assert short["adx"].isna().all() and short["ret_1"].iloc[1:].notna().all()
    empty = ft.feature_table(make_bars(7, 0))
    assert empty.shape == (0, len(ft.feature_columns()))


def test_ten_years_of_daily_bars_take_under_100_ms() -> None:
    bars = make_bars(8, 2520)
    extra = {"sentiment": sentiment(bars, 8)}
    ft.feature_table(bars, extra=extra)  # compiled kernels are loaded once
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        ft.feature_table(bars, extra=extra)
        best = min(best, time.perf_counter() - started)
    assert best < 0.1
