"""Hit rates and votes: a pattern that always works scores high, noise scores a coin flip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.patterns.candles import candle_patterns
from quantumtrade.ml.patterns.hit_rate import (
    PRIOR_STRENGTH,
    forward_returns,
    hit_rate_as_of,
    pattern_hit_rates,
    pattern_vote,
    pattern_votes,
    wilson_interval,
)

HORIZON = 5


def walk_bars(returns: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """OHLC bars around a close path with the given log returns (opens gap a little)."""
    rng = np.random.default_rng(seed)
    n = returns.shape[0]
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.r_[100.0, close[:-1]] * np.exp(0.004 * rng.standard_normal(n))
    spread = np.abs(0.008 * rng.standard_normal((2, n)))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread[0]),
            "low": np.minimum(open_, close) * (1 - spread[1]),
            "close": close,
        },
        index=pd.bdate_range("2012-01-02", periods=n, tz="UTC"),
    )


def reliable_setup(n: int = 1500, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random walk with a "setup" pattern every ~20 bars that is always followed by a rise,
    and a "trap" pattern that always precedes a fall."""
    rng = np.random.default_rng(seed)
    returns = 0.01 * rng.standard_normal(n)
    setup = np.zeros(n, dtype=np.int32)
    trap = np.zeros(n, dtype=np.int32)
    for s in range(30, n - HORIZON, 20):
        if rng.random() < 0.5:
            setup[s] = 100
            returns[s + 1 : s + 1 + HORIZON] = np.abs(returns[s + 1 : s + 1 + HORIZON]) + 0.002
        else:
            trap[s] = -100
            returns[s + 1 : s + 1 + HORIZON] = -np.abs(returns[s + 1 : s + 1 + HORIZON]) - 0.002
    bars = walk_bars(returns, seed)
    return bars, pd.DataFrame({"setup": setup, "trap": trap}, index=bars.index)


def row(rates: pd.DataFrame, pattern: str, direction: str) -> pd.Series:
    match = rates[(rates["pattern"] == pattern) & (rates["direction"] == direction)]
    assert len(match) == 1
    return match.iloc[0]


def test_forward_returns() -> None:
    close = np.array([100.0, 110.0, 99.0, 121.0])
    np.testing.assert_allclose(forward_returns(close, 2), [-0.01, 0.1, np.nan, np.nan])
    with pytest.raises(ValueError):
        forward_returns(close, 0)


def test_wilson_interval() -> None:
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)  # the textbook 8/10 case
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    wide, narrow = wilson_interval(30, 60), wilson_interval(300, 600)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]


def test_a_pattern_always_followed_by_a_rise_scores_high() -> None:
    bars, signals = reliable_setup()
    rates = pattern_hit_rates(bars, signals, HORIZON)
    setup = row(rates, "setup", "bullish")
    assert setup["occurrences"] == (signals["setup"] != 0).sum()
    assert setup["hit_rate"] == 1.0
    assert setup["ci_low"] > 0.9
    assert setup["mean_forward_return"] > 0.01
    assert 0.5 < setup["shrunk_hit_rate"] < 1.0
    trap = row(rates, "trap", "bearish")
    assert trap["hit_rate"] == 1.0 and trap["mean_forward_return"] < -0.01
    # directions that never occurred have no row
    assert set(zip(rates["pattern"], rates["direction"], strict=True)) == {
        ("setup", "bullish"),
        ("trap", "bearish"),
    }


def test_candlestick_patterns_on_a_random_walk_are_a_coin_flip() -> None:
    rng = np.random.default_rng(42)
    bars = walk_bars(0.012 * rng.standard_normal(6000), seed=42)
    rates = pattern_hit_rates(bars, candle_patterns(bars), HORIZON)
    frequent = rates[rates["occurrences"] >= 100]
    assert len(frequent) >= 5
    assert (frequent["hit_rate"] - 0.5).abs().max() < 0.08
    contains = (frequent["ci_low"] <= 0.5) & (frequent["ci_high"] >= 0.5)
    assert contains.mean() >= 0.8  # a 95% interval; overlapping horizons make it a bit narrow


def test_hit_rate_as_of_counts_only_horizons_ended_by_then() -> None:
    bars = walk_bars(0.01 * np.random.default_rng(0).standard_normal(40))
    signals = pd.DataFrame({"p": 0}, index=bars.index)
    signals.iloc[10, 0] = 100
    assert hit_rate_as_of(bars, signals, 10 + HORIZON - 1, HORIZON).empty
    known = hit_rate_as_of(bars, signals, 10 + HORIZON, HORIZON)
    assert known["occurrences"].tolist() == [1]
    rose = bars["close"].iloc[10 + HORIZON] > bars["close"].iloc[10]
    assert known["hits"].tolist() == [int(rose)]


def test_hit_rates_are_causal() -> None:
    bars, signals = reliable_setup(600, seed=3)
    for t in (100, 333, 500):
        as_of = hit_rate_as_of(bars, signals, t, HORIZON)
        # equal to measuring on the history up to t ...
        truncated = pattern_hit_rates(bars.iloc[: t + 1], signals.iloc[: t + 1], HORIZON)
        pd.testing.assert_frame_equal(as_of, truncated)
        # ... and blind to anything after t, prices and signals alike
        changed_bars, changed_signals = bars.copy(), signals.copy()
        changed_bars.iloc[t + 1 :] *= 0.5
        changed_signals.iloc[t + 1 :] = 100
        pd.testing.assert_frame_equal(
            as_of, hit_rate_as_of(changed_bars, changed_signals, t, HORIZON)
        )


def test_vote_follows_the_patterns_record_shrunk_by_the_prior() -> None:
    bars, signals = reliable_setup()
    votes = pattern_votes(bars, signals, HORIZON)
    setups = np.flatnonzero(signals["setup"].to_numpy())
    traps = np.flatnonzero(signals["trap"].to_numpy())
    quiet = (signals == 0).all(axis=1).to_numpy()
    assert (votes["p_up"][quiet] == 0.5).all() and (votes["n_patterns"][quiet] == 0).all()
    # the first setup has no record: a coin flip; then the vote grows with the evidence
    first, later = votes["p_up"].iloc[setups[0]], votes["p_up"].iloc[setups[1:]]
    assert first == 0.5
    assert later.is_monotonic_increasing and (later > 0.5).all() and (later < 1.0).all()
    assert later.iloc[-1] > 0.85  # about 36 straight hits, still short of certainty
    # a setup seen k times (all hits) votes (k + 5) / (k + 10) with the Beta(5, 5) prior
    k = 3
    assert votes["p_up"].iloc[setups[k]] == pytest.approx(
        (k + PRIOR_STRENGTH / 2) / (k + PRIOR_STRENGTH)
    )
    # a bearish pattern with a good record votes for "down"
    assert votes["p_up"].iloc[traps[-1]] < 0.15


def test_patterns_firing_together_average_their_votes() -> None:
    bars, signals = reliable_setup()
    late = int(np.flatnonzero(signals["setup"].to_numpy())[-1])
    both = signals.copy()
    both.iloc[late, both.columns.get_loc("trap")] = -100
    alone_up = pattern_vote(bars, signals, late, HORIZON)
    together = pattern_vote(bars, both, late, HORIZON)
    trap_alone = both.copy()
    trap_alone.iloc[late, trap_alone.columns.get_loc("setup")] = 0
    alone_down = pattern_vote(bars, trap_alone, late, HORIZON)
    assert alone_down < together < alone_up


def test_vectorised_votes_equal_the_per_bar_vote_and_are_causal() -> None:
    rng = np.random.default_rng(8)
    bars = walk_bars(0.012 * rng.standard_normal(700), seed=8)
    signals = candle_patterns(bars)
    votes = pattern_votes(bars, signals, HORIZON)
    firing = np.flatnonzero((signals != 0).any(axis=1).to_numpy())
    for t in [*firing[::15], 0, 699]:
        assert votes["p_up"].iloc[t] == pytest.approx(pattern_vote(bars, signals, t, HORIZON))
    t = 400
    changed = bars.copy()
    changed.iloc[t + 1 :] = walk_bars(0.05 * rng.standard_normal(700), seed=9).iloc[t + 1 :]
    again = pattern_votes(changed, candle_patterns(changed), HORIZON)
    pd.testing.assert_frame_equal(votes.iloc[: t + 1], again.iloc[: t + 1])


def test_bad_input() -> None:
    bars, signals = reliable_setup(100)
    with pytest.raises(ValueError, match="one row per bar"):
        pattern_hit_rates(bars, signals.iloc[:-1])
    with pytest.raises(ValueError, match="prior_strength"):
        pattern_votes(bars, signals, prior_strength=0.0)
    with pytest.raises(ValueError, match="bar position"):
        hit_rate_as_of(bars, signals, len(bars), HORIZON)
