"""Strategies against plain pandas + loop references, no look-ahead, params and registry."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.backtest import strategies as S
from quantumtrade.backtest.strategies import (
    STRATEGIES,
    EventStrategy,
    EventStrategyAdapter,
    History,
    MacdParams,
    MeanReversionParams,
    MomentumParams,
    RsiParams,
    SignalStrategy,
    SmaCrossoverParams,
    StrategyParamError,
    from_dict,
    run_event_strategy,
)
from quantumtrade.backtest.strategies._base import cross_positions, hold_events, level_machine
from quantumtrade.domain.indicators import sma

N = 500


def random_walk(seed: int, n: int = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))


def seeded_ewm(s: pd.Series, n: int, alpha: float) -> pd.Series:
    start = int(np.flatnonzero(s.notna().to_numpy())[0])
    seeded = pd.Series(np.nan, index=s.index)
    seeded.iloc[start + n - 1] = s.iloc[start : start + n].mean()
    seeded.iloc[start + n :] = s.iloc[start + n :]
    return seeded.ewm(alpha=alpha, adjust=False).mean()


def ref_cross(diff: pd.Series, short: int) -> np.ndarray:
    d = diff.to_numpy()
    out, state = [], 0
    for i in range(len(d)):
        if i > 0 and not (np.isnan(d[i]) or np.isnan(d[i - 1])):
            if d[i - 1] <= 0 < d[i]:
                state = 1
            elif d[i - 1] >= 0 > d[i]:
                state = short
        out.append(state)
    return np.array(out)


def ref_sma_crossover(x: np.ndarray, p: SmaCrossoverParams) -> np.ndarray:
    s = pd.Series(x)
    diff = s.rolling(p.fast).mean() - s.rolling(p.slow).mean()
    return ref_cross(diff, -1 if p.allow_short else 0)


def ref_macd(x: np.ndarray, p: MacdParams) -> np.ndarray:
    s = pd.Series(x)
    fast = seeded_ewm(s, p.fast, 2 / (p.fast + 1))
    slow = seeded_ewm(s, p.slow, 2 / (p.slow + 1))
    line = fast - slow
    signal = seeded_ewm(line, p.signal, 2 / (p.signal + 1))
    return ref_cross(line - signal, -1 if p.allow_short else 0)


def ref_rsi(x: np.ndarray, p: RsiParams) -> np.ndarray:
    change = pd.Series(x).diff()
    gain = seeded_ewm(change.clip(lower=0.0), p.period, 1 / p.period)
    loss = seeded_ewm((-change).clip(lower=0.0), p.period, 1 / p.period)
    value = (100.0 - 100.0 / (1.0 + gain / loss)).to_numpy()
    out, state = [], 0
    for v in value:
        if v < p.oversold:
            state = 1
        elif v > p.overbought:
            state = -1 if p.allow_short else 0
        out.append(state)
    return np.array(out)


def ref_mean_reversion(x: np.ndarray, p: MeanReversionParams) -> np.ndarray:
    s = pd.Series(x)
    z = ((s - s.rolling(p.window).mean()) / s.rolling(p.window).std(ddof=0)).to_numpy()
    out, state = [], 0
    for v in z:
        if not np.isnan(v):
            if state == 1 and v >= -p.exit_z:
                state = 0
            if state == -1 and v <= p.exit_z:
                state = 0
            if state == 0 and v < -p.entry_z:
                state = 1
            if state == 0 and p.allow_short and v > p.entry_z:
                state = -1
        out.append(state)
    return np.array(out)


def ref_momentum(x: np.ndarray, p: MomentumParams) -> np.ndarray:
    s = pd.Series(x)
    change = (s / s.shift(p.lookback) - 1.0).to_numpy()
    out = []
    for c in change:
        if c > p.threshold:
            out.append(1)
        elif p.allow_short and c < -p.threshold:
            out.append(-1)
        else:
            out.append(0)
    return np.array(out)


REFERENCES: dict[str, Any] = {
    "sma_crossover": ref_sma_crossover,
    "macd": ref_macd,
    "rsi": ref_rsi,
    "mean_reversion": ref_mean_reversion,
    "momentum": ref_momentum,
}

PARAM_CASES: list[tuple[str, dict[str, Any]]] = [
    ("sma_crossover", {}),
    ("sma_crossover", {"fast": 3, "slow": 7}),
    ("macd", {}),
    ("macd", {"fast": 5, "slow": 13, "signal": 4}),
    ("rsi", {}),
    ("rsi", {"period": 7, "oversold": 35, "overbought": 60.5}),
    ("mean_reversion", {}),
    ("mean_reversion", {"window": 10, "entry_z": 1.5, "exit_z": 0.0}),
    ("momentum", {}),
    ("momentum", {"lookback": 5, "threshold": 0.02}),
]


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize(("name", "overrides"), PARAM_CASES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_signals_match_independent_reference(
    name: str, overrides: dict[str, Any], allow_short: bool, seed: int
) -> None:
    x = random_walk(seed)
    params = from_dict(name, {**overrides, "allow_short": allow_short})
    actual = STRATEGIES[name].function(x, params=params)
    assert actual.dtype == np.int8
    assert actual.shape == x.shape
    np.testing.assert_array_equal(actual, REFERENCES[name](x, params))
    allowed = {-1, 0, 1} if allow_short else {0, 1}
    assert set(np.unique(actual).tolist()) <= allowed
    # Random walks of 500 bars must exercise the rules, or the comparison proves little.
    assert len(np.unique(actual)) >= 2


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_signals_on_prefix_equal_prefix_of_signals(name: str, allow_short: bool) -> None:
    x = random_walk(21, 250)
    strategy = STRATEGIES[name].bind(from_dict(name, {"allow_short": allow_short}))
    full = strategy.signals(x)
    for k in range(251):
        np.testing.assert_array_equal(
            strategy.signals(x[:k]), full[:k], err_msg=f"{name} looks ahead at k={k}"
        )


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(
        st.floats(min_value=-0.05, max_value=0.05, allow_nan=False), min_size=2, max_size=150
    ),
    cut=st.integers(min_value=0, max_value=150),
    allow_short=st.booleans(),
)
def test_no_strategy_changes_past_signals_when_future_bars_change(
    steps: list[float], cut: int, allow_short: bool
) -> None:
    x = 100.0 * np.exp(np.cumsum(steps))
    changed = x.copy()
    changed[cut:] *= 1.5  # rewrite the future only
    for name, spec in STRATEGIES.items():
        params = from_dict(name, {"allow_short": allow_short, **_small(name)})
        before = spec.function(x, params=params)[:cut]
        np.testing.assert_array_equal(spec.function(changed, params=params)[:cut], before, name)


def _small(name: str) -> dict[str, Any]:
    # Short windows so that short random series get past the warm-up.
    table: dict[str, dict[str, Any]] = {
        "sma_crossover": {"fast": 2, "slow": 5},
        "macd": {"fast": 3, "slow": 6, "signal": 3},
        "rsi": {"period": 3},
        "mean_reversion": {"window": 4, "entry_z": 1.2},
        "momentum": {"lookback": 3},
    }
    return table[name]


def test_signals_accept_lists_and_ignore_unused_ohlcv() -> None:
    x = random_walk(5, 80)
    expected = S.sma_crossover(x, params=SmaCrossoverParams(fast=3, slow=8))
    got = S.sma_crossover(
        list(x), x * 1.01, x * 0.99, np.ones(80), params=SmaCrossoverParams(fast=3, slow=8)
    )
    np.testing.assert_array_equal(got, expected)


def test_signals_reject_mismatched_high_length() -> None:
    with pytest.raises(ValueError, match="high must have the shape of close"):
        S.momentum(np.ones(10), np.ones(9))


def test_default_params_are_used_when_none_given() -> None:
    x = random_walk(6)
    np.testing.assert_array_equal(S.macd(x), S.macd(x, params=MacdParams()))
    assert (SmaCrossoverParams().fast, SmaCrossoverParams().slow) == (10, 30)
    assert (RsiParams().period, RsiParams().oversold, RsiParams().overbought) == (14, 30, 70)
    assert (MacdParams().fast, MacdParams().slow, MacdParams().signal) == (12, 26, 9)
    mr = MeanReversionParams()
    assert (mr.window, mr.entry_z, mr.exit_z) == (20, 2.0, 0.5)
    assert (MomentumParams().lookback, MomentumParams().threshold) == (20, 0.0)
    assert SmaCrossoverParams().allow_short is False


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: SmaCrossoverParams(fast=30, slow=30), "fast must be < slow"),
        (lambda: SmaCrossoverParams(fast=0, slow=5), "fast must be >= 1"),
        (lambda: MacdParams(fast=26, slow=12), "fast must be < slow"),
        (lambda: MacdParams(signal=0), "signal must be >= 1"),
        (lambda: RsiParams(period=0), "period must be >= 1"),
        (lambda: RsiParams(oversold=70, overbought=30), "oversold must be < overbought"),
        (lambda: RsiParams(overbought=101), r"overbought must be in \[0, 100\]"),
        (lambda: RsiParams(oversold=-1), r"oversold must be in \[0, 100\]"),
        (lambda: MeanReversionParams(window=1), "window must be >= 2"),
        (lambda: MeanReversionParams(entry_z=1.0, exit_z=1.0), "exit_z must be < entry_z"),
        (lambda: MeanReversionParams(exit_z=-0.1), "exit_z must be >= 0"),
        (lambda: MeanReversionParams(entry_z=float("nan")), "entry_z must be a finite"),
        (lambda: MomentumParams(lookback=0), "lookback must be >= 1"),
        (lambda: MomentumParams(threshold=-0.01), "threshold must be a finite number >= 0"),
        (lambda: SmaCrossoverParams(fast=2.5), "fast must be int, got float"),  # type: ignore[arg-type]
        (lambda: SmaCrossoverParams(fast=True), "fast must be int, got bool"),
        (lambda: MomentumParams(threshold="0"), "threshold must be float, got str"),  # type: ignore[arg-type]
        (lambda: RsiParams(allow_short=1), "allow_short must be bool, got int"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_or_mistyped_params_raise_naming_the_parameter(
    factory: Any, match: str
) -> None:
    with pytest.raises(StrategyParamError, match=match) as info:
        factory()
    assert isinstance(info.value, ValueError)


def test_params_are_keyword_only() -> None:
    params_type: Any = SmaCrossoverParams
    with pytest.raises(TypeError):
        params_type(5, 20)


def test_params_are_frozen_and_accept_int_for_float() -> None:
    p = RsiParams(oversold=25, overbought=75)
    assert p.oversold == 25
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.period = 3  # type: ignore[misc]


def test_from_dict_builds_params_with_defaults_for_missing_keys() -> None:
    assert from_dict("sma_crossover", {"fast": 5}) == SmaCrossoverParams(fast=5, slow=30)
    assert from_dict("momentum") == MomentumParams()


def test_from_dict_rejects_unknown_parameter_listing_allowed_ones() -> None:
    with pytest.raises(StrategyParamError, match=r"unknown parameter\(s\) for rsi: window"):
        from_dict("rsi", {"window": 5})
    with pytest.raises(StrategyParamError, match="allowed: allow_short, overbought"):
        from_dict("rsi", {"window": 5})


def test_from_dict_rejects_wrong_types_and_ranges() -> None:
    with pytest.raises(StrategyParamError, match="slow must be int, got str"):
        from_dict("sma_crossover", {"slow": "30"})
    with pytest.raises(StrategyParamError, match="fast must be < slow"):
        from_dict("sma_crossover", {"fast": 40})


def test_from_dict_rejects_unknown_strategy() -> None:
    with pytest.raises(StrategyParamError, match="unknown strategy 'turtle'; known: macd"):
        from_dict("turtle", {})


def test_registry_lists_the_five_strategies_with_descriptions() -> None:
    assert set(STRATEGIES) == {"sma_crossover", "rsi", "macd", "mean_reversion", "momentum"}
    for name, spec in STRATEGIES.items():
        assert spec.name == name and spec.description
        assert issubclass(spec.params_type, S.StrategyParams)
        assert isinstance(spec.bind(), SignalStrategy)


def test_bind_rejects_params_of_another_strategy() -> None:
    with pytest.raises(StrategyParamError, match="macd needs MacdParams, got RsiParams"):
        STRATEGIES["macd"].bind(RsiParams())


class EventSmaCross(EventStrategy):
    """The SMA crossover rule written bar by bar."""

    def __init__(self, fast: int = 10, slow: int = 30, allow_short: bool = False) -> None:
        self.fast, self.slow, self.allow_short = fast, slow, allow_short

    def init(self) -> None:
        self.position = 0
        self.previous: float | None = None

    def next(self, bar: History) -> int:
        close = bar.close
        assert len(close) == bar.index + 1
        if len(close) >= self.slow:
            diff = close[-self.fast :].mean() - close[-self.slow :].mean()
            if self.previous is not None:
                if self.previous <= 0 < diff:
                    self.position = 1
                elif self.previous >= 0 > diff:
                    self.position = -1 if self.allow_short else 0
            self.previous = diff
        return self.position


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_event_adapter_reproduces_vectorised_sma_crossover(seed: int, allow_short: bool) -> None:
    x = random_walk(seed, 300)
    adapter = EventStrategyAdapter(lambda: EventSmaCross(5, 20, allow_short))
    expected = S.sma_crossover(
        x, params=SmaCrossoverParams(fast=5, slow=20, allow_short=allow_short)
    )
    assert isinstance(adapter, SignalStrategy)
    got = adapter.signals(x)
    assert got.dtype == np.int8
    assert len(np.unique(got)) >= 2
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(adapter.signals(x), got)  # a fresh instance per run


def test_event_strategy_sees_read_only_history_up_to_now() -> None:
    seen: list[tuple[int, int, int]] = []

    class Probe(EventStrategy):
        def next(self, bar: History) -> int:
            assert bar.high is not None and bar.volume is not None and bar.low is None
            seen.append((bar.index, len(bar.close), len(bar.high)))
            with pytest.raises(ValueError, match="read-only"):
                bar.close[-1] = 0.0
            return 0

    x = random_walk(1, 6)
    run_event_strategy(Probe(), x, high=x, volume=np.ones(6))
    assert seen == [(i, i + 1, i + 1) for i in range(6)]
    assert (x == random_walk(1, 6)).all()


@pytest.mark.parametrize(
    ("returned", "allow_short"), [(2, True), (-1, False), (True, False), (1.0, False)]
)
def test_event_strategy_invalid_position_is_rejected(returned: Any, allow_short: bool) -> None:
    class Bad(EventStrategy):
        def next(self, bar: History) -> int:
            return returned  # type: ignore[no-any-return]

    bad = Bad()
    bad.allow_short = allow_short
    with pytest.raises(ValueError, match=r"Bad\.next returned .* at bar 0"):
        run_event_strategy(bad, np.ones(3))


def test_event_strategy_without_next_raises_not_implemented() -> None:
    with pytest.raises(NotImplementedError):
        run_event_strategy(EventStrategy(), np.ones(2))


@pytest.mark.parametrize(("fast", "slow"), [(1, 2), (3, 7), (10, 30), (10, 1500)])
@pytest.mark.parametrize("n", [0, 1, 29, 30, 31, 5_000])
def test_sma_crossover_equals_cross_of_indicator_smas_exactly(fast: int, slow: int, n: int) -> None:
    x = random_walk(fast + n, n)
    for allow_short in (False, True):
        params = SmaCrossoverParams(fast=fast, slow=slow, allow_short=allow_short)
        expected = cross_positions(sma(x, fast) - sma(x, slow), params.short_value)
        np.testing.assert_array_equal(S.sma_crossover(x, params=params), expected)


def test_hold_events_and_cross_positions_follow_their_rules() -> None:
    events = np.array([np.nan, 1.0, np.nan, 0.0, np.nan, -1.0, np.nan])
    np.testing.assert_array_equal(hold_events(events), [0, 1, 1, 0, 0, -1, -1])
    diff = np.array([np.nan, -1.0, 0.0, 2.0, np.nan, -1.0, 0.0, -3.0, 1.0])
    np.testing.assert_array_equal(cross_positions(diff, -1), [0, 0, 0, 1, 1, 1, 1, -1, 1])


def test_rsi_strategy_holds_through_nan_and_between_levels() -> None:
    value = np.array([np.nan, 50.0, 20.0, 50.0, np.nan, 80.0, 50.0, 10.0])
    np.testing.assert_array_equal(level_machine(value, 30.0, 70.0, -1), [0, 0, 1, 1, 1, -1, -1, 1])
    np.testing.assert_array_equal(level_machine(value, 30.0, 70.0, 0), [0, 0, 1, 1, 1, 0, 0, 1])
