"""The live stream continues history exactly, paced by the clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Bar, MarketEvent, Quote, Timeframe, Trade, bars_from_frame
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.marketdata.source import UnknownSymbol


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def drain(events: AsyncIterator[MarketEvent], wait: float = 0.05) -> list[MarketEvent]:
    """Pull every event the stream has ready now."""
    out = []
    while True:
        try:
            out.append(await asyncio.wait_for(anext(events), wait))
        except TimeoutError:
            return out


async def test_streamed_minute_equals_history() -> None:
    clock = FixedClock(utc(2024, 12, 3, 15, 0))
    market = SimulatedMarket(clock=clock, max_wait=0.01)
    events = market.stream(["AAPL", "BTC/USD"], ["bars", "trades", "quotes"])
    assert await drain(events) == []
    clock.advance(timedelta(minutes=1))
    live = await drain(events)
    await events.aclose()

    bars = [e for e in live if isinstance(e, Bar)]
    assert {b.symbol for b in bars} == {"AAPL", "BTC/USD"}
    for bar in bars:
        history = await market.get_bars(bar.symbol, Timeframe.MIN_1, bar.time, clock.now())
        assert [bar] == bars_from_frame(bar.symbol, Timeframe.MIN_1, history)
    minute, now = utc(2024, 12, 3, 15, 0), clock.now()
    for symbol in ("AAPL", "BTC/USD"):
        trades = [e for e in live if isinstance(e, Trade) and e.symbol == symbol]
        quotes = [e for e in live if isinstance(e, Quote) and e.symbol == symbol]
        # The tick at 15:00:00 sharp was history when the stream opened; 15:01:00 is now.
        assert trades == market.trades_in_minute(symbol, minute)[1:] + market.trades_in_minute(
            symbol, now
        )
        assert quotes == market.quotes_in_minute(symbol, minute)[1:] + market.quotes_in_minute(
            symbol, now
        )
        assert len(market.trades_in_minute(symbol, now)) == 1
    times = [e.time for e in live if not isinstance(e, Bar)]  # a bar's time is its start
    assert times == sorted(times)
    assert all(t <= clock.now() for t in times)


async def test_the_stream_waits_for_the_clock() -> None:
    clock = FixedClock(utc(2024, 12, 3, 15, 0, 10))
    market = SimulatedMarket(clock=clock, max_wait=0.01)
    events = market.stream(["MSFT"], ["trades"])
    clock.advance(timedelta(seconds=5))
    first_batch = await drain(events)
    assert first_batch and all(e.time <= clock.now() for e in first_batch)
    clock.advance(timedelta(seconds=5))
    second_batch = await drain(events)
    await events.aclose()
    assert second_batch and second_batch[0].time > first_batch[-1].time
    assert first_batch + second_batch == [
        t
        for t in market.trades_in_minute("MSFT", utc(2024, 12, 3, 15))
        if utc(2024, 12, 3, 15, 0, 10) < t.time
    ]


async def test_a_sleep_that_moves_the_clock_runs_through_closed_hours() -> None:
    clock = FixedClock(utc(2024, 11, 29, 17, 58))  # two minutes before an early close

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    market = SimulatedMarket(clock=clock, sleep=sleep, max_wait=86_400)
    events = market.stream(["AAPL"], ["bars"])
    bars = [await anext(events) for _ in range(3)]
    await events.aclose()
    assert [b.time for b in bars] == [
        utc(2024, 11, 29, 17, 58),
        utc(2024, 11, 29, 17, 59),
        utc(2024, 12, 2, 14, 30),  # Monday's first minute, after the weekend
    ]
    assert clock.now() == utc(2024, 12, 2, 14, 31)
    history = await market.get_bars("AAPL", Timeframe.MIN_1, utc(2024, 11, 29), clock.now())
    assert bars_from_frame("AAPL", Timeframe.MIN_1, history.iloc[-3:]) == bars


async def test_stream_rejects_unknown_symbols_and_channels(market: SimulatedMarket) -> None:
    with pytest.raises(UnknownSymbol):
        market.stream(["NOPE"], ["bars"])
    with pytest.raises(ValueError, match="channels"):
        market.stream(["AAPL"], ["news"])  # type: ignore[list-item]
