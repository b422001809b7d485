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
from support import wait_until


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
        deadline = time.monotonic() + 30  # generous: only stops a test that would never end
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


class _RecordingSocket:
    """Stands in for the Starlette WebSocket: records frames, can hold the writer back."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.gate = asyncio.Event()

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.frames.append(text)


async def test_batch_mode_sends_what_is_queued_as_one_array_frame() -> None:
    socket_ = _RecordingSocket()
    connection = Connection(socket_, connection_id="b", queue_size=50, batch=True)  # type: ignore[arg-type]
    writer = asyncio.create_task(connection.write_loop())
    connection.offer('{"type":"first"}')
    await wait_until(lambda: len(connection) == 0)  # the writer took "first", waits on the socket
    for i in range(5):
        connection.offer_latest("price", "AAPL", f'{{"type":"price","price":{i}}}')
        connection.offer_latest("price", f"S{i}", f'{{"type":"price","symbol":"S{i}"}}')
    connection.offer('{"type":"bar"}', bar=True)
    socket_.gate.set()
    await wait_until(lambda: len(socket_.frames) == 2)
    writer.cancel()
    first, second = (json.loads(frame) for frame in socket_.frames)
    assert first == [{"type": "first"}]
    # The conflated AAPL price comes once, with its latest value, in queue order.
    assert second[0] == {"type": "price", "price": 4}
    assert [m.get("symbol") for m in second[1:6]] == ["S0", "S1", "S2", "S3", "S4"]
    assert second[-1] == {"type": "bar"} and len(second) == 7
    assert connection.sent == 8


async def test_batch_clients_get_arrays_and_plain_clients_single_messages(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        batched = await websockets.connect(server.ws_url() + "?batch=true")
        greeting = json.loads(await asyncio.wait_for(batched.recv(), 5))
        assert isinstance(greeting, list) and greeting[0]["type"] == "connected"
        assert greeting[0]["batch"] is True
        plain = await server.connect()
        for ws in (batched, plain):
            await ws.send(json.dumps({"type": "subscribe", "symbols": ["AAPL"]}))
        received: dict[str, list[dict[str, object]]] = {"batched": [], "plain": []}
        for name, ws in (("batched", batched), ("plain", plain)):
            while not any(m.get("type") == "subscribed" for m in received[name]):
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if name == "batched":
                    assert isinstance(frame, list)
                    received[name].extend(frame)
                else:
                    assert isinstance(frame, dict)
                    received[name].append(frame)
        await server.publish("AAPL", type="price", price=123.45)
        for name, ws in (("batched", batched), ("plain", plain)):
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                messages = frame if name == "batched" else [frame]
                prices = [m for m in messages if m.get("type") == "price"]
                if prices:
                    assert prices[0]["price"] == 123.45
                    break
        await batched.close()
        await plain.close()
