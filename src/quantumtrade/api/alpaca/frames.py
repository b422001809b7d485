"""Frames of the Alpaca-compatible streams (JSON in text or binary frames, or msgpack) and
the key check of their auth messages.

Both streams answer in the kind the client speaks. A message may hold ``datetime`` values,
which each encoding writes Alpaca's way: RFC-3339 strings (UTC, nine fractional digits, ``Z``)
in JSON, msgpack's timestamp extension in msgpack (alpaca-py reads them with ``to_datetime()``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgpack
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from quantumtrade.services import auth
from quantumtrade.services.container import Container

Kind = Literal["text", "json-binary", "msgpack"]
TEXT: Kind = "text"
JSON_BINARY: Kind = "json-binary"
MSGPACK: Kind = "msgpack"


def rfc3339(moment: datetime) -> str:
    """Format like Alpaca: UTC, nine fractional digits, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def element(message: Any, kind: Kind) -> str | bytes:
    """Encode one message on its own: msgpack bytes, or compact JSON text for both JSON kinds."""
    if kind == MSGPACK:
        packed: bytes = msgpack.packb(message, datetime=True)
        return packed
    return json.dumps(message, separators=(",", ":"), default=_json_value)


def array(elements: Sequence[str | bytes], kind: Kind) -> str | bytes:
    """Join messages encoded by :func:`element` into one array frame."""
    if kind == MSGPACK:
        header: bytes = msgpack.Packer().pack_array_header(len(elements))
        return header + b"".join(e for e in elements if isinstance(e, bytes))
    text = "[" + ",".join(e for e in elements if isinstance(e, str)) + "]"
    return text.encode() if kind == JSON_BINARY else text


def encode(message: Any, kind: Kind) -> str | bytes:
    """Encode ``message`` as a whole frame of ``kind``."""
    payload = element(message, kind)
    return payload.encode() if isinstance(payload, str) and kind == JSON_BINARY else payload


async def send(websocket: WebSocket, payload: str | bytes) -> None:
    if isinstance(payload, bytes):
        await websocket.send_bytes(payload)
    else:
        await websocket.send_text(payload)


class Peer:
    """One client: reads its frames, notes how it writes, and answers in that kind."""

    def __init__(self, websocket: WebSocket, *, max_bytes: int, kind: Kind = TEXT) -> None:
        self.websocket = websocket
        self.max_bytes = max_bytes
        self.kind: Kind = kind
        self.lock = asyncio.Lock()

    async def receive(self) -> dict[str, Any] | None:
        """Return the next message as a dict (None for a frame that is not one)."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw: str | bytes | None = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
            self.kind = JSON_BINARY
        if len(raw) > self.max_bytes:
            return None
        try:
            decoded = json.loads(raw)
        except ValueError:
            if not isinstance(raw, bytes):
                return None
            try:
                decoded = msgpack.unpackb(raw)
            except Exception:
                return None
            self.kind = MSGPACK
        return decoded if isinstance(decoded, dict) else None

    async def send(self, message: Any) -> None:
        async with self.lock:
            await send(self.websocket, encode(message, self.kind))


def _credentials(message: dict[str, Any]) -> tuple[str | None, str | None]:
    data = message.get("data")
    source = data if isinstance(data, dict) else message
    key = source.get("key_id", source.get("key"))
    secret = source.get("secret_key", source.get("secret"))
    return (key if isinstance(key, str) else None, secret if isinstance(secret, str) else None)


async def authenticate(container: Container, message: dict[str, Any]) -> auth.KeyPrincipal:
    """Check the key pair of an auth message: the trading stream's ``{"data": {"key_id",
    "secret_key"}}`` or the data stream's ``{"key", "secret"}``; a refusal raises AppError."""
    key_id, secret = _credentials(message)
    async with container.session_factory() as db:
        return await auth.authenticate_api_key(
            db, key_id=key_id, secret=secret, now=container.clock.now()
        )


async def key_active(container: Container, principal: auth.KeyPrincipal) -> bool:
    """Return whether the stream's key is still unrevoked (streams recheck it now and then)."""
    async with container.session_factory() as db:
        return await auth.api_key_active(db, api_key_id=principal.api_key_id)
