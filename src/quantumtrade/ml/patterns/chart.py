"""Chart patterns from pivots, detected causally and reported when they complete.

The building block is the pivot: bar ``i`` is a pivot high when its high beats the ``left``
highs before it and is not beaten by the ``right`` highs after it (a pivot low likewise with
lows). A pivot is therefore *known* only ``right`` bars after it; :func:`pivots` reports that
bar as ``confirmed_at``, and everything built on pivots uses a pivot only from then on.

Patterns are built from swings: confirmed pivots filtered into an alternating high/low sequence
(a second high in a row replaces the first when it is higher, and a reversal smaller than
``min_swing`` of the price is ignored). When the newest swing completes a shape, the pattern is
a *candidate*; it is *confirmed* on the first later bar whose close crosses its trigger line,
and that bar is ``confirmed_at``. A candidate that is invalidated (price runs through the
extreme it relies on) or not triggered within ``max_wait`` bars is dropped. At most one
candidate per pattern name is pending: a newer shape replaces an older one.

Every detection confirmed at bar ``t`` depends on bars ``<= t`` only: the detectors scan the bars
in order, take up each pivot on its confirmation bar and decide bar ``t`` from bars ``<= t``, so
changing bars after ``t`` leaves the detections confirmed by ``t`` unchanged. Bar positions
(``start``, ``confirmed_at``, ``bar``) are integer positions into the input, not index labels.

Patterns (``direction`` is the side of the completed pattern's expected move):

=========================  ==========  ==========================================================
pattern                    direction   shape and trigger
=========================  ==========  ==========================================================
breakout                   both        close beyond a support/resistance level by more than its
                                       tolerance, on volume ``volume_factor`` x its average
double_top / _bottom       bear/bull   two swing extremes equal within ``tolerance`` around a
                                       trough (peak) at least ``min_depth`` away; triggered by a
                                       close through the trough (the neckline)
head_and_shoulders         bearish     three swing highs, the middle (head) ``head_margin`` above
(inverse_...)              (bullish)   both shoulders, shoulders equal within
                                       ``shoulder_tolerance``; triggered by a close through the
                                       neckline drawn through the two troughs
ascending_triangle         both        flat upper line, rising lower line
descending_triangle        both        falling upper line, flat lower line
symmetric_triangle         both        falling upper line, rising lower line; a triangle is
                                       triggered by a close outside either line before the apex,
                                       and takes the side of that close
=========================  ==========  ==========================================================

``target`` is the classic measured move: the pattern's height (peak to neckline, or the
triangle's opening width, or the breakout's range) projected from the trigger level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
Direction = Literal["bullish", "bearish"]

PIVOT_LEFT = 5  # bars a pivot must beat before it
PIVOT_RIGHT = 3  # bars that must not beat it after: the confirmation lag
MIN_SWING = 0.03  # a reversal smaller than 3% of the price is noise, not a swing

SR_LOOKBACK = 120  # bars of pivots that make support/resistance levels (about half a year daily)
SR_TOLERANCE = 0.01  # pivots within 1% of a level's mean touch it; also the breakout margin
SR_MIN_TOUCHES = 2
VOLUME_WINDOW = 20  # bars of average volume a breakout's volume is compared with
VOLUME_FACTOR = 1.5  # a breakout needs 1.5x the average volume

PEAK_TOLERANCE = 0.02  # double top/bottom: the two extremes within 2% of each other
MIN_DEPTH = 0.05  # the neckline at least 5% from the extremes: a pattern, not a wiggle
MIN_SEPARATION = 10  # bars between the two extremes of a double top/bottom
MAX_SPAN = 120  # bars from a pattern's first swing to its last
MAX_WAIT = 20  # bars after the last swing's confirmation the trigger must come within

HEAD_MARGIN = 0.03  # the head at least 3% beyond the farther shoulder
SHOULDER_TOLERANCE = 0.04  # shoulders within 4% of each other
NECKLINE_MAX_TILT = 0.04  # the two neckline troughs within 4% of each other

TRIANGLE_SWINGS = 5  # swings a triangle is fitted on: 3 touches of one line, 2 of the other
FIT_TOLERANCE = 0.01  # each touch within 1% of its fitted line
FLAT_FRACTION = 0.25  # a line is flat when it moves less than 25% of the opening width
MIN_CONTRACTION = 0.4  # the lines close in by at least 40% of the opening width


@dataclass(frozen=True, slots=True)
class ChartPattern:
    """One completed chart pattern.

    ``start`` is the bar of its first swing (or the first touch of a broken level),
    ``confirmed_at`` the bar whose close completed it, ``level`` the trigger line's value there
    (neckline, broken level, triangle side) and ``target`` the measured-move objective.
    """

    pattern: str
    direction: Direction
    start: int
    confirmed_at: int
    level: float
    target: float


COLUMNS = tuple(ChartPattern.__dataclass_fields__)


def to_frame(detections: Sequence[ChartPattern]) -> pd.DataFrame:
    """Return detections as a tidy frame (one row each, ordered by ``confirmed_at``)."""
    frame = pd.DataFrame([asdict(d) for d in detections], columns=list(COLUMNS))
    frame = frame.astype(
        {
            "pattern": str,
            "direction": str,
            "start": np.int64,
            "confirmed_at": np.int64,
            "level": np.float64,
            "target": np.float64,
        }
    )
    return frame.sort_values(["confirmed_at", "pattern"], kind="stable").reset_index(drop=True)


def _array(values: pd.Series | npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def pivots(
    high: pd.Series | npt.ArrayLike,
    low: pd.Series | npt.ArrayLike,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
) -> pd.DataFrame:
    """Return pivot highs and lows: ``bar``, ``kind`` ("high"/"low"), ``price``, ``confirmed_at``.

    A pivot high at ``bar`` beats each of the ``left`` highs before it strictly and is at least
    each of the ``right`` highs after it; it is confirmed at ``bar + right`` and is not reported
    before (pivots whose right-hand bars are not there yet are absent). Rows are ordered by
    ``confirmed_at``, lows before highs on the same bar.
    """
    if left < 1 or right < 1:
        raise ValueError("left and right must be at least 1")
    h, lo = _array(high), _array(low)
    n = h.shape[0]
    rows: list[tuple[int, str, float, int]] = []
    for kind, values, sign in (("low", lo, -1.0), ("high", h, 1.0)):
        x = pd.Series(sign * values)
        before = x.rolling(left).max().shift(1).to_numpy()
        after = x.rolling(right).max().shift(-right).to_numpy()
        mask = (x.to_numpy() > before) & (x.to_numpy() >= after)
        for i in np.flatnonzero(mask):
            rows.append((int(i), kind, float(values[i]), int(i) + right))
    frame = pd.DataFrame(rows, columns=["bar", "kind", "price", "confirmed_at"])
    frame = frame.astype(
        {"bar": np.int64, "kind": str, "price": np.float64, "confirmed_at": np.int64}
    )
    frame = frame.sort_values(["confirmed_at", "kind"], ascending=[True, False], kind="stable")
    frame = frame.loc[frame["confirmed_at"] < n]
    return pd.DataFrame(frame.reset_index(drop=True))


# --- support, resistance and breakouts -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Level:
    level: float
    touches: int
    first_touch: int
    last_touch: int
    confirmed_at: int


def _cluster(
    bars_: npt.NDArray[np.int64],
    prices: FloatArray,
    confirmed: npt.NDArray[np.int64],
    tolerance: float,
    min_touches: int,
) -> list[_Level]:
    """Group pivot prices into levels: sorted prices join a cluster within ``tolerance`` of it."""
    order = np.argsort(prices, kind="stable")
    groups: list[list[int]] = []
    total = 0.0
    for k in order:
        if groups and abs(prices[k] - total / len(groups[-1])) <= tolerance * total / len(
            groups[-1]
        ):
            groups[-1].append(int(k))
            total += prices[k]
        else:
            groups.append([int(k)])
            total = float(prices[k])
    levels = []
    for group in groups:
        if len(group) < min_touches:
            continue
        idx = np.asarray(group)
        when = np.sort(confirmed[idx])
        levels.append(
            _Level(
                level=float(prices[idx].mean()),
                touches=len(group),
                first_touch=int(bars_[idx].min()),
                last_touch=int(bars_[idx].max()),
                confirmed_at=int(when[min_touches - 1]),
            )
        )
    return levels


class _PivotTable:
    """Pivots as arrays, for repeated "as of bar t" queries."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.bar = frame["bar"].to_numpy(dtype=np.int64)
        self.price = frame["price"].to_numpy(dtype=np.float64)
        self.confirmed = frame["confirmed_at"].to_numpy(dtype=np.int64)

    def levels(self, as_of: int, lookback: int, tolerance: float, min_touches: int) -> list[_Level]:
        keep = (self.confirmed <= as_of) & (self.bar >= as_of - lookback)
        if keep.sum() < min_touches:
            return []
        return _cluster(
            self.bar[keep], self.price[keep], self.confirmed[keep], tolerance, min_touches
        )


def _ohlc(bars: pd.DataFrame) -> tuple[FloatArray, FloatArray, FloatArray]:
    missing = {"high", "low", "close"} - set(bars.columns)
    if missing:
        raise ValueError(f"bars need columns {sorted(missing)}")
    return _array(bars["high"]), _array(bars["low"]), _array(bars["close"])


def support_resistance(
    bars: pd.DataFrame,
    lookback: int = SR_LOOKBACK,
    tolerance: float = SR_TOLERANCE,
    *,
    as_of: int | None = None,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
    min_touches: int = SR_MIN_TOUCHES,
) -> pd.DataFrame:
    """Return the support and resistance levels known at bar ``as_of`` (default: the last bar).

    Pivots (highs and lows alike: a broken resistance becomes support) that lie within
    ``lookback`` bars of ``as_of`` and are confirmed by then are clustered: sorted by price, a
    pivot within ``tolerance`` (a fraction) of a cluster's mean joins it. A cluster with at least
    ``min_touches`` pivots is a level. Columns: ``level`` (the mean touch price), ``kind``
    ("support" below ``as_of``'s close, "resistance" at or above it), ``touches``,
    ``first_touch``, ``last_touch`` and ``confirmed_at`` (the bar its ``min_touches``-th pivot was
    confirmed, when it became a level).
    """
    high, low, close = _ohlc(bars)
    t = close.shape[0] - 1 if as_of is None else as_of
    if not 0 <= t < close.shape[0]:
        raise ValueError(f"as_of {t} is not a bar position of bars")
    table = _PivotTable(pivots(high[: t + 1], low[: t + 1], left, right))
    levels = table.levels(t, lookback, tolerance, min_touches)
    frame = pd.DataFrame(
        [asdict(level) for level in levels],
        columns=["level", "touches", "first_touch", "last_touch", "confirmed_at"],
    ).astype(
        {
            "level": np.float64,
            "touches": np.int64,
            "first_touch": np.int64,
            "last_touch": np.int64,
            "confirmed_at": np.int64,
        }
    )
    kind = np.where(frame["level"].to_numpy() < close[t], "support", "resistance")
    frame.insert(1, "kind", pd.Series(kind, index=frame.index, dtype=str))
    return frame.sort_values("level", kind="stable").reset_index(drop=True)


def breakouts(
    bars: pd.DataFrame,
    lookback: int = SR_LOOKBACK,
    tolerance: float = SR_TOLERANCE,
    *,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
    min_touches: int = SR_MIN_TOUCHES,
    volume_window: int = VOLUME_WINDOW,
    volume_factor: float | None = VOLUME_FACTOR,
) -> pd.DataFrame:
    """Return closes that break through a support/resistance level, with volume confirmation.

    At bar ``t`` the levels are those known at ``t - 1`` (see :func:`support_resistance`). A
    bullish breakout closes above ``level * (1 + tolerance)`` after the previous close was at or
    below it; a bearish one closes below ``level * (1 - tolerance)`` from at or above. When
    several levels break at once the farthest one counts. The bar's volume must be at least
    ``volume_factor`` times the mean of the previous ``volume_window`` bars (``None`` skips the
    check; otherwise bars need a ``volume`` column). ``target`` adds the range since the
    level's first touch (level to the lowest low, or highest high to the level) beyond the level.
    """
    high, low, close = _ohlc(bars)
    n = close.shape[0]
    if volume_factor is not None:
        if "volume" not in bars.columns:
            raise ValueError("breakouts need a volume column unless volume_factor is None")
        volume = _array(bars["volume"])
        mean_volume = pd.Series(volume).rolling(volume_window).mean().shift(1).to_numpy()
        volume_ok = volume >= volume_factor * mean_volume  # NaN history compares False
    else:
        volume_ok = np.ones(n, dtype=bool)
    table = _PivotTable(pivots(high, low, left, right))
    found: list[ChartPattern] = []
    for t in range(1, n):
        if not volume_ok[t]:
            continue
        levels = table.levels(t - 1, lookback, tolerance, min_touches)
        up = [lv for lv in levels if close[t - 1] <= lv.level * (1 + tolerance) < close[t]]
        down = [lv for lv in levels if close[t] < lv.level * (1 - tolerance) <= close[t - 1]]
        if up:
            lv = max(up, key=lambda x: x.level)
            height = lv.level - float(low[lv.first_touch : t].min())
            found.append(
                ChartPattern("breakout", "bullish", lv.first_touch, t, lv.level, lv.level + height)
            )
        elif down:
            lv = min(down, key=lambda x: x.level)
            height = float(high[lv.first_touch : t].max()) - lv.level
            found.append(
                ChartPattern("breakout", "bearish", lv.first_touch, t, lv.level, lv.level - height)
            )
    return to_frame(found)


# --- swings and candidates --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Swing:
    bar: int
    kind: str
    price: float


@dataclass(frozen=True, slots=True)
class _Line:
    """``price = anchor_price + slope * (bar - anchor_bar)``."""

    anchor_bar: int
    anchor_price: float
    slope: float

    def at(self, bar: int) -> float:
        return self.anchor_price + self.slope * (bar - self.anchor_bar)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A formed shape waiting for its trigger: a close above ``upper`` or below ``lower``."""

    pattern: str
    start: int
    last_swing: int
    expires: int  # last bar the trigger may come on
    height: float
    upper: _Line | None = None
    lower: _Line | None = None
    invalid_above: float = math.inf
    invalid_below: float = -math.inf

    def check(
        self, t: int, high: FloatArray, low: FloatArray, close: FloatArray
    ) -> ChartPattern | Literal["pending", "dropped"]:
        if t > self.expires or high[t] > self.invalid_above or low[t] < self.invalid_below:
            return "dropped"
        if self.upper is not None and close[t] > self.upper.at(t):
            level = self.upper.at(t)
            return ChartPattern(self.pattern, "bullish", self.start, t, level, level + self.height)
        if self.lower is not None and close[t] < self.lower.at(t):
            level = self.lower.at(t)
            return ChartPattern(self.pattern, "bearish", self.start, t, level, level - self.height)
        return "pending"


Shape = Callable[[list[_Swing], int], list[_Candidate]]


def _push(swings: list[_Swing], new: _Swing, min_swing: float) -> int | None:
    """Add a confirmed pivot to the alternating swing list.

    Returns ``-1`` when appended, the replaced swing's bar when it replaced the last swing, and
    ``None`` when the pivot was not a swing.
    """
    if not swings:
        swings.append(new)
        return -1
    last = swings[-1]
    if new.kind == last.kind:
        beyond = new.price > last.price if new.kind == "high" else new.price < last.price
        if beyond:
            swings[-1] = new
            return last.bar
        return None
    move = new.price / last.price - 1.0
    if (new.kind == "high" and move >= min_swing) or (new.kind == "low" and -move >= min_swing):
        swings.append(new)
        return -1
    return None


def _scan(
    bars: pd.DataFrame, shape: Shape, left: int, right: int, min_swing: float
) -> list[ChartPattern]:
    """Walk the bars in order, feeding confirmed pivots to ``shape`` and triggering candidates."""
    high, low, close = _ohlc(bars)
    piv = pivots(high, low, left, right)
    by_bar: dict[int, list[_Swing]] = {}
    for bar, kind, price, confirmed in piv.itertuples(index=False):
        by_bar.setdefault(int(confirmed), []).append(_Swing(int(bar), str(kind), float(price)))
    swings: list[_Swing] = []
    pending: dict[str, _Candidate] = {}
    found: list[ChartPattern] = []
    for t in range(close.shape[0]):
        for swing in by_bar.get(t, []):
            replaced = _push(swings, swing, min_swing)
            if replaced is None:
                continue
            pending = {k: c for k, c in pending.items() if c.last_swing != replaced}
            for candidate in shape(swings, t):
                pending[candidate.pattern] = candidate
        for name, candidate in list(pending.items()):
            outcome = candidate.check(t, high, low, close)
            if outcome == "pending":
                continue
            del pending[name]
            if isinstance(outcome, ChartPattern):
                found.append(outcome)
    return found


# --- double tops and bottoms ------------------------------------------------------------------


def _double_shape(
    tolerance: float, min_depth: float, min_separation: int, max_span: int, max_wait: int
) -> Shape:
    def shape(swings: list[_Swing], t: int) -> list[_Candidate]:
        if len(swings) < 3:
            return []
        first, middle, last = swings[-3:]
        if not min_separation <= last.bar - first.bar <= max_span:
            return []
        if abs(last.price - first.price) > tolerance * min(first.price, last.price):
            return []
        neckline = _Line(middle.bar, middle.price, 0.0)
        if last.kind == "high":
            extreme = max(first.price, last.price)
            if min(first.price, last.price) < middle.price * (1 + min_depth):
                return []
            return [
                _Candidate(
                    "double_top",
                    first.bar,
                    last.bar,
                    t + max_wait,
                    extreme - middle.price,
                    lower=neckline,
                    invalid_above=extreme * (1 + tolerance),
                )
            ]
        extreme = min(first.price, last.price)
        if max(first.price, last.price) > middle.price * (1 - min_depth):
            return []
        return [
            _Candidate(
                "double_bottom",
                first.bar,
                last.bar,
                t + max_wait,
                middle.price - extreme,
                upper=neckline,
                invalid_below=extreme * (1 - tolerance),
            )
        ]

    return shape


def double_tops_bottoms(
    bars: pd.DataFrame,
    *,
    tolerance: float = PEAK_TOLERANCE,
    min_depth: float = MIN_DEPTH,
    min_separation: int = MIN_SEPARATION,
    max_span: int = MAX_SPAN,
    max_wait: int = MAX_WAIT,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
    min_swing: float = MIN_SWING,
) -> pd.DataFrame:
    """Return confirmed double tops (bearish) and double bottoms (bullish).

    Three consecutive swings high-low-high (low-high-low) whose outer two are within
    ``tolerance`` of each other, ``min_separation`` to ``max_span`` bars apart, and at least
    ``min_depth`` beyond the middle swing. The middle swing is the neckline; the pattern is
    confirmed by the first close through it within ``max_wait`` bars of the second extreme's
    confirmation, and dropped if price first exceeds the extremes by more than ``tolerance``.
    """
    shape = _double_shape(tolerance, min_depth, min_separation, max_span, max_wait)
    return to_frame(_scan(bars, shape, left, right, min_swing))


# --- head and shoulders -----------------------------------------------------------------------


def _head_shoulders_shape(
    head_margin: float,
    shoulder_tolerance: float,
    neckline_tilt: float,
    min_depth: float,
    max_span: int,
    max_wait: int,
) -> Shape:
    def shape(swings: list[_Swing], t: int) -> list[_Candidate]:
        if len(swings) < 5:
            return []
        s1, n1, head, n2, s2 = swings[-5:]
        if s2.bar - s1.bar > max_span:
            return []
        sign = 1.0 if s2.kind == "high" else -1.0  # inverse patterns mirror every comparison
        outer = max(sign * s1.price, sign * s2.price)
        if sign * head.price < outer + head_margin * abs(outer):
            return []
        if abs(s1.price - s2.price) > shoulder_tolerance * min(s1.price, s2.price):
            return []
        if abs(n1.price - n2.price) > neckline_tilt * min(n1.price, n2.price):
            return []
        slope = (n2.price - n1.price) / (n2.bar - n1.bar)
        neckline = _Line(n1.bar, n1.price, slope)
        inner = min(
            sign * s1.price - sign * neckline.at(s1.bar),
            sign * s2.price - sign * neckline.at(s2.bar),
        )
        if inner < min_depth * neckline.at(s2.bar):
            return []
        height = abs(head.price - neckline.at(head.bar))
        if sign > 0:
            return [
                _Candidate(
                    "head_and_shoulders",
                    s1.bar,
                    s2.bar,
                    t + max_wait,
                    height,
                    lower=neckline,
                    invalid_above=head.price,
                )
            ]
        return [
            _Candidate(
                "inverse_head_and_shoulders",
                s1.bar,
                s2.bar,
                t + max_wait,
                height,
                upper=neckline,
                invalid_below=head.price,
            )
        ]

    return shape


def head_and_shoulders(
    bars: pd.DataFrame,
    *,
    head_margin: float = HEAD_MARGIN,
    shoulder_tolerance: float = SHOULDER_TOLERANCE,
    neckline_tilt: float = NECKLINE_MAX_TILT,
    min_depth: float = MIN_DEPTH,
    max_span: int = MAX_SPAN,
    max_wait: int = MAX_WAIT,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
    min_swing: float = MIN_SWING,
) -> pd.DataFrame:
    """Return confirmed head-and-shoulders tops (bearish) and inverse bottoms (bullish).

    Five consecutive swings within ``max_span`` bars: shoulder, trough, head, trough, shoulder
    (mirrored for the inverse). The head is at least ``head_margin`` beyond the farther
    shoulder, the shoulders within ``shoulder_tolerance`` of each other and at least
    ``min_depth`` from the neckline through the two troughs, whose ends are within
    ``neckline_tilt`` of each other. Confirmed by the first close through the (extended)
    neckline within ``max_wait`` bars; dropped if price first goes beyond the head.
    """
    shape = _head_shoulders_shape(
        head_margin, shoulder_tolerance, neckline_tilt, min_depth, max_span, max_wait
    )
    return to_frame(_scan(bars, shape, left, right, min_swing))


# --- triangles --------------------------------------------------------------------------------


def _fit(points: list[_Swing]) -> _Line:
    x = np.array([p.bar for p in points], dtype=np.float64)
    y = np.array([p.price for p in points], dtype=np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    return _Line(0, float(intercept), float(slope))


def _triangle_shape(
    n_swings: int,
    fit_tolerance: float,
    flat_fraction: float,
    min_contraction: float,
    min_depth: float,
    max_span: int,
    max_wait: int,
) -> Shape:
    def shape(swings: list[_Swing], t: int) -> list[_Candidate]:
        if len(swings) < n_swings:
            return []
        window = swings[-n_swings:]
        first, last = window[0].bar, window[-1].bar
        if last - first > max_span:
            return []
        highs = [s for s in window if s.kind == "high"]
        lows = [s for s in window if s.kind == "low"]
        upper, lower = _fit(highs), _fit(lows)
        for line, touches in ((upper, highs), (lower, lows)):
            if any(abs(p.price - line.at(p.bar)) > fit_tolerance * p.price for p in touches):
                return []
        opening = upper.at(first) - lower.at(first)
        closing = upper.at(last) - lower.at(last)
        if opening < min_depth * upper.at(first) or closing > (1 - min_contraction) * opening:
            return []
        closing_speed = upper.slope - lower.slope
        apex = last + closing / -closing_speed if closing_speed < 0 else math.inf
        if apex <= t:
            return []
        span = last - first
        up_move, low_move = upper.slope * span, lower.slope * span
        flat = flat_fraction * opening
        if abs(up_move) <= flat and low_move > flat:
            name = "ascending_triangle"
        elif abs(low_move) <= flat and up_move < -flat:
            name = "descending_triangle"
        elif up_move < -flat and low_move > flat:
            name = "symmetric_triangle"
        else:
            return []
        expires = int(min(math.floor(apex), t + max_wait))
        return [_Candidate(name, first, last, expires, opening, upper=upper, lower=lower)]

    return shape


def triangles(
    bars: pd.DataFrame,
    *,
    n_swings: int = TRIANGLE_SWINGS,
    fit_tolerance: float = FIT_TOLERANCE,
    flat_fraction: float = FLAT_FRACTION,
    min_contraction: float = MIN_CONTRACTION,
    min_depth: float = MIN_DEPTH,
    max_span: int = MAX_SPAN,
    max_wait: int = MAX_WAIT,
    left: int = PIVOT_LEFT,
    right: int = PIVOT_RIGHT,
    min_swing: float = MIN_SWING,
) -> pd.DataFrame:
    """Return confirmed triangles, each with the side its price broke out of.

    A least-squares line through the swing highs and one through the swing lows of the last
    ``n_swings`` swings (within ``max_span`` bars), every touch within ``fit_tolerance`` of its
    line. The opening width is at least ``min_depth`` of the price and the lines close in by
    ``min_contraction`` of it by the last swing. A line moving less than ``flat_fraction`` of the
    opening width over the pattern is flat: flat upper and rising lower is ascending, falling
    upper and flat lower descending, falling upper and rising lower symmetric. Confirmed by the
    first close outside a line before the apex and within ``max_wait`` bars; the direction is
    that side (above: bullish), the target the opening width beyond the broken line.
    """
    shape = _triangle_shape(
        n_swings, fit_tolerance, flat_fraction, min_contraction, min_depth, max_span, max_wait
    )
    return to_frame(_scan(bars, shape, left, right, min_swing))


# --- all together -----------------------------------------------------------------------------


def chart_patterns(bars: pd.DataFrame) -> pd.DataFrame:
    """Return every detector's confirmed patterns with default parameters, in one frame.

    Breakouts need a ``volume`` column; without one they are left out.
    """
    frames = [double_tops_bottoms(bars), head_and_shoulders(bars), triangles(bars)]
    if "volume" in bars.columns:
        frames.insert(0, breakouts(bars))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return to_frame([])
    combined = pd.concat(frames, ignore_index=True)
    return combined.sort_values(["confirmed_at", "pattern"], kind="stable").reset_index(drop=True)


def chart_signals(detections: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Return detections as signal columns on ``index``: +100/-100 at each ``confirmed_at``.

    One int32 column per pattern name, in the candlestick convention, so chart and candlestick
    patterns feed :func:`quantumtrade.ml.patterns.hit_rate.pattern_hit_rates` alike. Two
    detections of one pattern on one bar with opposite directions cancel to 0.
    """
    names = sorted({str(p) for p in detections["pattern"]})
    values = np.zeros((len(index), len(names)), dtype=np.int32)
    bullish = (detections["direction"] == "bullish").to_numpy()
    column = [names.index(str(p)) for p in detections["pattern"]]
    for row, col, up in zip(detections["confirmed_at"].to_numpy(), column, bullish, strict=True):
        values[int(row), col] = np.clip(values[int(row), col] + (100 if up else -100), -100, 100)
    return pd.DataFrame(values, index=index, columns=names)
