"""Alpaca's news: stories from the REST history and from the live news stream.

History comes from alpaca-py's ``NewsClient`` (synchronous, so it runs in a worker thread, as the
bar requests in :mod:`.source` do); it follows ``next_page_token`` in pages of 50, Alpaca's
largest. The stream speaks Alpaca's protocol (``connected`` → ``auth`` → ``subscribe``) directly
with ``websockets`` instead of wrapping alpaca-py's ``NewsDataStream`` as :mod:`.stream` wraps the
market data streams, because that client

* calls its handler once for every subscribed symbol a story names, so a story about AAPL and
  MSFT would arrive twice when both are subscribed;
* speaks only msgpack, while proxies and debugging tools often need Alpaca's JSON framing;
* would need the same private hooks as :mod:`.stream` to report a refused key instead of
  retrying it forever, for a protocol of four messages on a single channel.

Reconnects follow the market data streams' policy (exponential backoff with equal jitter between
``reconnect_initial_delay`` and ``reconnect_max_delay``, fatal error codes end the stream, 406
is retried ``connection_limit_retries`` times). A story already delivered is not delivered again
when it reappears with the same ``updated_at`` (after a reconnect, say); a later ``updated_at``
is a correction and is delivered.

:class:`~quantumtrade.domain.news.NewsItem` is source-neutral: the simulated news produces it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgpack
from alpaca.common.utils import reconnect_delay
from alpaca.data.historical.news import NewsClient
from alpaca.data.requests import NewsRequest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from quantumtrade.domain.news import NewsItem
from quantumtrade.marketdata.alpaca import errors, parsing
from quantumtrade.marketdata.alpaca.config import AlpacaConfig
from quantumtrade.marketdata.alpaca.source import normalize_symbol

log = logging.getLogger(__name__)

_T = TypeVar("_T")

NEWS_STREAM_PATH = "/v1beta1/news"
# Stories one get_news call returns when the caller gives no limit: a year of a busy symbol.
DEFAULT_MAX_ITEMS = 10_000
SORTS = frozenset({"asc", "desc"})
WILDCARD = "*"
# Alpaca's ``end`` is inclusive, the domain's is not; Alpaca's news times have at most
# microsecond precision, so asking up to one microsecond before ``end`` excludes ``end`` itself.
_END_EXCLUSIVE = timedelta(microseconds=1)
# Stories remembered per stream to drop repeats; far more than arrive between two reconnects.
_SEEN_CAPACITY = 10_000
# Codes after which retrying cannot help: the key, the plan or the request must change first.
_FATAL = frozenset(
    {
        errors.AUTH_FAILED,
        errors.SYMBOL_LIMIT,
        errors.INSUFFICIENT_SUBSCRIPTION,
        errors.INVALID_SUBSCRIBE_ACTION,
    }
)


def news_from_raw(raw: Mapping[str, Any]) -> NewsItem:
    """Translate one story of a REST reply or one ``"T": "n"`` stream frame."""
    url = raw.get("url")
    return NewsItem(
        id=str(raw["id"]),
        headline=str(raw["headline"]),
        summary=str(raw.get("summary") or ""),
        content=str(raw.get("content") or ""),
        author=str(raw.get("author") or ""),
        source=str(raw.get("source") or ""),
        url=str(url) if url else None,
        symbols=tuple(str(s) for s in raw.get("symbols") or ()),
        created_at=parsing.parse_time(raw["created_at"]),
        updated_at=parsing.parse_time(raw["updated_at"]),
    )


class AlpacaNews:
    """Alpaca's news API (or any server speaking its protocol, see :class:`AlpacaConfig`)."""

    name = "alpaca"

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        max_items: int = DEFAULT_MAX_ITEMS,
        use_msgpack: bool = True,
    ) -> None:
        """``max_items`` caps a :meth:`get_news` call without a limit; ``use_msgpack`` picks the
        stream's framing (Alpaca's default for SDKs; JSON is easier to inspect on the wire)."""
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        self._config = config
        self._max_items = max_items
        self._use_msgpack = use_msgpack
        self._client: NewsClient | None = None
        self._sessions: set[_NewsSession] = set()

    @property
    def config(self) -> AlpacaConfig:
        return self._config

    @property
    def stream_endpoint(self) -> str:
        return f"{self._config.stream_url.rstrip('/')}{NEWS_STREAM_PATH}"

    async def get_news(
        self,
        symbols: Sequence[str] | None,
        start: datetime,
        end: datetime,
        limit: int | None = None,
        sort: str = "desc",
        *,
        include_content: bool = False,
        exclude_contentless: bool = False,
    ) -> list[NewsItem]:
        """Return stories naming any of ``symbols`` (every story if none) in ``[start, end)``.

        The window is Alpaca's (inclusive at both ends) with ``end`` itself left out, as
        everywhere in the domain. Pages are fetched until ``limit`` stories (``max_items`` if
        None) or the last page; ``sort`` orders by update time, newest first by default, as
        Alpaca does. ``content`` stays empty unless ``include_content``.
        """
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {sorted(SORTS)}, not {sort!r}")
        if limit is not None and limit < 1:
            raise ValueError("limit must be >= 1")
        start, end = _utc(start), _utc(end)
        if end <= start:
            return []
        wanted = _normalize(symbols or ())
        request = NewsRequest(
            symbols=",".join(wanted) or None,
            start=start,
            end=end - _END_EXCLUSIVE,
            sort=sort,
            limit=self._max_items if limit is None else limit,
            include_content=include_content,
            exclude_contentless=exclude_contentless,
        )
        client = self._news_client()
        reply = await self._call(lambda: client.get_news(request))
        rows = reply.get("news") if isinstance(reply, Mapping) else None
        return _parse_all(rows if isinstance(rows, list) else [])

    def stream_news(self, symbols: Sequence[str]) -> AsyncIterator[NewsItem]:
        """Yield live stories about ``symbols`` (``"*"``: every story) until closed.

        Reconnects and resubscribes after drops; raises :class:`AlpacaError` subclasses on
        fatal errors (a refused key, a symbol limit, a plan without news).
        """
        wanted = _normalize(symbols)
        if not wanted:
            raise ValueError("stream_news needs at least one symbol or '*'")
        if WILDCARD in wanted:
            wanted = [WILDCARD]
        session = _NewsSession(
            self._config, self.stream_endpoint, wanted, self._use_msgpack, self._sessions
        )
        return session.events()

    async def close(self) -> None:
        """End every open news stream and release the HTTP session."""
        for session in list(self._sessions):
            await session.close()
        http = getattr(self._client, "_session", None)
        if http is not None:
            http.close()
        self._client = None

    def _news_client(self) -> NewsClient:
        if self._client is None:
            self._client = NewsClient(
                self._config.api_key,
                self._config.secret_key,
                raw_data=True,
                url_override=self._config.data_url.rstrip("/"),
            )
        return self._client

    async def _call(self, request: Callable[[], _T]) -> _T:
        return await errors.call_rest(request, what="news", url=self._config.data_url)


class _Reconnect(Exception):
    """Drop this connection and connect again after the backoff."""


class _NewsSession:
    """One ``stream_news()`` call: one connection at a time, read by one consumer."""

    def __init__(
        self,
        config: AlpacaConfig,
        endpoint: str,
        symbols: Sequence[str],
        use_msgpack: bool,
        registry: set[_NewsSession],
    ) -> None:
        self._config = config
        self._endpoint = endpoint
        self._symbols = list(symbols)
        self._use_msgpack = use_msgpack
        # The owner's set of running sessions, so it can close them all.
        self._registry = registry
        self._ws: ClientConnection | None = None
        self._closed = False
        self._stopping = asyncio.Event()
        self._failures = 0
        self._limit_hits = 0
        self._seen: OrderedDict[tuple[str, datetime], None] = OrderedDict()

    async def events(self) -> AsyncIterator[NewsItem]:
        """Yield stories until closed; raise the first fatal error the server reports."""
        self._registry.add(self)
        try:
            while not self._closed:
                try:
                    self._ws = await self._open()
                    if self._closed:  # close() ran while the handshake was under way
                        return
                    while True:
                        for story in await self._receive(self._ws):
                            yield story
                except _Reconnect as exc:
                    if self._closed:
                        return
                    self._failures += 1
                    delay = reconnect_delay(
                        self._failures,
                        self._config.reconnect_initial_delay,
                        self._config.reconnect_max_delay,
                    )
                    log.warning("alpaca news stream: %s; reconnecting in %.2f s", exc, delay)
                    await self._drop()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            await self.close()

    async def close(self) -> None:
        """End the consumer's iteration and disconnect."""
        self._closed = True
        self._stopping.set()
        await self._drop()
        self._registry.discard(self)

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _open(self) -> ClientConnection:
        """Connect, authenticate and subscribe; raise _Reconnect on what a retry may cure."""
        config = self._config
        headers = {"Content-Type": "application/msgpack"} if self._use_msgpack else None
        try:
            ws = await connect(
                self._endpoint,
                additional_headers=headers,
                open_timeout=config.open_timeout,
                ping_interval=config.ping_interval,
                ping_timeout=config.ping_timeout,
                close_timeout=config.close_timeout,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise _Reconnect(f"cannot reach {self._endpoint}: {exc}") from exc
        try:
            if self._closed:
                raise _Reconnect("closed while connecting")
            frames = await self._handshake_reply(ws)
            if not any(f.get("T") == "success" and f.get("msg") == "connected" for f in frames):
                raise _Reconnect(f"unexpected greeting {frames!r}")
            auth = {"action": "auth", "key": config.api_key, "secret": config.secret_key}
            await self._send(ws, auth)
            frames = await self._handshake_reply(ws)
            if not parsing.is_authenticated(frames):
                for frame in frames:
                    error = parsing.control_error(frame)
                    if error is not None:
                        self._on_error(error)
                        raise _Reconnect(f"authentication refused ({error.code} {error.message})")
                raise _Reconnect(f"unexpected reply to authentication: {frames!r}")
            self._limit_hits = 0
            await self._send(ws, {"action": "subscribe", "news": self._symbols})
        except BaseException:
            with contextlib.suppress(Exception):
                await ws.close()
            raise
        return ws

    async def _handshake_reply(self, ws: ClientConnection) -> list[dict[str, Any]]:
        try:
            async with asyncio.timeout(self._config.open_timeout):
                return _decode(await ws.recv())
        except TimeoutError as exc:
            raise _Reconnect("no reply from the server") from exc
        except ConnectionClosed as exc:
            raise _Reconnect(f"connection closed during authentication: {exc}") from exc
        except ValueError as exc:
            raise _Reconnect(f"unreadable reply: {exc}") from exc

    async def _send(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        payload: bytes | str = msgpack.packb(message) if self._use_msgpack else json.dumps(message)
        try:
            await ws.send(payload)
        except ConnectionClosed as exc:
            raise _Reconnect(f"connection closed: {exc}") from exc

    async def _receive(self, ws: ClientConnection) -> list[NewsItem]:
        """Wait for one message; return its new stories."""
        try:
            payload = await ws.recv()
        except ConnectionClosed as exc:
            raise _Reconnect(f"connection closed: {exc}") from exc
        try:
            frames = _decode(payload)
        except ValueError:
            log.warning("skipping unreadable alpaca news message %r", payload[:200])
            return []
        stories: list[NewsItem] = []
        for frame in frames:
            kind = frame.get("T")
            if kind == "n":
                story = _parse(frame)
                if story is not None and self._first_sight(story):
                    stories.append(story)
            elif kind == "subscription":
                log.info("alpaca news stream subscribed: %s", frame.get("news"))
                # A confirmed subscription ends a run of failed attempts.
                self._failures = 0
            else:
                error = parsing.control_error(frame)
                if error is not None:
                    self._on_error(error)
        return stories

    def _first_sight(self, story: NewsItem) -> bool:
        key = (story.id, story.updated_at)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > _SEEN_CAPACITY:
            self._seen.popitem(last=False)
        return True

    def _on_error(self, error: parsing.ControlError) -> None:
        """Raise for fatal codes, _Reconnect for retryable ones; log the rest."""
        exc = errors.stream_error(error.code, error.message)
        if error.code in _FATAL:
            log.error("alpaca news stream stopped: %s", exc.message)
            raise exc
        if error.code == errors.CONNECTION_LIMIT:
            self._limit_hits += 1
            if self._limit_hits > self._config.connection_limit_retries:
                log.error("alpaca news stream stopped: %s", exc.message)
                raise exc
            log.warning(
                "%s; retrying (%d of %d)",
                exc.message,
                self._limit_hits,
                self._config.connection_limit_retries,
            )
            raise _Reconnect(exc.message)
        if error.code == errors.AUTH_TIMEOUT:
            raise _Reconnect(exc.message)
        if error.code == errors.SLOW_CLIENT:
            log.warning("%s: stories arrive faster than they are consumed", exc.message)
        else:
            log.error("alpaca news stream: %s", exc.message)


def _decode(payload: bytes | str) -> list[dict[str, Any]]:
    """Decode one stream message: a JSON (text) or msgpack (binary) array of frames."""
    try:
        frames = msgpack.unpackb(payload) if isinstance(payload, bytes) else json.loads(payload)
    except msgpack.UnpackException as exc:  # the rest of msgpack's errors are ValueErrors
        raise ValueError(str(exc)) from exc
    if not isinstance(frames, list):
        raise ValueError(f"unexpected stream message {frames!r}")
    return [frame for frame in frames if isinstance(frame, dict)]


def _parse(raw: Mapping[str, Any]) -> NewsItem | None:
    try:
        return news_from_raw(raw)
    except (KeyError, TypeError, ValueError):
        log.warning("skipping malformed alpaca news story %r", raw, exc_info=True)
        return None


def _parse_all(rows: Sequence[Any]) -> list[NewsItem]:
    parsed = (_parse(row) for row in rows if isinstance(row, Mapping))
    return [story for story in parsed if story is not None]


def _normalize(symbols: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(normalize_symbol(s) for s in symbols if s.strip()))


def _utc(moment: datetime) -> datetime:
    # Naive datetimes are taken as UTC, as alpaca-py does.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
