"""Market regime classification: a sticky Gaussian HMM with named states, plus trend figures.

``fit`` a :class:`RegimeModel` on a symbol's history, then ``classify`` bars with it in
``filtered`` mode (no look-ahead) or ``smoothed`` mode (hindsight). ``evaluation`` scores
labels against known regimes.
"""

from quantumtrade.ml.regime.classify import (
    MODES,
    RegimeResult,
    Segment,
    classify,
    segments,
)
from quantumtrade.ml.regime.features import DIRECTIONS, VOLATILITY_REGIMES
from quantumtrade.ml.regime.model import TREND_REGIMES, RegimeModel, fit, name_states

__all__ = [
    "DIRECTIONS",
    "MODES",
    "TREND_REGIMES",
    "VOLATILITY_REGIMES",
    "RegimeModel",
    "RegimeResult",
    "Segment",
    "classify",
    "fit",
    "name_states",
    "segments",
]
