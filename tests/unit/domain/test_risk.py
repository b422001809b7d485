from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.risk import (
    VarResult,
    atr_stop,
    beta,
    correlation_report,
    covariance_factor,
    drawdown_state,
    exposure,
    herfindahl,
    historical_var,
    kelly_fraction,
    market_shock,
    market_shocks,
    monte_carlo_var,
    parametric_var,
    percent_stop,
    portfolio_returns,
    position_size_fixed_fraction,
    sector_shock,
    symbol_shocks,
    tail_count,
    take_profit,
    volatility_spike,
    volatility_stop,
)

# z = Phi^-1(c) and phi(z) / (1 - c), for the normal closed forms.
Z95, Z99 = 1.6448536269514715, 2.3263478740408408
ES95, ES99 = 2.062712807507429, 2.665214220345806

ONE_ASSET = [0.01, -0.02, 0.005, -0.03, 0.015, -0.01, 0.02, -0.005, 0.0, 0.01]
ONE_ASSET += [-0.04, 0.03, -0.015, 0.025, -0.025, 0.005, 0.01, -0.01, 0.02, -0.001]


def standardised_returns(sigma: float, days: int = 500, seed: int = 1) -> np.ndarray:
    """Return one column whose sample mean is 0 and sample std (ddof=1) is exactly sigma."""
    z = np.random.default_rng(seed).standard_normal(days)
    z = (z - z.mean()) / z.std(ddof=1)
    return np.asarray((sigma * z).reshape(-1, 1), dtype=np.float64)


def correlated_returns(days: int = 2000, seed: int = 3) -> np.ndarray:
    cov = np.array([[4.0, 1.2, -0.8], [1.2, 2.25, 0.3], [-0.8, 0.3, 1.0]]) * 1e-4
    draws = np.random.default_rng(seed).multivariate_normal(np.zeros(3), cov, size=days)
    return np.asarray(draws, dtype=np.float64)


# --- historical -------------------------------------------------------------------------


def test_tail_count_absorbs_float_noise() -> None:
    assert tail_count(0.95, 100) == 5
    assert tail_count(0.95, 20) == 1
    assert tail_count(0.99, 50) == 1


@pytest.mark.parametrize(
    ("confidence", "var", "cvar"),
    [
        (0.95, 40.0, 40.0),  # k = ceil(0.05 * 20) = 1: the worst loss, 0.04 * 1000
        (0.90, 30.0, 35.0),  # k = 2: losses 40, 30
        (0.80, 20.0, 28.75),  # k = 4: losses 40, 30, 25, 20
    ],
)
def test_historical_var_single_asset_matches_hand(
    confidence: float, var: float, cvar: float
) -> None:
    result = historical_var([1000.0], np.array(ONE_ASSET).reshape(-1, 1), confidence)
    assert result.var == pytest.approx(var)
    assert result.cvar == pytest.approx(cvar)
    assert result.var_pct == pytest.approx(var / 1000.0)


def test_historical_var_horizon_scales_by_sqrt_time() -> None:
    result = historical_var([1000.0], np.array(ONE_ASSET).reshape(-1, 1), 0.90, horizon_days=4)
    assert (result.var, result.cvar) == pytest.approx((60.0, 70.0))


def test_historical_var_long_short_matches_hand_with_components() -> None:
    # P&L = 1000 r1 - 500 r2 per day: 0, -25, 10, 20, -30 -> losses 0, 25, -10, -20, 30.
    returns = np.array([[0.01, 0.02], [-0.02, 0.01], [-0.01, -0.04], [0.03, 0.02], [-0.03, 0.0]])
    result = historical_var({"A": 1000.0, "B": -500.0}, returns, confidence=0.6)
    # k = ceil(0.4 * 5) = 2: tail days lose 30 and 25.
    assert result.var == pytest.approx(25.0)
    assert result.cvar == pytest.approx(27.5)
    assert result.var_pct == pytest.approx(25.0 / 1500.0)
    # A loses 30 and 20 on those days, B loses 0 and 5.
    assert result.components == pytest.approx({"A": 25.0, "B": 2.5})
    assert result.component_basis == "cvar"
    assert sum(result.component_var) == pytest.approx(result.cvar)


def test_returns_frame_is_aligned_to_position_labels() -> None:
    frame = pd.DataFrame({"A": [0.01, -0.02, 0.03, -0.01], "B": [0.0, 0.01, -0.05, 0.02]})
    swapped = historical_var(pd.Series({"B": -500.0, "A": 1000.0}), frame, 0.75)
    plain = historical_var([1000.0, -500.0], frame.to_numpy(), 0.75)
    assert swapped.var == pytest.approx(plain.var)
    assert swapped.components == pytest.approx(
        {"A": plain.component_var[0], "B": plain.component_var[1]}
    )


def test_returns_frame_missing_a_position_label_is_refused() -> None:
    frame = pd.DataFrame({"A": [0.01, -0.02, 0.03], "C": [0.0, 0.01, -0.05]})
    with pytest.raises(ValueError, match="no column for positions"):
        historical_var(pd.Series({"A": 1000.0, "B": -500.0}), frame, 0.75)


# --- parametric -------------------------------------------------------------------------


@pytest.mark.parametrize(("confidence", "z", "es"), [(0.95, Z95, ES95), (0.99, Z99, ES99)])
@pytest.mark.parametrize("horizon", [1.0, 10.0])
def test_parametric_var_equals_normal_closed_form(
    confidence: float, z: float, es: float, horizon: float
) -> None:
    sigma, value = 0.02, 1_000_000.0
    result = parametric_var([value], standardised_returns(sigma), confidence, horizon)
    assert result.var == pytest.approx(z * sigma * value * math.sqrt(horizon), rel=1e-12)
    assert result.cvar == pytest.approx(es * sigma * value * math.sqrt(horizon), rel=1e-12)
    assert result.component_basis == "var"


def test_parametric_var_short_position_has_same_risk() -> None:
    returns = standardised_returns(0.02)
    assert parametric_var([-1e6], returns).var == pytest.approx(Z95 * 0.02 * 1e6)


def test_parametric_var_sample_mean_subtracts_drift() -> None:
    returns = standardised_returns(0.02) + 0.001
    result = parametric_var([1e6], returns, 0.99, horizon_days=4, mean="sample")
    assert result.var == pytest.approx(Z99 * 0.02 * 1e6 * 2 - 0.001 * 1e6 * 4)


def test_parametric_component_var_sums_to_total() -> None:
    values = [1e6, -4e5, 2.5e5]
    for mean in ("zero", "sample"):
        result = parametric_var(values, correlated_returns(), 0.99, 5, mean=mean)
        assert sum(result.component_var) == pytest.approx(result.var, rel=1e-12)


# --- Monte Carlo ------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_monte_carlo_var_converges_to_parametric_within_3_percent(confidence: float) -> None:
    values, returns = [1e6, -4e5, 2.5e5], correlated_returns()
    analytic = parametric_var(values, returns, confidence, 10)
    simulated = monte_carlo_var(values, returns, confidence, 10, paths=10_000, seed=11)
    assert simulated.var == pytest.approx(analytic.var, rel=0.03)
    assert simulated.cvar == pytest.approx(analytic.cvar, rel=0.03)


def test_monte_carlo_var_is_reproducible_with_a_seed() -> None:
    values, returns = [1e6, -4e5, 2.5e5], correlated_returns()
    first = monte_carlo_var(values, returns, seed=5)
    assert monte_carlo_var(values, returns, seed=5) == first
    assert monte_carlo_var(values, returns, seed=6).var != first.var


def test_monte_carlo_components_sum_to_cvar() -> None:
    result = monte_carlo_var([1e6, -4e5, 2.5e5], correlated_returns(), 0.99, seed=2)
    assert result.component_basis == "cvar"
    assert sum(result.component_var) == pytest.approx(result.cvar, rel=1e-9)


def test_covariance_factor_clips_negative_eigenvalues() -> None:
    factor, repaired = covariance_factor(np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert repaired
    # Eigenvalues 3 and -1: keeping 3 along (1, 1)/sqrt(2) gives 1.5 everywhere.
    np.testing.assert_allclose(factor @ factor.T, np.full((2, 2), 1.5), atol=1e-12)


def test_covariance_factor_uses_cholesky_when_positive_definite() -> None:
    cov = np.array([[4.0, 1.0], [1.0, 2.0]])
    factor, repaired = covariance_factor(cov)
    assert not repaired
    np.testing.assert_allclose(factor @ factor.T, cov)


def test_monte_carlo_var_handles_more_positions_than_days() -> None:
    returns = np.random.default_rng(0).normal(0.0, 0.01, size=(4, 6))
    result = monte_carlo_var([1e5] * 6, returns, 0.99, seed=1)
    assert math.isfinite(result.var) and result.var > 0.0


# --- all methods ------------------------------------------------------------------------

METHODS: dict[str, Callable[..., VarResult]] = {
    "historical": historical_var,
    "parametric": parametric_var,
    "monte_carlo": functools.partial(monte_carlo_var, seed=4),
}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.975, 0.99])
@pytest.mark.parametrize("horizon", [1.0, 10.0])
def test_cvar_is_at_least_var(method: str, confidence: float, horizon: float) -> None:
    rng = np.random.default_rng(9)
    returns = rng.standard_t(3, size=(504, 4)) * 0.01
    result = METHODS[method]([3e5, -1e5, 2e5, 5e4], returns, confidence, horizon)
    assert result.method == method
    assert result.cvar >= result.var > 0.0
    assert result.cvar_pct == pytest.approx(result.cvar / 6.5e5)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_var_rejects_bad_inputs(method: str) -> None:
    returns = np.zeros((10, 2))
    with pytest.raises(ValueError, match="confidence"):
        METHODS[method]([1.0, 1.0], returns, 1.0)
    with pytest.raises(ValueError, match="horizon"):
        METHODS[method]([1.0, 1.0], returns, 0.95, 0.0)
    with pytest.raises(ValueError, match="T x 3"):
        METHODS[method]([1.0, 1.0, 1.0], returns)


# --- portfolio metrics ------------------------------------------------------------------


def test_exposure_splits_long_and_short() -> None:
    result = exposure({"A": 100.0, "B": -40.0, "C": 60.0})
    assert (result.gross, result.net, result.long, result.short) == (200.0, 120.0, 160.0, 40.0)


def test_beta_of_series_against_itself_is_one() -> None:
    series = np.random.default_rng(1).normal(0.0, 0.01, 250)
    assert beta(series, series) == pytest.approx(1.0)
    assert beta(2.0 * series, series) == pytest.approx(2.0)


def test_portfolio_returns_are_on_gross_capital() -> None:
    returns = np.array([[0.01, 0.02], [-0.02, 0.04]])
    # (1000 * 0.01 - 500 * 0.02) / 1500 = 0; (-20 - 20) / 1500.
    np.testing.assert_allclose(
        portfolio_returns([1000.0, -500.0], returns), [0.0, -40 / 1500], atol=1e-15
    )


def test_herfindahl_of_equal_weights_is_one_over_n() -> None:
    assert herfindahl([25.0, -25.0, 25.0, 25.0]) == pytest.approx(0.25)
    assert herfindahl([10.0]) == pytest.approx(1.0)
    assert herfindahl([75.0, 25.0]) == pytest.approx(0.625)


def test_correlation_report_finds_highly_correlated_pairs() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(0.0, 0.01, 500)
    frame = pd.DataFrame(
        {
            "A": a,
            "B": 2.0 * a + rng.normal(0.0, 0.001, 500),
            "C": rng.normal(0.0, 0.01, 500),
            "D": -a,
        }
    )
    report = correlation_report(pd.Series(1.0, index=list("ABCD")), frame)
    found = {(p.first, p.second): p.correlation for p in report.pairs}
    assert set(found) == {("A", "B"), ("A", "D"), ("B", "D")}
    assert found[("A", "D")] == pytest.approx(-1.0)
    assert report.matrix.loc["A", "B"] == pytest.approx(found[("A", "B")])
    # B carries noise (rho about 0.9988), so a stricter threshold keeps only the exact A-D.
    strict = correlation_report(pd.Series(1.0, index=list("ABCD")), frame, 0.999)
    assert [(p.first, p.second) for p in strict.pairs] == [("A", "D")]


def test_drawdown_state_reports_current_and_maximum() -> None:
    state = drawdown_state(pd.Series([100.0, 120.0, 90.0, 110.0, 60.0, 80.0]))
    assert state.maximum == pytest.approx(0.5)  # 60 against the 120 peak
    assert state.current == pytest.approx(1.0 / 3.0)  # 80 against 120
    assert drawdown_state(pd.Series([100.0, 110.0])).current == 0.0


# --- stress tests -----------------------------------------------------------------------

BOOK = {"AAPL": 10_000.0, "XOM": -5_000.0}


def test_market_shocks_move_positions_by_beta() -> None:
    down10, down20 = market_shocks(BOOK, {"AAPL": 1.2, "XOM": 0.8})
    # 10000 * 1.2 * -0.1 = -1200; -5000 * 0.8 * -0.1 = +400.
    assert down10.position_pnl == pytest.approx((-1200.0, 400.0))
    assert down10.pnl == pytest.approx(-800.0)
    assert down10.pnl_pct == pytest.approx(-800.0 / 15_000.0)
    assert down20.pnl == pytest.approx(-1600.0)
    assert market_shock(BOOK, {}, -0.1).pnl == pytest.approx(-500.0)  # beta 1 by default


def test_sector_shock_moves_only_that_sector() -> None:
    result = sector_shock(BOOK, {"AAPL": "tech", "XOM": "energy"}, "energy", -0.15)
    assert result.position_pnl == pytest.approx((0.0, 750.0))
    assert result.pnl == pytest.approx(750.0)


def test_symbol_shocks_apply_each_shock() -> None:
    result = symbol_shocks(BOOK, {"AAPL": -0.05, "XOM": 0.10})
    assert result.pnl == pytest.approx(-1000.0)  # -500 on AAPL, -500 on the XOM short
    with pytest.raises(ValueError, match="unknown"):
        symbol_shocks(BOOK, {"MSFT": -0.1})


def test_volatility_spike_scales_parametric_var_by_k() -> None:
    returns = correlated_returns()[:, :2]
    base = parametric_var(BOOK, returns, 0.99)
    spiked = volatility_spike(BOOK, returns, 3.0, 0.99)
    assert spiked.var == pytest.approx(3.0 * base.var)
    assert spiked.method == "parametric_vol_x3"


# --- stops and sizing -------------------------------------------------------------------


def test_stops_sit_on_the_losing_side() -> None:
    assert atr_stop(100.0, 2.0, 3.0, "long") == pytest.approx(94.0)
    assert atr_stop(100.0, 2.0, 3.0, "short") == pytest.approx(106.0)
    assert percent_stop(50.0, 0.1, "long") == pytest.approx(45.0)
    assert percent_stop(50.0, 0.1, "short") == pytest.approx(55.0)
    assert volatility_stop(200.0, 0.02, 2.0, "long") == pytest.approx(192.0)
    assert volatility_stop(200.0, 0.02, 2.0, "short") == pytest.approx(208.0)


def test_take_profit_uses_reward_to_risk() -> None:
    assert take_profit(100.0, 94.0, 2.0, "long") == pytest.approx(112.0)
    assert take_profit(100.0, 106.0, 2.0, "short") == pytest.approx(88.0)
    with pytest.raises(ValueError, match="losing side"):
        take_profit(100.0, 106.0, 2.0, "long")


def test_position_size_risks_the_fraction_of_equity() -> None:
    assert position_size_fixed_fraction(100_000.0, 0.01, 50.0, 48.0) == pytest.approx(500.0)
    assert position_size_fixed_fraction(100_000.0, 0.01, 50.0, 52.0) == pytest.approx(500.0)
    with pytest.raises(ValueError, match="differ"):
        position_size_fixed_fraction(100_000.0, 0.01, 50.0, 50.0)


def test_kelly_fraction_is_floored_and_capped() -> None:
    assert kelly_fraction(0.6, 1.5, cap=1.0) == pytest.approx(0.6 - 0.4 / 1.5)
    assert kelly_fraction(0.6, 1.5) == pytest.approx(0.25)
    assert kelly_fraction(0.3, 1.0) == 0.0


def test_stop_helpers_reject_bad_inputs() -> None:
    with pytest.raises(ValueError, match="side"):
        atr_stop(100.0, 2.0, 3.0, "flat")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pct"):
        percent_stop(100.0, 1.5, "long")
    with pytest.raises(ValueError, match="zero"):
        volatility_stop(100.0, 0.5, 2.0, "long")
