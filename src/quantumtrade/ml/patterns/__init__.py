"""Pattern recognition: candlestick and chart patterns, and their measured vote.

``candles`` wraps TA-Lib's candlestick recognisers; ``chart`` finds pivots, support and
resistance, breakouts, double tops and bottoms, head and shoulders and triangles, each reported
on the bar that completes it; ``hit_rate`` measures how often each pattern was followed by a move
its way on the symbol, as known at each bar, and turns the patterns firing on a bar into a
probability-up vote.
"""

from quantumtrade.ml.patterns.candles import PATTERN_DIRECTION, PATTERN_NAMES, candle_patterns
from quantumtrade.ml.patterns.chart import (
    ChartPattern,
    breakouts,
    chart_patterns,
    chart_signals,
    double_tops_bottoms,
    head_and_shoulders,
    pivots,
    support_resistance,
    triangles,
)
from quantumtrade.ml.patterns.hit_rate import (
    forward_returns,
    hit_rate_as_of,
    pattern_hit_rates,
    pattern_vote,
    pattern_votes,
    wilson_interval,
)

__all__ = [
    "PATTERN_DIRECTION",
    "PATTERN_NAMES",
    "ChartPattern",
    "breakouts",
    "candle_patterns",
    "chart_patterns",
    "chart_signals",
    "double_tops_bottoms",
    "forward_returns",
    "head_and_shoulders",
    "hit_rate_as_of",
    "pattern_hit_rates",
    "pattern_vote",
    "pattern_votes",
    "pivots",
    "support_resistance",
    "triangles",
    "wilson_interval",
]
