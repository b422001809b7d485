"""The backtest engine: hand-computed fills and fees, timing, stops, parity and causality."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.backtest import _kernels
from quantumtrade.backtest.engine import (
    BacktestConfig,
    BacktestResult,
    BarArrays,
    evaluate_signals,
    evaluate_strategy,
    run_backtest,
    run_strategy,
)
from quantumtrade.backtest.strategies import STRATEGIES, StrategyParamError
from quantumtrade.domain.execution import FixedBps, Percentage, PerShare, Side, quantize_price
from quantumtrade.domain.metrics import performance_summary, performance_summary_values

CLOSES = [100, 101, 102, 103, 104, 105, 104, 103, 102, 101]
CLOSES += [100, 99, 98, 99, 100, 101, 102, 103, 104, 105]


def make_bars(
    close: list[float] | np.ndarray,
    open_: list[float] | np.ndarray | None = None,
    high: list[float] | np.ndarray | None = None,
    low: list[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    c = np.asarray(close, dtype=np.float64)
    o = c - 0.5 if open_ is None else np.asarray(open_, dtype=np.float64)
    h = np.maximum(o, c) + 1.0 if high is None else np.asarray(high, dtype=np.float64)
    lo = np.minimum(o, c) - 1.0 if low is None else np.asarray(low, dtype=np.float64)
    index = pd.date_range("2024-01-01", periods=c.size, freq="D", tz="UTC")
    return pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": 1e4}, index=index)


def long_then_short() -> np.ndarray:
    signals = np.zeros(20, dtype=np.int8)
    signals[2:6] = 1
    signals[8:12] = -1
    return signals


def fixed(**kwargs: object) -> BacktestConfig:
    base: dict[str, object] = {
        "initial_cash": 10_000.0,
        "sizing": "fixed_qty",
        "quantity": 200.0,
        "per_share": 0.01,
        "per_share_min": 1.0,
    }
    return BacktestConfig(**(base | kwargs))  # type: ignore[arg-type]


def trade_rows(result: BacktestResult) -> list[tuple[object, ...]]:
    cols = ["entry_index", "exit_index", "side", "qty", "entry_price", "exit_price", "fees", "pnl"]
    # Rounded to 1e-9 so float noise in 200 * 0.22 does not hide the hand-computed figures.
    return [
        (*(round(float(v), 9) for v in row), reason)
        for row, reason in zip(
            result.trades[cols].itertuples(index=False, name=None),
            result.trades["exit_reason"],
            strict=True,
        )
    ]


def test_run_backtest_next_open_no_slippage_matches_hand_computation() -> None:
    result = run_backtest(make_bars(CLOSES), long_then_short(), fixed())
    # Long 200 at bar 3's open 102.50, out at bar 7's open 102.50; $2.00 a fill in commission.
    # Short 200 at bar 9's open 100.50, covered at bar 13's open 98.50: 400 - 4 = 396.
    assert trade_rows(result) == [
        (3, 7, 1, 200.0, 102.5, 102.5, 4.0, -4.0, "signal"),
        (9, 13, -1, 200.0, 100.5, 98.5, 4.0, 396.0, "signal"),
    ]
    assert result.equity.iloc[2] == 10_000.0
    # Bar 5 closes at 105 with the long open: 10000 - 2 + 200 * (105 - 102.5).
    assert result.equity.iloc[5] == pytest.approx(10_498.0)
    assert result.equity.iloc[-1] == pytest.approx(10_392.0)
    assert result.positions.iloc[5] == 200.0 and result.positions.iloc[10] == -200.0
    assert result.metrics["n_trades"] == 2.0
    assert result.metrics["total_return"] == pytest.approx(0.0392)


def test_run_backtest_with_bps_slippage_fills_at_the_modelled_price_without_tick_rounding() -> None:
    result = run_backtest(make_bars(CLOSES), long_then_short(), fixed(slippage_bps=10.0))
    # 102.5 * 1.001 = 102.6025 in, 102.5 * 0.999 = 102.3975 out: 200 * -0.205 - 4 = -45.
    # 100.5 * 0.999 = 100.3995 short, 98.5 * 1.001 = 98.5985 covered: 200 * 1.801 - 4 = 356.2.
    assert trade_rows(result) == [
        (3, 7, 1, 200.0, 102.6025, 102.3975, 4.0, -45.0, "signal"),
        (9, 13, -1, 200.0, 100.3995, 98.5985, 4.0, 356.2, "signal"),
    ]
    assert result.equity.iloc[-1] == pytest.approx(10_311.2)


def test_run_backtest_with_bps_slippage_and_us_ticks_matches_hand_computation() -> None:
    config = fixed(slippage_bps=10.0, tick_size="us")
    result = run_backtest(make_bars(CLOSES), long_then_short(), config)
    # 102.5 * 1.001 = 102.6025 -> 102.61 (a buy rounds up); 102.5 * 0.999 = 102.3975 -> 102.39.
    # 100.5 * 0.999 = 100.3995 -> 100.39 (a sell rounds down); 98.5 * 1.001 = 98.5985 -> 98.60.
    assert trade_rows(result) == [
        (3, 7, 1, 200.0, 102.61, 102.39, 4.0, -48.0, "signal"),
        (9, 13, -1, 200.0, 100.39, 98.60, 4.0, 354.0, "signal"),
    ]
    assert result.equity.iloc[-1] == pytest.approx(10_306.0)


def test_run_backtest_fill_at_close_trades_on_the_signal_bar() -> None:
    result = run_backtest(make_bars(CLOSES), long_then_short(), fixed(fill_timing="close"))
    assert trade_rows(result) == [
        (2, 6, 1, 200.0, 102.0, 104.0, 4.0, 396.0, "signal"),
        (8, 12, -1, 200.0, 102.0, 98.0, 4.0, 796.0, "signal"),
    ]
    assert result.equity.iloc[-1] == pytest.approx(11_192.0)


def test_run_backtest_percentage_commission_with_minimum() -> None:
    # 0.1 % of 200 * 102.5 = 20.50 per fill; the $25 minimum applies on both fills.
    config = fixed(per_share=0.0, per_share_min=0.0, percentage=0.001, percentage_min=25.0)
    result = run_backtest(make_bars(CLOSES), long_then_short(), config)
    assert result.trades["fees"].tolist() == [50.0, 50.0]
    assert result.equity.iloc[-1] == pytest.approx(10_000.0 - 50.0 + 400.0 - 50.0)


def test_run_backtest_fixed_fraction_buys_whole_shares_of_equity() -> None:
    config = BacktestConfig(initial_cash=10_000.0, sizing="fixed_fraction", fraction=0.5)
    result = run_backtest(make_bars(CLOSES), long_then_short(), config)
    # floor(5000 / 102.5) = 48 shares; then floor(5000 / 100.5) = 49 shares short.
    assert result.trades["qty"].tolist() == [48.0, 49.0]
    assert result.equity.iloc[-1] == pytest.approx(10_000.0 + 49 * 2.0)


def test_run_backtest_vol_target_scales_by_trailing_volatility() -> None:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 60)))
    signals = np.zeros(60, dtype=np.int8)
    signals[30:40] = 1
    config = BacktestConfig(
        initial_cash=1e6, sizing="vol_target", vol_target=0.1, vol_lookback=20, max_leverage=2.0
    )
    result = run_backtest(make_bars(close, open_=close), signals, config)
    returns = close[11:31] / close[10:30] - 1.0
    vol = np.std(returns, ddof=1) * np.sqrt(252)
    entry = result.trades["entry_price"].iloc[0]
    assert result.trades["qty"].iloc[0] == np.floor(min(0.1 / vol, 2.0) * 1e6 / entry)


def test_run_backtest_vol_target_skips_entries_without_history() -> None:
    signals = np.zeros(20, dtype=np.int8)
    signals[3:8] = 1
    result = run_backtest(make_bars(CLOSES), signals, BacktestConfig(sizing="vol_target"))
    assert result.trades.empty
    assert (result.equity == 100_000.0).all()


def stop_bars(bar2: tuple[float, float, float, float]) -> pd.DataFrame:
    """Bar 1 opens at 100 (the entry); bar 2 is the one under test, then quiet bars."""
    o2, h2, l2, c2 = bar2
    opens = [100.0, 100.0, o2, c2, c2]
    highs = [100.5, 100.5, h2, c2, c2]
    lows = [99.5, 99.5, l2, c2, c2]
    closes = [100.0, 100.0, c2, c2, c2]
    return make_bars(closes, open_=opens, high=highs, low=lows)


@pytest.mark.parametrize(
    ("side", "bar2", "stop_loss", "take_profit", "bps", "exit_price", "reason", "tick"),
    [
        (1, (100.0, 101.0, 94.0, 96.0), 0.05, None, 0.0, 95.0, "stop_loss", "us"),
        # Entry 100 * 1.001 = 100.10; stop 100.10 * 0.95 = 95.095, sold 0.1 % lower: 94.99.
        (1, (100.0, 101.0, 94.0, 96.0), 0.05, None, 10.0, 94.99, "stop_loss", "us"),
        # Without tick rounding: 100.1 * 0.95 = 95.095, sold 0.1 % lower at 94.999905.
        (1, (100.0, 101.0, 94.0, 96.0), 0.05, None, 10.0, 94.999905, "stop_loss", None),
        (1, (90.0, 91.0, 89.0, 90.0), 0.05, None, 0.0, 90.0, "stop_loss", "us"),
        (1, (101.0, 111.0, 100.0, 108.0), 0.05, 0.10, 0.0, 110.0, "take_profit", "us"),
        (1, (115.0, 116.0, 114.0, 115.0), 0.05, 0.10, 10.0, 115.0, "take_profit", "us"),
        (1, (100.0, 111.0, 94.0, 100.0), 0.05, 0.10, 0.0, 95.0, "stop_loss", "us"),
        (-1, (100.0, 106.0, 99.0, 104.0), 0.05, None, 0.0, 105.0, "stop_loss", "us"),
        (-1, (108.0, 109.0, 107.0, 108.0), 0.05, None, 0.0, 108.0, "stop_loss", "us"),
        (-1, (99.0, 100.0, 89.0, 92.0), 0.05, 0.10, 0.0, 90.0, "take_profit", "us"),
        (-1, (99.0, 106.0, 89.0, 100.0), 0.05, 0.10, 0.0, 105.0, "stop_loss", "us"),
    ],
    ids=[
        "long-stop",
        "long-stop-slipped",
        "long-stop-slipped-off-grid",
        "long-gap-through-stop",
        "long-take-profit",
        "long-gap-past-take-profit",
        "long-both-hit-stop-first",
        "short-stop",
        "short-gap-through-stop",
        "short-take-profit",
        "short-both-hit-stop-first",
    ],
)
def test_run_backtest_protective_exits(
    side: int,
    bar2: tuple[float, float, float, float],
    stop_loss: float,
    take_profit: float | None,
    bps: float,
    exit_price: float,
    reason: str,
    tick: str | None,
) -> None:
    signals = np.full(5, side, dtype=np.int8)
    config = fixed(
        per_share=0.0,
        per_share_min=0.0,
        quantity=10.0,
        stop_loss=stop_loss,
        take_profit=take_profit,
        slippage_bps=bps,
        tick_size=tick,
    )
    result = run_backtest(stop_bars(bar2), signals, config)
    # The signal stays on, but a stopped-out position waits for the signal to change.
    assert len(result.trades) == 1
    trade = result.trades.iloc[0]
    assert (trade["entry_index"], trade["exit_index"], trade["exit_reason"]) == (1, 2, reason)
    assert trade["exit_price"] == pytest.approx(exit_price)
    expected_entry = 100.0 if bps == 0.0 else (100.10 if side == 1 else 99.90)
    assert trade["entry_price"] == pytest.approx(expected_entry)
    assert trade["pnl"] == pytest.approx(side * 10.0 * (exit_price - expected_entry))
    assert result.positions.iloc[-1] == 0.0
    assert result.equity.iloc[-1] == pytest.approx(10_000.0 + trade["pnl"])


def test_run_backtest_stop_checks_the_entry_bar_range_after_an_open_fill() -> None:
    bars = make_bars([100.0, 96.0, 96.0], open_=[100.0, 100.0, 96.0], low=[99.0, 94.0, 95.0])
    config = fixed(per_share=0.0, per_share_min=0.0, stop_loss=0.05)
    result = run_backtest(bars, np.ones(3, dtype=np.int8), config)
    assert trade_rows(result) == [(1, 1, 1, 200.0, 100.0, 95.0, 0.0, -1000.0, "stop_loss")]


def test_run_backtest_stop_ignores_the_fill_bar_when_filled_at_close() -> None:
    bars = make_bars([100.0, 96.0, 96.0], open_=[100.0, 100.0, 96.0], low=[94.0, 95.5, 94.0])
    config = fixed(per_share=0.0, per_share_min=0.0, stop_loss=0.05, fill_timing="close")
    result = run_backtest(bars, np.ones(3, dtype=np.int8), config)
    # Filled at bar 0's close (100); bar 0's low of 94 came before the fill.
    assert trade_rows(result) == [(0, 2, 1, 200.0, 100.0, 95.0, 0.0, -1000.0, "stop_loss")]


@pytest.mark.parametrize(
    ("reference", "bps"),
    [(102.5, 10.0), (37.123, 3.0), (0.8765, 25.0), (0.9995, 10.0), (250.0, 0.0), (19.99, 7.5)],
)
@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_fill_price_matches_domain_fixed_bps_on_the_tick_grid(
    reference: float, bps: float, side: Side
) -> None:
    model = FixedBps(Decimal(repr(bps)))
    slipped = model.price(side, Decimal(repr(reference)), Decimal(100))
    expected = quantize_price(slipped, side)
    got = _kernels.fill_price(reference, side is Side.BUY, bps)
    assert Decimal(repr(round(got, 4))) == expected


@pytest.mark.parametrize(
    ("qty", "price"), [(1.0, 10.0), (137.0, 52.37), (2500.0, 101.25), (33.0, 0.75), (1e4, 3.3)]
)
def test_commission_matches_domain_per_share_plus_percentage(qty: float, price: float) -> None:
    per_share = PerShare(Decimal("0.005"), Decimal("1.00"), Decimal("12.00"))
    percentage = Percentage(Decimal("0.0005"), Decimal("0.50"))
    d_qty, d_price = Decimal(repr(qty)), Decimal(repr(price))
    expected = (
        per_share.fees(Side.BUY, d_qty, d_price).commission
        + percentage.fees(Side.BUY, d_qty, d_price).commission
    )
    got = _kernels.commission(qty, price, 0.005, 1.0, 12.0, 0.0005, 0.5, np.inf)
    assert Decimal(repr(round(got, 2))) == expected


def random_bars(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.003, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, n))
    return make_bars(close, open_=open_, high=high, low=low)


@pytest.mark.parametrize("sizing", ["fixed_qty", "fixed_fraction", "vol_target"])
@pytest.mark.parametrize("fill_timing", ["next_open", "close"])
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_run_strategy_truncating_the_future_never_changes_the_past(
    name: str, fill_timing: str, sizing: str
) -> None:
    bars = random_bars(7)
    config = BacktestConfig(
        fill_timing=fill_timing,  # type: ignore[arg-type]
        sizing=sizing,  # type: ignore[arg-type]
        stop_loss=0.04,
        take_profit=0.08,
        slippage_bps=5.0,
        per_share=0.005,
        per_share_min=1.0,
    )
    params = {"allow_short": True}
    full = run_strategy(bars, name, params, config)
    assert len(full.trades) > 0
    for k in (60, 150, 275, 399):
        part = run_strategy(bars.iloc[:k], name, params, config)
        pd.testing.assert_series_equal(part.equity, full.equity.iloc[:k])
        closed = full.trades[full.trades["exit_index"] < k].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.trades, closed)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    fill_timing=st.sampled_from(["next_open", "close"]),
    sizing=st.sampled_from(["fixed_qty", "fixed_fraction", "vol_target"]),
    stops=st.booleans(),
)
def test_run_backtest_flat_at_the_end_final_equity_is_cash_plus_trade_pnl(
    seed: int, fill_timing: str, sizing: str, stops: bool
) -> None:
    bars = random_bars(seed, 120)
    signals = np.random.default_rng(seed).integers(-1, 2, 120).astype(np.int8)
    signals[-2:] = 0
    config = BacktestConfig(
        fill_timing=fill_timing,  # type: ignore[arg-type]
        sizing=sizing,  # type: ignore[arg-type]
        stop_loss=0.02 if stops else None,
        take_profit=0.03 if stops else None,
        slippage_bps=3.0,
        per_share=0.005,
        per_share_min=1.0,
        percentage=0.0002,
    )
    result = run_backtest(bars, signals, config)
    assert result.positions.iloc[-1] == 0.0
    assert result.equity.iloc[-1] == pytest.approx(100_000.0 + result.trades["pnl"].sum())
    assert (result.trades["exit_index"] >= result.trades["entry_index"]).all()
    assert result.metrics["n_trades"] == float(len(result.trades))


def test_run_backtest_open_position_at_the_end_is_marked_to_market() -> None:
    signals = np.zeros(20, dtype=np.int8)
    signals[15:] = 1
    result = run_backtest(make_bars(CLOSES), signals, fixed())
    # Long 200 from bar 16's open (101.5), $2 entry fee, marked at the last close 105.
    assert result.trades.empty
    assert result.equity.iloc[-1] == pytest.approx(10_000.0 - 2.0 + 200 * (105.0 - 101.5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fill_timing": "open"}, "fill_timing"),
        ({"sizing": "kelly"}, "sizing"),
        ({"stop_loss": 1.5}, "stop_loss"),
        ({"per_share_min": 2.0, "per_share_max": 1.0}, "per_share"),
        ({"slippage_bps": -1.0}, "slippage_bps"),
    ],
)
def test_backtest_config_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BacktestConfig(**kwargs)  # type: ignore[arg-type]


def test_run_backtest_rejects_misshaped_or_invalid_signals() -> None:
    bars = make_bars(CLOSES)
    with pytest.raises(ValueError, match="shape"):
        run_backtest(bars, np.zeros(19, dtype=np.int8))
    with pytest.raises(ValueError, match="-1, 0 or"):
        run_backtest(bars, np.full(20, 2, dtype=np.int8))


def test_run_backtest_rejects_bad_bars() -> None:
    bars = make_bars(CLOSES)
    signals = np.zeros(20, dtype=np.int8)
    with pytest.raises(ValueError, match="lack"):
        run_backtest(bars.drop(columns="volume"), signals)
    with pytest.raises(ValueError, match="UTC"):
        run_backtest(bars.tz_convert("America/New_York"), signals)
    with pytest.raises(ValueError, match="UTC"):
        run_backtest(bars.reset_index(drop=True), signals)
    broken = bars.copy()
    broken.iloc[4, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        run_backtest(broken, signals)


def test_run_strategy_unknown_name_or_param_raises() -> None:
    with pytest.raises(StrategyParamError, match="unknown strategy"):
        run_strategy(make_bars(CLOSES), "nope", {}, BacktestConfig())
    with pytest.raises(StrategyParamError, match="unknown parameter"):
        run_strategy(make_bars(CLOSES), "rsi", {"windoww": 3}, BacktestConfig())


def assert_same_metrics(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert list(actual) == list(expected)
    for key, want in expected.items():
        got = actual[key]
        assert (np.isnan(got) and np.isnan(want)) or got == want, (key, got, want)


def ohlc_walk(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.005, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.005, n))
    return make_bars(close, open_, high, low)


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_evaluate_strategy_equals_run_strategy_metrics(name: str, allow_short: bool) -> None:
    bars = ohlc_walk(7, 2_000)
    config = BacktestConfig(
        slippage_bps=2.0, per_share=0.005, per_share_min=1.0, stop_loss=0.03, take_profit=0.05
    )
    params = {"allow_short": allow_short}
    expected = run_strategy(bars, name, params, config)
    assert expected.metrics["n_trades"] > 0
    assert_same_metrics(
        evaluate_strategy(BarArrays.from_frame(bars), name, params, config), expected.metrics
    )


def test_evaluate_strategy_without_trades_gives_nan_trade_figures() -> None:
    bars = make_bars(CLOSES)
    metrics = evaluate_strategy(BarArrays.from_frame(bars), "sma_crossover", {"slow": 25})
    assert metrics["n_trades"] == 0.0 and np.isnan(metrics["win_rate"])
    assert_same_metrics(metrics, run_strategy(bars, "sma_crossover", {"slow": 25}).metrics)


def test_evaluate_signals_equals_run_backtest_metrics() -> None:
    bars = make_bars(CLOSES)
    for config in (fixed(), fixed(fill_timing="close"), fixed(stop_loss=0.01)):
        expected = run_backtest(bars, long_then_short(), config).metrics
        got = evaluate_signals(BarArrays.from_frame(bars), long_then_short(), config)
        assert_same_metrics(got, expected)


def test_engine_metrics_are_the_array_summary_of_its_own_equity() -> None:
    # The kernel summarises each block of equity as it writes it; over three blocks that must
    # give what the array summary of the finished curve gives, to the bit.
    result = run_strategy(ohlc_walk(5, 2_500), "sma_crossover", {"allow_short": True})
    expected = performance_summary_values(
        result.equity.to_numpy(),
        trades_pl=result.trades["pnl"].to_numpy(),
        positions=result.positions.to_numpy(),
    )
    assert expected["n_trades"] > 10 and expected["max_drawdown"] > 0.0
    assert_same_metrics(result.metrics, expected)


@pytest.mark.parametrize("allow_short", [False, True])
def test_positions_are_what_the_equity_moves_with(allow_short: bool) -> None:
    # Filled at the close with costs off, a fill moves no equity, so every bar's equity change
    # is the position held at the last close times the change of the close: the positions
    # (built from the trades and the position still open) must account for every move.
    bars = ohlc_walk(11, 2_500)
    config = BacktestConfig(fill_timing="close", sizing="fixed_qty", quantity=10.0)
    result = run_strategy(bars, "sma_crossover", {"allow_short": allow_short}, config)
    held = result.positions.to_numpy()
    assert len(result.trades) > 20 and held.shape == (2_500,)
    assert set(np.unique(held)) == ({0.0, 10.0, -10.0} if allow_short else {0.0, 10.0})
    moves = np.diff(result.equity.to_numpy())
    np.testing.assert_allclose(moves, held[:-1] * np.diff(bars["close"].to_numpy()), atol=1e-9)
    side, qty, entry = result.still_open
    assert held[-1] == side * qty
    if side:
        assert (held[entry:] == side * qty).all() and held[entry - 1] != side * qty


def test_positions_do_not_follow_changes_to_the_trades_frame() -> None:
    result = run_strategy(ohlc_walk(11, 800), "sma_crossover", {"allow_short": True})
    result.trades["qty"] = 0.0
    result.trades.loc[:, "entry_index"] = 0
    held = result.positions.to_numpy()
    assert np.count_nonzero(held) > 400 and result.metrics["exposure"] == np.mean(held != 0.0)


def test_run_backtest_metrics_match_the_pandas_performance_summary() -> None:
    result = run_strategy(ohlc_walk(3, 3_000), "macd", {"allow_short": True})
    expected = performance_summary(
        result.equity, trades_pl=result.trades["pnl"], positions=result.positions
    )
    assert list(result.metrics) == list(expected)
    for key, want in expected.items():
        assert result.metrics[key] == pytest.approx(want, rel=1e-12, nan_ok=True), key


def test_bar_arrays_from_frame_are_read_only_float64_columns() -> None:
    bars = make_bars(CLOSES)
    arrays = BarArrays.from_frame(bars)
    assert len(arrays) == 20
    assert arrays.index is not None and arrays.index.equals(bars.index)
    for name in ("open", "high", "low", "close", "volume"):
        column = getattr(arrays, name)
        assert column.dtype == np.float64 and column.flags.c_contiguous
        assert not column.flags.writeable
        np.testing.assert_array_equal(column, bars[name].to_numpy())
    with pytest.raises(ValueError, match="read-only"):
        arrays.close[0] = 1.0


def test_bar_arrays_reject_bad_bars() -> None:
    bars = make_bars(CLOSES)
    with pytest.raises(ValueError, match="lack"):
        BarArrays.from_frame(bars.drop(columns="open"))
    with pytest.raises(ValueError, match="UTC"):
        BarArrays.from_frame(bars.tz_localize(None))
    with pytest.raises(ValueError, match="empty"):
        BarArrays.from_frame(bars.iloc[:0])
    columns = {name: bars[name].to_numpy() for name in ("open", "high", "low", "close", "volume")}
    with pytest.raises(ValueError, match="finite"):
        BarArrays(**(columns | {"low": np.where(np.arange(20) == 3, 0.0, columns["low"])}))
    with pytest.raises(ValueError, match="finite"):
        BarArrays(**(columns | {"high": np.where(np.arange(20) == 3, np.inf, columns["high"])}))
    with pytest.raises(ValueError, match="bars"):
        BarArrays(**(columns | {"volume": columns["volume"][:5]}))
    with pytest.raises(ValueError, match="index"):
        BarArrays(**columns, index=bars.index[:5])
    with pytest.raises(ValueError, match="one-dimensional"):
        BarArrays(**(columns | {"close": columns["close"].reshape(4, 5)}))
    BarArrays(**columns)  # no index is fine


def test_evaluate_signals_rejects_misshaped_or_invalid_signals() -> None:
    arrays = BarArrays.from_frame(make_bars(CLOSES))
    with pytest.raises(ValueError, match="shape"):
        evaluate_signals(arrays, np.zeros(19, dtype=np.int8))
    with pytest.raises(ValueError, match="-1, 0 or"):
        evaluate_signals(arrays, np.full(20, -2, dtype=np.int8))
    with pytest.raises(ValueError, match="-1, 0 or"):
        evaluate_signals(arrays, np.full(20, 0.5))
    plain = evaluate_signals(arrays, long_then_short().astype(np.float64), fixed())
    assert_same_metrics(plain, evaluate_signals(arrays, long_then_short(), fixed()))


@given(
    qty=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000), places=3),
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1_000), places=4),
)
@settings(max_examples=300, deadline=None)
def test_fill_value_is_rounded_to_the_cent_as_the_paper_ledger_books_it(
    qty: Decimal, price: Decimal
) -> None:
    from quantumtrade.domain.trading.ledger import cents

    expected = cents(qty * price)
    assert _kernels.cents(float(qty) * float(price)) == pytest.approx(float(expected), abs=1e-9)
    assert _kernels.cents(-float(qty) * float(price)) == pytest.approx(-float(expected), abs=1e-9)


def test_cent_ties_round_half_to_even() -> None:
    assert [_kernels.cents(v) for v in (0.125, 0.135, 2.5 / 100, -0.125)] == pytest.approx(
        [0.12, 0.14, 0.02, -0.12]
    )
