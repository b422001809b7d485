"""Helpers for the WebSocket tests: a handle on a live server and JSON receive helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import websockets
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

from quantumtrade.services.container import Container


@dataclass
class LiveServer:
    app: FastAPI
    port: int
    http: httpx.AsyncClient

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def ws_url(self, token: str | None = None) -> str:
        query = f"?token={token}" if token else ""
        return f"ws://127.0.0.1:{self.port}/ws{query}"

    async def websocket(self, token: str | None = None, **kwargs: Any) -> ClientConnection:
        """Open a client without consuming anything."""
        return await websockets.connect(self.ws_url(token), **kwargs)

    async def connect(self, token: str | None = None, **kwargs: Any) -> ClientConnection:
        """Open a client and consume the ``connected`` greeting."""
        ws = await websockets.connect(self.ws_url(token), **kwargs)
        greeting = await recv_json(ws)
        assert greeting["type"] == "connected", greeting
        return ws

    async def publish(self, symbol: str, **fields: Any) -> None:
        await self.container.bus.publish(f"market.{symbol}", {"symbol": symbol, **fields})

    async def register(self) -> dict[str, Any]:
        email = f"ws-{secrets.token_hex(5)}@example.com"
        response = await self.http.post(
            "/api/auth/register", json={"email": email, "password": "violet-Harbor-93-quasar"}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


# Waits for a message that should come are bounded only to stop a hang: generous, for a busy
# machine. Waits that check nothing more comes (``drain``) are short: they cannot flake, since
# a late message could only make them pass.
WAIT = 30.0


async def recv_json(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def recv_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT
) -> dict[str, Any]:
    """Return the first message matching ``predicate``, skipping heartbeats and others."""
    deadline = time.monotonic() + timeout
    while True:
        message = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if predicate(message):
            return message


async def recv_through(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT
) -> list[dict[str, Any]]:
    """Return every message up to and including the first matching ``predicate``.

    Published after the messages under test, a marker bounds them without a fixed wait: the
    socket delivers in publishing order.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not messages or not predicate(messages[-1]):
        messages.append(await recv_json(ws, max(0.01, deadline - time.monotonic())))
    return messages


async def drain(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Collect every message received during ``seconds``."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    with contextlib.suppress(TimeoutError):
        while (left := deadline - time.monotonic()) > 0:
            messages.append(await recv_json(ws, left))
    return messages


ServerFactory = Callable[..., contextlib.AbstractAsyncContextManager[LiveServer]]
