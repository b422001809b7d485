"""Sentiment signals from scored items: time decay, the index of fear and greed, and their IC.

Pure code on arrays. Items are (time, score, weight): a news story or a post scored in
[-1, 1], weighted by whatever says how much it counts (a source's reach, the scorer's
confidence).

- :func:`decayed_sentiment` turns items into a signal at chosen times: each item's weight halves
  every ``half_life`` (news goes stale in hours, not weeks), so the signal at ``t`` is the
  decayed weighted mean of the scores published up to ``t`` and nothing after. Beside it: how
  many items the window holds, and the change against the symbol's own baseline (the same mean
  with a long half-life), because a stock that is always talked up is not news.
- :func:`fear_greed` combines market-wide components into one 0-100 figure the way the
  well-known fear-and-greed indexes do: each component is ranked against its own history (a
  percentile, so components on different scales can be averaged) and oriented so that high
  means greed; the index is their mean, and every component is shown.
- :func:`information_coefficient` is the honesty check: the rank correlation of a signal with
  the forward returns it claims to predict, with a confidence interval, so an edge that is not
  there is not reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOUR_NS = 3_600 * 10**9
DEFAULT_HALF_LIFE_NS = 12 * HOUR_NS  # a day-old story counts a quarter of a fresh one
BASELINE_HALF_LIFE_NS = 30 * 24 * HOUR_NS  # the symbol's normal tone: about a month
VOLUME_WINDOW_NS = 24 * HOUR_NS
MIN_HISTORY = 20  # points a component needs before its percentile means anything


@dataclass(frozen=True, slots=True)
class DecayedSentiment:
    """The signal at each requested time; NaN where nothing was published before it."""

    score: FloatArray  # decayed weighted mean score in [-1, 1]
    weight: FloatArray  # the decayed weight behind it: how much evidence the score rests on
    count: IntArray  # items published within VOLUME_WINDOW_NS before the time
    baseline: FloatArray  # the same mean with BASELINE_HALF_LIFE_NS
    change: FloatArray  # score - baseline


def _decayed_sums(
    times: IntArray, values: FloatArray, weights: FloatArray, at: IntArray, half_life: int
) -> tuple[FloatArray, FloatArray]:
    """Return sum(w * v * decay) and sum(w * decay) over items with time <= each ``at``."""
    rate = math.log(2.0) / half_life
    # Decay relative to the first item keeps the exponents small; renormalise at each query.
    origin = int(times[0]) if len(times) else 0
    scale = np.exp(-rate * (times - origin).astype(np.float64))
    # Weights grow as exp(+rate * t); a running sum then decays by exp(-rate * t) at query.
    grown = weights / np.maximum(scale, 1e-300)
    cum_wv = np.concatenate([[0.0], np.cumsum(grown * values)])
    cum_w = np.concatenate([[0.0], np.cumsum(grown)])
    upto = np.searchsorted(times, at, side="right")
    factor = np.exp(-rate * (at - origin).astype(np.float64))
    return cum_wv[upto] * factor, cum_w[upto] * factor


def decayed_sentiment(
    times: npt.ArrayLike,
    scores: npt.ArrayLike,
    at: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    half_life: int = DEFAULT_HALF_LIFE_NS,
    baseline_half_life: int = BASELINE_HALF_LIFE_NS,
) -> DecayedSentiment:
    """Return the decayed sentiment at each time of ``at`` (all times in UTC nanoseconds).

    Causal: the value at ``at[j]`` uses only items with ``time <= at[j]``. Items need not be
    sorted. Long spans are handled by restarting the decay origin in chunks, so the exponent
    never overflows whatever the half-life.
    """
    t = np.asarray(times, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    q = np.asarray(at, dtype=np.int64)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (t.shape == s.shape == w.shape) or t.ndim != 1:
        raise ValueError("times, scores and weights must be 1-d arrays of one length")
    if half_life <= 0 or baseline_half_life <= 0:
        raise ValueError("half-lives must be positive")
    if np.any(~np.isfinite(s)) or np.any(np.abs(s) > 1.0) or np.any(w < 0):
        raise ValueError("scores must be finite in [-1, 1] and weights non-negative")
    order = np.argsort(t, kind="stable")
    t, s, w = t[order], s[order], w[order]
    score = _chunked_mean(t, s, w, q, half_life)
    baseline = _chunked_mean(t, s, w, q, baseline_half_life)
    weight = _chunked_weight(t, w, q, half_life)
    count = (
        np.searchsorted(t, q, side="right") - np.searchsorted(t, q - VOLUME_WINDOW_NS, side="right")
    ).astype(np.int64)
    return DecayedSentiment(score, weight, count, baseline, score - baseline)


# Over 40 half-lives an item's weight is below 1e-12 of a fresh one: restart the origin there.
_CHUNK_HALF_LIVES = 40


def _chunk_bounds(t: IntArray, q: IntArray, half_life: int) -> list[tuple[int, int, int, int]]:
    """Split queries into spans short enough for one decay origin; items from a span back."""
    span = _CHUNK_HALF_LIVES * half_life
    out: list[tuple[int, int, int, int]] = []
    if not len(q):
        return out
    lo_q = int(q.min())
    hi_q = int(q.max())
    start = lo_q
    while start <= hi_q:
        end = start + span
        qi = np.flatnonzero((q >= start) & (q < end))
        if len(qi):
            a = int(np.searchsorted(t, start - span, side="left"))
            b = int(np.searchsorted(t, end, side="left"))
            out.append((int(qi[0]), int(qi[-1]) + 1, a, b))
        start = end
    return out


def _chunked(
    t: IntArray, s: FloatArray, w: FloatArray, q: IntArray, half_life: int
) -> tuple[FloatArray, FloatArray]:
    num = np.zeros(len(q))
    den = np.zeros(len(q))
    order = np.argsort(q, kind="stable")
    qs = q[order]
    for q0, q1, a, b in _chunk_bounds(t, qs, half_life):
        if b > a:
            n, d = _decayed_sums(t[a:b], s[a:b], w[a:b], qs[q0:q1], half_life)
            num[order[q0:q1]], den[order[q0:q1]] = n, d
    return num, den


def _chunked_mean(
    t: IntArray, s: FloatArray, w: FloatArray, q: IntArray, half_life: int
) -> FloatArray:
    num, den = _chunked(t, s, w, q, half_life)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.where(den > 1e-12, num / np.where(den > 0, den, 1.0), np.nan)
    return out


def _chunked_weight(t: IntArray, w: FloatArray, q: IntArray, half_life: int) -> FloatArray:
    _, den = _chunked(t, np.zeros_like(w), w, q, half_life)
    return den


# -- fear and greed ---------------------------------------------------------------------------

# Component -> +1 when a high value means greed, -1 when it means fear.
FEAR_GREED_COMPONENTS: Mapping[str, int] = {
    "breadth": +1,  # share of the universe above its 50-day average
    "put_call": -1,  # put/call volume ratio: hedging demand
    "implied_volatility": -1,  # average at-the-money implied volatility
    "news_tone": +1,
    "social_tone": +1,
    "insider_ratio": +1,  # insider buys over buys plus sells
}
FEAR_GREED_BANDS = ((25.0, "extreme fear"), (45.0, "fear"), (55.0, "neutral"), (75.0, "greed"))


@dataclass(frozen=True, slots=True)
class FearGreedComponent:
    name: str
    value: float  # the raw figure now
    score: float | None  # 0-100, greed high; None without enough history
    history: int  # points it was ranked against


@dataclass(frozen=True, slots=True)
class FearGreed:
    index: float | None  # mean of the scored components, 0-100; None if none could be scored
    label: str | None
    components: tuple[FearGreedComponent, ...]


def fear_greed_label(index: float) -> str:
    for bound, name in FEAR_GREED_BANDS:
        if index < bound:
            return name
    return "extreme greed"


def fear_greed(histories: Mapping[str, npt.ArrayLike]) -> FearGreed:
    """Return the index from each component's history (oldest first; the last value is now).

    A component's score is the percentile of its current value within its own history, turned
    over for components where high means fear. Components with fewer than
    :data:`MIN_HISTORY` finite points are shown unscored and left out of the mean.
    """
    unknown = set(histories) - set(FEAR_GREED_COMPONENTS)
    if unknown:
        raise ValueError(f"unknown fear-and-greed components: {sorted(unknown)}")
    parts = []
    for name, direction in FEAR_GREED_COMPONENTS.items():
        if name not in histories:
            continue
        values = np.asarray(histories[name], dtype=np.float64)
        values = values[np.isfinite(values)]
        if not len(values):
            continue
        now = float(values[-1])
        score = None
        if len(values) >= MIN_HISTORY:
            pct = float(stats.percentileofscore(values, now, kind="mean"))
            score = pct if direction > 0 else 100.0 - pct
        parts.append(FearGreedComponent(name, now, score, len(values)))
    scored = [p.score for p in parts if p.score is not None]
    index = float(np.mean(scored)) if scored else None
    return FearGreed(index, None if index is None else fear_greed_label(index), tuple(parts))


# -- honesty ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InformationCoefficient:
    ic: float  # Spearman rank correlation of signal and forward return
    n: int
    low: float  # 95 % confidence interval (Fisher z, with the Spearman variance correction)
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def information_coefficient(
    signal: npt.ArrayLike, forward_returns: npt.ArrayLike
) -> InformationCoefficient:
    """Return the IC of ``signal`` for ``forward_returns`` over the pairs where both are finite."""
    x = np.asarray(signal, dtype=np.float64)
    y = np.asarray(forward_returns, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("signal and forward returns must have one shape")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    if n < 10 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return InformationCoefficient(0.0, n, -1.0, 1.0, 1.0)
    result = stats.spearmanr(x, y)
    rho = float(np.clip(result.statistic, -0.999999, 0.999999))
    # Bonett & Wright: the Fisher z of a Spearman correlation has variance (1 + rho^2/2)/(n-3).
    se = math.sqrt((1.0 + rho * rho / 2.0) / (n - 3))
    z = math.atanh(rho)
    return InformationCoefficient(
        rho, n, math.tanh(z - 1.96 * se), math.tanh(z + 1.96 * se), float(result.pvalue)
    )
