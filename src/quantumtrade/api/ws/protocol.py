"""The ``/ws`` message protocol: client requests, server messages and their JSON encoding.

Client to server (JSON text frames):

- ``{"type": "auth", "token": "<access token>"}`` (or ``?token=`` on the URL)
- ``{"type": "subscribe", "symbols": [...], "channels": [...]}``: market channels
  ``trades`` (sent as ``price``), ``quotes`` (``quote``) and ``bars`` (``bar``), all three when
  omitted, ``regime`` (``regime``: the symbol's market regime changed), ``news`` (``news``:
  a story naming the symbol, scored), ``sentiment`` (``sentiment``: the symbol's
  aggregate sentiment moved) and ``ai`` (``ai``: a new AI decision on the symbol); private
  channels ``orders``, ``fills``, ``alerts``, ``portfolio``, ``backtests``, ``reports`` need auth
- ``{"type": "unsubscribe", "symbols": [...], "channels": [...]}`` (neither: everything)
- ``{"type": "ping"}`` (answered by ``pong``) and ``{"type": "pong"}`` (answers a server ping)

Server to client: ``connected``, ``authenticated``, ``subscribed`` (the full current set),
``price``, ``quote``, ``bar``, private events (``alert``...), ``ping``, ``pong``, ``error``.
One message per text frame, or with ``/ws?batch=true`` a JSON array of messages per frame
(as Alpaca's streams send them): far fewer frames when many messages are due at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

DEFAULT_MARKET_CHANNELS = ("trades", "quotes", "bars")
MARKET_CHANNELS = (*DEFAULT_MARKET_CHANNELS, "regime", "news", "sentiment", "ai")
PRIVATE_CHANNELS = ("orders", "fills", "alerts", "portfolio", "backtests", "reports")
CHANNEL_BY_TYPE = {
    "price": "trades",
    "quote": "quotes",
    "bar": "bars",
    "regime": "regime",
    "news": "news",
    "sentiment": "sentiment",
    "ai": "ai",
}
CONFLATED_TYPES = frozenset({"price", "quote"})

# Close codes: 1008 policy violation, 1013 try again later (the client is too slow to keep up).
CLOSE_IDLE = 1001
CLOSE_POLICY = 1008
CLOSE_SLOW = 1013


class ProtocolError(Exception):
    """A client request the server refuses; the connection stays open."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def encode(message: dict[str, Any]) -> str:
    """Return the compact JSON text of a server message."""
    return json.dumps(message, separators=(",", ":"), default=str)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return an ``error`` message."""
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def parse(text: str, max_bytes: int) -> dict[str, Any]:
    """Decode one client frame into a request object, or raise :class:`ProtocolError`."""
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes):
        raise ProtocolError(
            "message_too_large",
            f"Messages are limited to {max_bytes} bytes.",
            {"max_bytes": max_bytes},
        )
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise ProtocolError("invalid_json", f"The message is not valid JSON: {exc}.") from exc
    except RecursionError as exc:  # a RuntimeError, which the read loop takes for a disconnect
        raise ProtocolError("invalid_json", "The message nests too deeply.") from exc
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise ProtocolError("invalid_message", 'A message is a JSON object with a "type".')
    return request


def string_list(request: dict[str, Any], field: str, limit: int) -> list[str] | None:
    """Return the list of strings in ``field`` (None when absent), refusing huge lists early."""
    value = request.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError("invalid_message", f'"{field}" must be a list of strings.')
    if len(value) > limit:
        raise ProtocolError(
            f"too_many_{field}",
            f"At most {limit} {field} per connection; {len(value)} requested.",
            {"limit": limit, "requested": len(value)},
        )
    return value
