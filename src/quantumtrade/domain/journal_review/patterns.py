"""Emotional and streak patterns: how trips go by emotion and after wins and losses."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from quantumtrade.domain.journal_review._trips import ReviewTrip, _closed, _end, _net, _value, _zone
from quantumtrade.domain.journal_review.stats import (
    Interval,
    _adjusted,
    _check_analysis,
    _excludes,
    _grouped,
    t_interval,
    wilson_interval,
)


@dataclass(frozen=True)
class EmotionStats:
    """How the trips entered with one emotion went, against all closed trips."""

    emotion: str
    n: int
    losses: int
    loss_rate: float
    loss_rate_ci: Interval | None
    base_loss_rate: float
    avg_r: float | None
    n_with_r: int
    expectancy: float
    total_net_pl: Decimal
    excess_net_pl: float
    """Total net P&L minus ``n`` times the expectancy of all closed trips."""
    conclusive: bool
    """``n >= min_sample`` and the loss-rate interval at ``test_confidence`` excludes the base."""
    trip_ids: tuple[str, ...]


@dataclass(frozen=True)
class EmotionAfter:
    """How often an emotion was reported after a winning and after a losing trip."""

    emotion: str
    after_wins: int
    after_losses: int
    share_after_losses: float
    """Share of the emotion's reports (after a win or a loss) that followed a loss."""


@dataclass(frozen=True)
class EmotionReport:
    n: int
    base_loss_rate: float
    base_expectancy: float
    before: tuple[EmotionStats, ...]
    after: tuple[EmotionAfter, ...]
    confidence: float
    test_confidence: float


def emotion_patterns(
    trips: Sequence[ReviewTrip],
    min_sample: int = 10,
    *,
    confidence: float = 0.95,
    comparisons: int | None = None,
) -> EmotionReport:
    """Return the loss rate per ``emotion_before`` against the base, and the emotions after.

    ``conclusive`` is Bonferroni-adjusted over ``comparisons`` tests (default: the emotions with
    ``n >= min_sample``).
    """
    _check_analysis(trips, [], min_sample, confidence)
    closed = _closed(trips)
    n = len(closed)
    base_loss = sum(t.net_pl < 0 for t in closed) / n if n else 0.0
    base_exp = float(_net(closed)) / n if n else 0.0
    groups = _grouped(closed, "emotion", _zone("UTC"))
    test_confidence = _adjusted(
        confidence, comparisons or sum(len(g) >= min_sample for _, g in groups)
    )
    before = []
    for emotion, group in groups:
        losses = sum(t.net_pl < 0 for t in group)
        rs = [t.r_multiple for t in group if t.r_multiple is not None]
        total = _net(group)
        before.append(
            EmotionStats(
                emotion=emotion,
                n=len(group),
                losses=losses,
                loss_rate=losses / len(group),
                loss_rate_ci=wilson_interval(losses, len(group), confidence),
                base_loss_rate=base_loss,
                avg_r=float(np.mean(rs)) if rs else None,
                n_with_r=len(rs),
                expectancy=float(total) / len(group),
                total_net_pl=total,
                excess_net_pl=float(total) - len(group) * base_exp,
                conclusive=len(group) >= min_sample
                and _excludes(wilson_interval(losses, len(group), test_confidence), base_loss),
                trip_ids=tuple(t.id for t in group),
            )
        )
    after_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for trip in closed:
        emotion = (trip.emotion_after or "").strip()
        if emotion and trip.net_pl != 0:
            after_counts[emotion]["win" if trip.net_pl > 0 else "loss"] += 1
    after = tuple(
        EmotionAfter(e, c["win"], c["loss"], c["loss"] / (c["win"] + c["loss"]))
        for e, c in sorted(after_counts.items())
    )
    return EmotionReport(n, base_loss, base_exp, tuple(before), after, confidence, test_confidence)


@dataclass(frozen=True)
class StreakStats:
    """The trips that followed a given outcome."""

    label: str
    n: int
    wins: int
    win_rate: float | None
    win_rate_ci: Interval | None
    avg_net_pl: float | None
    total_net_pl: Decimal
    avg_size_ratio: float | None
    """Mean of entry value / the previous trip's entry value."""
    size_ratio_gmean: float | None
    """Geometric mean of the size ratios (unbiased when sizes merely vary at random)."""
    size_ratio_ci: Interval | None
    """Interval of the geometric mean (t interval of the log ratios, exponentiated)."""
    extra_size_net_pl: float
    """Net P&L carried by the size above the previous trip's: sum of net * (1 - 1/ratio)
    over the trips with ratio > 1."""
    trip_ids: tuple[str, ...]


@dataclass(frozen=True)
class StreakReport:
    """What the trader does after wins and losses.

    A trip's previous outcome is that of the last trip closed at or before it opened (what the
    trader knew at entry), in ``closed_at`` order; a breakeven trip ends every streak.
    """

    n: int
    base_win_rate: float
    base_expectancy: float
    after_loss: StreakStats
    after_win: StreakStats
    after_losses: StreakStats
    """After 2 or more consecutive losses."""
    longest_win_streak: int
    longest_loss_streak: int
    sizes_up_after_loss: bool
    """``after_loss.n >= min_sample`` and the size-ratio interval at ``test_confidence`` lies
    above 1."""
    colder_after_losses: bool
    """``after_losses.n >= min_sample`` and its win-rate interval at ``test_confidence`` lies
    below the base win rate."""
    confidence: float
    test_confidence: float


def _streak_stats(
    label: str, rows: Sequence[tuple[ReviewTrip, ReviewTrip]], confidence: float
) -> StreakStats:
    trips = [t for t, _ in rows]
    n = len(trips)
    wins = sum(t.net_pl > 0 for t in trips)
    sized = [(t, float(_value(t) / _value(p))) for t, p in rows if _value(p) > 0 and _value(t) > 0]
    ratios = [r for _, r in sized]
    logs = np.log(ratios) if ratios else np.array([])
    log_ci = t_interval(logs, confidence)
    extra = sum(float(t.net_pl) * (1 - 1 / r) for t, r in sized if r > 1)
    return StreakStats(
        label=label,
        n=n,
        wins=wins,
        win_rate=wins / n if n else None,
        win_rate_ci=wilson_interval(wins, n, confidence),
        avg_net_pl=float(_net(trips)) / n if n else None,
        total_net_pl=_net(trips),
        avg_size_ratio=float(np.mean(ratios)) if ratios else None,
        size_ratio_gmean=float(np.exp(logs.mean())) if ratios else None,
        size_ratio_ci=(math.exp(log_ci[0]), math.exp(log_ci[1])) if log_ci else None,
        extra_size_net_pl=extra,
        trip_ids=tuple(t.id for t in trips),
    )


def _longest(outcomes: Sequence[int], sign: int) -> int:
    best = run = 0
    for outcome in outcomes:
        run = run + 1 if outcome == sign else 0
        best = max(best, run)
    return best


def streaks(
    trips: Sequence[ReviewTrip],
    min_sample: int = 10,
    *,
    confidence: float = 0.95,
    comparisons: int | None = None,
) -> StreakReport:
    """Return how the trips after a loss, after a win and after 2+ losses went, and the
    longest streaks. The two conclusive flags are adjusted over ``comparisons`` (default 2)."""
    _check_analysis(trips, [], min_sample, confidence)
    ordered = sorted(_closed(trips), key=lambda t: (t.closed_at, t.opened_at, t.id))
    ends = [_end(t) for t in ordered]
    outcomes = [(t.net_pl > 0) - (t.net_pl < 0) for t in ordered]
    loss_runs: list[int] = []
    for outcome in outcomes:
        loss_runs.append(loss_runs[-1] + 1 if outcome < 0 and loss_runs else int(outcome < 0))
    after: dict[str, list[tuple[ReviewTrip, ReviewTrip]]] = defaultdict(list)
    for trip in sorted(ordered, key=lambda t: (t.opened_at, t.id)):
        index = bisect_right(ends, trip.opened_at) - 1
        while index >= 0 and ordered[index].id == trip.id:
            index -= 1
        if index < 0 or outcomes[index] == 0:
            continue
        previous = ordered[index]
        after["after_win" if outcomes[index] > 0 else "after_loss"].append((trip, previous))
        if loss_runs[index] >= 2:
            after["after_losses"].append((trip, previous))
    n = len(ordered)
    base_win = sum(o > 0 for o in outcomes) / n if n else 0.0
    test_confidence = _adjusted(confidence, comparisons or 2)
    stats = {
        k: _streak_stats(k, after[k], confidence)
        for k in ("after_loss", "after_win", "after_losses")
    }
    up = _streak_stats("after_loss", after["after_loss"], test_confidence).size_ratio_ci
    cold = wilson_interval(stats["after_losses"].wins, stats["after_losses"].n, test_confidence)
    return StreakReport(
        n=n,
        base_win_rate=base_win,
        base_expectancy=float(_net(ordered)) / n if n else 0.0,
        after_loss=stats["after_loss"],
        after_win=stats["after_win"],
        after_losses=stats["after_losses"],
        longest_win_streak=_longest(outcomes, 1),
        longest_loss_streak=_longest(outcomes, -1),
        sizes_up_after_loss=stats["after_loss"].n >= min_sample and up is not None and up[0] > 1,
        colder_after_losses=stats["after_losses"].n >= min_sample
        and cold is not None
        and cold[1] < base_win,
        confidence=confidence,
        test_confidence=test_confidence,
    )
