"""Indicators against TA-Lib on random OHLCV series: equal to 1e-8 once TA-Lib has warmed up.

TA-Lib is the reference the indicators are meant to match; it is used here only, never by
``quantumtrade.domain``. Known, documented differences are asserted as such.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from quantumtrade.domain import indicators as ind

TOL = 1e-8
SMA = talib.MA_Type.SMA
SEEDS = (1, 2, 3)
LENGTHS = (40, 300, 1500)


class Bars:
    """A random OHLCV series; ``tick`` rounds prices so that ties (equal moves) are common."""

    def __init__(self, seed: int, n: int, tick: float = 0.0) -> None:
        rng = np.random.default_rng(seed)
        close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
        high = close * np.exp(np.abs(rng.normal(0.0, 0.01, n)))
        low = close * np.exp(-np.abs(rng.normal(0.0, 0.01, n)))
        if tick:
            close, high, low = (np.round(a / tick) * tick for a in (close, high, low))
        self.close, self.high, self.low = close, high, low
        self.volume = np.round(rng.lognormal(13.0, 0.6, n))


def assert_matches(ours: np.ndarray, ref: np.ndarray, first: int | None = None) -> None:
    """Equal to TA-Lib wherever TA-Lib has a value; NaN before ``first`` if given."""
    assert ours.dtype == np.float64 and ours.shape == ref.shape
    known = ~np.isnan(ref)
    assert known.any(), "the series is too short to compare anything"
    assert not np.isnan(ours[known]).any()
    np.testing.assert_allclose(ours[known], ref[known], rtol=TOL, atol=TOL)
    if first is not None:
        assert np.isnan(ours[:first]).all()
        assert not np.isnan(ours[first:]).any()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize(("k", "k_smooth", "d"), [(14, 3, 3), (5, 3, 3), (9, 1, 4), (21, 5, 1)])
def test_stochastic_matches_talib_stoch_with_sma(
    seed: int, n: int, k: int, k_smooth: int, d: int
) -> None:
    b = Bars(seed, n)
    slow_k, slow_d = talib.STOCH(b.high, b.low, b.close, k, k_smooth, SMA, d, SMA)
    ours = ind.stochastic(b.high, b.low, b.close, k, k_smooth, d)
    # %K starts as soon as it exists; TA-Lib blanks it until %D starts
    assert_matches(ours.k, slow_k, first=k + k_smooth - 2)
    assert_matches(ours.d, slow_d, first=k + k_smooth + d - 3)
    assert ((ours.k[k + k_smooth - 2 :] >= 0.0) & (ours.k[k + k_smooth - 2 :] <= 100.0)).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("period", [2, 5, 14, 19])
def test_adx_and_directional_indicators_match_talib(seed: int, n: int, period: int) -> None:
    b = Bars(seed, n)
    ours = ind.adx(b.high, b.low, b.close, period)
    assert_matches(ours.adx, talib.ADX(b.high, b.low, b.close, period), first=2 * period - 1)
    assert_matches(ours.plus_di, talib.PLUS_DI(b.high, b.low, b.close, period), first=period)
    assert_matches(ours.minus_di, talib.MINUS_DI(b.high, b.low, b.close, period), first=period)


@pytest.mark.parametrize("seed", SEEDS)
def test_ties_follow_talib_directional_movement_and_obv_rules(seed: int) -> None:
    # prices on a 1.0 grid near 100: equal highs, equal lows, equal up/down moves, flat closes
    b = Bars(seed, 800, tick=1.0)
    assert (np.diff(b.close) == 0.0).sum() > 50
    ours = ind.adx(b.high, b.low, b.close, 14)
    assert_matches(ours.adx, talib.ADX(b.high, b.low, b.close, 14), first=27)
    assert_matches(ours.plus_di, talib.PLUS_DI(b.high, b.low, b.close, 14), first=14)
    assert_matches(ours.minus_di, talib.MINUS_DI(b.high, b.low, b.close, 14), first=14)
    np.testing.assert_array_equal(ind.obv(b.close, b.volume), talib.OBV(b.close, b.volume))
    slow_k, slow_d = talib.STOCH(b.high, b.low, b.close, 14, 3, SMA, 3, SMA)
    stoch = ind.stochastic(b.high, b.low, b.close, 14, 3, 3)
    assert_matches(stoch.k, slow_k)
    assert_matches(stoch.d, slow_d)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", LENGTHS)
def test_obv_matches_talib_bit_for_bit(seed: int, n: int) -> None:
    b = Bars(seed, n)
    ours = ind.obv(b.close, b.volume)
    np.testing.assert_array_equal(ours, talib.OBV(b.close, b.volume))
    assert ours[0] == b.volume[0]


def test_leading_nans_shift_the_start_as_in_talib() -> None:
    b = Bars(4, 200)
    for a in (b.high, b.low, b.close, b.volume):
        a[:7] = np.nan
    assert_matches(ind.obv(b.close, b.volume), talib.OBV(b.close, b.volume), first=7)
    ours = ind.adx(b.high, b.low, b.close, 10)
    assert_matches(ours.adx, talib.ADX(b.high, b.low, b.close, 10), first=7 + 19)
    assert_matches(ours.plus_di, talib.PLUS_DI(b.high, b.low, b.close, 10), first=7 + 10)
    slow_k, slow_d = talib.STOCH(b.high, b.low, b.close, 14, 3, SMA, 3, SMA)
    stoch = ind.stochastic(b.high, b.low, b.close)
    assert_matches(stoch.k, slow_k, first=7 + 15)
    assert_matches(stoch.d, slow_d, first=7 + 17)


def test_a_later_nan_propagates_to_every_later_adx_and_obv_value() -> None:
    b = Bars(5, 120)
    b.high[60] = np.nan
    b.volume[80] = np.nan
    ours = ind.adx(b.high, b.low, b.close, 14)
    assert not np.isnan(ours.adx[27:60]).any() and np.isnan(ours.adx[60:]).all()
    assert np.isnan(ours.plus_di[60:]).all() and np.isnan(ours.minus_di[60:]).all()
    flow = ind.obv(b.close, b.volume)
    assert not np.isnan(flow[:80]).any() and np.isnan(flow[80:]).all()


def test_flat_market() -> None:
    flat = np.full(60, 5.0)
    # no range: the DIs and the ADX are 0, as in TA-Lib
    ours = ind.adx(flat, flat, flat, 14)
    assert_matches(ours.adx, talib.ADX(flat, flat, flat, 14), first=27)
    assert (ours.adx[27:] == 0.0).all() and (ours.plus_di[14:] == 0.0).all()
    # a window whose high equals its low puts %K at 50, where TA-Lib says 0
    stoch = ind.stochastic(flat, flat, flat, 14, 3, 3)
    assert (stoch.k[15:] == ind.STOCH_FLAT).all() and (stoch.d[17:] == ind.STOCH_FLAT).all()
    assert (talib.STOCH(flat, flat, flat, 14, 3, SMA, 3, SMA)[0][17:] == 0.0).all()
    # OBV does not move when the close does not
    assert (ind.obv(flat, np.arange(60.0) + 1.0) == 1.0).all()


def test_rising_close_at_the_high_is_overbought_and_falling_at_the_low_oversold() -> None:
    up = np.arange(1.0, 41.0)
    stoch = ind.stochastic(up + 0.5, up - 0.5, up + 0.5, 5, 3, 3)
    assert (stoch.k[6:] == 100.0).all()
    trend = ind.adx(up + 0.5, up - 0.5, up, 5)
    assert (trend.minus_di[5:] == 0.0).all() and (trend.plus_di[5:] > 0.0).all()
    assert (trend.adx[9:] == 100.0).all()
    down = up[::-1].copy()
    assert (ind.stochastic(down + 0.5, down - 0.5, down - 0.5, 5, 3, 3).k[6:] == 0.0).all()


def test_new_indicators_are_causal() -> None:
    b = Bars(6, 150)
    full = (
        *ind.stochastic(b.high, b.low, b.close),
        *ind.adx(b.high, b.low, b.close),
        ind.obv(b.close, b.volume),
    )
    for cut in (0, 1, 13, 14, 27, 28, 90):
        prefix = (
            *ind.stochastic(b.high[:cut], b.low[:cut], b.close[:cut]),
            *ind.adx(b.high[:cut], b.low[:cut], b.close[:cut]),
            ind.obv(b.close[:cut], b.volume[:cut]),
        )
        for whole, part in zip(full, prefix, strict=True):
            np.testing.assert_array_equal(part, whole[:cut])


def test_inputs_are_checked() -> None:
    b = Bars(7, 30)
    with pytest.raises(ValueError, match="same length"):
        ind.adx(b.high, b.low[:-1], b.close)
    with pytest.raises(ValueError, match="same length"):
        ind.obv(b.close, b.volume[:-1])
    with pytest.raises(ValueError, match="k_smooth must be >= 1"):
        ind.stochastic(b.high, b.low, b.close, 14, 0, 3)
    with pytest.raises(TypeError, match="n must be an int"):
        ind.adx(b.high, b.low, b.close, 14.0)  # type: ignore[arg-type]


# --- the indicators that existed before, checked against TA-Lib ------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("period", [2, 14, 30])
def test_sma_ema_rsi_atr_match_talib(seed: int, n: int, period: int) -> None:
    b = Bars(seed, n)
    assert_matches(ind.sma(b.close, period), talib.SMA(b.close, period), first=period - 1)
    assert_matches(ind.ema(b.close, period), talib.EMA(b.close, period), first=period - 1)
    assert_matches(ind.rsi(b.close, period), talib.RSI(b.close, period), first=period)
    atr = talib.ATR(b.high, b.low, b.close, period)
    assert_matches(ind.atr(b.high, b.low, b.close, period), atr, first=period)
    tr = talib.TRANGE(b.high, b.low, b.close)
    assert_matches(ind.true_range(b.high, b.low, b.close), tr, first=1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (5, 1.5)])
def test_bollinger_matches_talib_bbands(seed: int, n: int, period: int, k: float) -> None:
    b = Bars(seed, n)
    upper, middle, lower = talib.BBANDS(b.close, period, k, k, SMA)
    bands = ind.bollinger(b.close, period, k)
    assert_matches(bands.upper, upper, first=period - 1)
    assert_matches(bands.middle, middle, first=period - 1)
    assert_matches(bands.lower, lower, first=period - 1)


def test_rsi_of_a_flat_market_is_50_where_talib_says_0() -> None:
    flat = np.full(30, 5.0)
    assert ind.rsi(flat, 14)[-1] == 50.0
    assert talib.RSI(flat, 14)[-1] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_macd_differs_from_talib_only_by_the_fast_ema_seed(seed: int) -> None:
    """TA-Lib seeds MACD's fast EMA later than ``ema`` does; the gap decays as (1 - 2/13)^t.

    TA-Lib starts the fast EMA with the mean of the ``fast`` values that end where the slow
    EMA's seed window ends (indices slow-fast .. slow-1); ``ind.macd`` uses ``ind.ema``, seeded
    with the first ``fast`` values. Both are the same recursion afterwards.
    """
    fast, slow, signal = 12, 26, 9
    close = Bars(seed, 400).close
    line, sig, hist = talib.MACD(close, fast, slow, signal)
    ours = ind.macd(close, fast, slow, signal)
    start = slow + signal - 2
    # the explanation, exactly: a fast EMA started at slow - fast reproduces TA-Lib's line
    late_fast = np.full(close.shape[0], np.nan)
    late_fast[slow - fast :] = ind.ema(close[slow - fast :], fast)
    np.testing.assert_allclose(
        (late_fast - ind.ema(close, slow))[start:], line[start:], rtol=TOL, atol=TOL
    )
    # so the early values differ, and the difference has died out after a couple hundred bars
    assert abs(ours.line[start] - line[start]) > 1e-6
    settled = 250
    for mine, theirs in zip(ours, (line, sig, hist), strict=True):
        np.testing.assert_allclose(mine[settled:], theirs[settled:], rtol=TOL, atol=TOL)
