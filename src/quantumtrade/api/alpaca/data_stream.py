"""``/v2/{feed}`` and ``/v1beta3/crypto/us``: Alpaca's market data stream over our live feed.

The protocol is Alpaca's. On connect the server sends ``[{"T": "success", "msg": "connected"}]``;
the client authenticates with ``{"action": "auth", "key": <key id>, "secret": <secret>}`` (an
API key pair, checked as the REST routes check it) and gets ``[{"T": "success", "msg":
"authenticated"}]``; then ``{"action": "subscribe" | "unsubscribe", "trades": [...], "quotes":
[...], "bars": [...]}`` (``"*"``: every symbol of the endpoint's asset class) is answered by the
whole subscription, ``{"T": "subscription", "trades": [...], ...}``. Trades (``"T": "t"``),
quotes (``"q"``) and 1-minute bars (``"b"``) are the market feed's events on the bus, routed by
a :class:`~quantumtrade.api.ws.hub.Hub` of their own (the ``/ws`` fan-out) and reshaped here.
``/v2/iex``, ``/v2/sip``, ``/v2/delayed_sip`` and ``/v2/test`` carry the same stocks, ours;
``/v1beta3/crypto/us`` the crypto pairs. Any other feed is refused at the handshake (HTTP 404).

Every frame is an array of messages: msgpack to a client that connects with ``Content-Type:
application/msgpack`` (alpaca-py does) or authenticates in msgpack, else JSON (binary frames to
a client that writes binary ones), timestamps as :mod:`~quantumtrade.api.alpaca.frames` writes
them. Other channels of Alpaca's (``updatedBars``, ``dailyBars``, ``statuses``, ``lulds``,
``orderbooks``) are accepted and listed but carry nothing: our feed has no such events;
``corrections`` and ``cancelErrors`` follow ``trades``, as on Alpaca.

Errors are Alpaca's ``{"T": "error", "code", "msg"}``: 400 invalid syntax (a frame that is not
a JSON or msgpack object, or an unknown action); 401 not authenticated (a request before
``auth``); 402 auth failed (then the socket closes; also sent when the key is revoked while
streaming, checked every ``RECHECK_SECONDS``); 403 already authenticated; 404 auth timeout (no
``auth`` within ``AUTH_TIMEOUT_SECONDS``, then closed); 405 symbol limit exceeded (more than
``alpaca_stream_max_symbols`` distinct symbols, ``"*"`` counting one: the subscription stays as
it was); 406 connection limit exceeded (``alpaca_stream_max_connections`` streams per key and
endpoint on this replica already, then closed); 407 slow client (more than ``ws_queue_size``
messages waiting, or a send stuck for ``ws_heartbeat_seconds``, then closed: unlike ``/ws``,
no message is dropped or merged); 410 invalid subscribe action (a channel the endpoint does
not have). 409 (insufficient subscription) never comes: every key may use every feed.

The feed's trades carry no id, so a trade's ``i`` is a hash of its message: the same on every
replica and connection. Stock trades carry the listing exchange's code (``x``) and tape (``z``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect, WebSocketState

from quantumtrade.api.alpaca import frames
from quantumtrade.api.alpaca.views import EXCHANGE_CODES
from quantumtrade.api.ws.connection import MAX_BATCH, Connection
from quantumtrade.api.ws.hub import Hub
from quantumtrade.api.ws.protocol import CLOSE_POLICY, CLOSE_SLOW
from quantumtrade.domain.errors import AppError
from quantumtrade.services import auth
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)

router = APIRouter()

AUTH_TIMEOUT_SECONDS = 10.0  # Alpaca's
RECHECK_SECONDS = 15.0
FAREWELL_SECONDS = 2.0  # at most this long for the last error frame to a client that lags
_CLOSE_SECONDS = 5.0
_CONTROL_HEADROOM = 32  # acks and errors may exceed the queue bound by this much

STOCK_FEEDS = ("iex", "sip", "delayed_sip", "test")
CRYPTO_LOCATIONS = ("us",)
FED_CHANNELS = ("trades", "quotes", "bars")  # the channels our feed carries
_TRADE_FOLLOWERS = ("corrections", "cancelErrors")  # subscribed along with trades
STOCK_CHANNELS = (*FED_CHANNELS, "updatedBars", "dailyBars", "statuses", "lulds", *_TRADE_FOLLOWERS)
CRYPTO_CHANNELS = (*FED_CHANNELS, "updatedBars", "dailyBars", "orderbooks")

ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    410: "invalid subscribe action",
}


def error(code: int) -> dict[str, Any]:
    return {"T": "error", "code": code, "msg": ERRORS[code]}


@dataclass(frozen=True)
class Endpoint:
    path: str
    asset_class: str  # of the symbols it carries: "us_equity" or "crypto"
    channels: tuple[str, ...]

    def carries(self, symbol: str) -> bool:
        return ("/" in symbol) == (self.asset_class == "crypto")


# -- our bus messages as Alpaca's -----------------------------------------------------------


def _whole(value: float) -> float | int:
    """Stock sizes and volumes are whole: Alpaca writes them as integers."""
    return int(value) if float(value).is_integer() else value


def _trade_id(text: str) -> int:
    """A trade's id: the same on every replica and connection, from the message itself."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()) >> 1


def alpaca_event(data: dict[str, Any], text: str) -> dict[str, Any] | None:
    """Reshape a market feed message into Alpaca's; None for what the stream does not carry."""
    kind, symbol = data["type"], data["symbol"]
    moment = datetime.fromisoformat(data["timestamp"])
    if moment.tzinfo is None:  # the feed's times are UTC
        moment = moment.replace(tzinfo=UTC)
    stock = "/" not in symbol
    size = _whole if stock else float
    if kind == "price":
        trade = {"T": "t", "S": symbol, "i": _trade_id(text), "p": data["price"]}
        trade |= {"s": size(data["size"]), "t": moment}
        exchange = data.get("exchange")
        if stock and isinstance(exchange, str):
            code, tape = EXCHANGE_CODES.get(exchange, (exchange, None))
            trade |= {"x": code, "c": ["@"]} | ({"z": tape} if tape else {})
        return trade
    if kind == "quote":
        quote = {"T": "q", "S": symbol, "bp": data["bid"], "bs": size(data["bid_size"])}
        quote |= {"ap": data["ask"], "as": size(data["ask_size"]), "t": moment}
        return quote | ({"c": ["R"]} if stock else {})
    if kind == "bar" and data.get("timeframe") == "1Min":
        bar = {"T": "b", "S": symbol, "o": data["open"], "h": data["high"], "l": data["low"]}
        bar |= {"c": data["close"], "v": size(data["volume"]), "t": moment}
        return bar | {"n": data.get("trade_count"), "vw": data.get("vwap")}
    return None


@functools.lru_cache(maxsize=4096)
def _element(text: str, kind: frames.Kind) -> str | bytes | None:
    """A bus message (the hub's JSON text), encoded once for every client of ``kind``."""
    try:
        message = alpaca_event(json.loads(text), text)
        return None if message is None else frames.element(message, kind)
    except (KeyError, TypeError, ValueError, AttributeError):
        _log.debug("not an Alpaca market event: %.200s", text)
        return None


# -- one client -----------------------------------------------------------------------------


class AlpacaClient(Connection):
    """A hub connection speaking Alpaca: every event in order (no conflation, unlike ``/ws``),
    sent in array frames of the client's kind; a full queue closes it with 407."""

    def __init__(self, websocket: WebSocket, *, kind: frames.Kind, queue_size: int) -> None:
        super().__init__(
            websocket, connection_id=secrets.token_hex(6), queue_size=queue_size, batch=True
        )
        self.kind: frames.Kind = kind
        self.farewell: int | None = None  # the error code sent last, before closing
        self._outbox: deque[str | bytes] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._outbox)

    def offer_latest(self, kind: str, symbol: str, text: str) -> None:
        self.offer(text)

    def offer(self, text: str, *, bar: bool = False, control: bool = False) -> bool:
        element = _element(text, self.kind)
        return element is None or self._push(element, control=control)

    def reply(self, message: dict[str, object]) -> None:
        """Queue one of Alpaca's messages; the hub's own (its pings) are not sent."""
        if "T" in message:
            self._push(frames.element(message, self.kind), control=True)

    def leave(self, code: int, close_code: int) -> None:
        """Close the connection, with Alpaca's error ``code`` as its last frame."""
        if self.farewell is None:
            self.farewell = code
        self.request_close(close_code, ERRORS[code])

    def _push(self, element: str | bytes, *, control: bool) -> bool:
        if self.close_request is not None:
            return False
        if len(self._outbox) >= self.queue_size + (_CONTROL_HEADROOM if control else 0):
            self.leave(407, CLOSE_SLOW)
            return False
        if not self._outbox:
            self.progress_at = time.monotonic()  # a stuck send is timed from here
        self._outbox.append(element)
        self._ready.set()
        return True

    @property
    def pending(self) -> bool:
        return bool(self._outbox)

    def stalled_for(self, now: float) -> float:
        return now - self.progress_at if self._outbox else 0.0

    async def write_loop(self) -> None:
        """Send what is queued until the client goes away (the endpoint then cleans up)."""
        try:
            await self._send_queued()
        except Exception as exc:
            _log.debug("alpaca data stream %s send failed: %s", self.id, exc)
        finally:
            self.done.set()

    async def _send_queued(self) -> None:
        """Send up to ``MAX_BATCH`` queued messages a frame, for ever."""
        while await self._ready.wait():
            batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), MAX_BATCH))]
            if not self._outbox:
                self._ready.clear()
            await frames.send(self.websocket, frames.array(batch, self.kind))
            self.sent += len(batch)
            self.progress_at = time.monotonic()


@dataclass
class _Session:
    """A client's requests after authentication: its subscription, kept in the hub's routes."""

    container: Container
    hub: Hub
    client: AlpacaClient
    peer: frames.Peer
    endpoint: Endpoint
    names: dict[str, set[str]] = field(init=False)  # channel -> symbols and "*", as asked
    every: set[str] = field(init=False)  # what "*" stands for: the endpoint's symbols

    def __post_init__(self) -> None:
        channels = self.endpoint.channels
        self.names = {channel: set() for channel in channels if channel not in _TRADE_FOLLOWERS}
        symbols = self.container.market.symbols()
        self.every = {s.symbol for s in symbols if s.asset_class == self.endpoint.asset_class}

    def subscription(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"T": "subscription"}
        for channel in self.endpoint.channels:
            names = self.names["trades" if channel in _TRADE_FOLLOWERS else channel]
            reply[channel] = sorted(names)
        return reply

    def change(self, action: str, message: dict[str, Any]) -> int | None:
        """Apply a subscribe or unsubscribe; return the error code that refuses it, if any."""
        requested = {key: value for key, value in message.items() if key != "action"}
        if any(channel not in self.endpoint.channels for channel in requested):
            return 410
        if not all(
            isinstance(symbols, list) and all(isinstance(s, str) for s in symbols)
            for symbols in requested.values()
        ):
            return 400
        updated = {channel: set(names) for channel, names in self.names.items()}
        for channel, symbols in requested.items():
            if channel in _TRADE_FOLLOWERS:
                continue
            names = {symbol.strip().upper() for symbol in symbols}
            if action == "subscribe":
                updated[channel] |= names
            else:
                updated[channel] -= names
        distinct = set().union(*updated.values())
        if len(distinct) > self.container.settings.alpaca_stream_max_symbols:
            return 405
        self.names = updated
        self._route()
        return None

    def _route(self) -> None:
        """Make the hub route to this client exactly the symbols its subscription names."""
        for channel in FED_CHANNELS:
            names = self.names[channel]
            wanted = {s for s in names if s != "*" and self.endpoint.carries(s)}
            if "*" in names:
                wanted |= self.every
            routed = {s for s, chans in self.client.subscriptions.items() if channel in chans}
            if wanted - routed:
                self.hub.subscribe(self.client, sorted(wanted - routed), [channel])
            if routed - wanted:
                self.hub.unsubscribe(self.client, sorted(routed - wanted), [channel])

    async def read(self) -> None:
        try:
            while True:
                message = await self.peer.receive()
                action = message.get("action") if message is not None else None
                if message is not None and action in ("subscribe", "unsubscribe"):
                    refused = self.change(str(action), message)
                    self.client.reply(self.subscription() if refused is None else error(refused))
                else:
                    self.client.reply(error(403 if action == "auth" else 400))
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self.client.done.set()

    async def watch_key(self, principal: auth.KeyPrincipal) -> None:
        """Close the stream once its key is revoked (keys are never cached: see ``deps``)."""
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            if not await frames.key_active(self.container, principal):
                self.client.leave(402, CLOSE_POLICY)
                return


# -- the endpoints --------------------------------------------------------------------------


@dataclass
class _Streams:
    """The data streams of one app: their hub, and the open streams per key and endpoint."""

    hub: Hub
    open: Counter[tuple[uuid.UUID, str]]


async def _streams(app: FastAPI) -> _Streams:
    streams: _Streams | None = getattr(app.state, "alpaca_data_streams", None)
    if streams is None:
        container: Container = app.state.container
        heartbeat = container.settings.ws_heartbeat_seconds
        streams = _Streams(
            Hub(container.bus, container.metrics, heartbeat_seconds=heartbeat), Counter()
        )
        app.state.alpaca_data_streams = streams
    await streams.hub.start()
    return streams


async def _handshake(container: Container, peer: frames.Peer) -> auth.KeyPrincipal | None:
    """Wait for ``auth`` (answering anything else 400 or 401), then check the key pair."""
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
            message = await peer.receive()
            while message is None or message.get("action") != "auth":
                await peer.send([error(400 if message is None else 401)])
                message = await peer.receive()
    except TimeoutError:
        await peer.send([error(404)])
        return None
    try:
        return await frames.authenticate(container, message)
    except AppError:
        await peer.send([error(402)])
        return None


async def _stream(
    streams: _Streams,
    container: Container,
    peer: frames.Peer,
    endpoint: Endpoint,
    principal: auth.KeyPrincipal,
) -> None:
    """Run an authenticated stream until the client leaves or is closed."""
    client = AlpacaClient(
        peer.websocket, kind=peer.kind, queue_size=container.settings.ws_queue_size
    )
    session = _Session(container, streams.hub, client, peer, endpoint)
    streams.hub.add(client)
    tasks: list[asyncio.Task[None]] = []
    try:
        tasks = [
            asyncio.create_task(client.write_loop()),
            asyncio.create_task(session.read()),
            asyncio.create_task(session.watch_key(principal)),
        ]
        await client.done.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        streams.hub.remove(client)
    code = client.farewell
    if code is None and client.close_request is not None:
        code = 407 if client.close_request[0] == CLOSE_SLOW else None
    if code is not None:
        last = frames.encode([error(code)], client.kind)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(frames.send(peer.websocket, last), FAREWELL_SECONDS)
    if client.close_request is not None:
        await client.close(_CLOSE_SECONDS)


async def _serve(websocket: WebSocket, endpoint: Endpoint) -> None:
    container: Container = websocket.app.state.container
    settings = container.settings
    streams = await _streams(websocket.app)
    await websocket.accept()
    speaks_msgpack = websocket.headers.get("content-type", "").startswith("application/msgpack")
    peer = frames.Peer(
        websocket,
        max_bytes=settings.ws_max_message_bytes,
        kind=frames.MSGPACK if speaks_msgpack else frames.TEXT,
    )
    try:
        await peer.send([{"T": "success", "msg": "connected"}])
        principal = await _handshake(container, peer)
        if principal is None:
            await websocket.close(CLOSE_POLICY)
            return
        slot = (principal.api_key_id, endpoint.path)
        if streams.open[slot] >= settings.alpaca_stream_max_connections:
            await peer.send([error(406)])
            await websocket.close(CLOSE_POLICY)
            return
        streams.open[slot] += 1
        try:
            await peer.send([{"T": "success", "msg": "authenticated"}])
            await _stream(streams, container, peer, endpoint, principal)
        finally:
            streams.open[slot] -= 1
            if streams.open[slot] <= 0:
                del streams.open[slot]
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


def _route(endpoint: Endpoint) -> None:
    async def stream(websocket: WebSocket) -> None:
        await _serve(websocket, endpoint)

    name = "alpaca_data_stream_" + endpoint.path.strip("/").replace("/", "_")
    router.add_api_websocket_route(endpoint.path, stream, name=name)


async def _unknown_feed(websocket: WebSocket) -> None:
    """Refuse the handshake of a feed Alpaca does not have (HTTP 404, naming the known ones)."""
    known = [f"/v2/{feed}" for feed in STOCK_FEEDS]
    known += [f"/v1beta3/crypto/{location}" for location in CRYPTO_LOCATIONS]
    message = f"no data stream at {websocket.url.path}; streams: {', '.join(known)}"
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            JSONResponse({"code": 404, "message": message}, status_code=404)
        )
    else:
        await websocket.close(CLOSE_POLICY, message[:120])


for _feed in STOCK_FEEDS:
    _route(Endpoint(f"/v2/{_feed}", "us_equity", STOCK_CHANNELS))
for _location in CRYPTO_LOCATIONS:
    _route(Endpoint(f"/v1beta3/crypto/{_location}", "crypto", CRYPTO_CHANNELS))
# After the known ones, which they would otherwise shadow. Plain routes: a feed names no
# resource of anyone's, so they stay out of the API's route table (and its cross-user tests).
router.routes.append(WebSocketRoute("/v2/{feed}", _unknown_feed))
router.routes.append(WebSocketRoute("/v1beta3/crypto/{location}", _unknown_feed))
