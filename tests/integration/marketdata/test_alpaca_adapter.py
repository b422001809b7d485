"""AlpacaMarketData against a local server speaking Alpaca's market data protocol."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from alpaca_fake_server import (
    KEY,
    SECRET,
    AlpacaFakeServer,
    crypto_quote,
    crypto_trade,
    make_bars,
    stock_quote,
    stock_trade,
)
from quantumtrade.domain.market import BAR_COLUMNS, Bar, MarketEvent, Quote, Timeframe, Trade
from quantumtrade.marketdata.alpaca import (
    AlpacaAuthError,
    AlpacaConfig,
    AlpacaConnectionLimitError,
    AlpacaMarketData,
    AlpacaSymbolLimitError,
)
from quantumtrade.marketdata.source import UnknownSymbol

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
STAMP = datetime(2024, 1, 2, 14, 31, 5, 123456, tzinfo=UTC)


@pytest.fixture
async def server() -> AsyncIterator[AlpacaFakeServer]:
    # Long enough that a busy machine never trips it; the auth-timeout test sets its own.
    fake = AlpacaFakeServer(auth_timeout=30.0)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def config_for(server: AlpacaFakeServer, **overrides: Any) -> AlpacaConfig:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "secret_key": SECRET,
        "data_url": server.data_url,
        "stream_url": server.stream_url,
        "crypto_stream_url": server.stream_url,
        "reconnect_initial_delay": 0.05,
        "reconnect_max_delay": 0.2,
    }
    return AlpacaConfig(**(settings | overrides))


@contextlib.asynccontextmanager
async def alpaca(server: AlpacaFakeServer, **overrides: Any) -> AsyncIterator[AlpacaMarketData]:
    source = AlpacaMarketData(config_for(server, **overrides))
    try:
        yield source
    finally:
        await source.close()


class Reader:
    """Consume a stream in the background, as a real subscriber would."""

    def __init__(self, events: AsyncIterator[MarketEvent]) -> None:
        self.received: list[MarketEvent] = []
        self._events = events
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self._events:
            self.received.append(event)

    # The timeouts below only turn a hang into a failure: generous, for a busy machine.
    async def until(self, count: int, timeout: float = 30.0) -> list[MarketEvent]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                if self._task.done():
                    self._task.result()
                    raise AssertionError(f"stream ended after {self.received}")
                await asyncio.sleep(0.01)
        return self.received

    async def failure(self, timeout: float = 30.0) -> BaseException:
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        assert done, "stream did not fail"
        error = self._task.exception()
        assert error is not None, "stream ended without an error"
        return error

    async def finished(self, timeout: float = 30.0) -> None:
        """Wait for the stream to end by itself."""
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()


@contextlib.asynccontextmanager
async def reading(events: AsyncIterator[MarketEvent]) -> AsyncIterator[Reader]:
    reader = Reader(events)
    try:
        yield reader
    finally:
        await reader.close()


async def raw_client(
    server: AlpacaFakeServer, path: str = "/v2/iex", auth: bool = True
) -> ClientConnection:
    """A plain JSON client, for holding a connection or checking the wire format."""
    ws = await connect(server.stream_url + path)
    assert json.loads(await ws.recv()) == [{"T": "success", "msg": "connected"}]
    if auth:
        await ws.send(json.dumps({"action": "auth", "key": KEY, "secret": SECRET}))
        assert json.loads(await ws.recv()) == [{"T": "success", "msg": "authenticated"}]
    return ws


# -- REST ---------------------------------------------------------------------------------------


async def test_bars_span_pages_and_end_is_exclusive(server: AlpacaFakeServer) -> None:
    server.page_size = 4
    server.bars[("AAPL", "1Min")] = make_bars(T0, 11)  # the 11th starts exactly at `end`
    async with alpaca(server) as source:
        frame = await source.get_bars("aapl", Timeframe.MIN_1, T0, T0 + timedelta(minutes=10))

    assert tuple(frame.columns) == BAR_COLUMNS
    assert frame.index.name == "time"
    assert str(frame.index.tz) == "UTC"
    assert len(frame) == 10
    assert frame.index[0].to_pydatetime() == T0
    assert frame.index[-1].to_pydatetime() == T0 + timedelta(minutes=9)
    # open, high, low, close, volume, vwap, trade_count
    assert frame.iloc[0].tolist() == [100.0, 101.5, 99.5, 100.5, 1000.0, 100.25, 20.0]
    assert frame["open"].tolist() == [100.0 + i for i in range(10)]
    pages = [params for path, params in server.rest_requests if path == "/v2/stocks/bars"]
    assert len(pages) == 3
    assert "page_token" not in pages[0]
    assert all("page_token" in p for p in pages[1:])
    assert {(p["symbols"], p["timeframe"], p["feed"]) for p in pages} == {("AAPL", "1Min", "iex")}


@pytest.mark.parametrize("timeframe", list(Timeframe))
async def test_every_timeframe_maps_to_alpaca(
    server: AlpacaFakeServer, timeframe: Timeframe
) -> None:
    server.bars[("MSFT", timeframe.value)] = make_bars(T0, 3, timeframe.delta)
    async with alpaca(server) as source:
        frame = await source.get_bars("MSFT", timeframe, T0, T0 + 3 * timeframe.delta)
    assert len(frame) == 3
    assert server.rest_requests[-1][1]["timeframe"] == timeframe.value


async def test_latest_trade_and_quote(server: AlpacaFakeServer) -> None:
    server.latest_trades["AAPL"] = stock_trade(187.25, 50, STAMP, trade_id=7)
    server.latest_quotes["AAPL"] = stock_quote(187.2, 3, 187.3, 4, STAMP)
    async with alpaca(server) as source:
        trade = await source.latest_trade("AAPL")
        quote = await source.latest_quote("AAPL")
        with pytest.raises(UnknownSymbol):
            await source.latest_trade("NOPE")
        with pytest.raises(UnknownSymbol):
            await source.latest_quote("NOPE")

    assert trade == Trade("AAPL", STAMP, 187.25, 50.0, exchange="V", trade_id="7")
    assert trade.time.tzinfo == UTC
    assert quote == Quote("AAPL", STAMP, 187.2, 3.0, 187.3, 4.0)


async def test_rest_rejects_a_bad_key_clearly(server: AlpacaFakeServer) -> None:
    async with alpaca(server, secret_key="wrong") as source:
        with pytest.raises(AlpacaAuthError, match="Alpaca rejected the API key"):
            await source.latest_trade("AAPL")


# -- streams ------------------------------------------------------------------------------------


async def test_trades_quotes_and_bars_arrive_as_domain_objects(server: AlpacaFakeServer) -> None:
    bar = make_bars(T0, 1)[0]
    async with (
        alpaca(server) as source,
        reading(source.stream(["AAPL"], ["trades", "quotes", "bars"])) as reader,
    ):
        for channel in ("trades", "quotes", "bars"):
            await server.wait_subscribed("AAPL", channel)
        await server.push_trade("AAPL", 187.5, 100, STAMP, trade_id=42)
        await server.push_quote("AAPL", 187.4, 2, 187.6, 5, STAMP)
        await server.push_bar("AAPL", bar)
        events = await reader.until(3)

    assert events == [
        Trade("AAPL", STAMP, 187.5, 100.0, exchange="V", trade_id="42"),
        Quote("AAPL", STAMP, 187.4, 2.0, 187.6, 5.0),
        Bar("AAPL", Timeframe.MIN_1, T0, 100.0, 101.5, 99.5, 100.5, 1000.0, 100.25, 20),
    ]
    assert all(e.time.tzinfo == UTC for e in events)
    assert server.subscribe_messages == [
        {"action": "subscribe", "trades": ["AAPL"], "quotes": ["AAPL"], "bars": ["AAPL"]}
    ]


async def test_crypto_symbols_use_the_crypto_endpoints(server: AlpacaFakeServer) -> None:
    server.bars[("BTC/USD", "1Hour")] = make_bars(T0, 2, timedelta(hours=1))
    server.latest_trades["BTC/USD"] = crypto_trade(42000.5, 0.25, STAMP)
    server.latest_quotes["BTC/USD"] = crypto_quote(42000.0, 1.5, 42001.0, 0.5, STAMP)
    async with alpaca(server) as source:
        frame = await source.get_bars("BTC/USD", Timeframe.HOUR_1, T0, T0 + timedelta(hours=2))
        trade = await source.latest_trade("btc/usd")
        quote = await source.latest_quote("BTC/USD")
        async with reading(source.stream(["BTC/USD", "AAPL"], ["trades"])) as reader:
            await server.wait_subscribed("BTC/USD")
            await server.wait_subscribed("AAPL")
            await server.push_trade("BTC/USD", 42002.0, 0.1, STAMP)
            await server.push_trade("AAPL", 187.0, 1, STAMP)
            events = await reader.until(2)

    assert len(frame) == 2
    assert trade == Trade("BTC/USD", STAMP, 42000.5, 0.25, exchange=None, trade_id="1")
    assert quote == Quote("BTC/USD", STAMP, 42000.0, 1.5, 42001.0, 0.5)
    assert sorted((e.symbol, e.price) for e in events if isinstance(e, Trade)) == [
        ("AAPL", 187.0),
        ("BTC/USD", 42002.0),
    ]
    rest_paths = {path for path, _ in server.rest_requests}
    assert rest_paths == {
        "/v1beta3/crypto/us/bars",
        "/v1beta3/crypto/us/latest/trades",
        "/v1beta3/crypto/us/latest/quotes",
    }
    assert server.connections == {"/v1beta3/crypto/us": 1, "/v2/iex": 1}


async def test_dropped_connection_reconnects_and_resubscribes(server: AlpacaFakeServer) -> None:
    async with (
        alpaca(server) as source,
        reading(source.stream(["AAPL", "MSFT"], ["trades", "quotes"])) as reader,
    ):
        await server.wait_subscribed("MSFT", "quotes")
        await server.push_trade("AAPL", 187.0, 1, STAMP)
        await reader.until(1)
        before = server.subscriptions()

        assert server.drop_all_connections() == 1
        await server.wait_for(lambda: server.connection_count == 2)
        await server.wait_subscribed("MSFT", "quotes")
        await server.push_trade("AAPL", 188.0, 2, STAMP)
        await server.push_quote("MSFT", 400.0, 1, 400.1, 1, STAMP)
        events = await reader.until(3)

    assert before == [{"quotes": ["AAPL", "MSFT"], "trades": ["AAPL", "MSFT"]}]
    assert len(server.subscribe_messages) == 2
    assert server.subscribe_messages[0] == server.subscribe_messages[1]
    assert [getattr(e, "price", None) for e in events] == [187.0, 188.0, None]
    assert isinstance(events[2], Quote)


async def test_rejected_key_fails_on_the_first_refusal_without_retrying(
    server: AlpacaFakeServer,
) -> None:
    async with (
        alpaca(server, secret_key="wrong") as source,
        reading(source.stream(["AAPL"], ["trades"])) as reader,
    ):
        error = await reader.failure()

    assert isinstance(error, AlpacaAuthError)
    assert str(error) == "Alpaca rejected the API key (402 auth failed)"
    assert server.connection_count == 1  # one attempt: a refused key is not retried


async def test_symbol_limit_is_reported(server: AlpacaFakeServer) -> None:
    server.max_symbols = 1
    async with (
        alpaca(server) as source,
        reading(source.stream(["AAPL", "MSFT"], ["trades"])) as reader,
    ):
        error = await reader.failure()
    assert isinstance(error, AlpacaSymbolLimitError)
    assert "405 symbol limit exceeded" in str(error)


async def test_connection_limit_is_retried_then_reported(
    server: AlpacaFakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="quantumtrade.marketdata.alpaca")
    holder = await raw_client(server)
    try:
        async with (
            alpaca(server, connection_limit_retries=1) as source,
            reading(source.stream(["AAPL"], ["trades"])) as reader,
        ):
            error = await reader.failure()
    finally:
        await holder.close()

    assert isinstance(error, AlpacaConnectionLimitError)
    assert "406 connection limit exceeded" in str(error)
    assert server.connections["/v2/iex"] == 3  # the holder, the first try, one retry
    assert any("retrying (1 of 1)" in r.getMessage() for r in caplog.records)


async def test_reconnect_delays_grow_exponentially(server: AlpacaFakeServer) -> None:
    holder = await raw_client(server)
    try:
        async with (
            alpaca(
                server,
                reconnect_initial_delay=0.1,
                reconnect_max_delay=0.4,
                connection_limit_retries=3,
            ) as source,
            reading(source.stream(["AAPL"], ["trades"])) as reader,
        ):
            assert isinstance(await reader.failure(), AlpacaConnectionLimitError)
    finally:
        await holder.close()

    attempts = server.connected_at[1:]  # the holder came first
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # Equal jitter: retry n waits between half and all of min(0.1 * 2**(n-1), 0.4).
    assert len(gaps) == 3
    assert gaps[0] >= 0.05
    assert gaps[1] >= 0.1
    assert gaps[2] >= 0.2


async def test_close_ends_open_streams(server: AlpacaFakeServer) -> None:
    source = AlpacaMarketData(config_for(server))
    reader = Reader(source.stream(["AAPL"], ["trades"]))
    try:
        await server.wait_subscribed("AAPL")
        await source.close()
        await reader.finished()
        await server.wait_for(lambda: server.subscriptions() == [])
    finally:
        await reader.close()
        await source.close()


async def test_connection_limit_clears_when_the_old_session_goes(server: AlpacaFakeServer) -> None:
    holder = await raw_client(server)
    async with alpaca(server) as source, reading(source.stream(["AAPL"], ["trades"])) as reader:
        await server.wait_for(lambda: server.connections["/v2/iex"] >= 2)
        await holder.close()
        await server.wait_subscribed("AAPL")
        await server.push_trade("AAPL", 190.0, 1, STAMP)
        events = await reader.until(1)
    assert events[0].symbol == "AAPL"


async def test_slow_client_warning_is_logged_and_stream_continues(
    server: AlpacaFakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="quantumtrade.marketdata.alpaca")
    async with alpaca(server) as source, reading(source.stream(["AAPL"], ["trades"])) as reader:
        await server.wait_subscribed("AAPL")
        await server.push_error(407, "slow client")
        await server.push_trade("AAPL", 191.0, 1, STAMP)
        events = await reader.until(1)

    assert isinstance(events[0], Trade)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("407 slow client" in message for message in warnings)


# -- the fake server's own wire format ----------------------------------------------------------


async def test_server_speaks_json_to_json_clients_and_times_out_auth(
    server: AlpacaFakeServer,
) -> None:
    server.auth_timeout = 0.2
    idle = await raw_client(server, auth=False)
    try:
        assert json.loads(await idle.recv()) == [{"T": "error", "code": 404, "msg": "auth timeout"}]
    finally:
        await idle.close()

    ws = await raw_client(server)
    try:
        await ws.send(json.dumps({"action": "subscribe", "trades": ["AAPL"]}))
        reply = json.loads(await ws.recv())
        assert reply[0]["T"] == "subscription"
        assert reply[0]["trades"] == ["AAPL"]
        await server.push_trade("AAPL", 187.5, 100, STAMP)
        (trade,) = json.loads(await ws.recv())
        assert trade["t"] == "2024-01-02T14:31:05.123456000Z"
        assert {k: trade[k] for k in ("T", "S", "p", "s", "x")} == {
            "T": "t",
            "S": "AAPL",
            "p": 187.5,
            "s": 100,
            "x": "V",
        }
    finally:
        await ws.close()
