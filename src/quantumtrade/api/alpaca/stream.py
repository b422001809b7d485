"""``/stream``: Alpaca's trading stream, carrying ``trade_updates`` of the key's portfolio.

The handshake is Alpaca's: ``{"action": "authenticate", "data": {"key_id", "secret_key"}}``
(or the data stream's ``{"action": "auth", "key", "secret"}``), answered by
``{"stream": "authorization", "data": {"status": "authorized", ...}}``; then
``{"action": "listen", "data": {"streams": ["trade_updates"]}}``. Updates are the order
events the desk publishes on the owner's private bus channel (the ``orders`` channel of
``/ws``), reshaped into Alpaca's messages. Frames answer in the client's kind: JSON in text
or binary frames, or msgpack when the client speaks msgpack. The key is checked again every
``RECHECK_SECONDS``: a revoked key's stream is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from quantumtrade.api.alpaca.frames import Peer, authenticate, key_active
from quantumtrade.api.alpaca.views import alpaca_order
from quantumtrade.domain.errors import AppError
from quantumtrade.infra.bus import Subscription
from quantumtrade.services import auth
from quantumtrade.services.alerts import user_channel
from quantumtrade.services.container import Container

router = APIRouter()

AUTH_TIMEOUT_SECONDS = 10.0
RECHECK_SECONDS = 15.0
MAX_FRAME_BYTES = 16_384
STREAMS = ("trade_updates",)
_POLICY_VIOLATION = 1008


def _authorization(status: str, action: str = "authenticate") -> dict[str, Any]:
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def trade_update(data: dict[str, Any]) -> dict[str, Any]:
    """Reshape one of the desk's ``trade_update`` payloads into Alpaca's message."""
    update: dict[str, Any] = {
        "event": data["event"],
        "timestamp": data["timestamp"],
        "order": alpaca_order(data["order"]),
    }
    for name in ("execution_id", "price", "qty", "position_qty"):
        if name in data:
            update[name] = data[name]
    return {"stream": "trade_updates", "data": update}


async def _handshake(container: Container, peer: Peer) -> auth.KeyPrincipal | None:
    try:
        message = await asyncio.wait_for(peer.receive(), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        return None
    action = message.get("action") if message else None
    if action not in ("authenticate", "auth") or message is None:
        await peer.send(_authorization("unauthorized", str(action or "authenticate")))
        return None
    try:
        principal = await authenticate(container, message)
    except AppError:
        await peer.send(_authorization("unauthorized"))
        return None
    await peer.send(_authorization("authorized"))
    return principal


async def _read(peer: Peer, streams: set[str]) -> None:
    """Answer ``listen`` requests; anything else is ignored, as Alpaca does."""
    while True:
        message = await peer.receive()
        if not message or message.get("action") != "listen":
            continue
        data = message.get("data")
        wanted = data.get("streams") if isinstance(data, dict) else None
        if isinstance(wanted, list):
            streams.clear()
            streams.update(s for s in wanted if s in STREAMS)
        await peer.send({"stream": "listening", "data": {"streams": sorted(streams)}})


async def _pump(
    container: Container,
    peer: Peer,
    principal: auth.KeyPrincipal,
    streams: set[str],
    subscription: Subscription,
) -> None:
    """Forward the key's portfolio's order events; recheck the key now and then."""
    portfolio_id = str(principal.portfolio_id)
    updates = aiter(subscription)
    while True:
        try:
            message = await asyncio.wait_for(anext(updates), RECHECK_SECONDS)
        except TimeoutError:
            if not await key_active(container, principal):
                return
            continue
        data = message.data
        if data.get("channel") != "orders" or "trade_updates" not in streams:
            continue
        payload = data.get("data") or {}
        if str((payload.get("order") or {}).get("portfolio_id")) != portfolio_id:
            continue
        await peer.send(trade_update(payload))


@router.websocket("/stream")
async def trading_stream(websocket: WebSocket) -> None:
    """Alpaca's trading stream: authenticate, listen to trade_updates, receive them."""
    container: Container = websocket.app.state.container
    await websocket.accept()
    peer = Peer(websocket, max_bytes=MAX_FRAME_BYTES)
    tasks: list[asyncio.Task[None]] = []
    try:
        principal = await _handshake(container, peer)
        if principal is None:
            await websocket.close(_POLICY_VIOLATION)
            return
        streams: set[str] = set()
        # Subscribed before "listening" can be answered: no update after it is missed.
        async with container.bus.subscribe(user_channel(principal.user.id)) as subscription:
            tasks = [
                asyncio.create_task(_read(peer, streams)),
                asyncio.create_task(_pump(container, peer, principal, streams, subscription)),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()
