"""Monte Carlo: reproducibility, ordered percentiles, reshuffling invariants, bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.backtest.montecarlo import (
    PERCENTILES,
    MonteCarloResult,
    block_bootstrap,
    reshuffle_trades,
)

TRADES = np.array([120.0, -80.0, 45.0, -150.0, 300.0, -60.0, 20.0, -90.0, 210.0, -40.0])


def assert_same(a: MonteCarloResult, b: MonteCarloResult) -> None:
    np.testing.assert_array_equal(a.final_equity, b.final_equity)
    np.testing.assert_array_equal(a.max_drawdown, b.max_drawdown)
    assert a.final_equity_percentiles == b.final_equity_percentiles
    assert a.probability_of_ruin == b.probability_of_ruin


def assert_ordered(result: MonteCarloResult) -> None:
    for table in (result.final_equity_percentiles, result.max_drawdown_percentiles):
        assert list(table) == list(PERCENTILES)
        values = list(table.values())
        assert values == sorted(values)


def test_reshuffle_trades_same_seed_same_result() -> None:
    assert_same(reshuffle_trades(TRADES, 1000.0, seed=4), reshuffle_trades(TRADES, 1000.0, seed=4))


def test_reshuffle_trades_keeps_final_equity_while_drawdown_varies() -> None:
    result = reshuffle_trades(TRADES, 1000.0, n_simulations=500, seed=1)
    assert result.final_equity.shape == (500,)
    np.testing.assert_allclose(result.final_equity, 1000.0 + TRADES.sum())
    assert result.max_drawdown.min() < result.max_drawdown.max()
    assert (result.max_drawdown >= 0.0).all()
    assert_ordered(result)


def test_reshuffle_trades_drawdown_of_a_known_order() -> None:
    # A lone winner never draws down; two losses fall 1000 -> 800 -> 600 in any order.
    result = reshuffle_trades([100.0], 1000.0, n_simulations=3, seed=0)
    assert (result.max_drawdown == 0.0).all()
    result = reshuffle_trades([-200.0, -200.0], 1000.0, n_simulations=3, seed=0)
    np.testing.assert_allclose(result.max_drawdown, 0.4)


def test_reshuffle_trades_probability_of_ruin_counts_paths_touching_the_floor() -> None:
    # The loss first touches 400 <= 0.5 * 1000; the gain first never goes below 1100.
    assert reshuffle_trades([-600.0, 700.0], 1000.0, seed=2).probability_of_ruin == pytest.approx(
        0.5, abs=0.06
    )
    assert reshuffle_trades([-600.0, -10.0], 1000.0, seed=2).probability_of_ruin == 1.0
    assert reshuffle_trades([10.0, 20.0], 1000.0, seed=2).probability_of_ruin == 0.0


def test_block_bootstrap_same_seed_same_result_and_percentiles_ordered() -> None:
    returns = pd.Series(np.random.default_rng(9).normal(0.0005, 0.01, 250))
    a = block_bootstrap(returns, 1e5, block_size=10, seed=11)
    b = block_bootstrap(returns, 1e5, block_size=10, seed=11)
    assert_same(a, b)
    assert a.final_equity.shape == (1000,)
    assert_ordered(a)
    assert not np.array_equal(a.final_equity, block_bootstrap(returns, 1e5, seed=12).final_equity)


def test_block_bootstrap_constant_returns_compound_exactly() -> None:
    result = block_bootstrap(np.full(30, 0.01), 100.0, block_size=7, horizon=12, seed=0)
    np.testing.assert_allclose(result.final_equity, 100.0 * 1.01**12)
    assert (result.max_drawdown == 0.0).all()


def test_block_bootstrap_blocks_are_contiguous_and_wrap_around() -> None:
    # Distinct returns let each path be decoded: its growth factors must follow the series order.
    returns = np.arange(1, 11) / 1000.0
    result = block_bootstrap(returns, 1.0, block_size=10, horizon=10, n_simulations=50, seed=3)
    expected = {float(np.prod(1.0 + np.roll(returns, -k))) for k in range(10)}
    for value in result.final_equity:
        assert min(abs(value - e) for e in expected) < 1e-12


@pytest.mark.parametrize(
    "kwargs",
    [{"n_simulations": 0}, {"ruin_fraction": 1.0}, {"ruin_fraction": -0.1}],
)
def test_monte_carlo_rejects_bad_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        reshuffle_trades(TRADES, 1000.0, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        block_bootstrap(TRADES / 1e4, 1000.0, **kwargs)  # type: ignore[arg-type]


def test_monte_carlo_rejects_empty_input_and_bad_block_size() -> None:
    with pytest.raises(ValueError):
        reshuffle_trades([], 1000.0)
    with pytest.raises(ValueError):
        block_bootstrap([0.01], 1000.0, block_size=0)
