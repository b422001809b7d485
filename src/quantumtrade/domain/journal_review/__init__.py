"""Reviewing a trader's journal: mistakes, performance by group, patterns, recommendations.

Everything here is computed from the trader's own round trips (:class:`ReviewTrip`); nothing is
generic or hard-coded, and a recommendation exists only when the trader's figures support it.

Conventions:

* Trips with status ``"reset"`` are ignored. The analyses use closed trips only; the mistake
  rules that make sense for an open trip (no stop, stop moved, oversized, revenge, overtrading,
  chasing, against the regime or the AI) look at open trips too.
* A win has ``net_pl > 0``, a loss ``net_pl < 0``; a breakeven trip is neither (it counts in
  ``n`` and lowers the win rate) and it ends a streak.
* Money in :attr:`Mistake.figures` is a string with 2 decimals; other figures are floats or
  ints, so findings are JSON-ready. Money elsewhere is Decimal (totals) or float (means).
* Intervals: a win or loss rate has a Wilson score interval, a mean (expectancy, average R,
  size ratio) a Student-t interval, both two-sided at ``confidence``.
* ``conclusive`` is a test of many groups at once, so it is Bonferroni-adjusted: with ``m``
  groups tested (those with ``n >= min_sample``), a group is conclusive when its interval at
  ``1 - (1 - confidence) / m`` excludes the reference value. :func:`analyse` adjusts over the
  groups of one dimension, :func:`analyse_all` and :func:`recommend` over every test they make,
  so that on a journal of pure noise the chance of any conclusive finding is at most
  ``1 - confidence``. The intervals reported are the unadjusted ones at ``confidence``.
* A trip without a value for a dimension (no tag, no setup, no holding time...) is in no
  group of that dimension; there is no "(none)" group.
"""

from __future__ import annotations

from quantumtrade.domain.journal_review._trips import (
    CLOSED,
    LONG,
    NEW_YORK,
    OPEN,
    RESET,
    SHORT,
    ZERO,
    ReviewTrip,
)
from quantumtrade.domain.journal_review.advice import (
    EDGE_MISTAKES,
    Evidence,
    Recommendation,
    recommend,
)
from quantumtrade.domain.journal_review.mistakes import (
    TITLES,
    Figure,
    Mistake,
    MistakeRules,
    find_mistakes,
)
from quantumtrade.domain.journal_review.patterns import (
    EmotionAfter,
    EmotionReport,
    EmotionStats,
    StreakReport,
    StreakStats,
    emotion_patterns,
    streaks,
)
from quantumtrade.domain.journal_review.stats import (
    DIMENSIONS,
    HOLDING_BUCKETS,
    WEEKDAYS,
    GroupStats,
    Interval,
    analyse,
    analyse_all,
    overall,
    t_interval,
    wilson_interval,
)

__all__ = [
    "CLOSED",
    "DIMENSIONS",
    "EDGE_MISTAKES",
    "HOLDING_BUCKETS",
    "LONG",
    "NEW_YORK",
    "OPEN",
    "RESET",
    "SHORT",
    "TITLES",
    "WEEKDAYS",
    "ZERO",
    "EmotionAfter",
    "EmotionReport",
    "EmotionStats",
    "Evidence",
    "Figure",
    "GroupStats",
    "Interval",
    "Mistake",
    "MistakeRules",
    "Recommendation",
    "ReviewTrip",
    "StreakReport",
    "StreakStats",
    "analyse",
    "analyse_all",
    "emotion_patterns",
    "find_mistakes",
    "overall",
    "recommend",
    "streaks",
    "t_interval",
    "wilson_interval",
]
