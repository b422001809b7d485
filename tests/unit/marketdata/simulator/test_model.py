"""The master path: determinism, correlation structure and regimes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.simulator import (
    DEFAULT_UNIVERSE,
    REGIMES,
    MarketModel,
    OutOfSimulationRange,
    Regime,
    SimulatedMarket,
)

DAY = Timeframe.DAY_1


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_block_does_not_depend_on_how_far_ahead_was_asked() -> None:
    short, long = MarketModel(DEFAULT_UNIVERSE, 42), MarketModel(DEFAULT_UNIVERSE, 42)
    long.block(12)
    for name in ("ret", "intra", "log_close", "sd_gap", "u_high", "regime"):
        assert np.array_equal(getattr(short.block(3), name), getattr(long.block(3), name))


def test_seeds_give_different_paths() -> None:
    a, b = MarketModel(DEFAULT_UNIVERSE, 1), MarketModel(DEFAULT_UNIVERSE, 2)
    assert not np.allclose(a.block(0).ret, b.block(0).ret)


async def test_same_seed_same_daily_history_whatever_the_range(market: SimulatedMarket) -> None:
    twin = SimulatedMarket(seed=42, clock=FixedClock(utc(2025, 1, 6, 23)))
    whole = await market.get_bars("NVDA", DAY, utc(2010, 1, 1), utc(2012, 1, 1))
    first = await twin.get_bars("NVDA", DAY, utc(2011, 3, 1), utc(2012, 1, 1))
    second = await twin.get_bars("NVDA", DAY, utc(2010, 1, 1), utc(2011, 3, 1))
    pd.testing.assert_frame_equal(whole, pd.concat([second, first]))


async def test_different_seeds_and_symbols_differ(
    market: SimulatedMarket, other_seed_market: SimulatedMarket
) -> None:
    start, end = utc(2019, 1, 1), utc(2019, 3, 1)
    ours = await market.get_bars("AAPL", DAY, start, end)
    theirs = await other_seed_market.get_bars("AAPL", DAY, start, end)
    msft = await market.get_bars("MSFT", DAY, start, end)
    assert list(ours.index) == list(theirs.index)
    assert not np.allclose(ours["close"], theirs["close"])
    assert not np.allclose(np.diff(np.log(ours["close"])), np.diff(np.log(msft["close"])))


async def test_prices_are_anchored_realistically(market: SimulatedMarket) -> None:
    bars = await market.get_bars("AAPL", DAY, utc(2024, 1, 2), utc(2024, 1, 3))
    assert bars["close"].iloc[0] == pytest.approx(185.0, abs=0.01)


async def daily_returns(market: SimulatedMarket, symbols: list[str]) -> pd.DataFrame:
    closes = {
        s: (await market.get_bars(s, DAY, utc(2008, 1, 1), utc(2014, 1, 1)))["close"]
        for s in symbols
    }
    return np.log(pd.DataFrame(closes)).diff().dropna()


async def test_symbols_are_correlated_like_real_ones(market: SimulatedMarket) -> None:
    returns = await daily_returns(market, ["AAPL", "QQQ", "SPY", "XOM", "NVDA"])
    corr = returns.corr()
    assert corr.loc["AAPL", "QQQ"] > 0.5
    assert corr.loc["SPY", "QQQ"] > 0.7
    assert corr.loc["XOM", "NVDA"] < corr.loc["AAPL", "QQQ"] - 0.2
    volatility = returns.std() * np.sqrt(252)
    assert 0.10 < volatility["SPY"] < 0.30
    assert volatility["NVDA"] > 1.5 * volatility["SPY"]


async def test_all_regimes_appear_and_crises_are_volatile(market: SimulatedMarket) -> None:
    regimes = market.regimes(date(2000, 1, 3), date(2020, 1, 1))
    assert set(regimes.unique()) == {r.value for r in REGIMES}
    spy = await market.get_bars("SPY", DAY, utc(2000, 1, 1), utc(2020, 1, 1))
    returns = np.log(spy["close"]).diff()
    by_regime = returns.groupby(market.bar_regimes(spy).to_numpy()).std()
    assert by_regime[Regime.CRISIS] > 1.5 * by_regime[Regime.BULL]
    assert by_regime[Regime.BEAR] > by_regime[Regime.BULL]


def test_regimes_stop_at_the_clock(market: SimulatedMarket) -> None:
    regimes = market.regimes(date(2025, 1, 1), date(2025, 3, 1))
    assert regimes.index[-1] == pd.Timestamp("2025-01-06", tz="UTC")
    with pytest.raises(ValueError, match="future"):
        market.bar_regimes(pd.DatetimeIndex([pd.Timestamp("2025-02-01", tz="UTC")]))


def test_the_model_covers_a_bounded_range() -> None:
    model = MarketModel(DEFAULT_UNIVERSE, 42)
    with pytest.raises(OutOfSimulationRange):
        model.block(10_000)
