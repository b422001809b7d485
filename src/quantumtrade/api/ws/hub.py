"""The per-process hub: one bus subscription for all clients, fanned out to local connections.

Each market message is encoded once and offered to the connections subscribed to its symbol
and channel; private events on ``user.<id>`` go to that user's connections. A ticker sends
heartbeats and closes idle clients and clients too slow to keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from quantumtrade.api.ws import protocol
from quantumtrade.api.ws.connection import Connection
from quantumtrade.infra.bus import Bus, Subscription
from quantumtrade.infra.metrics import Metrics

_log = logging.getLogger(__name__)
_TICK_SECONDS = 0.25


class Hub:
    """Route bus messages to the WebSocket connections of this process."""

    def __init__(
        self,
        bus: Bus,
        metrics: Metrics,
        *,
        heartbeat_seconds: float,
        slow_seconds: float | None = None,
        idle_seconds: float | None = None,
    ) -> None:
        self.bus = bus
        self.metrics = metrics
        self.heartbeat_seconds = heartbeat_seconds
        self.slow_seconds = slow_seconds or max(heartbeat_seconds, 1.0)
        self.idle_seconds = idle_seconds
        self.connections: set[Connection] = set()
        self.routes: dict[tuple[str, str], set[Connection]] = {}  # (symbol, channel)
        self.users: dict[str, set[Connection]] = {}
        self.received = 0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Subscribe to the bus once; later calls return at once."""
        if self._task is not None and not self._task.done():
            return
        async with self._lock:
            if self._task is not None and not self._task.done():
                return
            market = await self.bus.psubscribe("market.*").start()
            private = await self.bus.psubscribe("user.*").start()
            self._task = asyncio.create_task(self._run(market, private), name="ws-hub")

    async def _run(self, market: Subscription, private: Subscription) -> None:
        tasks = [
            asyncio.create_task(self._pump(private, self._route_private)),
            asyncio.create_task(self._tick()),
        ]
        try:
            await self._pump(market, self._route_market)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await market.aclose()
            await private.aclose()
            for connection in list(self.connections):
                connection.request_close(1012, "server shutting down")

    async def _pump(self, sub: Subscription, route: Any) -> None:
        async for message in sub:
            self.received += 1
            try:
                route(message.channel, message.data)
            except Exception:
                _log.exception("routing a bus message to websockets failed")

    def _route_market(self, channel: str, data: dict[str, Any]) -> None:
        kind = data.get("type")
        symbol = data.get("symbol")
        market_channel = protocol.CHANNEL_BY_TYPE.get(kind) if isinstance(kind, str) else None
        if market_channel is None or not isinstance(symbol, str):
            return
        targets = self.routes.get((symbol, market_channel))
        if not targets:
            return
        text = protocol.encode(data)
        if kind in protocol.CONFLATED_TYPES:
            for connection in targets:
                connection.offer_latest(kind, symbol, text)
        else:
            for connection in targets:
                connection.offer(text, bar=True)

    def _route_private(self, channel: str, data: dict[str, Any]) -> None:
        targets = self.users.get(channel.removeprefix("user."))
        name = data.get("channel")
        if not targets or not isinstance(name, str):
            return
        message = data if "type" in data else {**data, "type": name}
        text = protocol.encode(message)
        for connection in targets:
            if name in connection.private:
                connection.offer(text)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK_SECONDS)
            now = time.monotonic()
            for connection in list(self.connections):
                if connection.close_request is not None:
                    continue
                stalled = connection.stalled_for(now)
                if stalled > self.slow_seconds:
                    connection.request_close(
                        protocol.CLOSE_SLOW,
                        f"slow consumer: could not keep up for {stalled:.1f}s",
                    )
                elif (
                    self.idle_seconds is not None
                    and now - connection.last_received > self.idle_seconds
                ):
                    connection.request_close(
                        protocol.CLOSE_IDLE,
                        f"idle timeout: nothing received in {self.idle_seconds:g}s",
                    )
                elif now - connection.last_pinged >= self.heartbeat_seconds:
                    connection.last_pinged = now
                    if connection.pending:
                        continue  # data is on its way; a ping would only lengthen the backlog
                    connection.reply({"type": "ping", "timestamp": protocol.now_iso()})

    # -- membership -------------------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        self.metrics.websocket_opened()

    def remove(self, connection: Connection) -> None:
        """Forget a connection and every route to it."""
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        self.metrics.websocket_closed()
        for symbol, channels in connection.subscriptions.items():
            for channel in channels:
                self._unroute((symbol, channel), connection)
        connection.subscriptions.clear()
        if connection.user_id is not None:
            users = self.users.get(connection.user_id)
            if users is not None:
                users.discard(connection)
                if not users:
                    del self.users[connection.user_id]

    def set_user(self, connection: Connection, user_id: str) -> None:
        connection.user_id = user_id
        self.users.setdefault(user_id, set()).add(connection)

    def subscribe(self, connection: Connection, symbols: list[str], channels: list[str]) -> None:
        for symbol in symbols:
            current = connection.subscriptions.setdefault(symbol, set())
            for channel in channels:
                if channel not in current:
                    current.add(channel)
                    self.routes.setdefault((symbol, channel), set()).add(connection)

    def unsubscribe(
        self, connection: Connection, symbols: list[str], channels: list[str] | None
    ) -> None:
        for symbol in symbols:
            current = connection.subscriptions.get(symbol)
            if current is None:
                continue
            for channel in list(current if channels is None else current & set(channels)):
                current.discard(channel)
                self._unroute((symbol, channel), connection)
            if not current:
                del connection.subscriptions[symbol]

    def _unroute(self, key: tuple[str, str], connection: Connection) -> None:
        targets = self.routes.get(key)
        if targets is not None:
            targets.discard(connection)
            if not targets:
                del self.routes[key]

    async def stop(self) -> None:
        """Stop the hub (the bus closing stops it as well)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
