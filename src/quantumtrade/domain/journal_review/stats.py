"""Confidence intervals and the performance figures of groups of closed trips."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri, stdtrit

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.journal_review._trips import (
    NEW_YORK,
    ReviewTrip,
    _check_trips,
    _closed,
    _net,
    _zone,
)

DIMENSIONS = (
    "tag",
    "setup",
    "strategy",
    "symbol",
    "weekday",
    "hour",
    "holding",
    "regime",
    "emotion",
    "direction",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# (key, upper bound in seconds, exclusive), in order
HOLDING_BUCKETS = (
    ("<5m", 300.0),
    ("5m-1h", 3_600.0),
    ("1h-6h", 21_600.0),
    ("6h-1d", 86_400.0),
    ("1d-5d", 432_000.0),
    (">5d", math.inf),
)


Interval = tuple[float, float]


def _check_confidence(confidence: float) -> None:
    if not (isinstance(confidence, int | float) and 0.0 < confidence < 1.0):
        raise InvalidInput(
            f"confidence must be between 0 and 1 (exclusive), got {confidence!r}",
            code="invalid_confidence",
        )


def _check_min_sample(min_sample: int) -> None:
    if not isinstance(min_sample, int) or min_sample < 2:
        raise InvalidInput(
            f"min_sample must be an integer of at least 2, got {min_sample!r}",
            code="invalid_min_sample",
        )


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Return the Wilson score interval of a proportion ``successes / n``; None when n is 0."""
    _check_confidence(confidence)
    if n <= 0:
        return None
    z = float(ndtri(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def t_interval(values: npt.ArrayLike, confidence: float = 0.95) -> Interval | None:
    """Return the Student-t interval of the mean of ``values``; None with fewer than 2."""
    _check_confidence(confidence)
    arr = np.asarray(values, dtype=float)
    if arr.size < 2:
        return None
    mean = float(arr.mean())
    half = float(stdtrit(arr.size - 1, 0.5 + confidence / 2)) * float(arr.std(ddof=1))
    half /= math.sqrt(arr.size)
    return (mean - half, mean + half)


def _excludes(interval: Interval | None, value: float) -> bool:
    return interval is not None and (interval[0] > value or interval[1] < value)


def _adjusted(confidence: float, tests: int) -> float:
    """Return the Bonferroni-adjusted confidence of one test out of ``tests``."""
    return 1.0 - (1.0 - confidence) / max(1, tests)


@dataclass(frozen=True)
class GroupStats:
    """The performance figures of one group of closed trips."""

    dimension: str
    key: str
    n: int
    wins: int
    losses: int
    win_rate: float
    win_rate_ci: Interval | None
    expectancy: float
    """Mean net P&L per trip (float64)."""
    expectancy_ci: Interval | None
    profit_factor: float | None
    """Gross wins / |gross losses|; None without a loss."""
    avg_r: float | None
    avg_r_ci: Interval | None
    n_with_r: int
    total_net_pl: Decimal
    measure: str
    """The figure the conclusive test uses: ``avg_r`` when at least ``min_sample`` trips have an
    R (R is comparable across sizes), else ``expectancy``."""
    conclusive: bool
    """``n >= min_sample`` and the measure's interval at ``test_confidence`` excludes 0."""
    confidence: float
    test_confidence: float
    trip_ids: tuple[str, ...]

    @property
    def value(self) -> float:
        """Return the tested measure's value."""
        return (self.avg_r if self.measure == "avg_r" else self.expectancy) or 0.0

    @property
    def interval(self) -> Interval | None:
        """Return the tested measure's interval at ``confidence``."""
        return self.avg_r_ci if self.measure == "avg_r" else self.expectancy_ci


def _stats(
    dimension: str,
    key: str,
    trips: Sequence[ReviewTrip],
    *,
    min_sample: int,
    confidence: float,
    test_confidence: float,
) -> GroupStats:
    nets = np.array([float(t.net_pl) for t in trips], dtype=float)
    rs = [t.r_multiple for t in trips if t.r_multiple is not None and math.isfinite(t.r_multiple)]
    n = len(trips)
    wins, losses = int((nets > 0).sum()), int((nets < 0).sum())
    gross_loss = -float(nets[nets < 0].sum())
    measure = "avg_r" if len(rs) >= min_sample else "expectancy"
    tested = rs if measure == "avg_r" else list(nets)
    return GroupStats(
        dimension=dimension,
        key=key,
        n=n,
        wins=wins,
        losses=losses,
        win_rate=wins / n if n else 0.0,
        win_rate_ci=wilson_interval(wins, n, confidence),
        expectancy=float(nets.mean()) if n else 0.0,
        expectancy_ci=t_interval(nets, confidence),
        profit_factor=float(nets[nets > 0].sum()) / gross_loss if gross_loss > 0 else None,
        avg_r=float(np.mean(rs)) if rs else None,
        avg_r_ci=t_interval(rs, confidence),
        n_with_r=len(rs),
        total_net_pl=_net(trips),
        measure=measure,
        conclusive=n >= min_sample and _excludes(t_interval(tested, test_confidence), 0.0),
        confidence=confidence,
        test_confidence=test_confidence,
        trip_ids=tuple(t.id for t in trips),
    )


def _bucket(seconds: float) -> str:
    return next(key for key, upper in HOLDING_BUCKETS if seconds < upper)


def _keys(trip: ReviewTrip, dimension: str, zone: ZoneInfo) -> tuple[str, ...]:
    """Return the trip's keys in ``dimension``; none when the value is missing."""
    local = trip.opened_at.astimezone(zone)
    if dimension == "tag":
        return tuple(dict.fromkeys(tag.strip() for tag in trip.tags if tag.strip()))
    if dimension == "weekday":
        return (WEEKDAYS[local.weekday()],)
    if dimension == "hour":
        return (f"{local.hour:02d}",)
    if dimension == "holding":
        return () if trip.holding_seconds is None else (_bucket(trip.holding_seconds),)
    attribute = "emotion_before" if dimension == "emotion" else dimension
    value = getattr(trip, attribute)
    return (value.strip(),) if isinstance(value, str) and value.strip() else ()


def _order(dimension: str, key: str) -> tuple[int, str]:
    if dimension == "weekday":
        return WEEKDAYS.index(key), key
    if dimension == "holding":
        return [k for k, _ in HOLDING_BUCKETS].index(key), key
    return 0, key


def _grouped(
    closed: Sequence[ReviewTrip], dimension: str, zone: ZoneInfo
) -> list[tuple[str, list[ReviewTrip]]]:
    groups: dict[str, list[ReviewTrip]] = defaultdict(list)
    for trip in closed:
        for key in _keys(trip, dimension, zone):
            groups[key].append(trip)
    return sorted(groups.items(), key=lambda item: _order(dimension, item[0]))


def _check_analysis(
    trips: Sequence[ReviewTrip], dimensions: Sequence[str], min_sample: int, confidence: float
) -> None:
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise InvalidInput(
            f"unknown dimension {unknown[0]!r}; use one of {', '.join(DIMENSIONS)}",
            code="unknown_dimension",
        )
    _check_confidence(confidence)
    _check_min_sample(min_sample)
    _check_trips(trips)


def analyse(
    trips: Sequence[ReviewTrip],
    *,
    dimension: str,
    min_sample: int = 10,
    confidence: float = 0.95,
    tz: str = NEW_YORK,
    comparisons: int | None = None,
) -> list[GroupStats]:
    """Return the closed trips' figures per group of ``dimension``, in the dimension's order.

    A trip counts in each of its tags; a trip without a value for the dimension is in no group.
    ``weekday`` and ``hour`` are those of ``opened_at`` in ``tz``; ``holding`` buckets are
    ``<5m, 5m-1h, 1h-6h, 6h-1d, 1d-5d, >5d``. ``conclusive`` is Bonferroni-adjusted over
    ``comparisons`` tests (default: the groups with ``n >= min_sample``).
    """
    _check_analysis(trips, [dimension], min_sample, confidence)
    groups = _grouped(_closed(trips), dimension, _zone(tz))
    tests = comparisons or sum(len(g) >= min_sample for _, g in groups)
    test_confidence = _adjusted(confidence, tests)
    return [
        _stats(
            dimension,
            key,
            group,
            min_sample=min_sample,
            confidence=confidence,
            test_confidence=test_confidence,
        )
        for key, group in groups
    ]


def analyse_all(
    trips: Sequence[ReviewTrip],
    *,
    dimensions: Sequence[str] = DIMENSIONS,
    min_sample: int = 10,
    confidence: float = 0.95,
    tz: str = NEW_YORK,
    comparisons: int | None = None,
) -> dict[str, list[GroupStats]]:
    """Return :func:`analyse` of every dimension, adjusted over all their groups together."""
    _check_analysis(trips, dimensions, min_sample, confidence)
    zone, closed = _zone(tz), _closed(trips)
    tests = comparisons or sum(
        len(g) >= min_sample for d in dimensions for _, g in _grouped(closed, d, zone)
    )
    return {
        d: analyse(
            trips,
            dimension=d,
            min_sample=min_sample,
            confidence=confidence,
            tz=tz,
            comparisons=max(1, tests),
        )
        for d in dimensions
    }


def overall(
    trips: Sequence[ReviewTrip], *, min_sample: int = 10, confidence: float = 0.95
) -> GroupStats:
    """Return the figures of all closed trips together (dimension and key ``"all"``)."""
    _check_analysis(trips, [], min_sample, confidence)
    return _stats(
        "all",
        "all",
        _closed(trips),
        min_sample=min_sample,
        confidence=confidence,
        test_confidence=confidence,
    )
