"""The information sources: the simulator's cut at its clock and streamed, and the router."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.information import InformationRouter, InformationUnavailable
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.marketdata.simulator.information import SimulatedInformation
from quantumtrade.marketdata.simulator.news import news_items

NOW = datetime(2026, 3, 11, 15, tzinfo=UTC)


def world(clock: FixedClock) -> SimulatedInformation:
    return SimulatedInformation(SimulatedMarket(seed=42, clock=clock))


async def test_history_stops_at_the_clock() -> None:
    info = world(FixedClock(NOW))
    week = await info.get_news(None, NOW - timedelta(days=7), NOW + timedelta(days=7))
    assert week and all(item.created_at < NOW for item in week)
    everything = news_items(info.market, None, NOW - timedelta(days=7), NOW + timedelta(days=7))
    assert week == [item for item in everything if item.created_at < NOW]
    posts = await info.get_social(["AAPL"], NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert posts and max(p.created_at for p in posts) < NOW
    assert await info.get_news(None, NOW + timedelta(hours=1), NOW + timedelta(days=1)) == []


async def test_crypto_has_no_filings_or_options() -> None:
    info = world(FixedClock(NOW))
    with pytest.raises(InformationUnavailable):
        await info.get_insider_filings("BTC/USD", NOW - timedelta(days=30), NOW)
    with pytest.raises(InformationUnavailable):
        await info.get_option_chain("BTC/USD", None)


async def test_the_news_stream_yields_each_story_once_as_the_clock_passes_it() -> None:
    clock = FixedClock(NOW)

    async def advance(seconds: float) -> None:  # the stream's sleep moves simulated time
        clock.advance(timedelta(minutes=30))
        await asyncio.sleep(0)

    market = SimulatedMarket(seed=42, clock=clock, sleep=advance)
    info = SimulatedInformation(market)
    stream = info.stream_news(None)
    got = [await anext(stream) for _ in range(25)]
    await stream.aclose()
    expected = news_items(market, None, NOW, got[-1].created_at + timedelta(microseconds=1))
    assert [item.id for item in got] == [item.id for item in expected][: len(got)]
    assert all(item.created_at >= NOW for item in got)


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    async def get_news(self, symbols, start, end):  # type: ignore[no-untyped-def]
        return [self.name]


async def test_the_router_asks_the_source_serving_each_symbols_prices() -> None:
    routes = {"AAPL": "alpaca", "MSFT": "simulator", "FILE1": "file"}
    router = InformationRouter(
        {"alpaca": Named("alpaca"), "simulator": Named("simulator")},  # type: ignore[dict-item]
        source_for=lambda symbol: routes[symbol],
        default="simulator",
    )
    assert await router.get_news(["AAPL"], NOW, NOW) == ["alpaca"]
    assert await router.get_news(["MSFT"], NOW, NOW) == ["simulator"]
    assert await router.get_news(None, NOW, NOW) == ["simulator"]
    with pytest.raises(InformationUnavailable):  # stored files carry no news
        await router.get_news(["FILE1"], NOW, NOW)
    with pytest.raises(InformationUnavailable):  # one answer cannot mix two sources
        await router.get_news(["AAPL", "MSFT"], NOW, NOW)


class StubNews:
    def __init__(self) -> None:
        self.asked: list[tuple[object, ...]] = []

    async def get_news(self, symbols, start, end, limit=None, sort="desc"):  # type: ignore[no-untyped-def]
        self.asked.append((symbols, start, end, sort))
        return []

    def stream_news(self, symbols):  # type: ignore[no-untyped-def]
        self.asked.append(("stream", tuple(symbols)))
        return symbols

    async def close(self) -> None:
        self.asked.append(("closed",))


async def test_alpaca_gives_news_only() -> None:
    from quantumtrade.marketdata.alpaca.information import AlpacaInformation

    stub = StubNews()
    alpaca = AlpacaInformation(stub)  # type: ignore[arg-type]
    assert await alpaca.get_news(["AAPL"], NOW, NOW) == []
    assert stub.asked[0] == (["AAPL"], NOW, NOW, "asc")
    alpaca.stream_news(None)
    assert stub.asked[-1] == ("stream", ("*",))  # every story: Alpaca's wildcard
    for call in (
        alpaca.get_social(["AAPL"], NOW, NOW),
        alpaca.get_insider_filings("AAPL", NOW, NOW),
        alpaca.get_option_chain("AAPL", None),
        alpaca.get_option_trades("AAPL", NOW, NOW),
    ):
        with pytest.raises(InformationUnavailable, match="alpaca"):
            await call
