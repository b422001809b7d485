"""A client that does not read: bounded, conflating queues and a slow-consumer close."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from integration.ws.wsclient import ServerFactory, recv_json
from quantumtrade.api.ws.connection import Connection
from quantumtrade.api.ws.hub import Hub


def test_connection_queue_conflates_prices_and_counts_dropped_bars() -> None:
    connection = Connection(None, connection_id="c", queue_size=10)  # type: ignore[arg-type]
    for i in range(1000):
        connection.offer_latest("price", "AAPL", f'{{"price":{i}}}')
    assert len(connection) == 1 and connection.conflated == 999
    for i in range(20):
        connection.offer_latest("quote", f"S{i}", "{}")
    assert len(connection) == 10 and connection.dropped == 11
    assert not connection.offer("{}", bar=True)
    assert connection.dropped_bars == 1 and len(connection) == 10
    assert connection._latest[("price", "AAPL")] == '{"price":999}'


async def test_client_that_never_reads_is_bounded_then_closed_as_slow(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_queue_size=10, ws_heartbeat_seconds=1.0) as server:
        symbols = [info.symbol for info in server.container.market.symbols()]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        # No compression: the padding must really fill the socket buffers.
        ws = await websockets.connect(server.ws_url(), sock=sock, max_queue=1, compression=None)
        await recv_json(ws)
        await ws.send(json.dumps({"type": "subscribe", "symbols": symbols}))
        await recv_json(ws)
        hub: Hub = server.app.state.ws_hub
        (connection,) = hub.connections
        padding = "x" * 20_000
        longest = 0
        deadline = time.monotonic() + 8
        while connection in hub.connections and time.monotonic() < deadline:
            for symbol in symbols:
                await server.publish(symbol, type="price", price=1.0, note=padding)
                await server.publish(symbol, type="bar", close=1.0, volume=1, note=padding)
            await asyncio.sleep(0.01)
            longest = max(longest, len(connection))
        assert connection not in hub.connections, "the slow client was never closed"
        assert longest <= 10
        assert connection.conflated + connection.dropped > 0 and connection.dropped_bars > 0
        assert server.container.metrics.websocket_connections._value.get() == 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert closed.value.rcvd.reason.startswith("slow consumer")


async def test_listen_only_client_is_pinged_and_stays_connected(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_heartbeat_seconds=0.3) as server:
        ws = await server.connect()
        pings = 0
        while pings < 4:  # well past any multiple of the heartbeat
            message = await recv_json(ws)
            pings += message["type"] == "ping"
        await ws.send(json.dumps({"type": "ping"}))
        while (await recv_json(ws))["type"] != "pong":
            pass


async def test_idle_client_is_closed_when_an_idle_timeout_is_set(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_heartbeat_seconds=0.5, ws_idle_timeout_seconds=1.5) as server:
        ws = await server.connect()
        assert (await recv_json(ws))["type"] == "ping"
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert "idle" in closed.value.rcvd.reason
