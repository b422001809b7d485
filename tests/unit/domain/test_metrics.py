from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.metrics import (
    alpha_beta,
    cagr,
    calmar_ratio,
    drawdown_series,
    exposure,
    max_drawdown,
    max_drawdown_duration,
    per_period_rate,
    performance_summary,
    sharpe_ratio,
    simple_returns,
    sortino_ratio,
    trade_stats,
    volatility,
)


def constant_growth(rate: float, periods: int, start: float = 100.0) -> pd.Series:
    return pd.Series(start * (1.0 + rate) ** np.arange(periods + 1), dtype="float64")


def test_constant_return_has_known_cagr_zero_vol_and_no_drawdown() -> None:
    # 252 periods of 0.1 % growth is one year: CAGR = 1.001 ** 252 - 1.
    equity = constant_growth(0.001, 252)
    assert cagr(equity) == pytest.approx(1.001**252 - 1.0, rel=1e-12)
    assert volatility(simple_returns(equity)) == pytest.approx(0.0, abs=1e-12)
    assert max_drawdown(equity) == 0.0
    assert max_drawdown_duration(equity) == 0
    assert math.isnan(sharpe_ratio(simple_returns(equity)))
    assert math.isnan(calmar_ratio(equity))


def test_cagr_two_years_of_doubling_is_41_percent() -> None:
    equity = pd.Series([100.0, 200.0])
    assert cagr(equity, periods_per_year=1) == pytest.approx(1.0)
    two_years = pd.Series(np.linspace(100.0, 200.0, 505))
    assert cagr(two_years) == pytest.approx(math.sqrt(2.0) - 1.0)


def test_known_drawdown_path_100_80_110() -> None:
    equity = pd.Series([100.0, 90.0, 80.0, 95.0, 110.0])
    assert max_drawdown(equity) == pytest.approx(0.20)
    # Peak at period 0, back above it at period 4.
    assert max_drawdown_duration(equity) == 4
    expected = [0.0, -0.10, -0.20, -0.05, 0.0]
    assert drawdown_series(equity).tolist() == pytest.approx(expected)


def test_unrecovered_drawdown_lasts_to_the_end() -> None:
    equity = pd.Series([100.0, 120.0, 90.0, 100.0, 110.0])
    assert max_drawdown(equity) == pytest.approx(0.25)
    assert max_drawdown_duration(equity) == 3


def test_longest_of_several_drawdowns_wins() -> None:
    equity = pd.Series([100.0, 50.0, 101.0, 100.0, 99.0, 98.0, 102.0])
    assert max_drawdown(equity) == pytest.approx(0.5)
    assert max_drawdown_duration(equity) == 4


def test_calmar_is_cagr_over_max_drawdown() -> None:
    equity = pd.Series([100.0, 80.0, 120.0])
    assert calmar_ratio(equity, periods_per_year=2) == pytest.approx(0.2 / 0.2)


def test_sharpe_matches_hand_formula() -> None:
    r = np.array([0.01, -0.02, 0.015, 0.003, -0.004])
    mean = sum(r) / 5
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / 4)
    assert sharpe_ratio(r) == pytest.approx(mean / std * math.sqrt(252))


def test_sharpe_subtracts_per_period_risk_free() -> None:
    r = np.array([0.01, -0.02, 0.015, 0.003, -0.004])
    rf = (1.05) ** (1 / 252) - 1
    excess = r - rf
    expected = excess.mean() / excess.std(ddof=1) * math.sqrt(252)
    assert per_period_rate(0.05) == pytest.approx(rf)
    assert sharpe_ratio(r, risk_free=0.05) == pytest.approx(expected)


def test_sortino_matches_hand_formula() -> None:
    r = [0.01, -0.02, 0.015, 0.003, -0.004]
    mean = sum(r) / 5
    downside = math.sqrt(((-0.02) ** 2 + (-0.004) ** 2) / 5)
    assert sortino_ratio(r) == pytest.approx(mean / downside * math.sqrt(252))


def test_sortino_without_downside_is_nan() -> None:
    assert math.isnan(sortino_ratio([0.01, 0.02, 0.03]))


def test_volatility_is_annualised_sample_std() -> None:
    r = [0.01, -0.01]
    assert volatility(r) == pytest.approx(math.sqrt(0.0002) * math.sqrt(252))


def test_beta_against_itself_is_one_and_alpha_zero() -> None:
    bench = pd.Series([0.01, -0.02, 0.015, 0.003, -0.004])
    alpha, beta = alpha_beta(bench, bench)
    assert beta == pytest.approx(1.0)
    assert alpha == pytest.approx(0.0, abs=1e-12)


def test_beta_against_twice_itself_is_two_and_alpha_zero() -> None:
    bench = pd.Series([0.01, -0.02, 0.015, 0.003, -0.004])
    alpha, beta = alpha_beta(2.0 * bench, bench)
    assert beta == pytest.approx(2.0)
    assert alpha == pytest.approx(0.0, abs=1e-12)


def test_alpha_is_annualised_constant_outperformance() -> None:
    bench = pd.Series([0.01, -0.02, 0.015, 0.003, -0.004])
    alpha, beta = alpha_beta(bench + 0.001, bench)
    assert beta == pytest.approx(1.0)
    assert alpha == pytest.approx(0.001 * 252)


def test_alpha_beta_align_on_shared_index() -> None:
    bench = pd.Series([0.01, -0.02, 0.015], index=[1, 2, 3])
    strategy = pd.Series([0.5, 0.02, -0.04, 0.03], index=[0, 1, 2, 3])
    assert alpha_beta(strategy, bench)[1] == pytest.approx(2.0)


def test_trade_stats_on_small_trade_list() -> None:
    stats = trade_stats([100.0, -50.0, 200.0, -25.0, 0.0])
    assert stats["n_trades"] == 5
    assert stats["win_rate"] == pytest.approx(0.4)
    assert stats["profit_factor"] == pytest.approx(300.0 / 75.0)
    assert stats["expectancy"] == pytest.approx(45.0)
    assert stats["average_win"] == pytest.approx(150.0)
    assert stats["average_loss"] == pytest.approx(-37.5)


def test_profit_factor_without_losses_is_inf() -> None:
    assert trade_stats([10.0, 5.0])["profit_factor"] == math.inf


def test_trade_stats_empty_are_nan() -> None:
    stats = trade_stats([])
    assert stats["n_trades"] == 0
    assert all(math.isnan(v) for k, v in stats.items() if k != "n_trades")


def test_exposure_counts_periods_with_a_position() -> None:
    assert exposure([0.0, 10.0, -5.0, 0.0]) == pytest.approx(0.5)
    assert math.isnan(exposure([]))


def test_single_point_summary_is_nan_without_error() -> None:
    summary = performance_summary(pd.Series([100.0]))
    assert summary["max_drawdown"] == 0.0
    for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "calmar"):
        assert math.isnan(summary[key])


def test_empty_equity_summary_is_nan_without_error() -> None:
    summary = performance_summary(pd.Series([], dtype="float64"))
    assert math.isnan(summary["max_drawdown"])
    assert math.isnan(summary["cagr"])


def test_constant_equity_summary() -> None:
    summary = performance_summary(pd.Series([100.0] * 10))
    assert summary["total_return"] == 0.0
    assert summary["cagr"] == 0.0
    assert summary["volatility"] == 0.0
    assert math.isnan(summary["sharpe"])
    assert summary["max_drawdown"] == 0.0


def test_performance_summary_includes_optional_sections() -> None:
    equity = pd.Series([100.0, 101.0, 99.0, 102.0, 104.0])
    bench = simple_returns(equity)
    summary = performance_summary(
        equity,
        trades_pl=[1.0, -1.0, 3.0],
        benchmark=bench,
        positions=[0, 1, 1, 1, 0],
    )
    assert summary["beta"] == pytest.approx(1.0)
    assert summary["exposure"] == pytest.approx(0.6)
    assert summary["profit_factor"] == pytest.approx(4.0)
    assert summary["total_return"] == pytest.approx(0.04)
    assert summary["max_drawdown"] == pytest.approx(2.0 / 101.0)
    assert summary["max_drawdown_duration"] == 2.0
    assert set(summary) >= {"sharpe", "sortino", "calmar", "volatility", "cagr"}
