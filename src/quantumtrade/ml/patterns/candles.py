"""Candlestick patterns with TA-Lib's definitions.

:func:`candle_patterns` runs TA-Lib's ``CDL*`` recognisers over a bar frame and returns one
integer column per pattern, in TA-Lib's convention: ``+100`` a bullish occurrence, ``-100`` a
bearish one, ``0`` none. TA-Lib's C library is bundled with the ``ta-lib`` wheel, so the values
here are exactly what ``talib.CDL<NAME>(open, high, low, close)`` returns (engulfing reports
``+/-80`` when one end of the body only equals, rather than exceeds, the previous body).

TA-Lib measures "long", "short" and "doji" bodies and shadows against the average of the
previous ten candles (its candle settings), and every recogniser looks only at the current and
previous candles: the value at bar ``t`` depends on bars ``<= t`` alone.

======================  ===============  ====================================================
column                  sign             meaning
======================  ===============  ====================================================
engulfing               +100 / -100      the body engulfs the previous opposite-colour body:
                                         a white one after a black (bullish), a black one
                                         after a white (bearish)
hammer                  +100 (bullish)   small body, long lower shadow, hardly any upper
                                         shadow, body at or below the previous candle's low:
                                         sellers pushed down and lost the session
inverted_hammer         +100 (bullish)   small body, long upper shadow, hardly any lower
                                         shadow, gapping below a black candle
hanging_man             -100 (bearish)   the hammer's shape at or above the previous
                                         candle's high: a top warning
doji                    +100 (neither)   open and close almost equal: indecision; TA-Lib
                                         marks its presence with +100, which has no direction
dragonfly_doji          +100 (neither)   doji with a long lower shadow and no upper one
gravestone_doji         +100 (neither)   doji with a long upper shadow and no lower one
morning_star            +100 (bullish)   long black, a small star gapping down, then a white
                                         candle closing well into the first body (30%)
evening_star            -100 (bearish)   long white, a small star gapping up, then a black
                                         candle closing well into the first body (30%)
shooting_star           -100 (bearish)   small body gapping up with a long upper shadow and
                                         hardly any lower one: the rally was rejected
three_white_soldiers    +100 (bullish)   three rising white candles, each opening within the
                                         previous body and closing near its high
three_black_crows       -100 (bearish)   after a white candle, three falling black candles,
                                         each opening within the previous body, closing near
                                         its low
harami                  +100 / -100      a small body inside the previous long opposite body:
                                         after a black (bullish), after a white (bearish)
piercing                +100 (bullish)   long black, then a long white opening below its low
                                         and closing above its midpoint
dark_cloud_cover        -100 (bearish)   long white, then a black opening above its high and
                                         closing below its midpoint (50% penetration)
======================  ===============  ====================================================

``PATTERN_DIRECTION`` says which of these carry a direction; the three doji columns only mark
presence. :mod:`quantumtrade.ml.patterns.hit_rate` reads every non-zero signal by its sign, so a
doji's "hit rate" is simply how often the price rose after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import talib

FloatArray = npt.NDArray[np.float64]
Recogniser = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], npt.NDArray[np.int32]]

STAR_PENETRATION = 0.3  # morning/evening star: third candle closes 30% into the first body
DARK_CLOUD_PENETRATION = 0.5  # dark cloud cover: second candle closes below the first's midpoint

Direction = Literal["bullish", "bearish", "both", "neither"]


def _morning_star(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray
) -> npt.NDArray[np.int32]:
    return talib.CDLMORNINGSTAR(o, h, lo, c, penetration=STAR_PENETRATION)


def _evening_star(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray
) -> npt.NDArray[np.int32]:
    return talib.CDLEVENINGSTAR(o, h, lo, c, penetration=STAR_PENETRATION)


def _dark_cloud(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray
) -> npt.NDArray[np.int32]:
    return talib.CDLDARKCLOUDCOVER(o, h, lo, c, penetration=DARK_CLOUD_PENETRATION)


# column -> (TA-Lib recogniser, direction of its signals)
PATTERNS: dict[str, tuple[Recogniser, Direction]] = {
    "engulfing": (talib.CDLENGULFING, "both"),
    "hammer": (talib.CDLHAMMER, "bullish"),
    "inverted_hammer": (talib.CDLINVERTEDHAMMER, "bullish"),
    "hanging_man": (talib.CDLHANGINGMAN, "bearish"),
    "doji": (talib.CDLDOJI, "neither"),
    "dragonfly_doji": (talib.CDLDRAGONFLYDOJI, "neither"),
    "gravestone_doji": (talib.CDLGRAVESTONEDOJI, "neither"),
    "morning_star": (_morning_star, "bullish"),
    "evening_star": (_evening_star, "bearish"),
    "shooting_star": (talib.CDLSHOOTINGSTAR, "bearish"),
    "three_white_soldiers": (talib.CDL3WHITESOLDIERS, "bullish"),
    "three_black_crows": (talib.CDL3BLACKCROWS, "bearish"),
    "harami": (talib.CDLHARAMI, "both"),
    "piercing": (talib.CDLPIERCING, "bullish"),
    "dark_cloud_cover": (_dark_cloud, "bearish"),
}
PATTERN_NAMES = tuple(PATTERNS)
PATTERN_DIRECTION: dict[str, Direction] = {name: d for name, (_, d) in PATTERNS.items()}


def _column(bars: pd.DataFrame, name: str) -> FloatArray:
    if name not in bars.columns:
        raise ValueError(f"bars need an {name!r} column for candlestick patterns")
    return np.ascontiguousarray(bars[name].to_numpy(dtype=np.float64))


def candle_patterns(bars: pd.DataFrame, patterns: tuple[str, ...] = PATTERN_NAMES) -> pd.DataFrame:
    """Return TA-Lib's signal for each pattern on each bar (columns in ``patterns`` order).

    ``bars`` needs ``open``, ``high``, ``low`` and ``close``; the result has the same index and
    int32 values in TA-Lib's convention (see the module table). Causal: bar ``t`` uses bars
    ``<= t`` only.
    """
    unknown = [p for p in patterns if p not in PATTERNS]
    if unknown:
        raise ValueError(f"unknown candlestick patterns: {unknown}")
    o, h, lo, c = (_column(bars, name) for name in ("open", "high", "low", "close"))
    columns = {
        name: np.asarray(PATTERNS[name][0](o, h, lo, c), dtype=np.int32) for name in patterns
    }
    return pd.DataFrame(columns, index=bars.index)
