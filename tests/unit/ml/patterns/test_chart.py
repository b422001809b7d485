"""Chart patterns: constructed price paths are found on the right bar; random walks rarely."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.patterns.chart import (
    PIVOT_RIGHT,
    breakouts,
    chart_patterns,
    chart_signals,
    double_tops_bottoms,
    head_and_shoulders,
    pivots,
    support_resistance,
    triangles,
)

Detector = Callable[[pd.DataFrame], pd.DataFrame]
DETECTORS: dict[str, Detector] = {
    "breakouts": breakouts,
    "double_tops_bottoms": double_tops_bottoms,
    "head_and_shoulders": head_and_shoulders,
    "triangles": triangles,
}


def path_bars(
    waypoints: list[tuple[int, float]], seed: int = 0, noise: float = 0.002
) -> pd.DataFrame:
    """Daily bars along a piecewise-linear close through ``waypoints`` with small noise."""
    rng = np.random.default_rng(seed)
    n = waypoints[-1][0] + 1
    base = np.interp(np.arange(n), [w[0] for w in waypoints], [w[1] for w in waypoints])
    close = base * (1 + noise * rng.standard_normal(n))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + 0.003 * rng.random(n))
    low = np.minimum(open_, close) * (1 - 0.003 * rng.random(n))
    volume = 1e6 * np.exp(0.1 * rng.standard_normal(n))
    index = pd.bdate_range("2020-01-01", periods=n, tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def random_walk(n: int, seed: int, vol: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    returns = vol * rng.standard_normal(n)
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.r_[100.0, close[:-1]]
    spread = 0.5 * vol * np.abs(rng.standard_normal(n))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread),
            "low": np.minimum(open_, close) * (1 - spread),
            "close": close,
            "volume": 1e6 * np.exp(0.3 * rng.standard_normal(n)),
        },
        index=pd.bdate_range("2010-01-01", periods=n, tz="UTC"),
    )


def first_close(bars: pd.DataFrame, after: int, beyond: Callable[[int, float], bool]) -> int:
    """The first bar at or after ``after`` whose close satisfies ``beyond(t, close)``."""
    close = bars["close"].to_numpy()
    return next(t for t in range(after, len(close)) if beyond(t, close[t]))


# --- pivots -----------------------------------------------------------------------------------


def test_pivots_sit_on_the_turns_and_are_known_right_bars_later() -> None:
    bars = path_bars([(0, 80), (30, 100), (55, 85), (80, 105), (95, 95)])
    found = pivots(bars["high"], bars["low"], left=5, right=3)
    assert list(found["kind"]) == ["high", "low", "high"]
    assert np.abs(found["bar"].to_numpy() - [30, 55, 80]).max() <= 1
    assert (found["confirmed_at"] == found["bar"] + 3).all()
    # each pivot's price is the extreme of its neighbourhood
    high, low = bars["high"].to_numpy(), bars["low"].to_numpy()
    for bar, kind, price in found[["bar", "kind", "price"]].itertuples(index=False):
        near = slice(bar - 5, bar + 4)
        assert price == (high[near].max() if kind == "high" else low[near].min())


def test_pivots_of_a_prefix_are_the_ones_confirmed_by_then() -> None:
    bars = random_walk(300, seed=5)
    full = pivots(bars["high"], bars["low"])
    for t in (40, 150, 299):
        prefix = pivots(bars["high"].iloc[: t + 1], bars["low"].iloc[: t + 1])
        expected = full[full["confirmed_at"] <= t].reset_index(drop=True)
        pd.testing.assert_frame_equal(prefix, expected)


# --- support, resistance, breakouts -----------------------------------------------------------

RANGE = [(0, 95), (15, 100), (30, 90), (45, 100), (60, 90), (75, 100), (90, 90), (105, 96)]


def test_support_and_resistance_come_from_repeated_touches() -> None:
    bars = path_bars(RANGE)
    levels = support_resistance(bars, lookback=120, tolerance=0.01)
    support = levels[levels["kind"] == "support"]
    resistance = levels[levels["kind"] == "resistance"]
    assert len(support) == 1 and len(resistance) == 1
    assert support["level"].iloc[0] == pytest.approx(90, rel=0.01)
    assert resistance["level"].iloc[0] == pytest.approx(100, rel=0.01)
    assert support["touches"].iloc[0] == 3 and resistance["touches"].iloc[0] == 3
    # the resistance became a level when its second touch (near bar 45) was confirmed
    assert resistance["confirmed_at"].iloc[0] == pytest.approx(45 + PIVOT_RIGHT, abs=1)
    # one touch is no level: before the second top is confirmed there is none at 100
    early = support_resistance(bars, lookback=120, tolerance=0.01, as_of=40)
    assert not ((early["level"] - 100).abs() < 2).any()


def test_support_resistance_as_of_ignores_later_bars() -> None:
    bars = random_walk(400, seed=9)
    for t in (120, 250):
        changed = bars.copy()
        changed.iloc[t + 1 :] = random_walk(400, seed=99).iloc[t + 1 :].to_numpy()
        pd.testing.assert_frame_equal(
            support_resistance(bars, as_of=t), support_resistance(changed, as_of=t)
        )


def _with_volume(bars: pd.DataFrame, at: int, factor: float) -> pd.DataFrame:
    out = bars.copy()
    out.iloc[at, out.columns.get_loc("volume")] = factor * out["volume"].iloc[at - 20 : at].mean()
    return out


def test_breakout_above_resistance_on_volume() -> None:
    path = [*RANGE[:-1], (105, 99), (110, 108)]
    plain = path_bars(path)
    level = 100.0 * 1.01  # resistance about 100, broken beyond its 1% tolerance
    t = first_close(plain, 100, lambda _, c: c > level * 1.003)
    bars = _with_volume(plain, t, 3.0)
    found = breakouts(bars)
    assert len(found) == 1
    row = found.iloc[0]
    assert row["direction"] == "bullish"
    assert row["level"] == pytest.approx(100, rel=0.01)
    assert bars["close"].iloc[row["confirmed_at"]] > row["level"] * 1.01
    assert bars["close"].iloc[row["confirmed_at"] - 1] <= row["level"] * 1.01
    assert row["confirmed_at"] == t  # the first close through it, on the heavy volume
    assert row["target"] == pytest.approx(110, rel=0.02)  # level plus the 90-100 range
    # the same break on ordinary volume is not confirmed
    quiet = breakouts(plain)
    assert quiet.empty


def test_breakdown_below_support_on_volume() -> None:
    path = [*RANGE[:-1], (105, 91), (110, 82)]
    plain = path_bars(path)
    t = first_close(plain, 100, lambda _, c: c < 90 * 0.99 * 0.997)
    found = breakouts(_with_volume(plain, t, 3.0))
    assert len(found) == 1
    row = found.iloc[0]
    assert row["direction"] == "bearish"
    assert row["level"] == pytest.approx(90, rel=0.01)
    assert row["target"] < row["level"]


# --- double tops and bottoms ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_double_top_confirms_on_the_neckline_break(seed: int) -> None:
    bars = path_bars([(0, 80), (30, 100), (50, 90), (70, 100), (100, 80)], seed=seed)
    found = double_tops_bottoms(bars)
    assert len(found) == 1
    row = found.iloc[0]
    neckline = bars["low"].iloc[45:56].min()
    expected = first_close(bars, 70 + PIVOT_RIGHT, lambda _, c: c < neckline)
    assert (row["pattern"], row["direction"]) == ("double_top", "bearish")
    assert row["confirmed_at"] == expected
    assert row["start"] == pytest.approx(30, abs=1)
    assert row["level"] == pytest.approx(neckline)
    assert row["target"] == pytest.approx(80, rel=0.02)  # 100 - 90 below the 90 neckline


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_double_bottom_confirms_on_the_neckline_break(seed: int) -> None:
    bars = path_bars([(0, 120), (30, 100), (50, 110), (70, 100), (100, 120)], seed=seed)
    found = double_tops_bottoms(bars)
    assert len(found) == 1
    row = found.iloc[0]
    neckline = bars["high"].iloc[45:56].max()
    expected = first_close(bars, 70 + PIVOT_RIGHT, lambda _, c: c > neckline)
    assert (row["pattern"], row["direction"]) == ("double_bottom", "bullish")
    assert row["confirmed_at"] == expected


def test_double_top_is_not_confirmed_before_the_neckline_breaks() -> None:
    # two equal peaks, but price holds above the trough and then rallies through the peaks
    bars = path_bars([(0, 80), (30, 100), (50, 90), (70, 100), (85, 93), (110, 115)])
    assert double_tops_bottoms(bars).empty


def test_unequal_peaks_are_no_double_top() -> None:
    bars = path_bars([(0, 80), (30, 100), (50, 90), (70, 106), (100, 80)])
    assert "double_top" not in set(double_tops_bottoms(bars)["pattern"])


# --- head and shoulders -----------------------------------------------------------------------


def _neckline_break(bars: pd.DataFrame, troughs: tuple[int, int], top: bool, after: int) -> int:
    column = bars["low"] if top else bars["high"]
    pick = np.argmin if top else np.argmax
    points = []
    for centre in troughs:
        window = column.iloc[centre - 5 : centre + 6].to_numpy()
        k = int(pick(window))
        points.append((centre - 5 + k, float(window[k])))
    (x1, y1), (x2, y2) = points
    line = lambda t: y1 + (y2 - y1) / (x2 - x1) * (t - x1)  # noqa: E731
    if top:
        return first_close(bars, after, lambda t, c: c < line(t))
    return first_close(bars, after, lambda t, c: c > line(t))


def test_head_and_shoulders_top() -> None:
    bars = path_bars([(0, 80), (20, 100), (35, 90), (55, 110), (70, 90), (85, 100), (110, 78)])
    found = head_and_shoulders(bars)
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["pattern"], row["direction"]) == ("head_and_shoulders", "bearish")
    assert row["start"] == pytest.approx(20, abs=1)
    assert row["confirmed_at"] == _neckline_break(bars, (35, 70), True, 85 + PIVOT_RIGHT)
    assert row["target"] == pytest.approx(70, rel=0.03)  # head 20 above the 90 neckline


def test_inverse_head_and_shoulders() -> None:
    bars = path_bars([(0, 120), (20, 100), (35, 110), (55, 90), (70, 110), (85, 100), (110, 122)])
    found = head_and_shoulders(bars)
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["pattern"], row["direction"]) == ("inverse_head_and_shoulders", "bullish")
    assert row["confirmed_at"] == _neckline_break(bars, (35, 70), False, 85 + PIVOT_RIGHT)


def test_three_equal_peaks_are_no_head_and_shoulders() -> None:
    bars = path_bars([(0, 80), (20, 100), (35, 90), (55, 100), (70, 90), (85, 100), (110, 78)])
    assert head_and_shoulders(bars).empty


def test_head_and_shoulders_dropped_when_price_retakes_the_head() -> None:
    bars = path_bars([(0, 80), (20, 100), (35, 90), (55, 110), (70, 90), (85, 100), (110, 120)])
    assert head_and_shoulders(bars).empty


# --- triangles --------------------------------------------------------------------------------

# highs and lows on straight lines, then a breakout leg starting at bar 85
TRIANGLES = {
    "ascending": (
        [(0, 80), (15, 100), (30, 85), (45, 100), (60, 91), (75, 100), (85, 96), (95, 110)],
        ("ascending_triangle", "bullish"),
    ),
    "descending": (
        [(0, 100), (15, 110), (30, 90), (45, 104), (60, 90), (75, 98), (85, 93), (95, 80)],
        ("descending_triangle", "bearish"),
    ),
    "symmetric up": (
        [(0, 80), (15, 115), (30, 85), (45, 110), (60, 90), (75, 105), (85, 97), (95, 116)],
        ("symmetric_triangle", "bullish"),
    ),
    "symmetric down": (
        [(0, 120), (15, 85), (30, 115), (45, 90), (60, 110), (75, 95), (85, 103), (95, 84)],
        ("symmetric_triangle", "bearish"),
    ),
}


@pytest.mark.parametrize("case", list(TRIANGLES))
def test_triangle_detected_with_its_breakout_side(case: str) -> None:
    path, (name, direction) = TRIANGLES[case]
    bars = path_bars(path)
    found = triangles(bars)
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["pattern"], row["direction"]) == (name, direction)
    assert 85 <= row["confirmed_at"] <= 92  # on the breakout leg, soon after it starts
    close = bars["close"].iloc[row["confirmed_at"]]
    assert close > row["level"] if direction == "bullish" else close < row["level"]
    assert (row["target"] > close) == (direction == "bullish")


def test_widening_swings_are_no_triangle() -> None:
    bars = path_bars([(0, 100), (15, 104), (30, 96), (45, 108), (60, 92), (75, 112), (95, 85)])
    assert triangles(bars).empty


# --- random walks and look-ahead --------------------------------------------------------------


def test_random_walks_rarely_form_patterns() -> None:
    counts: dict[str, int] = {}
    n_bars = 0
    for seed in range(8):
        walk = random_walk(500, seed=seed)
        n_bars += len(walk)
        for name in chart_patterns(walk)["pattern"]:
            counts[name] = counts.get(name, 0) + 1
    per_100 = {name: 100 * k / n_bars for name, k in counts.items()}
    # each shape fires less than once per 100 bars on a walk; the constructed paths above hold
    # one in about 100 bars and are found every time
    shapes = {k: v for k, v in per_100.items() if k != "breakout"}
    assert shapes and max(shapes.values()) < 1.0
    assert per_100.get("breakout", 0.0) < 2.0


@pytest.mark.parametrize("detector", list(DETECTORS))
def test_no_look_ahead(detector: str) -> None:
    detect = DETECTORS[detector]
    constructed = path_bars(
        [(0, 80), (20, 100), (35, 90), (55, 110), (70, 90), (85, 100), (110, 78), (300, 95)]
    )
    for bars in (constructed, random_walk(300, seed=4)):
        full = detect(bars)
        for t in (60, 90, 150, 220):
            changed = bars.copy()
            tail = random_walk(len(bars), seed=t, vol=0.03).iloc[t + 1 :]
            changed.iloc[t + 1 :] = (tail * bars["close"].iloc[t] / 100.0).to_numpy()
            before = full[full["confirmed_at"] <= t].reset_index(drop=True)
            after = detect(changed)
            after = after[after["confirmed_at"] <= t].reset_index(drop=True)
            pd.testing.assert_frame_equal(before, after)


def test_chart_signals_mark_the_confirmation_bar() -> None:
    bars = path_bars([(0, 80), (30, 100), (50, 90), (70, 100), (100, 80), (130, 100)])
    found = double_tops_bottoms(bars)
    signals = chart_signals(found, bars.index)
    assert signals.index.equals(bars.index)
    assert list(signals.columns) == sorted(set(found["pattern"]))
    for row in found.itertuples(index=False):
        expected = 100 if row.direction == "bullish" else -100
        assert signals[row.pattern].iloc[row.confirmed_at] == expected
    assert (signals != 0).to_numpy().sum() == len(found)
