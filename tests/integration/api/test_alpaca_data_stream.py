"""Alpaca's market data stream (``/v2/{feed}``, ``/v1beta3/crypto/us``) on a live server.

Events are published on the bus the way the market feed publishes them (``event_message``),
so what reaches a client is what the feed would send. The socket delivers in publishing order:
a message published after others bounds them, so "nothing else came" needs no fixed wait.
The unmodified alpaca-py SDK drives a real server process in
``tests/e2e/test_alpaca_sdk_data_stream.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
import websockets
from alpaca.data.models import Bar as AlpacaBar
from alpaca.data.models import Quote as AlpacaQuote
from alpaca.data.models import Trade as AlpacaTrade
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from integration.ws.conftest import live_server
from integration.ws.wsclient import WAIT, LiveServer, ServerFactory
from quantumtrade.api.alpaca import data_stream
from quantumtrade.domain.market import Bar, MarketEvent, Quote, Timeframe, Trade
from quantumtrade.services.market_feed import event_message, market_channel
from support import wait_until

from .test_alpaca_api import trader

__all__ = ["live_server"]  # the WebSocket tests' live server, shared

T0 = datetime(2026, 11, 18, 16, 0, 1, 250000, tzinfo=UTC)
T0_TEXT = "2026-11-18T16:00:01.250000000Z"
CONNECTED = {"T": "success", "msg": "connected"}
AUTHENTICATED = {"T": "success", "msg": "authenticated"}
STOCK_ACK_CHANNELS = (
    "trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
    "corrections", "cancelErrors",
)  # fmt: skip


def error(code: int, msg: str) -> dict[str, Any]:
    return {"T": "error", "code": code, "msg": msg}


def trade(symbol: str, price: float, size: float = 100.0) -> Trade:
    exchange = "CRYPTO" if "/" in symbol else "NASDAQ"
    return Trade(symbol, T0, price, size, exchange)


async def publish(server: LiveServer, *events: MarketEvent) -> None:
    for event in events:
        await server.container.bus.publish(market_channel(event.symbol), event_message(event))


async def key_pair(server: LiveServer) -> dict[str, Any]:
    """A new user's API key pair for a portfolio of theirs (and, as ``owner``, their auth)."""
    owner, _portfolio, key = await trader(server.http)
    return {**key, "owner": owner}


def url(server: LiveServer, path: str = "/v2/iex") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


async def recv(ws: ClientConnection) -> list[dict[str, Any]]:
    """One frame, JSON or msgpack: Alpaca's frames are arrays of messages."""
    raw = await asyncio.wait_for(ws.recv(), WAIT)
    frame = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
    assert isinstance(frame, list), frame
    return frame


async def recv_through(
    ws: ClientConnection, last: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every message up to and including the first ``last`` one, across frames."""
    messages: list[dict[str, Any]] = []
    while not messages or not last(messages[-1]):
        for message in await recv(ws):
            if not messages or not last(messages[-1]):
                messages.append(message)
    return messages


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def login(
    server: LiveServer, key: dict[str, Any], path: str = "/v2/iex", **connect: Any
) -> ClientConnection:
    ws = await websockets.connect(url(server, path), **connect)
    assert await recv(ws) == [CONNECTED]
    await send(ws, {"action": "auth", "key": key["key_id"], "secret": key["secret_key"]})
    assert await recv(ws) == [AUTHENTICATED]
    return ws


@contextlib.asynccontextmanager
async def streaming(
    live_server: ServerFactory, **settings: Any
) -> AsyncIterator[tuple[LiveServer, dict[str, Any], ClientConnection]]:
    """A live server with ``settings``, a key pair and a stream authenticated with it."""
    async with live_server(**settings) as server:
        key = await key_pair(server)
        ws = await login(server, key)
        try:
            yield server, key, ws
        finally:
            await ws.close()


async def subscribe(ws: ClientConnection, action: str = "subscribe", **channels: Any) -> Any:
    await send(ws, {"action": action, **channels})
    (reply,) = await recv(ws)
    return reply


async def closed_with(ws: ClientConnection) -> tuple[list[dict[str, Any]], int]:
    """Read what is left until the server closes: the messages and the close code."""
    messages: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.extend(await recv(ws))
    assert closed.value.rcvd is not None
    return messages, closed.value.rcvd.code


async def test_handshake_then_trades_quotes_and_bars_of_subscribed_symbols_only(
    live_server: ServerFactory,
) -> None:
    async with streaming(live_server) as (server, _key, ws):
        ack = await subscribe(ws, trades=["AAPL"], quotes=["aapl"], bars=["AAPL"])
        assert ack == {"T": "subscription"} | {
            channel: ["AAPL"] if channel in ("trades", "quotes", "bars") else []
            for channel in STOCK_ACK_CHANNELS
        } | {"corrections": ["AAPL"], "cancelErrors": ["AAPL"]}  # they follow trades

        await publish(
            server,
            trade("MSFT", 400.0),
            Quote("MSFT", T0, 399.9, 100, 400.1, 100),
            trade("AAPL", 190.5),
            Quote("AAPL", T0, 190.4, 200, 190.6, 300),
            Bar("AAPL", Timeframe.MIN_5, T0, 190.0, 191.0, 189.5, 190.5, 50_000, 190.2, 200),
            Bar("AAPL", Timeframe.MIN_1, T0, 190.0, 191.0, 189.5, 190.5, 12_345, 190.2, 42),
        )
        got = await recv_through(ws, lambda m: m["T"] == "b")
        assert [(m["T"], m["S"]) for m in got] == [("t", "AAPL"), ("q", "AAPL"), ("b", "AAPL")]
        sent_trade, sent_quote, sent_bar = got
        assert isinstance(sent_trade.pop("i"), int)
        assert sent_trade == {
            "T": "t", "S": "AAPL", "p": 190.5, "s": 100, "t": T0_TEXT, "x": "Q", "c": ["@"],
            "z": "C",
        }  # fmt: skip
        assert sent_quote == {
            "T": "q", "S": "AAPL", "bp": 190.4, "bs": 200, "ap": 190.6, "as": 300, "t": T0_TEXT,
            "c": ["R"],
        }  # fmt: skip
        assert sent_bar == {
            "T": "b", "S": "AAPL", "o": 190.0, "h": 191.0, "l": 189.5, "c": 190.5, "v": 12_345,
            "t": T0_TEXT, "n": 42, "vw": 190.2,
        }  # fmt: skip
        # alpaca-py's own models read them.
        assert AlpacaTrade("AAPL", sent_trade).timestamp == T0
        assert AlpacaQuote("AAPL", sent_quote).ask_size == 300
        assert AlpacaBar("AAPL", sent_bar).trade_count == 42


async def test_requests_before_auth_get_400_or_401_and_a_bad_secret_402_then_close(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        key = await key_pair(server)
        ws = await websockets.connect(url(server))
        assert await recv(ws) == [CONNECTED]
        await ws.send("{not json")
        assert await recv(ws) == [error(400, "invalid syntax")]
        await send(ws, {"action": "subscribe", "trades": ["AAPL"]})
        assert await recv(ws) == [error(401, "not authenticated")]
        await send(ws, {"action": "auth", "key": key["key_id"], "secret": "wrong"})
        assert await closed_with(ws) == ([error(402, "auth failed")], 1008)

        unknown = await websockets.connect(url(server))
        await recv(unknown)
        await send(unknown, {"action": "auth", "key": "PK" + "Z" * 18, "secret": "x"})
        assert await closed_with(unknown) == ([error(402, "auth failed")], 1008)


async def test_no_auth_in_time_gets_404_then_close(
    live_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_stream, "AUTH_TIMEOUT_SECONDS", 0.2)
    async with live_server() as server:
        ws = await websockets.connect(url(server))
        assert await recv(ws) == [CONNECTED]
        assert await closed_with(ws) == ([error(404, "auth timeout")], 1008)


async def test_after_auth_bad_requests_are_refused_and_the_stream_goes_on(
    live_server: ServerFactory,
) -> None:
    async with streaming(live_server) as (server, key, ws):
        await send(ws, {"action": "auth", "key": key["key_id"], "secret": key["secret_key"]})
        assert await recv(ws) == [error(403, "already authenticated")]
        assert await subscribe(ws, orderbooks=["AAPL"]) == error(410, "invalid subscribe action")
        assert await subscribe(ws, trades="AAPL") == error(400, "invalid syntax")
        assert await subscribe(ws, action="listen", trades=["AAPL"]) == error(400, "invalid syntax")
        await ws.send(b"\xc1")  # neither JSON nor msgpack
        assert await recv(ws) == [error(400, "invalid syntax")]
        assert (await subscribe(ws, trades=["AAPL"]))["trades"] == ["AAPL"]
        await publish(server, trade("AAPL", 1.5))
        assert [(m["T"], m["p"]) for m in await recv(ws)] == [("t", 1.5)]


async def test_wildcard_unsubscribe_and_the_crypto_endpoint(live_server: ServerFactory) -> None:
    async with live_server() as server:
        key = await key_pair(server)
        stocks = await login(server, key)
        coins = await login(server, key, "/v1beta3/crypto/us")
        # A crypto pair on the stock endpoint is listed, as Alpaca lists it, and never sent.
        assert (await subscribe(stocks, trades=["*", "BTC/USD"]))["trades"] == ["*", "BTC/USD"]
        ack = await subscribe(coins, trades=["*"])
        assert ack == {
            "T": "subscription", "trades": ["*"], "quotes": [], "bars": [], "updatedBars": [],
            "dailyBars": [], "orderbooks": [],
        }  # fmt: skip
        await publish(server, trade("MSFT", 1.0), trade("BTC/USD", 2.0, 0.25), trade("AAPL", 3.0))
        got = await recv_through(stocks, lambda m: m["S"] == "AAPL")
        assert [(m["S"], m["p"]) for m in got] == [("MSFT", 1.0), ("AAPL", 3.0)]
        (coin,) = await recv_through(coins, lambda m: m["S"] == "BTC/USD")
        assert isinstance(coin.pop("i"), int)
        assert coin == {"T": "t", "S": "BTC/USD", "p": 2.0, "s": 0.25, "t": T0_TEXT}

        # An explicit symbol under "*" changes nothing; without "*" only the explicit ones.
        await subscribe(stocks, trades=["NVDA"])
        await subscribe(stocks, action="unsubscribe", trades=["NVDA"])
        await publish(server, trade("NVDA", 4.0))
        assert [(m["S"], m["p"]) for m in await recv(stocks)] == [("NVDA", 4.0)]
        await subscribe(stocks, trades=["TSLA"])
        ack = await subscribe(
            stocks, action="unsubscribe", trades=["*", "BTC/USD"], quotes=["MSFT"]
        )
        assert (ack["trades"], ack["quotes"]) == (["TSLA"], [])
        await publish(server, trade("MSFT", 5.0), trade("BTC/USD", 6.0, 1.0), trade("TSLA", 7.0))
        assert [(m["S"], m["p"]) for m in await recv(stocks)] == [("TSLA", 7.0)]
        # The crypto stream got the second BTC/USD trade and none of the stocks around it.
        got = await recv_through(coins, lambda m: m["S"] == "BTC/USD")
        assert [(m["S"], m["p"]) for m in got] == [("BTC/USD", 6.0)]
        ack = await subscribe(stocks, action="unsubscribe", trades=["TSLA"])
        assert all(names == [] for channel, names in ack.items() if channel != "T")
        await publish(server, trade("TSLA", 8.0), trade("BTC/USD", 9.0, 1.0))
        await recv_through(coins, lambda m: m["p"] == 9.0)  # published after TSLA's
        await stocks.close()
        await coins.close()
        hub = server.app.state.alpaca_data_streams.hub
        await wait_until(lambda: not hub.routes, message="routes outlived their clients")


async def test_symbol_limit_405_leaves_the_subscription_as_it_was(
    live_server: ServerFactory,
) -> None:
    async with streaming(live_server, alpaca_stream_max_symbols=3) as (server, _key, ws):
        await subscribe(ws, trades=["AAPL", "MSFT"], quotes=["AAPL"])
        refused = await subscribe(ws, bars=["NVDA", "TSLA"])
        assert refused == error(405, "symbol limit exceeded")
        ack = await subscribe(ws, bars=["*"])  # "*" counts as one symbol
        assert (ack["trades"], ack["quotes"], ack["bars"]) == (["AAPL", "MSFT"], ["AAPL"], ["*"])
        await publish(server, trade("NVDA", 1.0), trade("AAPL", 2.0))
        assert [(m["S"], m["p"]) for m in await recv(ws)] == [("AAPL", 2.0)]


async def test_connection_limit_406_per_key_and_endpoint(live_server: ServerFactory) -> None:
    async with live_server(alpaca_stream_max_connections=1) as server:
        key = await key_pair(server)
        other_key = await key_pair(server)
        first = await login(server, key)
        second = await websockets.connect(url(server))
        await recv(second)
        await send(second, {"action": "auth", "key": key["key_id"], "secret": key["secret_key"]})
        assert await closed_with(second) == ([error(406, "connection limit exceeded")], 1008)
        others = [
            await login(server, other_key),  # another key
            await login(server, key, "/v2/sip"),  # another endpoint
            await login(server, key, "/v1beta3/crypto/us"),
        ]
        await first.close()
        streams = server.app.state.alpaca_data_streams
        await wait_until(lambda: len(streams.open) == 3, message="the first stream never ended")
        again = await login(server, key)
        assert (await subscribe(again, trades=["AAPL"]))["trades"] == ["AAPL"]
        for ws in (again, *others):
            await ws.close()


async def test_client_that_never_reads_gets_407_and_is_closed(live_server: ServerFactory) -> None:
    # A long heartbeat: the hub's check for a stuck send (after a heartbeat) comes too late,
    # the full queue is what closes the client.
    async with live_server(ws_queue_size=10, ws_heartbeat_seconds=120) as server:
        key = await key_pair(server)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        # No compression: the messages must really fill the socket buffers.
        ws = await login(server, key, sock=sock, max_queue=1, compression=None)
        await subscribe(ws, trades=["*"], quotes=["*"], bars=["*"])
        hub = server.app.state.alpaca_data_streams.hub
        (client,) = hub.connections
        symbols = sorted({symbol for symbol, _channel in hub.routes})
        longest = 0
        deadline = time.monotonic() + 30  # generous: only stops a test that would never end
        while client in hub.connections and time.monotonic() < deadline:
            for symbol in symbols:
                await publish(server, trade(symbol, 1.0), Quote(symbol, T0, 1, 1, 1, 1))
            await asyncio.sleep(0.001)
            longest = max(longest, len(client))
        assert client not in hub.connections, "the slow client was never closed"
        assert longest <= 10
        assert server.container.metrics.websocket_connections._value.get() == 0
        messages, code = await closed_with(ws)
        assert messages[-1] == error(407, "slow client") and code == 1013
        assert {m["T"] for m in messages[:-1]} <= {"t", "q"}


async def test_msgpack_client_gets_msgpack_frames_and_timestamps(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        key = await key_pair(server)
        ws = await websockets.connect(
            url(server), additional_headers={"Content-Type": "application/msgpack"}
        )
        raw = await asyncio.wait_for(ws.recv(), WAIT)
        assert isinstance(raw, bytes) and msgpack.unpackb(raw) == [CONNECTED]
        await ws.send(msgpack.packb({"action": "auth", "key": key["key_id"], "secret": "no"}))
        assert await closed_with(ws) == ([error(402, "auth failed")], 1008)

        ws = await websockets.connect(
            url(server), additional_headers={"Content-Type": "application/msgpack"}
        )
        await recv(ws)
        auth = {"action": "auth", "key": key["key_id"], "secret": key["secret_key"]}
        await ws.send(msgpack.packb(auth))
        assert await recv(ws) == [AUTHENTICATED]
        await ws.send(msgpack.packb({"action": "subscribe", "bars": ["SPY"]}))
        assert (await recv(ws))[0]["bars"] == ["SPY"]
        await publish(
            server, Bar("SPY", Timeframe.MIN_1, T0, 500.0, 501.0, 499.0, 500.5, 1000, None, None)
        )
        raw = await asyncio.wait_for(ws.recv(), WAIT)
        assert isinstance(raw, bytes)
        (bar,) = msgpack.unpackb(raw)
        assert isinstance(bar["t"], msgpack.Timestamp) and bar["t"].to_datetime() == T0
        assert (bar["S"], bar["c"], bar["v"], bar["n"], bar["vw"]) == (
            "SPY",
            500.5,
            1000,
            None,
            None,
        )
        await ws.close()

        # A client that writes JSON in binary frames is answered in binary JSON frames.
        binary = await websockets.connect(url(server))
        await recv(binary)
        await binary.send(json.dumps(auth).encode())
        raw = await asyncio.wait_for(binary.recv(), WAIT)
        assert isinstance(raw, bytes) and json.loads(raw) == [AUTHENTICATED]
        await binary.close()


async def test_revoked_key_gets_402_and_the_stream_closes(
    live_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data_stream, "RECHECK_SECONDS", 0.1)
    async with streaming(live_server) as (server, key, ws):
        await subscribe(ws, trades=["AAPL"])
        revoked = await server.http.delete(f"/api/auth/api-keys/{key['id']}", headers=key["owner"])
        assert revoked.status_code == 204
        messages, code = await closed_with(ws)
        assert messages[-1] == error(402, "auth failed") and code == 1008


async def test_unknown_feed_is_refused_at_the_handshake(live_server: ServerFactory) -> None:
    async with live_server() as server:
        for path in ("/v2/bogus", "/v1beta3/crypto/eu"):
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(url(server, path))
            response = refused.value.response
            assert response.status_code == 404
            body = json.loads(response.body)
            assert body["code"] == 404 and path in body["message"]
            assert "/v2/iex" in body["message"] and "/v1beta3/crypto/us" in body["message"]
