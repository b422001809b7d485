from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.metrics import sharpe_ratio, simple_returns
from quantumtrade.domain.trading.performance import (
    LedgerEvent,
    equity_curve,
    period_returns,
    portfolio_performance,
)

D = Decimal


def utc(year: int, month: int, day: int, hour: int = 15) -> datetime:
    # 15:00 UTC is 10:00 or 11:00 in New York: the same calendar date.
    return datetime(year, month, day, hour, tzinfo=UTC)


def closes(prices: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(prices, index=pd.DatetimeIndex(dates), dtype="float64")


def buy(at: datetime, symbol: str, qty: str, price: str, fees: str = "0") -> LedgerEvent:
    return LedgerEvent(at, -(D(qty) * D(price) + D(fees)), symbol, D(qty))


def sell(at: datetime, symbol: str, qty: str, price: str, fees: str = "0") -> LedgerEvent:
    return LedgerEvent(at, D(qty) * D(price) - D(fees), symbol, -D(qty))


def deposit(at: datetime, amount: str) -> LedgerEvent:
    return LedgerEvent(at, D(amount))


# 2024-01-05 is a Friday, 2024-01-08 a Monday.
FRI_MON = ["2024-01-04", "2024-01-05", "2024-01-08"]


def test_buy_10_at_100_closing_at_101_is_equity_1010() -> None:
    prices = closes({"AAPL": [101.0]}, ["2024-01-04"])
    curve = equity_curve([buy(utc(2024, 1, 4), "AAPL", "10", "100")], prices, start_cash=D(1000))
    row = curve.iloc[0]
    assert row["cash"] == 0.0
    assert row["long_market_value"] == pytest.approx(1010.0)
    assert row["short_market_value"] == 0.0
    assert row["equity"] == pytest.approx(1010.0)
    assert list(curve.columns) == [
        "cash",
        "long_market_value",
        "short_market_value",
        "equity",
        "net_flow",
    ]
    assert all(dtype == np.float64 for dtype in curve.dtypes)


def test_short_position_is_negative_and_equity_is_the_sum() -> None:
    prices = closes({"AAPL": [101.0, 110.0], "MSFT": [50.0, 55.0]}, FRI_MON[:2])
    events = [
        buy(utc(2024, 1, 4), "MSFT", "10", "50", fees="1"),
        sell(utc(2024, 1, 4), "AAPL", "5", "100", fees="1"),
    ]
    curve = equity_curve(events, prices, start_cash=D(1000))
    # Cash: 1000 - 501 + 499 = 998.
    assert curve["cash"].tolist() == pytest.approx([998.0, 998.0])
    assert curve["long_market_value"].tolist() == pytest.approx([500.0, 550.0])
    assert curve["short_market_value"].tolist() == pytest.approx([-505.0, -550.0])
    assert curve["equity"].tolist() == pytest.approx([993.0, 998.0])
    parts = curve["cash"] + curve["long_market_value"] + curve["short_market_value"]
    assert curve["equity"].tolist() == pytest.approx(parts.tolist())


def test_weekend_event_counts_on_monday() -> None:
    prices = closes({"AAPL": [100.0, 100.0, 100.0]}, FRI_MON)
    curve = equity_curve([deposit(utc(2024, 1, 6), "500")], prices, start_cash=D(1000))
    assert curve["cash"].tolist() == [1000.0, 1000.0, 1500.0]
    assert curve["net_flow"].tolist() == [0.0, 0.0, 500.0]


def test_event_counts_on_its_new_york_date_not_its_utc_date() -> None:
    prices = closes({"AAPL": [100.0, 100.0, 100.0]}, FRI_MON)
    # 02:00 UTC on Saturday is 21:00 on Friday in New York.
    curve = equity_curve([deposit(utc(2024, 1, 6, hour=2), "500")], prices)
    assert curve["cash"].tolist() == [0.0, 500.0, 500.0]
    in_utc = equity_curve([deposit(utc(2024, 1, 6, hour=2), "500")], prices, tz="UTC")
    assert in_utc["cash"].tolist() == [0.0, 0.0, 500.0]


def test_events_before_start_fold_in_and_after_end_are_ignored() -> None:
    prices = closes({"AAPL": [100.0, 102.0]}, FRI_MON[:2])
    events = [
        deposit(utc(2023, 12, 1), "1000"),
        buy(utc(2023, 12, 2), "AAPL", "5", "90"),
        sell(utc(2024, 1, 9), "AAPL", "5", "120"),
    ]
    curve = equity_curve(events, prices)
    assert curve["cash"].tolist() == [550.0, 550.0]
    assert curve["equity"].tolist() == pytest.approx([1050.0, 1060.0])
    # Flows before the first session are the starting state, not a flow on it.
    assert curve["net_flow"].tolist() == [0.0, 0.0]


def test_missing_close_uses_last_known_close() -> None:
    prices = closes({"AAPL": [100.0, math.nan, 104.0]}, FRI_MON)
    curve = equity_curve([buy(utc(2024, 1, 4), "AAPL", "2", "100")], prices, start_cash=D(200))
    assert curve["long_market_value"].tolist() == [200.0, 200.0, 208.0]


def test_held_symbol_never_priced_raises() -> None:
    prices = closes({"AAPL": [100.0, 101.0]}, FRI_MON[:2])
    with pytest.raises(InvalidInput) as caught:
        equity_curve([buy(utc(2024, 1, 5), "TSLA", "1", "200")], prices, start_cash=D(500))
    assert caught.value.code == "unpriced_position"
    assert caught.value.details == {"symbols": ["TSLA"], "date": "2024-01-05"}


def test_held_symbol_priced_only_later_raises() -> None:
    prices = closes({"AAPL": [math.nan, 101.0]}, FRI_MON[:2])
    with pytest.raises(InvalidInput):
        equity_curve([buy(utc(2024, 1, 4), "AAPL", "1", "100")], prices, start_cash=D(500))


def test_position_closed_exactly_needs_no_price() -> None:
    # 0.1 + 0.2 - 0.3 is not zero in float; the ledger sums it exactly.
    prices = closes({"AAPL": [100.0]}, ["2024-01-04"])
    events = [
        buy(utc(2024, 1, 4), "BTC", "0.1", "40000"),
        buy(utc(2024, 1, 4), "BTC", "0.2", "40000"),
        sell(utc(2024, 1, 4), "BTC", "0.3", "41000"),
    ]
    curve = equity_curve(events, prices, start_cash=D(20000))
    assert curve["equity"].tolist() == pytest.approx([20300.0])
    assert curve["long_market_value"].tolist() == [0.0]


def test_naive_event_time_is_rejected() -> None:
    prices = closes({"AAPL": [100.0]}, ["2024-01-04"])
    with pytest.raises(InvalidInput):
        equity_curve([LedgerEvent(datetime(2024, 1, 4), D(1))], prices)


def test_no_events_is_flat_start_cash() -> None:
    prices = closes({"AAPL": [100.0, 101.0]}, FRI_MON[:2])
    curve = equity_curve([], prices, start_cash=D("1000.50"))
    assert curve["equity"].tolist() == [1000.5, 1000.5]


def daily_equity(start: str, values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def test_weekly_return_compounds_the_daily_returns_of_that_week() -> None:
    rng = np.random.default_rng(7)
    equity = daily_equity("2024-01-02", list(1000.0 * np.cumprod(1.0 + rng.normal(0, 0.01, 45))))
    daily = period_returns(equity, "D")
    weekly = period_returns(equity, "W")
    monthly = period_returns(equity, "M")
    # The first period runs from the first value.
    assert daily.iloc[0] == 0.0
    assert weekly.iloc[0] == pytest.approx(equity.loc["2024-01-05"] / equity.iloc[0] - 1.0)
    assert all(label.day_of_week == 4 for label in weekly.index)
    assert list(monthly.index) == list(pd.DatetimeIndex(["2024-01-31", "2024-02-29", "2024-03-31"]))
    for end, value in weekly.items():
        week = daily[(daily.index > end - pd.Timedelta(days=7)) & (daily.index <= end)]
        assert value == pytest.approx(float(np.prod(1.0 + week.to_numpy()) - 1.0))
    assert float(np.prod(1.0 + monthly.to_numpy()) - 1.0) == pytest.approx(
        equity.iloc[-1] / equity.iloc[0] - 1.0
    )


def test_daily_returns_drop_non_session_days() -> None:
    equity = daily_equity("2024-01-04", [100.0, 110.0, 99.0])
    assert period_returns(equity, "D").tolist() == pytest.approx([0.0, 0.1, -0.1])


def test_deposit_is_not_a_return_with_flows() -> None:
    equity = daily_equity("2024-01-04", [1000.0, 1010.0, 2020.0])
    flows = pd.Series([0.0, 0.0, 1000.0], index=equity.index)
    returns = period_returns(equity, "D", flows=flows)
    # Day 3: (2020 / (1010 + 1000)) - 1; the deposit earns that day's return.
    assert returns.tolist() == pytest.approx([0.0, 0.01, 2020.0 / 2010.0 - 1.0])


def test_returns_start_when_the_account_is_first_funded() -> None:
    equity = daily_equity("2024-01-02", [0.0, 0.0, 1000.0, 1010.0])
    flows = pd.Series([0.0, 0.0, 1000.0, 0.0], index=equity.index)
    returns = period_returns(equity, "D", flows=flows)
    assert returns.index[0] == pd.Timestamp("2024-01-03")
    assert returns.tolist() == pytest.approx([0.0, 0.0, 0.01])


def test_unknown_frequency_raises() -> None:
    with pytest.raises(InvalidInput):
        period_returns(daily_equity("2024-01-02", [1.0, 2.0]), "Y")


def test_report_uses_metrics_on_the_curve() -> None:
    equity = [1000.0, 1010.0, 1005.0, 1030.0, 1020.0, 1040.0]
    curve = pd.DataFrame(
        {"cash": 0.0, "equity": equity}, index=pd.bdate_range("2024-01-02", periods=6)
    )
    report = portfolio_performance(curve, trades_pl=[10.0, -5.0, 20.0])
    summary = report["summary"]
    series = pd.Series(equity)
    assert summary["total_return"] == pytest.approx(0.04)
    assert summary["sharpe"] == pytest.approx(sharpe_ratio(simple_returns(series)))
    assert summary["max_drawdown"] == pytest.approx(1.0 - 1020.0 / 1030.0)
    assert summary["n_trades"] == 3
    assert summary["win_rate"] == pytest.approx(2 / 3)
    assert summary["profit_factor"] == pytest.approx(6.0)
    assert report["equity_curve"][0] == {"date": "2024-01-02", "equity": 1000.0, "cash": 0.0}
    assert [point["date"] for point in report["returns"]["weekly"]] == ["2024-01-05", "2024-01-12"]
    assert "benchmark" not in report


def test_report_takes_deposits_out_of_the_returns() -> None:
    prices = closes({"SPY": [100.0, 101.0, 102.01]}, FRI_MON)
    events = [
        deposit(utc(2024, 1, 4), "1000"),
        buy(utc(2024, 1, 4), "SPY", "10", "100"),
        deposit(utc(2024, 1, 8), "5000"),
    ]
    report = portfolio_performance(equity_curve(events, prices))
    # Monday: the 5,000 paid in sits in cash, so only the shares earn (1020.1 - 1010).
    monday = (5000.0 + 1020.1) / (1010.0 + 5000.0) - 1.0
    assert [p["return"] for p in report["returns"]["daily"]] == pytest.approx([0.0, 0.01, monday])
    assert report["summary"]["total_return"] == pytest.approx(1.01 * (1.0 + monday) - 1.0)


def test_portfolio_that_is_the_benchmark_has_beta_1_and_alpha_0() -> None:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-02", periods=60)
    spy = pd.Series(400.0 * np.cumprod(1.0 + rng.normal(0, 0.01, 60)), index=dates)
    curve = equity_curve(
        [buy(utc(2023, 12, 1), "SPY", "25", "400")],
        pd.DataFrame({"SPY": spy}),
        start_cash=D(10000),
    )
    report = portfolio_performance(curve, benchmark_close=spy, risk_free=0.03)
    bench, relative = report["benchmark"], report["benchmark"]["relative"]
    assert relative["beta"] == pytest.approx(1.0)
    assert relative["alpha"] == pytest.approx(0.0, abs=1e-9)
    assert relative["correlation"] == pytest.approx(1.0)
    assert relative["tracking_error"] == pytest.approx(0.0, abs=1e-9)
    assert relative["excess_return"] == pytest.approx(0.0, abs=1e-12)
    assert bench["total_return"] == pytest.approx(spy.iloc[-1] / spy.iloc[0] - 1.0)
    assert bench["sharpe"] == pytest.approx(report["summary"]["sharpe"])


def test_benchmark_is_compared_on_common_dates_only() -> None:
    dates = pd.bdate_range("2024-01-02", periods=5)
    curve = pd.DataFrame({"cash": 0.0, "equity": [100.0, 102.0, 101.0, 104.0, 103.0]}, dates)
    # The benchmark misses the third session and has one the curve lacks.
    bench_dates = [*dates[:2], *dates[3:], pd.Timestamp("2024-01-09")]
    bench = pd.Series([50.0, 51.0, 52.0, 51.5, 60.0], index=pd.DatetimeIndex(bench_dates))
    relative = portfolio_performance(curve, benchmark_close=bench)["benchmark"]["relative"]
    ours = np.array([102.0 / 100.0, 104.0 / 102.0, 103.0 / 104.0]) - 1.0
    theirs = np.array([51.0 / 50.0, 52.0 / 51.0, 51.5 / 52.0]) - 1.0
    beta = np.cov(ours, theirs, ddof=1)[0, 1] / np.var(theirs, ddof=1)
    assert relative["beta"] == pytest.approx(beta)
    assert relative["excess_return"] == pytest.approx(0.03 - 0.03)


@pytest.mark.parametrize("points", [0, 1])
def test_short_curve_renders_json_with_none_ratios(points: int) -> None:
    dates = pd.bdate_range("2024-01-02", periods=points)
    curve = pd.DataFrame({"cash": [1000.0] * points, "equity": [1000.0] * points}, index=dates)
    bench = pd.Series([400.0] * points, index=dates)
    report = portfolio_performance(curve, benchmark_close=bench)
    json.dumps(report, allow_nan=False)
    summary = report["summary"]
    for key in ("total_return", "sharpe", "sortino", "calmar", "max_drawdown", "win_rate"):
        assert summary[key] is None
    assert summary["n_trades"] == 0
    assert report["benchmark"]["relative"]["beta"] is None
    assert len(report["equity_curve"]) == points
    assert len(report["returns"]["daily"]) == points


def test_flat_curve_and_one_sided_trades_are_json_safe() -> None:
    dates = pd.bdate_range("2024-01-02", periods=30)
    curve = pd.DataFrame({"cash": 500.0, "equity": 500.0}, index=dates)
    report = portfolio_performance(
        curve, trades_pl=[5.0, 7.0], benchmark_close=pd.Series(1.0, index=dates)
    )
    text = json.dumps(report, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert report["summary"]["sharpe"] is None
    assert report["summary"]["profit_factor"] is None  # infinite: no losing trade
    assert report["summary"]["total_return"] == 0.0
