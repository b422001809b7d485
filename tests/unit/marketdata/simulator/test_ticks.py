"""The tape: quotes and trades inside each minute bar, deterministic per minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.simulator import SimulatedMarket


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("symbol", "minute"),
    [
        ("AAPL", utc(2024, 12, 2, 14, 30)),
        ("AAPL", utc(2024, 12, 2, 17)),
        ("BTC/USD", utc(2024, 12, 1, 3, 4)),
    ],
)
async def test_trades_meet_quotes_inside_the_bar(
    market: SimulatedMarket, symbol: str, minute: datetime
) -> None:
    trades = market.trades_in_minute(symbol, minute)
    quotes = market.quotes_in_minute(symbol, minute)
    bar = (
        await market.get_bars(symbol, Timeframe.MIN_1, minute, minute + timedelta(minutes=1))
    ).iloc[0]
    assert len(trades) == len(quotes) >= 4
    for trade, quote in zip(trades, quotes, strict=True):
        assert trade.time == quote.time
        assert minute <= trade.time < minute + timedelta(minutes=1)
        assert quote.bid_price < quote.ask_price
        assert quote.bid_size > 0 and quote.ask_size > 0
        assert quote.bid_price <= trade.price <= quote.ask_price
        assert bar["low"] <= trade.price <= bar["high"]
    assert trades[0].price == bar["open"]
    assert trades[-1].price == bar["close"]
    assert max(t.price for t in trades) == bar["high"]
    assert min(t.price for t in trades) == bar["low"]
    assert sum(t.size for t in trades) == bar["volume"]
    assert [t.time for t in trades] == sorted(t.time for t in trades)


def test_spreads_are_tight_for_liquid_names_and_proportional_for_bitcoin(
    market: SimulatedMarket,
) -> None:
    aapl = market.quotes_in_minute("AAPL", utc(2024, 12, 2, 17))
    btc = market.quotes_in_minute("BTC/USD", utc(2024, 12, 2, 17))
    assert max(q.spread / q.mid for q in aapl) < 20e-4
    assert 1e-4 < sum(q.spread / q.mid for q in btc) / len(btc) < 50e-4
    opening = market.quotes_in_minute("AAPL", utc(2024, 12, 2, 14, 30))
    mean = sum(q.spread / q.mid for q in opening) / len(opening)
    assert mean > 1.5 * sum(q.spread / q.mid for q in aapl) / len(aapl)


def test_the_tape_is_deterministic(market: SimulatedMarket) -> None:
    twin = SimulatedMarket(seed=42, clock=FixedClock(utc(2025, 1, 6, 23)))
    minute = utc(2023, 5, 10, 15, 45)
    assert twin.trades_in_minute("NFLX", minute) == market.trades_in_minute("NFLX", minute)
    assert twin.quote_at("NFLX", minute + timedelta(seconds=20)) == market.quote_at(
        "NFLX", minute + timedelta(seconds=20)
    )
    assert market.trades_in_minute("NFLX", utc(2023, 5, 13, 15)) == []  # Saturday


async def test_latest_trade_and_quote_during_a_session() -> None:
    now = utc(2024, 12, 3, 15, 0, 30)
    market = SimulatedMarket(clock=FixedClock(now))
    trade, quote = await market.latest_trade("AAPL"), await market.latest_quote("AAPL")
    assert utc(2024, 12, 3, 15) <= trade.time <= now
    assert quote.time == trade.time
    earlier = [t for t in market.trades_in_minute("AAPL", now) if t.time <= now]
    assert trade == earlier[-1]


async def test_outside_the_session_the_last_print_of_the_previous_one_stands() -> None:
    market = SimulatedMarket(clock=FixedClock(utc(2024, 11, 30, 12)))  # Saturday
    trade = await market.latest_trade("AAPL")
    assert trade == market.trades_in_minute("AAPL", utc(2024, 11, 29, 17, 59))[-1]
    daily = await market.get_bars("AAPL", Timeframe.DAY_1, utc(2024, 11, 29), utc(2024, 11, 30))
    assert trade.price == daily["close"].iloc[0]
    quote = await market.latest_quote("AAPL")
    assert quote.bid_price <= trade.price <= quote.ask_price
    bitcoin = await market.latest_trade("BTC/USD")
    assert utc(2024, 11, 30, 11, 59) <= bitcoin.time <= utc(2024, 11, 30, 12)


def test_no_tick_from_the_future(market: SimulatedMarket) -> None:
    with pytest.raises(ValueError, match="future"):
        market.quote_at("AAPL", utc(2025, 1, 7, 15))
    assert market.trades_in_minute("AAPL", utc(2025, 1, 7, 15)) == []
