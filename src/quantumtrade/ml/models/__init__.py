"""The direction forecasters behind the AI decisions, each a ``ProbabilisticModel``.

- :class:`GbmModel`: LightGBM on the feature table;
- :class:`RulesModel`: classic technical rules, weighed by a logistic regression;
- :class:`PatternModel`: the recalibrated vote of chart and candlestick patterns;
- :class:`SentimentModel`: a logistic regression on the ``sent_`` columns;
- the naive baselines and :class:`~quantumtrade.ml.evaluation.LogisticModel` live in
  :mod:`quantumtrade.ml.evaluation`.

:func:`model_hash` identifies a fitted model by its content: the same seed and data give the
same hash.
"""

from quantumtrade.ml.models._hash import model_hash
from quantumtrade.ml.models.gbm import GbmModel
from quantumtrade.ml.models.pattern_model import PatternModel
from quantumtrade.ml.models.rules import RULES, RulesModel, rule_votes
from quantumtrade.ml.models.sentiment_model import SentimentModel

__all__ = [
    "RULES",
    "GbmModel",
    "PatternModel",
    "RulesModel",
    "SentimentModel",
    "model_hash",
    "rule_votes",
]
