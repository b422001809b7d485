"""performance_summary_values (arrays, numba) against performance_summary (pandas)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.domain.metrics import (
    cagr,
    cagr_of_values,
    max_drawdown_duration,
    performance_summary,
    performance_summary_values,
)


def assert_same_summary(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert list(actual) == list(expected)
    for key, want in expected.items():
        got = actual[key]
        if math.isnan(want):
            assert math.isnan(got), key
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15), key


def random_equity(seed: int, n: int, sigma: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10_000.0 * np.exp(np.cumsum(rng.normal(0.0002, sigma, n)))


@pytest.mark.parametrize("risk_free", [0.0, 0.04])
@pytest.mark.parametrize(("seed", "n"), [(1, 5), (2, 300), (3, 20_000)])
def test_values_summary_equals_pandas_summary(seed: int, n: int, risk_free: float) -> None:
    equity = random_equity(seed, n)
    rng = np.random.default_rng(seed + 100)
    positions = rng.integers(-1, 2, n).astype(np.float64) * 10.0
    pnl = rng.normal(5.0, 50.0, max(n // 20, 1))
    expected = performance_summary(
        pd.Series(equity),
        trades_pl=pnl,
        positions=positions,
        risk_free=risk_free,
        periods_per_year=390,
    )
    actual = performance_summary_values(
        equity, trades_pl=pnl, positions=positions, risk_free=risk_free, periods_per_year=390
    )
    assert_same_summary(actual, expected)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [100.0],
        [100.0, 90.0],
        [100.0, 100.0, 100.0],
        [100.0, 80.0, 90.0, 110.0, 100.0, 95.0],
        [100.0, 50.0, -10.0, 20.0],
        [1.0, 1.001, 1.001**2, 1.001**3, 1.001**4],
    ],
)
def test_values_summary_edge_cases_equal_pandas_summary(values: list[float]) -> None:
    equity = np.array(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = performance_summary(
            pd.Series(equity, dtype=np.float64), trades_pl=[], positions=np.zeros(equity.size)
        )
    actual = performance_summary_values(
        equity, trades_pl=np.array([]), positions=np.zeros(equity.size)
    )
    assert_same_summary(actual, expected)


def test_values_summary_without_trades_or_positions_has_only_equity_keys() -> None:
    summary = performance_summary_values(random_equity(4, 50))
    assert list(summary) == list(performance_summary(pd.Series(random_equity(4, 50))))


def test_values_summary_rejects_two_dimensional_equity() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        performance_summary_values(np.ones((3, 3)))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=-0.2, max_value=0.2, allow_nan=False), min_size=0, max_size=60))
def test_values_summary_matches_pandas_on_arbitrary_paths(steps: list[float]) -> None:
    equity = 100.0 * np.cumprod(1.0 + np.array([0.0, *steps]))
    expected = performance_summary(pd.Series(equity), positions=equity - 100.0)
    actual = performance_summary_values(equity, positions=equity - 100.0)
    assert_same_summary(actual, expected)


def test_drawdown_duration_accepts_a_plain_list_and_nan() -> None:
    assert max_drawdown_duration([100.0, 80.0, 110.0, 90.0, 95.0]) == 2  # type: ignore[arg-type]
    assert max_drawdown_duration(pd.Series([100.0, np.nan, 100.0])) == 2


def test_cagr_of_values_equals_cagr() -> None:
    equity = random_equity(5, 500)
    assert cagr_of_values(equity) == cagr(pd.Series(equity))


@pytest.mark.parametrize("start", [100.0, -5.0])
def test_max_drawdown_sees_every_new_low_however_close(start: float) -> None:
    # New lows a hair (1e-11) below the last, far under any margin a shortcut might allow,
    # above zero and below it: each must be weighed, not skipped.
    lows = [60.0, 60.0 * (1 - 1e-11), 60.0, 60.0 * (1 - 2e-11)]
    values = [start, 100.0, *lows, 100.0, 110.0, -10.0, -10.0 * (1 + 1e-11), 120.0]
    equity = np.array(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = float(-(equity / np.maximum.accumulate(equity) - 1.0).min())
    got = performance_summary_values(equity)["max_drawdown"]
    assert got == want


def test_values_summary_carries_a_drawdown_across_blocks() -> None:
    # A peak at point 1,000, a fall, and the recovery at point 3,100: the drawdown spans three
    # of the summary's 1,024-point blocks, and its depth and length must come out whole.
    equity = np.full(4_000, 100.0)
    equity[1_000] = 120.0
    equity[1_001:3_100] = np.linspace(119.0, 90.0, 2_099)
    equity[3_100:] = 121.0
    positions = np.zeros(equity.size)
    positions[500:2_500] = 3.0
    summary = performance_summary_values(equity, positions=positions)
    assert summary["max_drawdown_duration"] == 2_100.0
    assert summary["max_drawdown"] == 1.0 - 90.0 / 120.0
    assert summary["exposure"] == 2_000 / 4_000
    assert_same_summary(summary, performance_summary(pd.Series(equity), positions=positions))


def test_values_summary_rejects_positions_of_another_length() -> None:
    with pytest.raises(ValueError, match="one entry per equity point"):
        performance_summary_values(np.ones(5), positions=np.ones(4))
