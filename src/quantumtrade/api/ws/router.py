"""``/ws``: market data and private event streams; see :mod:`quantumtrade.api.ws.protocol`."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from quantumtrade.api.ws import protocol
from quantumtrade.api.ws.connection import Connection
from quantumtrade.api.ws.hub import Hub
from quantumtrade.api.ws.protocol import ProtocolError
from quantumtrade.domain.errors import AppError
from quantumtrade.services import auth
from quantumtrade.services.container import Container

router = APIRouter()

_CLOSE_TIMEOUT = 5.0


async def get_hub(websocket: WebSocket) -> Hub:
    """Return the application's hub, creating and starting it on first use."""
    state = websocket.app.state
    hub: Hub | None = getattr(state, "ws_hub", None)
    if hub is None:
        container: Container = state.container
        hub = Hub(
            container.bus,
            container.metrics,
            heartbeat_seconds=container.settings.ws_heartbeat_seconds,
            idle_seconds=container.settings.ws_idle_timeout_seconds,
        )
        state.ws_hub = hub
    await hub.start()
    return hub


class _Session:
    """The requests of one connection, applied to the hub."""

    def __init__(self, container: Container, hub: Hub, connection: Connection) -> None:
        self.container = container
        self.settings = container.settings
        self.hub = hub
        self.connection = connection
        self.known = {info.symbol for info in container.market.symbols()}

    async def authenticate(self, token: Any) -> bool:
        if not isinstance(token, str) or not token:
            raise ProtocolError("invalid_message", 'auth needs a "token" string.')
        try:
            async with self.container.session_factory() as db:
                principal = await auth.authenticate(
                    db, settings=self.settings, access_token=token, now=self.container.clock.now()
                )
        except AppError as exc:
            raise ProtocolError(exc.code, exc.message) from exc
        user_id = str(principal.user.id)
        current = self.connection.user_id
        if current is not None and current != user_id:
            raise ProtocolError("already_authenticated", "This connection is another user's.")
        if current is None:
            self.hub.set_user(self.connection, user_id)
        return True

    def subscribed(self) -> dict[str, Any]:
        subscriptions = {s: sorted(c) for s, c in sorted(self.connection.subscriptions.items())}
        return {
            "type": "subscribed",
            "symbols": list(subscriptions),
            "subscriptions": subscriptions,
            "private": sorted(self.connection.private),
        }

    def _channels(self, request: dict[str, Any]) -> tuple[list[str] | None, list[str]]:
        channels = protocol.string_list(request, "channels", 16)
        if channels is None:
            return None, []
        unknown = sorted(
            set(channels) - set(protocol.MARKET_CHANNELS) - set(protocol.PRIVATE_CHANNELS)
        )
        if unknown:
            raise ProtocolError(
                "unknown_channels",
                f"Unknown channels: {', '.join(unknown)}.",
                {
                    "channels": unknown,
                    "market": protocol.MARKET_CHANNELS,
                    "private": protocol.PRIVATE_CHANNELS,
                },
            )
        market = [c for c in channels if c in protocol.MARKET_CHANNELS]
        private = [c for c in channels if c in protocol.PRIVATE_CHANNELS]
        return market, private

    def _symbols(self, request: dict[str, Any]) -> list[str]:
        raw = protocol.string_list(request, "symbols", self.settings.ws_max_symbols) or []
        symbols = list(dict.fromkeys(s.strip().upper() for s in raw))
        unknown = [s for s in symbols if s not in self.known]
        if unknown:
            raise ProtocolError(
                "unknown_symbols", f"Unknown symbols: {', '.join(unknown)}.", {"symbols": unknown}
            )
        return symbols

    def subscribe(self, request: dict[str, Any]) -> None:
        market, private = self._channels(request)
        symbols = self._symbols(request)
        if private and self.connection.user_id is None:
            raise ProtocolError(
                "auth_required",
                f"Private channels ({', '.join(private)}) need authentication.",
                {"channels": private},
            )
        if not symbols and not private:
            raise ProtocolError("invalid_message", "subscribe needs symbols or channels.")
        total = len(self.connection.subscriptions.keys() | set(symbols))
        limit = self.settings.ws_max_symbols
        if total > limit:
            raise ProtocolError(
                "too_many_symbols",
                f"At most {limit} symbols per connection; this would make {total}.",
                {"limit": limit, "requested": total},
            )
        if symbols:
            self.hub.subscribe(
                self.connection, symbols, market or list(protocol.DEFAULT_MARKET_CHANNELS)
            )
        self.connection.private.update(private)

    def unsubscribe(self, request: dict[str, Any]) -> None:
        market, private = self._channels(request)
        raw = protocol.string_list(request, "symbols", 100_000)
        subscriptions = self.connection.subscriptions
        if raw is None and market is None:  # neither symbols nor channels: everything
            self.hub.unsubscribe(self.connection, list(subscriptions), None)
            self.connection.private.clear()
            return
        self.connection.private.difference_update(private)
        if raw is None and not market:
            return
        symbols = [s.strip().upper() for s in raw] if raw is not None else list(subscriptions)
        self.hub.unsubscribe(self.connection, symbols, market or None)

    async def handle(self, text: str) -> None:
        request = protocol.parse(text, self.settings.ws_max_message_bytes)
        kind = request["type"]
        if kind == "ping":
            self.connection.reply({"type": "pong", "timestamp": protocol.now_iso()})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            self.subscribe(request)
            self.connection.reply(self.subscribed())
        elif kind == "unsubscribe":
            self.unsubscribe(request)
            self.connection.reply(self.subscribed())
        elif kind == "auth":
            await self.authenticate(request.get("token"))
            self.connection.reply({"type": "authenticated", "user_id": self.connection.user_id})
        else:
            raise ProtocolError(
                "unknown_type",
                f"Unknown message type {kind!r}.",
                {"types": ["subscribe", "unsubscribe", "auth", "ping", "pong"]},
            )

    async def read_loop(self) -> None:
        websocket = self.connection.websocket
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                self.connection.last_received = time.monotonic()
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    await self.handle(raw)
                except ProtocolError as exc:
                    self.connection.reply(protocol.error(exc.code, exc.message, exc.details))
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.connection.done.set()


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    """Stream market data and, once authenticated, the caller's private events."""
    container: Container = websocket.app.state.container
    settings = container.settings
    hub = await get_hub(websocket)
    await websocket.accept()
    batch = websocket.query_params.get("batch", "").lower() in ("1", "true", "yes")
    connection = Connection(
        websocket,
        connection_id=secrets.token_hex(6),
        queue_size=settings.ws_queue_size,
        batch=batch,
    )
    session = _Session(container, hub, connection)
    hub.add(connection)
    tasks: list[asyncio.Task[None]] = []
    try:
        token = websocket.query_params.get("token")
        auth_error: dict[str, Any] | None = None
        if token:
            try:
                await session.authenticate(token)
            except ProtocolError as exc:
                auth_error = protocol.error(exc.code, exc.message)
        connection.reply(
            {
                "type": "connected",
                "connection_id": connection.id,
                "authenticated": connection.user_id is not None,
                "user_id": connection.user_id,
                "batch": connection.batch,
                "limits": {
                    "max_symbols": settings.ws_max_symbols,
                    "max_message_bytes": settings.ws_max_message_bytes,
                    "queue_size": settings.ws_queue_size,
                    "heartbeat_seconds": settings.ws_heartbeat_seconds,
                    "idle_timeout_seconds": hub.idle_seconds,
                },
                "channels": {
                    "market": list(protocol.MARKET_CHANNELS),
                    "private": list(protocol.PRIVATE_CHANNELS),
                },
            }
        )
        if auth_error is not None:
            connection.reply(auth_error)
        tasks = [
            asyncio.create_task(connection.write_loop()),
            asyncio.create_task(session.read_loop()),
        ]
        await connection.done.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.remove(connection)
        if connection.close_request is not None:
            with contextlib.suppress(Exception):
                await connection.close(_CLOSE_TIMEOUT)
