"""Recommendations drawn from the trader's own figures, one per cause."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.journal_review._trips import (
    NEW_YORK,
    ReviewTrip,
    _closed,
    _net,
    _usd,
    _zone,
)
from quantumtrade.domain.journal_review.mistakes import Mistake, MistakeRules, find_mistakes
from quantumtrade.domain.journal_review.patterns import (
    EmotionReport,
    EmotionStats,
    StreakReport,
    emotion_patterns,
    streaks,
)
from quantumtrade.domain.journal_review.stats import (
    DIMENSIONS,
    WEEKDAYS,
    GroupStats,
    Interval,
    _adjusted,
    _check_analysis,
    _grouped,
    _stats,
    analyse_all,
    t_interval,
    wilson_interval,
)


@dataclass(frozen=True)
class Evidence:
    """The measured figure a recommendation rests on."""

    dimension: str
    """A dimension of :func:`analyse`, or ``"streak"`` or ``"mistake"``."""
    key: str
    n: int
    figure: str
    """``avg_r``, ``expectancy``, ``loss_rate``, ``size_ratio``, ``win_rate`` or ``net_pl``."""
    value: float
    interval: Interval | None
    trip_ids: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    """Advice drawn from the trader's own figures.

    ``score`` is the money at stake, used to rank: a group's |total net P&L| (|expectancy| x n);
    an emotion's or a streak's |net P&L against the average trade| (total - n x the expectancy
    of all closed trips); sizing up after losses, the |net P&L carried by the extra size|; a
    mistake, the |net loss| of its closed trips.
    """

    kind: str
    """``avoid`` (a group or emotion that loses), ``focus`` (one that wins), ``fix`` (a mistake
    or sizing habit) or ``pause`` (losing more after losses in a row)."""
    code: str
    message: str
    evidence: Evidence
    score: float


# Mistakes whose harm is a claim about results (the trips lost more than chance would): their
# recommendation also needs the trips' mean net P&L to be conclusively below 0. The others are
# breaches of risk control whose net loss is their cost.
EDGE_MISTAKES = frozenset({"against_regime", "chasing", "ignored_ai", "overtrading"})

_DAYS = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_HELD = {
    "<5m": "under 5 minutes",
    "5m-1h": "5 to 60 minutes",
    "1h-6h": "1 to 6 hours",
    "6h-1d": "6 hours to a day",
    "1d-5d": "1 to 5 days",
    ">5d": "over 5 days",
}


@dataclass(frozen=True)
class _Candidate:
    """A statistical recommendation before overlapping ones are weeded out."""

    strength: float
    advice: Recommendation
    retest: Callable[[frozenset[str]], bool]
    """Whether the finding still holds on its trips outside the given ids."""


def _strength(value: float, reference: float, interval: Interval | None) -> float:
    """Return the distance from the reference in half-widths of the interval."""
    if interval is None:
        return 0.0
    half = (interval[1] - interval[0]) / 2
    return abs(value - reference) / half if half > 0 else math.inf


def _rest(
    ids: Sequence[str], explained: frozenset[str], by_id: dict[str, ReviewTrip]
) -> list[ReviewTrip]:
    return [by_id[i] for i in ids if i not in explained and i in by_id]


def _phrase(dimension: str, key: str, tz: str) -> str:
    if dimension == "hour":
        hour = int(key)
        return f"trades entered between {hour:02d}:00 and {(hour + 1) % 24:02d}:00 ({tz})"
    phrases = {
        "tag": f"trades tagged {key}",
        "setup": f"trades with the {key} setup",
        "strategy": f"trades with the {key} strategy",
        "symbol": f"{key} trades",
        "weekday": f"{_DAYS.get(key, key)} trades",
        "holding": f"trades held {_HELD.get(key, key)}",
        "regime": f"trades opened in a {key} regime",
        "emotion": f"trades entered feeling {key}",
        "direction": f"{key} trades",
    }
    return phrases[dimension]


def _group_advice(group: GroupStats, tz: str) -> Recommendation:
    value, (low, high) = group.value, group.interval or (group.value, group.value)
    pct = f"{group.confidence:.0%}"
    phrase = _phrase(group.dimension, group.key, tz)
    if group.measure == "avg_r":
        n = group.n_with_r
        said = (
            f"Your {phrase} {'lose' if value < 0 else 'make'} {abs(value):.2f}R on average over "
            f"{n} trades ({pct} interval {low:.2f}R to {high:.2f}R)"
        )
    else:
        n = group.n
        said = (
            f"Your {phrase} have an expectancy of {_usd(value)} per trade over {n} trades "
            f"({pct} interval {_usd(low)} to {_usd(high)})"
        )
    kind = "avoid" if value < 0 else "focus"
    action = "cut them or trade them smaller" if value < 0 else "this is where your edge is"
    return Recommendation(
        kind=kind,
        code=f"{kind}_{group.dimension}",
        message=f"{said}, {_usd(group.total_net_pl)} net: {action}.",
        evidence=Evidence(
            group.dimension, group.key, n, group.measure, value, group.interval, group.trip_ids
        ),
        score=abs(float(group.total_net_pl)),
    )


def _group_candidate(
    group: GroupStats, tz: str, min_sample: int, by_id: dict[str, ReviewTrip]
) -> _Candidate:
    def retest(explained: frozenset[str]) -> bool:
        rest = _rest(group.trip_ids, explained, by_id)
        again = _stats(
            group.dimension,
            group.key,
            rest,
            min_sample=min_sample,
            confidence=group.confidence,
            test_confidence=group.test_confidence,
        )
        return again.conclusive and (again.value < 0) == (group.value < 0)

    return _Candidate(_strength(group.value, 0.0, group.interval), _group_advice(group, tz), retest)


def _emotion_candidates(
    report: EmotionReport, min_sample: int, by_id: dict[str, ReviewTrip]
) -> list[_Candidate]:
    out = []
    base = report.base_loss_rate
    for e in report.before:
        worse = e.loss_rate > report.base_loss_rate and e.excess_net_pl < 0
        better = e.loss_rate < report.base_loss_rate and e.excess_net_pl > 0
        if not e.conclusive or not (worse or better) or e.loss_rate_ci is None:
            continue
        low, high = e.loss_rate_ci
        message = (
            f"When you enter feeling {e.emotion} you lose {e.loss_rate:.0%} of your trades over "
            f"{e.n} trades ({report.confidence:.0%} interval {low:.0%} to {high:.0%}) against "
            f"{report.base_loss_rate:.0%} overall, {_usd(e.excess_net_pl)} against your average "
            f"trade: {'stand aside when you feel this way' if worse else 'trade in this state'}."
        )
        kind = "avoid" if worse else "focus"
        advice = Recommendation(
            kind,
            f"{kind}_emotion",
            message,
            Evidence(
                "emotion", e.emotion, e.n, "loss_rate", e.loss_rate, e.loss_rate_ci, e.trip_ids
            ),
            abs(e.excess_net_pl),
        )

        def retest(explained: frozenset[str], e: EmotionStats = e, worse: bool = worse) -> bool:
            rest = _rest(e.trip_ids, explained, by_id)
            losses = sum(t.net_pl < 0 for t in rest)
            interval = wilson_interval(losses, len(rest), report.test_confidence)
            if len(rest) < min_sample or interval is None:
                return False
            return interval[0] > base if worse else interval[1] < base

        out.append(_Candidate(_strength(e.loss_rate, base, e.loss_rate_ci), advice, retest))
    return out


def _streak_advice(report: StreakReport) -> list[Recommendation]:
    out = []
    pct = f"{report.confidence:.0%}"
    lost, won, cold = report.after_loss, report.after_win, report.after_losses
    if (
        report.sizes_up_after_loss
        and lost.extra_size_net_pl < 0
        and lost.size_ratio_gmean is not None
        and lost.size_ratio_ci is not None
        and (lost.win_rate or 0.0) < (won.win_rate or 0.0)
    ):
        low, high = lost.size_ratio_ci
        message = (
            f"After a loss you size up {lost.size_ratio_gmean:.2f}x on average over {lost.n} "
            f"trades ({pct} interval {low:.2f}x to {high:.2f}x) and win {lost.win_rate or 0:.0%}"
            f" of them against {won.win_rate or 0:.0%} after a win; the extra size cost "
            f"{_usd(abs(lost.extra_size_net_pl))}: keep your usual size after a loss."
        )
        out.append(
            Recommendation(
                "fix",
                "size_up_after_loss",
                message,
                Evidence(
                    "streak",
                    "after_loss",
                    lost.n,
                    "size_ratio",
                    lost.size_ratio_gmean,
                    lost.size_ratio_ci,
                    lost.trip_ids,
                ),
                abs(lost.extra_size_net_pl),
            )
        )
    excess = float(cold.total_net_pl) - cold.n * report.base_expectancy
    if report.colder_after_losses and excess < 0 and cold.win_rate_ci is not None:
        low, high = cold.win_rate_ci
        message = (
            f"After 2 or more losses in a row you win {cold.win_rate or 0:.0%} of the next "
            f"trades over {cold.n} trades ({pct} interval {low:.0%} to {high:.0%}) against "
            f"{report.base_win_rate:.0%} overall, {_usd(excess)} against your average trade: "
            f"pause after a second loss in a row."
        )
        out.append(
            Recommendation(
                "pause",
                "losing_streak",
                message,
                Evidence(
                    "streak",
                    "after_2_losses",
                    cold.n,
                    "win_rate",
                    cold.win_rate or 0.0,
                    cold.win_rate_ci,
                    cold.trip_ids,
                ),
                abs(excess),
            )
        )
    return out


def _action(mistake: Mistake) -> str:
    f, t = mistake.figures, mistake.threshold
    actions = {
        "no_stop": "place a stop with every entry",
        "stop_moved_away": "leave a stop where it is or move it toward the entry, never away",
        "oversized": f"keep each position within {float(f.get('limit', 0)):.0%} of equity",
        "revenge_trade": (
            f"after a loss wait {float(t.get('revenge_window_minutes', 0)):g} minutes and keep "
            "your usual size"
        ),
        "overtrading": (
            f"stop near your usual {float(f.get('median_trades_per_day', 0)):g} trades a day"
        ),
        "chasing": f"skip entries after a run of {float(t.get('chase_atr', 0)):g} ATR or more",
        "winners_cut_losers_run": "exit losers at the stop and give winners the time losers get",
        "against_regime": "trade with the regime, or smaller against it",
        "ignored_ai": "weigh the AI decision before trading against it",
    }
    return actions.get(mistake.code, "review these trades")


def _mistake_advice(
    mistakes: Sequence[Mistake],
    by_id: dict[str, ReviewTrip],
    min_sample: int,
    test_confidence: float,
    confidence: float,
) -> tuple[list[Recommendation], list[_Candidate]]:
    """Return the advice of costly breaches, and the candidates of conclusive edge mistakes."""
    plain: list[Recommendation] = []
    tested: list[_Candidate] = []
    for mistake in mistakes:
        closed = [by_id[i] for i in mistake.trip_ids if i in by_id]
        cost = _net(closed)
        if not closed or cost >= 0:
            continue
        edge = mistake.code in EDGE_MISTAKES
        nets = [float(t.net_pl) for t in closed]
        interval = t_interval(nets, confidence) if edge else None
        advice = Recommendation(
            "fix",
            mistake.code,
            f"{mistake.message}: {_action(mistake)}.",
            Evidence(
                "mistake",
                mistake.code,
                len(closed),
                "net_pl",
                float(cost),
                interval,
                tuple(t.id for t in closed),
            ),
            abs(float(cost)),
        )
        if not edge:
            plain.append(advice)
            continue

        def retest(
            explained: frozenset[str], ids: tuple[str, ...] = advice.evidence.trip_ids
        ) -> bool:
            rest = [float(t.net_pl) for t in _rest(ids, explained, by_id)]
            again = t_interval(rest, test_confidence)
            return len(rest) >= min_sample and again is not None and again[1] < 0

        if retest(frozenset()):
            tested.append(
                _Candidate(_strength(float(np.mean(nets)), 0.0, interval), advice, retest)
            )
    return plain, tested


def _independent(candidates: Sequence[_Candidate]) -> list[Recommendation]:
    """Keep the candidates that hold on trips no stronger candidate explains.

    The strongest first; a candidate whose trips overlap those of the ones kept must still be
    conclusive without the overlap (so "long trades lose" is dropped when the loss is all in
    the long trades tagged fomo that a stronger finding names).
    """
    kept: list[Recommendation] = []
    explained: frozenset[str] = frozenset()
    ranked = sorted(
        candidates,
        key=lambda c: (-c.strength, c.advice.code, c.advice.evidence.key),
    )
    for candidate in ranked:
        ids = set(candidate.advice.evidence.trip_ids)
        if ids & explained and not candidate.retest(explained):
            continue
        kept.append(candidate.advice)
        explained |= ids
    return kept


def recommend(
    trips: Sequence[ReviewTrip],
    *,
    mistakes: Sequence[Mistake] | None = None,
    rules: MistakeRules = MistakeRules(),
    min_sample: int = 10,
    confidence: float = 0.95,
    tz: str = NEW_YORK,
    limit: int = 10,
) -> list[Recommendation]:
    """Return up to ``limit`` recommendations, highest score first.

    They come from conclusive groups of every dimension, conclusive emotion patterns, sizing up
    or winning less after losses, and mistakes with a net loss (``mistakes``, or
    :func:`find_mistakes` with ``rules`` when None). Every statistical test counts in one
    Bonferroni family, so on a journal of pure noise the chance of any recommendation other
    than a costly breach of risk control is at most ``1 - confidence``.

    A statistical finding (group, emotion, edge mistake) whose trips overlap those of a
    stronger one (further from its reference, in interval half-widths) must still be
    conclusive without the overlapping trips, so one cause yields one recommendation.
    The mistakes of :data:`EDGE_MISTAKES` need their trips' mean net P&L conclusively below 0;
    the other mistakes need a net loss. Sizing-up and losing-streak advice need the
    :class:`StreakReport` flags.
    """
    _check_analysis(trips, DIMENSIONS, min_sample, confidence)
    if limit < 0:
        raise InvalidInput("limit must be 0 or more", code="invalid_limit")
    found = find_mistakes(trips, rules) if mistakes is None else list(mistakes)
    zone, closed = _zone(tz), _closed(trips)
    by_id = {t.id: t for t in closed}
    emotions = emotion_patterns(trips, min_sample, confidence=confidence)
    habits = streaks(trips, min_sample, confidence=confidence)
    tests = (
        sum(len(g) >= min_sample for d in DIMENSIONS for _, g in _grouped(closed, d, zone))
        + sum(e.n >= min_sample for e in emotions.before)
        + (habits.after_loss.n >= min_sample)
        + (habits.after_losses.n >= min_sample)
        + sum(
            m.code in EDGE_MISTAKES and sum(i in by_id for i in m.trip_ids) >= min_sample
            for m in found
        )
    )
    tests = max(1, tests)
    groups = analyse_all(
        trips, min_sample=min_sample, confidence=confidence, tz=tz, comparisons=tests
    )
    plain, candidates = _mistake_advice(
        found, by_id, min_sample, _adjusted(confidence, tests), confidence
    )
    candidates += [
        _group_candidate(g, tz, min_sample, by_id)
        for d in DIMENSIONS
        for g in groups[d]
        if g.conclusive
    ]
    candidates += _emotion_candidates(
        emotion_patterns(trips, min_sample, confidence=confidence, comparisons=tests),
        min_sample,
        by_id,
    )
    advice = _independent(candidates) + plain
    advice += _streak_advice(streaks(trips, min_sample, confidence=confidence, comparisons=tests))
    # a group and an emotion pattern can speak of the same emotion: keep the stronger one
    best: dict[tuple[str, str, str], Recommendation] = {}
    for item in advice:
        slot = (item.evidence.dimension, item.evidence.key, item.kind)
        if slot not in best or item.score > best[slot].score:
            best[slot] = item
    ranked = sorted(best.values(), key=lambda r: (-r.score, r.kind, r.code, r.evidence.key))
    return ranked[:limit]
