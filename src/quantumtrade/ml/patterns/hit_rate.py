"""Each pattern's historical hit rate on a symbol, measured causally, and its probability-up vote.

A *signal frame* has one integer column per pattern on the bars' index: positive where the
pattern fired bullish, negative where it fired bearish, 0 elsewhere (the output of
:func:`~quantumtrade.ml.patterns.candles.candle_patterns`, or of
:func:`~quantumtrade.ml.patterns.chart.chart_signals`). Bullish and bearish occurrences of a
pattern are scored separately: a bullish engulfing and a bearish one are different bets.

An occurrence at bar ``s`` is a *hit* when the forward return ``close[s + horizon] / close[s] - 1``
has the pattern's sign (strictly: a flat close is a miss). The occurrence's outcome is known at
bar ``s + horizon``, so the hit rate *as of* bar ``t`` counts only occurrences with
``s + horizon <= t``: nothing about bars after ``t`` enters it.

The vote of a pattern is its as-of hit rate shrunk toward a coin flip by a Beta prior,
``(hits + k/2) / (occurrences + k)`` with ``k = prior_strength`` pseudo-occurrences: a pattern
seen twice cannot vote 100%. A bullish pattern votes that probability for "up", a bearish one
one minus it. Several patterns firing together vote their evidence-weighted mean (weights
``occurrences + k``), which stays inside the range of their individual votes rather than
compounding correlated patterns (a dragonfly doji is nearly always a doji as well) into
overconfidence. With no pattern firing the vote is 0.5.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

HORIZON = 5  # bars the forward return is measured over: a trading week of daily bars
WILSON_Z = 1.959963984540054  # two-sided 95% normal quantile for the Wilson interval
PRIOR_STRENGTH = 10.0  # Beta(5, 5): ten pseudo-occurrences at 50% before any evidence

DIRECTIONS = (("bullish", 1), ("bearish", -1))
RATE_COLUMNS = (
    "pattern",
    "direction",
    "occurrences",
    "hits",
    "hit_rate",
    "ci_low",
    "ci_high",
    "shrunk_hit_rate",
    "mean_forward_return",
)


def forward_returns(close: pd.Series | npt.ArrayLike, horizon: int = HORIZON) -> FloatArray:
    """Return ``close[t + horizon] / close[t] - 1`` per bar; NaN for the last ``horizon`` bars."""
    if horizon < 1:
        raise ValueError("horizon must be at least 1 bar")
    c = np.asarray(close, dtype=np.float64)
    out = np.full(c.shape[0], np.nan)
    if c.shape[0] > horizon:
        out[:-horizon] = c[horizon:] / c[:-horizon] - 1.0
    return out


def wilson_interval(hits: float, n: float, z: float = WILSON_Z) -> tuple[float, float]:
    """Return the Wilson score interval for a binomial proportion (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def shrunk_rate(hits: float, n: float, prior_strength: float = PRIOR_STRENGTH) -> float:
    """Return the Beta-posterior mean hit rate: ``(hits + k/2) / (n + k)``."""
    return (hits + prior_strength / 2.0) / (n + prior_strength)


def _check(bars: pd.DataFrame, signals: pd.DataFrame, prior_strength: float) -> FloatArray:
    if prior_strength <= 0:
        raise ValueError("prior_strength must be positive")
    if "close" not in bars.columns:
        raise ValueError("bars need a close column")
    if len(signals) != len(bars):
        raise ValueError("signals must have one row per bar")
    return np.asarray(bars["close"], dtype=np.float64)


def pattern_hit_rates(
    bars: pd.DataFrame,
    signals: pd.DataFrame,
    horizon: int = HORIZON,
    *,
    as_of: int | None = None,
    prior_strength: float = PRIOR_STRENGTH,
) -> pd.DataFrame:
    """Return each pattern's record, one row per pattern and direction that has occurred.

    Counted as of bar position ``as_of`` (default: the last bar): only occurrences whose
    horizon ended by then. Columns: ``pattern``, ``direction``, ``occurrences``, ``hits``,
    ``hit_rate``, the Wilson 95% interval ``ci_low``/``ci_high``, ``shrunk_hit_rate`` (the
    vote's Beta-posterior rate) and ``mean_forward_return`` (the raw forward return, not signed
    by direction).
    """
    close = _check(bars, signals, prior_strength)
    forward = forward_returns(close, horizon)
    t = close.shape[0] - 1 if as_of is None else as_of
    if not 0 <= t < close.shape[0]:
        raise ValueError(f"as_of {t} is not a bar position of bars")
    known = np.arange(close.shape[0]) + horizon <= t
    rows = []
    for pattern in signals.columns:
        sign = np.sign(np.asarray(signals[pattern], dtype=np.float64))
        for direction, d in DIRECTIONS:
            occurred = known & (sign == d)
            n = int(occurred.sum())
            if n == 0:
                continue
            hits = int((np.sign(forward[occurred]) == d).sum())
            low, high = wilson_interval(hits, n)
            rows.append(
                (
                    str(pattern),
                    direction,
                    n,
                    hits,
                    hits / n,
                    low,
                    high,
                    shrunk_rate(hits, n, prior_strength),
                    float(forward[occurred].mean()),
                )
            )
    frame = pd.DataFrame(rows, columns=list(RATE_COLUMNS))
    numbers = {c: np.float64 for c in RATE_COLUMNS[4:]}
    return frame.astype(
        {"pattern": str, "direction": str, "occurrences": np.int64, "hits": np.int64, **numbers}
    )


def hit_rate_as_of(
    bars: pd.DataFrame,
    signals: pd.DataFrame,
    t: int,
    horizon: int = HORIZON,
    *,
    prior_strength: float = PRIOR_STRENGTH,
) -> pd.DataFrame:
    """Return :func:`pattern_hit_rates` as known at bar position ``t``."""
    return pattern_hit_rates(bars, signals, horizon, as_of=t, prior_strength=prior_strength)


def pattern_vote(
    bars: pd.DataFrame,
    signals: pd.DataFrame,
    t: int,
    horizon: int = HORIZON,
    *,
    prior_strength: float = PRIOR_STRENGTH,
) -> float:
    """Return the probability-up vote at bar position ``t`` from the patterns firing there.

    Each firing pattern votes its shrunk as-of hit rate (bullish) or one minus it (bearish);
    the votes are averaged with weights ``occurrences + prior_strength``. 0.5 when none fires.
    """
    rates = hit_rate_as_of(bars, signals, t, horizon, prior_strength=prior_strength)
    lookup = {
        (str(p), str(d)): (int(n), int(h))
        for p, d, n, h in zip(
            rates["pattern"], rates["direction"], rates["occurrences"], rates["hits"], strict=True
        )
    }
    total = weight = 0.0
    for pattern in signals.columns:
        value = float(signals[pattern].iloc[t])
        if value == 0:
            continue
        direction = "bullish" if value > 0 else "bearish"
        n, hits = lookup.get((str(pattern), direction), (0, 0))
        rate = shrunk_rate(hits, n, prior_strength)
        w = n + prior_strength
        total += w * (rate if value > 0 else 1.0 - rate)
        weight += w
    return 0.5 if weight == 0 else total / weight


def pattern_votes(
    bars: pd.DataFrame,
    signals: pd.DataFrame,
    horizon: int = HORIZON,
    *,
    prior_strength: float = PRIOR_STRENGTH,
) -> pd.DataFrame:
    """Return :func:`pattern_vote` for every bar at once: columns ``p_up`` and ``n_patterns``.

    Vectorised with running counts lagged by ``horizon``; bar ``t``'s row equals
    ``pattern_vote(bars, signals, t, horizon)`` and depends on bars ``<= t`` only.
    """
    close = _check(bars, signals, prior_strength)
    n_bars = close.shape[0]
    forward = forward_returns(close, horizon)
    total = np.zeros(n_bars)
    weight = np.zeros(n_bars)
    firing = np.zeros(n_bars, dtype=np.int64)
    for pattern in signals.columns:
        sign = np.sign(np.asarray(signals[pattern], dtype=np.float64))
        for _, d in DIRECTIONS:
            occurred = sign == d
            hit = occurred & (np.sign(np.nan_to_num(forward)) == d)
            n_known = np.zeros(n_bars)
            hits_known = np.zeros(n_bars)
            if n_bars > horizon:
                n_known[horizon:] = np.cumsum(occurred)[:-horizon]
                hits_known[horizon:] = np.cumsum(hit)[:-horizon]
            rate = (hits_known + prior_strength / 2.0) / (n_known + prior_strength)
            vote = rate if d > 0 else 1.0 - rate
            w = np.where(occurred, n_known + prior_strength, 0.0)
            total += w * vote
            weight += w
            firing += occurred
    p_up = np.divide(total, weight, out=np.full(n_bars, 0.5), where=weight > 0)
    return pd.DataFrame({"p_up": p_up, "n_patterns": firing}, index=bars.index)
