"""A local server speaking Alpaca's documented market data protocol, for the test suite.

Streams (``websockets``, on this event loop): ``/v2/{feed}`` for stocks,
``/v1beta3/crypto/{feed}`` for crypto and ``/v1beta1/news`` for news (channel ``news``; a story
goes to sessions subscribed to any of its symbols or to ``*``). A client that upgrades with
``Content-Type: application/msgpack`` (alpaca-py always does) gets msgpack frames with msgpack
timestamps; any other client gets JSON with RFC-3339 timestamps. The flow is Alpaca's:
``connected`` → ``auth`` → ``authenticated`` or error 402 → ``subscribe``/``unsubscribe`` answered
with the full current subscription, plus errors 400, 401, 403, 404 (no auth within
``auth_timeout``), 405 (symbol limit), 406 (connection limit) and 407 (pushed by a test).

REST (Starlette under uvicorn, in a thread): the endpoints alpaca-py's historical clients call for
bars (paged with ``next_page_token``), latest trades and latest quotes, answering from the
``bars``, ``latest_trades`` and ``latest_quotes`` the test fills in; and ``/v1beta1/news``,
answering from ``news`` as Alpaca documents it: sorted by update time (``sort`` desc by default),
``start`` and ``end`` inclusive, pages of at most 50 (422 beyond), a cursor ``page_token``,
``content`` only with ``include_content``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import msgpack
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HandshakeRequest
from websockets.http11 import Response as HandshakeResponse

KEY = "test-key"
SECRET = "test-secret"

_COMMON_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars")
STOCK_CHANNELS = (*_COMMON_CHANNELS, "statuses", "lulds", "corrections", "cancelErrors")
CRYPTO_CHANNELS = (*_COMMON_CHANNELS, "orderbooks")
_BAR_KEYS = {"t": "time", "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
_BAR_KEYS |= {"n": "trade_count", "vw": "vwap"}
_STOCK_PATH = re.compile(r"/v2/(iex|sip|delayed_sip|test)")
_CRYPTO_PATH = re.compile(r"/v1beta3/crypto/(us)")
NEWS_PATH = "/v1beta1/news"
NEWS_CHANNELS = ("news",)
NEWS_PAGE_MAX = 50  # Alpaca's largest news page
NEWS_PAGE_DEFAULT = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    """Format like Alpaca: UTC, nine fractional digits, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass(frozen=True)
class BarRow:
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int
    vwap: float

    def raw(self) -> dict[str, Any]:
        return {key: getattr(self, name) for key, name in _BAR_KEYS.items()}


def make_bars(start: datetime, count: int, step: timedelta = timedelta(minutes=1)) -> list[BarRow]:
    """Return ``count`` deterministic bars from ``start``; bar i opens at 100 + i."""
    return [
        BarRow(start + i * step, o, o + 1.5, o - 0.5, o + 0.5, 1000.0 + 10 * i, 20 + i, o + 0.25)
        for i in range(count)
        for o in [100.0 + i]
    ]


@dataclass(frozen=True)
class NewsRow:
    """One story as Alpaca's news API describes it; ``content`` may be empty (headline only)."""

    id: int
    headline: str
    created_at: datetime
    updated_at: datetime
    symbols: tuple[str, ...]
    summary: str = ""
    content: str = ""
    author: str = "Test Author"
    source: str = "benzinga"
    url: str | None = None
    images: tuple[dict[str, str], ...] = ()

    def raw(self, *, stream: bool, include_content: bool = True) -> dict[str, Any]:
        """Return the REST entry, or the stream frame (``"T": "n"``, no images)."""
        entry: dict[str, Any] = {
            "id": self.id,
            "headline": self.headline,
            "author": self.author,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "summary": self.summary,
            "content": self.content if include_content else "",
            "url": self.url,
            "symbols": list(self.symbols),
            "source": self.source,
        }
        if stream:
            return {"T": "n"} | entry
        return entry | {"images": [dict(image) for image in self.images]}


def make_news(
    start: datetime,
    count: int,
    symbols: tuple[str, ...] = ("AAPL",),
    step: timedelta = timedelta(minutes=5),
    first_id: int = 1000,
) -> list[NewsRow]:
    """Return ``count`` deterministic stories from ``start``, one per ``step``, each updated 1 s
    after it was created; story i has id ``first_id + i`` and headline ``"story {id}"``."""
    return [
        NewsRow(
            id=first_id + i,
            headline=f"story {first_id + i}",
            created_at=start + i * step,
            updated_at=start + i * step + timedelta(seconds=1),
            symbols=symbols,
            summary=f"summary of story {first_id + i}",
            content=f"<p>body of story {first_id + i}</p>",
            url=f"https://news.example/{first_id + i}",
            images=({"size": "thumb", "url": f"https://news.example/{first_id + i}.jpg"},),
        )
        for i in range(count)
    ]


@dataclass(eq=False)
class _Session:
    ws: ServerConnection
    path: str
    crypto: bool
    use_msgpack: bool
    news: bool = False
    authenticated: bool = False
    subscriptions: dict[str, set[str]] = field(default_factory=dict)

    @property
    def channels(self) -> tuple[str, ...]:
        if self.news:
            return NEWS_CHANNELS
        return CRYPTO_CHANNELS if self.crypto else STOCK_CHANNELS

    def reply(self) -> dict[str, Any]:
        return {"T": "subscription"} | {
            channel: sorted(self.subscriptions.get(channel, ())) for channel in self.channels
        }

    def wants(self, channel: str, symbol: str) -> bool:
        wanted = self.subscriptions.get(channel, set())
        return self.authenticated and (symbol in wanted or "*" in wanted)

    def wants_story(self, symbols: tuple[str, ...]) -> bool:
        # A story without symbols reaches only the "*" subscribers.
        return any(self.wants("news", s) for s in symbols) or self.wants("news", "*")


def _encode_value(value: Any, use_msgpack: bool) -> Any:
    if isinstance(value, datetime):
        return msgpack.Timestamp.from_datetime(value) if use_msgpack else rfc3339(value)
    return value


class AlpacaFakeServer:
    """Alpaca's market data WebSocket and REST endpoints on 127.0.0.1, with test hooks."""

    def __init__(
        self,
        *,
        key: str = KEY,
        secret: str = SECRET,
        auth_timeout: float = 5.0,
        max_symbols: int | None = None,
        max_connections: int = 1,
        page_size: int = 10_000,
    ) -> None:
        self.key = key
        self.secret = secret
        self.auth_timeout = auth_timeout
        self.max_symbols = max_symbols
        self.max_connections = max_connections  # authenticated sessions per endpoint
        self.page_size = page_size
        self.bars: dict[tuple[str, str], list[BarRow]] = {}
        self.latest_trades: dict[str, dict[str, Any]] = {}
        self.latest_quotes: dict[str, dict[str, Any]] = {}
        self.news: list[NewsRow] = []
        # HTTP status of a REST request with a wrong key (Alpaca answers 403; some proxies 401).
        self.rest_auth_status = HTTPStatus.FORBIDDEN
        # Counters the tests read.
        self.connections: Counter[str] = Counter()
        self.connected_at: list[float] = []  # event-loop time of each WebSocket connection
        self.wire_formats: Counter[str] = Counter()  # "msgpack" or "json", per connection
        self.auth_attempts = 0
        self.subscribe_messages: list[dict[str, Any]] = []
        self.rest_requests: list[tuple[str, dict[str, str]]] = []
        self._sessions: set[_Session] = set()
        self._ws_server: Server | None = None
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None
        self._ws_port = 0
        self._http_port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> AlpacaFakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._ws_server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._check_path
        )
        self._ws_port = next(iter(self._ws_server.sockets)).getsockname()[1]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._http_port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._rest_app(), lifespan="off", log_level="warning", access_log=False
        )
        self._http = uvicorn.Server(config)
        self._http_thread = threading.Thread(
            target=self._http.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._http_thread.start()
        await self.wait_for(lambda: self._http is not None and self._http.started, timeout=5)

    async def stop(self) -> None:
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()
            self._ws_server = None
        if self._http is not None and self._http_thread is not None:
            self._http.should_exit = True
            await asyncio.to_thread(self._http_thread.join, 5)
            self._http = self._http_thread = None

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self._ws_port}"

    @property
    def data_url(self) -> str:
        return f"http://127.0.0.1:{self._http_port}"

    # -- test hooks -----------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        return sum(self.connections.values())

    def subscriptions(self, path: str | None = None) -> list[dict[str, list[str]]]:
        """Return the non-empty subscriptions of each live authenticated session."""
        return [
            {c: sorted(s) for c, s in session.subscriptions.items() if s}
            for session in self._sessions
            if session.authenticated and (path is None or session.path == path)
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``predicate`` until it holds; the generous timeout only stops a hang."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)

    async def wait_subscribed(
        self, symbol: str, channel: str = "trades", timeout: float = 30.0
    ) -> None:
        await self.wait_for(
            lambda: any(s.wants(channel, symbol) for s in self._sessions), timeout=timeout
        )

    async def push_trade(
        self, symbol: str, price: float, size: float, time: datetime, trade_id: int = 1
    ) -> int:
        """Send a trade to every session subscribed to it; return how many got it."""
        entry = (crypto_trade if "/" in symbol else stock_trade)(price, size, time, trade_id)
        return await self._broadcast("trades", {"T": "t", "S": symbol, **entry})

    async def push_quote(
        self, symbol: str, bid: float, bid_size: float, ask: float, ask_size: float, time: datetime
    ) -> int:
        entry = (crypto_quote if "/" in symbol else stock_quote)(bid, bid_size, ask, ask_size, time)
        return await self._broadcast("quotes", {"T": "q", "S": symbol, **entry})

    async def push_bar(self, symbol: str, bar: BarRow) -> int:
        return await self._broadcast("bars", {"T": "b", "S": symbol, **bar.raw()})

    async def push_news(self, story: NewsRow) -> int:
        """Send a story to every news session subscribed to one of its symbols or to ``*``."""
        targets = [s for s in self._sessions if s.news and s.wants_story(story.symbols)]
        frame = story.raw(stream=True)
        for session in targets:
            with contextlib.suppress(ConnectionClosed):
                await self._send(session, [frame])
        return len(targets)

    async def push_error(self, code: int, msg: str, *, close: bool = False) -> int:
        """Send an error frame to every authenticated session (e.g. 407 slow client)."""
        sessions = [s for s in self._sessions if s.authenticated]
        for session in sessions:
            await self._send(session, [{"T": "error", "code": code, "msg": msg}])
            if close:
                await session.ws.close()
        return len(sessions)

    def drop_all_connections(self) -> int:
        """Cut every connection without a close handshake, as a network failure would."""
        sessions = list(self._sessions)
        self._sessions.clear()
        for session in sessions:
            session.ws.transport.abort()
        return len(sessions)

    # -- WebSocket protocol ---------------------------------------------------------------------

    def _check_path(
        self, connection: ServerConnection, request: HandshakeRequest
    ) -> HandshakeResponse | None:
        path = request.path
        if _STOCK_PATH.fullmatch(path) or _CRYPTO_PATH.fullmatch(path) or path == NEWS_PATH:
            return None
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        content_type = ws.request.headers.get("Content-Type", "")
        session = _Session(
            ws=ws,
            path=ws.request.path,
            crypto=bool(_CRYPTO_PATH.fullmatch(ws.request.path)),
            use_msgpack=content_type.startswith("application/msgpack"),
            news=ws.request.path == NEWS_PATH,
        )
        self.connections[session.path] += 1
        self.wire_formats["msgpack" if session.use_msgpack else "json"] += 1
        self.connected_at.append(asyncio.get_running_loop().time())
        self._sessions.add(session)
        try:
            await self._send(session, [{"T": "success", "msg": "connected"}])
            if await self._authenticate(session):
                async for payload in ws:
                    await self._on_message(session, payload)
        except ConnectionClosed:
            pass
        finally:
            self._sessions.discard(session)

    async def _authenticate(self, session: _Session) -> bool:
        try:
            async with asyncio.timeout(self.auth_timeout):
                while True:
                    message = self._decode(await session.ws.recv())
                    if message is None:
                        await self._error(session, 400, "invalid syntax")
                    elif message.get("action") != "auth":
                        await self._error(session, 401, "not authenticated")
                    else:
                        break
        except TimeoutError:
            await self._error(session, 404, "auth timeout")
            await session.ws.close()
            return False
        self.auth_attempts += 1
        if message.get("key") != self.key or message.get("secret") != self.secret:
            await self._error(session, 402, "auth failed")
            await session.ws.close()
            return False
        peers = [s for s in self._sessions if s.authenticated and s.path == session.path]
        if len(peers) >= self.max_connections:
            await self._error(session, 406, "connection limit exceeded")
            await session.ws.close()
            return False
        session.authenticated = True
        await self._send(session, [{"T": "success", "msg": "authenticated"}])
        return True

    async def _on_message(self, session: _Session, payload: str | bytes) -> None:
        message = self._decode(payload)
        action = None if message is None else message.get("action")
        if message is None or action not in ("auth", "subscribe", "unsubscribe"):
            await self._error(session, 400, "invalid syntax")
            return
        if action == "auth":
            await self._error(session, 403, "already authenticated")
            return
        if action == "subscribe":
            self.subscribe_messages.append(message)
        requested = {k: v for k, v in message.items() if k != "action"}
        unknown = [k for k in requested if k not in session.channels]
        if unknown:
            await self._error(session, 410, f"invalid subscribe action: {unknown[0]}")
            return
        updated = {c: set(s) for c, s in session.subscriptions.items()}
        for channel, symbols in requested.items():
            current = updated.setdefault(channel, set())
            if action == "subscribe":
                current.update(symbols)
            else:
                current.difference_update(symbols)
        distinct = set().union(*updated.values()) if updated else set()
        if self.max_symbols is not None and len(distinct) > self.max_symbols:
            await self._error(session, 405, "symbol limit exceeded")
            return
        session.subscriptions = updated
        await self._send(session, [session.reply()])

    def _decode(self, payload: str | bytes) -> dict[str, Any] | None:
        try:
            message = (
                msgpack.unpackb(payload) if isinstance(payload, bytes) else json.loads(payload)
            )
        except (ValueError, msgpack.UnpackException):
            return None
        return message if isinstance(message, dict) else None

    async def _send(self, session: _Session, frames: list[dict[str, Any]]) -> None:
        encoded = [{k: _encode_value(v, session.use_msgpack) for k, v in f.items()} for f in frames]
        if session.use_msgpack:
            await session.ws.send(msgpack.packb(encoded))
        else:
            await session.ws.send(json.dumps(encoded))

    async def _error(self, session: _Session, code: int, msg: str) -> None:
        await self._send(session, [{"T": "error", "code": code, "msg": msg}])

    async def _broadcast(self, channel: str, frame: dict[str, Any]) -> int:
        targets = [s for s in self._sessions if s.wants(channel, frame["S"])]
        for session in targets:
            with contextlib.suppress(ConnectionClosed):
                await self._send(session, [frame])
        return len(targets)

    # -- REST -----------------------------------------------------------------------------------

    def _rest_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/stocks/bars", self._bars),
                Route("/v2/stocks/trades/latest", self._latest_trades),
                Route("/v2/stocks/quotes/latest", self._latest_quotes),
                Route("/v1beta3/crypto/{feed}/bars", self._bars),
                Route("/v1beta3/crypto/{feed}/latest/trades", self._latest_trades),
                Route("/v1beta3/crypto/{feed}/latest/quotes", self._latest_quotes),
                Route(NEWS_PATH, self._news),
            ]
        )

    def _rest_check(self, request: Request) -> JSONResponse | None:
        self.rest_requests.append((request.url.path, dict(request.query_params)))
        key = request.headers.get("APCA-API-KEY-ID")
        secret = request.headers.get("APCA-API-SECRET-KEY")
        if key != self.key or secret != self.secret:
            status = HTTPStatus(self.rest_auth_status)
            return JSONResponse({"message": f"{status.phrase.lower()}."}, status_code=status)
        return None

    async def _bars(self, request: Request) -> JSONResponse:
        if (denied := self._rest_check(request)) is not None:
            return denied
        params = request.query_params
        start = _parse_time(params.get("start"), datetime.min.replace(tzinfo=UTC))
        end = _parse_time(params.get("end"), datetime.max.replace(tzinfo=UTC))
        rows = [
            (symbol, row)
            for symbol in params.get("symbols", "").split(",")
            for row in self.bars.get((symbol, params.get("timeframe", "")), [])
            # Alpaca's start and end are both inclusive.
            if start <= row.time <= end
        ]
        offset = int(base64.b64decode(params["page_token"])) if params.get("page_token") else 0
        size = min(int(params.get("limit") or self.page_size), self.page_size)
        page = rows[offset : offset + size]
        following = offset + len(page)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for symbol, row in page:
            raw = {k: _encode_value(v, False) for k, v in row.raw().items()}
            grouped.setdefault(symbol, []).append(raw)
        token = (
            base64.b64encode(str(following).encode()).decode() if following < len(rows) else None
        )
        return JSONResponse({"bars": grouped, "next_page_token": token})

    async def _news(self, request: Request) -> JSONResponse:
        if (denied := self._rest_check(request)) is not None:
            return denied
        params = request.query_params
        sort = params.get("sort", "desc").lower()
        limit = int(params.get("limit") or NEWS_PAGE_DEFAULT)
        if sort not in ("asc", "desc") or not 1 <= limit <= NEWS_PAGE_MAX:
            return JSONResponse({"message": "invalid sort or limit"}, status_code=422)
        start = _parse_time(params.get("start"), datetime.min.replace(tzinfo=UTC))
        end = _parse_time(params.get("end"), datetime.max.replace(tzinfo=UTC))
        wanted = {s for s in params.get("symbols", "").split(",") if s}
        include_content = params.get("include_content", "").lower() == "true"
        contentful_only = params.get("exclude_contentless", "").lower() == "true"
        stories = sorted(
            (
                story
                for story in self.news
                if start <= story.updated_at <= end
                and (not wanted or wanted.intersection(story.symbols))
                and (story.content or not contentful_only)
            ),
            key=_news_cursor,
            reverse=sort == "desc",
        )
        if params.get("page_token"):
            # Alpaca's token is base64("<updated_at ns>|<id>") of the last story served.
            nanos, story_id = base64.b64decode(params["page_token"]).decode().split("|")
            cursor = (int(nanos), int(story_id))
            if sort == "asc":
                stories = [s for s in stories if _news_cursor(s) > cursor]
            else:
                stories = [s for s in stories if _news_cursor(s) < cursor]
        page = stories[: min(limit, self.page_size)]
        token = None
        if len(stories) > len(page):
            nanos_last, id_last = _news_cursor(page[-1])
            token = base64.b64encode(f"{nanos_last}|{id_last}".encode()).decode()
        entries = [
            {k: _encode_value(v, False) for k, v in raw.items()}
            for raw in (s.raw(stream=False, include_content=include_content) for s in page)
        ]
        return JSONResponse({"news": entries, "next_page_token": token})

    async def _latest_trades(self, request: Request) -> JSONResponse:
        return self._latest(request, "trades", self.latest_trades)

    async def _latest_quotes(self, request: Request) -> JSONResponse:
        return self._latest(request, "quotes", self.latest_quotes)

    def _latest(self, request: Request, key: str, table: dict[str, dict[str, Any]]) -> JSONResponse:
        if (denied := self._rest_check(request)) is not None:
            return denied
        symbols = request.query_params.get("symbols", "").split(",")
        found = {
            s: {k: _encode_value(v, False) for k, v in table[s].items()}
            for s in symbols
            if s in table
        }
        return JSONResponse({key: found})


def _news_cursor(story: NewsRow) -> tuple[int, int]:
    micros = (story.updated_at - _EPOCH) // timedelta(microseconds=1)
    return (micros * 1000, story.id)


def _parse_time(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    return datetime.fromisoformat(text).astimezone(UTC)


# Trade and quote entries as Alpaca sends them, in REST replies and (with "T" and "S") streams.


def stock_trade(price: float, size: float, time: datetime, trade_id: int = 1) -> dict[str, Any]:
    return {"t": time, "x": "V", "p": price, "s": size, "c": ["@"], "i": trade_id, "z": "C"}


def crypto_trade(price: float, size: float, time: datetime, trade_id: int = 1) -> dict[str, Any]:
    return {"t": time, "p": price, "s": size, "i": trade_id, "tks": "B"}


def crypto_quote(bid: float, bsize: float, ask: float, asize: float, t: datetime) -> dict[str, Any]:
    return {"t": t, "bp": bid, "bs": bsize, "ap": ask, "as": asize}


def stock_quote(bid: float, bsize: float, ask: float, asize: float, t: datetime) -> dict[str, Any]:
    return crypto_quote(bid, bsize, ask, asize, t) | {"bx": "V", "ax": "V", "c": ["R"], "z": "C"}
