"""Candlestick patterns: textbook candles fire where built, and match TA-Lib called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from quantumtrade.ml.patterns.candles import (
    DARK_CLOUD_PENETRATION,
    PATTERN_DIRECTION,
    PATTERN_NAMES,
    STAR_PENETRATION,
    candle_patterns,
)

Candle = tuple[float, float, float, float]  # open, high, low, close


def _frame(rows: list[Candle]) -> pd.DataFrame:
    index = pd.bdate_range("2021-01-04", periods=len(rows), tz="UTC")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)


def _trend(start: float, step: float, n: int = 12) -> tuple[list[Candle], float]:
    """Background: ``n`` candles with unit bodies and 0.3 shadows moving ``step`` a bar."""
    rows: list[Candle] = []
    price = start
    for _ in range(n):
        o, c = price, price + step
        rows.append((o, max(o, c) + 0.3, min(o, c) - 0.3, c))
        price = c
    return rows, price


def _after(direction: str, offsets: list[Candle]) -> pd.DataFrame:
    """A down (or up) trend of twelve candles, then ``offsets`` relative to its last close."""
    rows, last = _trend(112.0, -1.0) if direction == "down" else _trend(88.0, 1.0)
    return _frame(rows + [(last + o, last + h, last + lo, last + c) for o, h, lo, c in offsets])


# name: (trend before, the pattern's candles as offsets from the trend's last close, signal)
TEXTBOOK = {
    "bullish engulfing": (
        "down",
        [(0.0, 0.1, -1.3, -1.2), (-1.4, 0.6, -1.5, 0.5)],
        ("engulfing", 100),
    ),
    "bearish engulfing": (
        "up",
        [(0.0, 1.3, -0.1, 1.2), (1.4, 1.5, -0.6, -0.5)],
        ("engulfing", -100),
    ),
    "hammer": ("down", [(-0.9, -0.68, -2.6, -0.7)], ("hammer", 100)),
    "hanging man": ("up", [(0.9, 1.12, -0.9, 1.1)], ("hanging_man", -100)),
    "inverted hammer": (
        "down",
        [(0.0, 0.1, -1.3, -1.2), (-1.6, -0.2, -1.62, -1.4)],
        ("inverted_hammer", 100),
    ),
    "shooting star": (
        "up",
        [(0.0, 1.3, -0.1, 1.2), (1.6, 3.0, 1.58, 1.4)],
        ("shooting_star", -100),
    ),
    "doji": ("down", [(0.0, 0.8, -0.8, 0.02)], ("doji", 100)),
    "dragonfly doji": ("down", [(0.0, 0.01, -1.5, 0.0)], ("dragonfly_doji", 100)),
    "gravestone doji": ("up", [(0.0, 1.5, -0.01, 0.0)], ("gravestone_doji", 100)),
    "morning star": (
        "down",
        [(0.0, 0.1, -2.1, -2.0), (-2.5, -2.3, -2.9, -2.7), (-2.4, -0.5, -2.5, -0.6)],
        ("morning_star", 100),
    ),
    "evening star": (
        "up",
        [(0.0, 2.1, -0.1, 2.0), (2.5, 2.9, 2.3, 2.7), (2.4, 2.5, 0.5, 0.6)],
        ("evening_star", -100),
    ),
    "three white soldiers": (
        "down",
        [(0.0, 1.05, -0.2, 1.0), (0.6, 2.05, 0.5, 2.0), (1.6, 3.05, 1.5, 3.0)],
        ("three_white_soldiers", 100),
    ),
    "three black crows": (
        "up",
        [
            (0.0, 1.05, -0.1, 1.0),
            (1.0, 1.1, -0.05, 0.0),
            (0.4, 0.5, -1.05, -1.0),
            (-0.6, -0.5, -2.05, -2.0),
        ],
        ("three_black_crows", -100),
    ),
    "bullish harami": (
        "down",
        [(0.0, 0.1, -2.1, -2.0), (-1.4, -0.5, -1.5, -0.8)],
        ("harami", 100),
    ),
    "bearish harami": ("up", [(0.0, 2.1, -0.1, 2.0), (1.4, 1.5, 0.5, 0.8)], ("harami", -100)),
    "piercing": ("down", [(0.0, 0.1, -2.1, -2.0), (-2.4, -0.6, -2.5, -0.7)], ("piercing", 100)),
    "dark cloud cover": (
        "up",
        [(0.0, 2.1, -0.1, 2.0), (2.4, 2.5, 0.6, 0.7)],
        ("dark_cloud_cover", -100),
    ),
}


@pytest.mark.parametrize("case", list(TEXTBOOK))
def test_textbook_pattern_fires_on_its_last_candle_and_nowhere_before(case: str) -> None:
    trend, candles, (column, signal) = TEXTBOOK[case]
    signals = candle_patterns(_after(trend, candles))
    assert signals[column].iloc[-1] == signal
    # the plain trend before the pattern is no pattern at all
    assert not signals.iloc[: -len(candles)].to_numpy().any()


def test_every_named_pattern_has_a_textbook_case() -> None:
    built = {column for _, _, (column, _) in TEXTBOOK.values()}
    assert built == set(PATTERN_NAMES)


def test_flat_series_fires_no_directional_pattern() -> None:
    flat = candle_patterns(_frame([(100.0, 100.0, 100.0, 100.0)] * 30))
    directional = [p for p, d in PATTERN_DIRECTION.items() if d != "neither"]
    assert not flat[directional].to_numpy().any()
    # open == close is a doji by definition; TA-Lib marks it present once its averages exist
    assert flat["doji"].iloc[-1] == 100

    # a quiet range of small alternating candles is no pattern either
    quiet = candle_patterns(_frame([(100, 100.5, 99.5, 100.2), (100.2, 100.7, 99.7, 100.0)] * 15))
    assert not quiet.to_numpy().any()


def _random_bars(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(0.015 * rng.standard_normal(n)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(0.005 * rng.standard_normal(n))
    spread = np.abs(0.01 * rng.standard_normal((2, n)))
    high = np.maximum(open_, close) * (1 + spread[0])
    low = np.minimum(open_, close) * (1 - spread[1])
    rows = list(zip(open_, high, low, close, strict=True))
    return _frame(rows)


def test_results_equal_talib_called_directly() -> None:
    bars = _random_bars(2000, seed=7)
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    direct = {
        "engulfing": talib.CDLENGULFING(o, h, lo, c),
        "hammer": talib.CDLHAMMER(o, h, lo, c),
        "inverted_hammer": talib.CDLINVERTEDHAMMER(o, h, lo, c),
        "hanging_man": talib.CDLHANGINGMAN(o, h, lo, c),
        "doji": talib.CDLDOJI(o, h, lo, c),
        "dragonfly_doji": talib.CDLDRAGONFLYDOJI(o, h, lo, c),
        "gravestone_doji": talib.CDLGRAVESTONEDOJI(o, h, lo, c),
        "morning_star": talib.CDLMORNINGSTAR(o, h, lo, c, penetration=STAR_PENETRATION),
        "evening_star": talib.CDLEVENINGSTAR(o, h, lo, c, penetration=STAR_PENETRATION),
        "shooting_star": talib.CDLSHOOTINGSTAR(o, h, lo, c),
        "three_white_soldiers": talib.CDL3WHITESOLDIERS(o, h, lo, c),
        "three_black_crows": talib.CDL3BLACKCROWS(o, h, lo, c),
        "harami": talib.CDLHARAMI(o, h, lo, c),
        "piercing": talib.CDLPIERCING(o, h, lo, c),
        "dark_cloud_cover": talib.CDLDARKCLOUDCOVER(
            o, h, lo, c, penetration=DARK_CLOUD_PENETRATION
        ),
    }
    ours = candle_patterns(bars)
    assert list(ours.columns) == list(direct)
    assert ours.index.equals(bars.index)
    for name, values in direct.items():
        np.testing.assert_array_equal(ours[name].to_numpy(), values, err_msg=name)
    # the comparison is not vacuous: most patterns occur in 2000 random candles
    assert (ours != 0).any().sum() >= 10


def test_signal_signs_follow_the_direction_table() -> None:
    signals = candle_patterns(_random_bars(3000, seed=11))
    for name, direction in PATTERN_DIRECTION.items():
        values = signals[name].to_numpy()
        if direction == "bullish" or direction == "neither":
            assert (values >= 0).all(), name
        elif direction == "bearish":
            assert (values <= 0).all(), name
    assert (signals["engulfing"] > 0).any() and (signals["engulfing"] < 0).any()
    assert (signals["harami"] > 0).any() and (signals["harami"] < 0).any()


def test_causal_a_prefix_gives_the_same_signals() -> None:
    bars = _random_bars(400, seed=3)
    full = candle_patterns(bars)
    for t in (50, 199, 350):
        pd.testing.assert_frame_equal(candle_patterns(bars.iloc[: t + 1]), full.iloc[: t + 1])


def test_subset_and_bad_input() -> None:
    bars = _after("down", [(0.0, 0.1, -1.3, -1.2), (-1.4, 0.6, -1.5, 0.5)])
    only = candle_patterns(bars, ("engulfing", "doji"))
    assert list(only.columns) == ["engulfing", "doji"]
    with pytest.raises(ValueError, match="unknown"):
        candle_patterns(bars, ("cup_and_handle",))
    with pytest.raises(ValueError, match="open"):
        candle_patterns(bars.drop(columns="open"))
