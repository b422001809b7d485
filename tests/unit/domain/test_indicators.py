"""Indicators against independent pandas / plain-loop references, warm-up and causality."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.domain import indicators as ind

N = 400


def random_walk(seed: int, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))


def ohlc(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1000)
    close = random_walk(seed, n)
    high = close * (1.0 + np.abs(rng.normal(0.0, 0.005, n)))
    low = close * (1.0 - np.abs(rng.normal(0.0, 0.005, n)))
    return high, low, close


def seeded_ewm(s: pd.Series, n: int, alpha: float) -> pd.Series:
    """Pandas EWM (adjust=False) seeded with the mean of the first n valid values."""
    start = int(np.flatnonzero(s.notna().to_numpy())[0])
    seeded = pd.Series(np.nan, index=s.index)
    seeded.iloc[start + n - 1] = s.iloc[start : start + n].mean()
    seeded.iloc[start + n :] = s.iloc[start + n :]
    return seeded.ewm(alpha=alpha, adjust=False).mean()


def ref_rsi_loop(close: np.ndarray, n: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    gains = [max(close[i] - close[i - 1], 0.0) for i in range(1, len(close))]
    losses = [max(close[i - 1] - close[i], 0.0) for i in range(1, len(close))]
    avg_g = sum(gains[:n]) / n
    avg_l = sum(losses[:n]) / n
    for i in range(n, len(close)):
        if i > n:
            avg_g = (avg_g * (n - 1) + gains[i - 1]) / n
            avg_l = (avg_l * (n - 1) + losses[i - 1]) / n
        with np.errstate(divide="ignore"):  # no losses in the window: RSI is 100
            out[i] = 100.0 - 100.0 / (1.0 + avg_g / avg_l)
    return out


def assert_same(actual: np.ndarray, expected: np.ndarray | pd.Series, warmup: int) -> None:
    expected = np.asarray(expected, dtype=float)
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    assert np.isnan(actual[:warmup]).all()
    assert not np.isnan(actual[warmup:]).any()
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [1, 5, 20])
def test_sma_matches_pandas_rolling_mean(seed: int, n: int) -> None:
    x = random_walk(seed)
    assert_same(ind.sma(x, n), pd.Series(x).rolling(n).mean(), n - 1)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("n", [1, 12, 26])
def test_ema_matches_sma_seeded_pandas_ewm(seed: int, n: int) -> None:
    x = random_walk(seed)
    expected = seeded_ewm(pd.Series(x), n, 2.0 / (n + 1.0))
    assert_same(ind.ema(x, n), expected, n - 1)


def test_ema_seed_differs_from_plain_ewm_early_and_converges_late() -> None:
    x = random_walk(7, 1000)
    ours = ind.ema(x, 10)
    plain = pd.Series(x).ewm(span=10, adjust=False).mean().to_numpy()
    assert abs(ours[9] - plain[9]) > 1e-6
    np.testing.assert_allclose(ours[-100:], plain[-100:], rtol=1e-12)


def test_ema_skips_leading_nans_before_seeding() -> None:
    x = random_walk(3, 50)
    x[:5] = np.nan
    expected = seeded_ewm(pd.Series(x), 4, 0.4)
    assert_same(ind.ema(x, 4), expected, 5 + 3)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("n", [2, 14])
def test_rsi_matches_wilder_reference_loop_and_pandas(seed: int, n: int) -> None:
    x = random_walk(seed)
    s = pd.Series(x)
    change = s.diff()
    avg_gain = seeded_ewm(change.clip(lower=0.0), n, 1.0 / n)
    avg_loss = seeded_ewm((-change).clip(lower=0.0), n, 1.0 / n)
    pandas_rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    actual = ind.rsi(x, n)
    assert_same(actual, pandas_rsi, n)
    assert_same(actual, ref_rsi_loop(x, n), n)
    assert ((actual[n:] >= 0.0) & (actual[n:] <= 100.0)).all()


def test_rsi_flat_market_is_50_and_rising_market_is_100() -> None:
    assert ind.rsi(np.full(30, 5.0), 14)[-1] == 50.0
    assert ind.rsi(np.arange(30.0), 14)[-1] == 100.0
    assert ind.rsi(np.arange(30.0)[::-1].copy(), 14)[-1] == 0.0


@pytest.mark.parametrize("seed", [1, 2])
def test_macd_matches_pandas_seeded_ewm(seed: int) -> None:
    x = random_walk(seed)
    s = pd.Series(x)
    line = seeded_ewm(s, 12, 2 / 13) - seeded_ewm(s, 26, 2 / 27)
    signal = seeded_ewm(line, 9, 2 / 10)
    result = ind.macd(x, 12, 26, 9)
    assert_same(result.line, line, 25)
    assert_same(result.signal, signal, 25 + 8)
    assert_same(result.histogram, line - signal, 25 + 8)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("n", "k"), [(20, 2.0), (5, 1.5)])
def test_bollinger_matches_pandas_population_std(seed: int, n: int, k: float) -> None:
    x = random_walk(seed)
    s = pd.Series(x)
    mid = s.rolling(n).mean()
    std = s.rolling(n).std(ddof=0)
    bands = ind.bollinger(x, n, k)
    assert_same(bands.middle, mid, n - 1)
    assert_same(bands.upper, mid + k * std, n - 1)
    assert_same(bands.lower, mid - k * std, n - 1)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("n", [2, 20])
def test_zscore_matches_pandas(seed: int, n: int) -> None:
    x = random_walk(seed)
    s = pd.Series(x)
    expected = (s - s.rolling(n).mean()) / s.rolling(n).std(ddof=0)
    assert_same(ind.zscore(x, n), expected, n - 1)


def test_zscore_is_nan_for_zero_spread_window() -> None:
    x = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    z = ind.zscore(x, 3)
    assert np.isnan(z[2]) and np.isnan(z[5])
    assert z[3] == pytest.approx(np.sqrt(2.0))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("n", [1, 20])
def test_roc_matches_pandas_shift(seed: int, n: int) -> None:
    x = random_walk(seed)
    s = pd.Series(x)
    assert_same(ind.roc(x, n), s / s.shift(n) - 1.0, n)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("n", [1, 14])
def test_atr_matches_pandas_wilder_true_range(seed: int, n: int) -> None:
    high, low, close = ohlc(seed)
    h, lo, prev = pd.Series(high), pd.Series(low), pd.Series(close).shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    tr.iloc[0] = np.nan  # the first bar has no previous close
    assert_same(ind.true_range(high, low, close), tr, 1)
    assert_same(ind.atr(high, low, close, n), seeded_ewm(tr, n, 1.0 / n), n)


def test_wilder_is_ema_with_alpha_one_over_n() -> None:
    x = random_walk(4)
    assert_same(ind.wilder(x, 14), seeded_ewm(pd.Series(x), 14, 1 / 14), 13)


def _all_indicators() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    def atr(x: np.ndarray) -> np.ndarray:
        return ind.atr(x * 1.01, x * 0.99, x, 14)

    return {
        "sma": lambda x: ind.sma(x, 10),
        "ema": lambda x: ind.ema(x, 10),
        "wilder": lambda x: ind.wilder(x, 10),
        "rsi": lambda x: ind.rsi(x, 14),
        "macd_line": lambda x: ind.macd(x).line,
        "macd_signal": lambda x: ind.macd(x).signal,
        "bollinger_upper": lambda x: ind.bollinger(x, 20, 2.0).upper,
        "zscore": lambda x: ind.zscore(x, 20),
        "roc": lambda x: ind.roc(x, 5),
        "atr": atr,
    }


@pytest.mark.parametrize("name", sorted(_all_indicators()))
def test_indicator_on_prefix_equals_prefix_of_indicator(name: str) -> None:
    fn = _all_indicators()[name]
    x = random_walk(11, 120)
    full = fn(x)
    for k in range(0, 121):
        np.testing.assert_array_equal(fn(x[:k]), full[:k], err_msg=f"{name} differs at k={k}")


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.floats(min_value=1.0, max_value=1000.0, allow_nan=False), min_size=1, max_size=80
    ),
    cut=st.integers(min_value=0, max_value=80),
)
def test_indicators_causal_on_arbitrary_prices(data: list[float], cut: int) -> None:
    x = np.array(data)
    for name, fn in _all_indicators().items():
        np.testing.assert_array_equal(fn(x[:cut]), fn(x)[:cut], err_msg=name)


def test_series_shorter_than_window_is_all_nan() -> None:
    x = random_walk(1, 5)
    for out in (ind.sma(x, 10), ind.ema(x, 10), ind.rsi(x, 10), ind.zscore(x, 10), ind.roc(x, 10)):
        assert out.shape == (5,) and np.isnan(out).all()
    assert ind.sma(np.array([]), 3).shape == (0,)


@pytest.mark.parametrize("bad", [0, -1])
def test_window_below_one_is_rejected(bad: int) -> None:
    with pytest.raises(ValueError, match="n must be >= 1"):
        ind.sma(random_walk(1, 10), bad)


def test_non_integer_window_is_rejected() -> None:
    with pytest.raises(TypeError, match="n must be an int"):
        ind.ema(random_walk(1, 10), 2.5)  # type: ignore[arg-type]


def test_two_dimensional_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        ind.sma(np.ones((3, 3)), 2)


def test_macd_fast_not_below_slow_is_rejected() -> None:
    with pytest.raises(ValueError, match="fast must be < slow"):
        ind.macd(random_walk(1, 50), 26, 12)


def test_bollinger_negative_k_is_rejected() -> None:
    with pytest.raises(ValueError, match="k must be >= 0"):
        ind.bollinger(random_walk(1, 50), 20, -1.0)


def test_atr_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="same length"):
        ind.atr(np.ones(5), np.ones(4), np.ones(5), 2)
