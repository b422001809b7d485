"""Publish/subscribe fan-out of JSON messages between server replicas, over Redis or memory.

:class:`RedisBus` keeps one Redis connection per process for all its subscriptions. When that
connection drops it reconnects with backoff and resubscribes by itself; meanwhile messages
published by this process still reach its own subscribers, so a single replica keeps working.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from quantumtrade.core.settings import Settings
from quantumtrade.infra.cache import REDIS_ERRORS, glob_escape
from quantumtrade.infra.health import ComponentHealth

_log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05  # how soon the listener notices new or dropped subscriptions
_KEEPALIVE_SECONDS = 5.0  # ping an idle connection this often; 3 unanswered ones mean it is dead
_SYNC_PREFIX = "qt-bus-sync:"


@dataclass(frozen=True)
class BusMessage:
    """One received message; ``pattern`` is set for pattern subscriptions."""

    channel: str
    data: dict[str, Any]
    pattern: str | None = None


class Subscription:
    """Messages on some channels or patterns, used as ``async with`` and ``async for``.

    The buffer is bounded: when the consumer falls behind the oldest messages are dropped and
    counted in :attr:`dropped`.
    """

    def __init__(
        self, bus: Bus, channels: frozenset[str], patterns: frozenset[str], maxsize: int
    ) -> None:
        self.channels = channels
        self.patterns = patterns
        self.dropped = 0
        self._bus = bus
        self._maxsize = maxsize
        # Unbounded on purpose: the bound is enforced in _deliver, so the close marker always fits.
        self._queue: asyncio.Queue[BusMessage | None] = asyncio.Queue()
        self._state: Literal["new", "open", "closed"] = "new"

    async def start(self) -> Subscription:
        """Begin receiving; messages published after this returns are delivered."""
        if self._state != "new":
            raise RuntimeError("a subscription can be started only once")
        self._state = "open"
        try:
            await self._bus._attach(self)
        except BaseException:
            self._state = "closed"
            self._bus._detach(self)
            raise
        return self

    async def aclose(self) -> None:
        """Stop receiving; iteration ends after the messages already buffered."""
        if self._state == "open":
            self._end()
            self._bus._detach(self)
        self._state = "closed"

    async def __aenter__(self) -> Subscription:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BusMessage:
        if self._state == "new":
            raise RuntimeError("start the subscription first: async with bus.subscribe(...)")
        if self._state == "closed" and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def _deliver(self, message: BusMessage) -> None:
        if self._state != "open":
            return
        if self._queue.qsize() >= self._maxsize:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    def _end(self) -> None:
        if self._state == "open":
            self._state = "closed"
            self._queue.put_nowait(None)


class _Router:
    """Local subscriptions, and delivery to them with Redis semantics.

    Like Redis, a subscription gets one copy per matching channel or pattern it holds.
    """

    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    def channels(self) -> set[str]:
        return {channel for sub in self.subscriptions for channel in sub.channels}

    def patterns(self) -> set[str]:
        return {pattern for sub in self.subscriptions for pattern in sub.patterns}

    def has_listeners(self, channel: str) -> bool:
        """Return whether a local subscription takes ``channel`` (by name or pattern)."""
        return any(
            channel in sub.channels or any(fnmatchcase(channel, p) for p in sub.patterns)
            for sub in self.subscriptions
        )

    def dispatch(self, channel: str, data: dict[str, Any], pattern: str | None = None) -> None:
        message = BusMessage(channel, data, pattern)
        for sub in list(self.subscriptions):
            if (channel in sub.channels) if pattern is None else (pattern in sub.patterns):
                sub._deliver(message)

    def deliver_local(self, channel: str, data: dict[str, Any]) -> None:
        self.dispatch(channel, data)
        for pattern in self.patterns():
            if fnmatchcase(channel, pattern):
                self.dispatch(channel, data, pattern)


def _encode(message: dict[str, Any]) -> str:
    if not isinstance(message, dict):
        raise TypeError("bus messages must be JSON objects (dicts)")
    return json.dumps(message, separators=(",", ":"))


class Bus(ABC):
    """Fan-out of JSON objects to every subscriber of a channel, on every replica."""

    backend: str

    def __init__(self, *, queue_size: int = 1000) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be positive")
        self.queue_size = queue_size
        self._router = _Router()
        self._closed = False

    @abstractmethod
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber of ``channel``; never raises on outages."""

    @abstractmethod
    async def health(self) -> ComponentHealth:
        """Report whether messages reach other replicas."""

    def may_deliver(self, channel: str) -> bool:
        """Return False only when no subscriber anywhere can hear ``channel`` now.

        Lets a publisher skip building messages nobody would read; the default (other replicas
        may listen) is True.
        """
        return True

    def subscribe(self, *channels: str) -> Subscription:
        """Return a subscription to ``channels``, to be entered with ``async with``."""
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        return Subscription(self, frozenset(channels), frozenset(), self.queue_size)

    def psubscribe(self, *patterns: str) -> Subscription:
        """Return a subscription to channels matching glob ``patterns`` (``prices.*``)."""
        if not patterns:
            raise ValueError("psubscribe needs at least one pattern")
        return Subscription(self, frozenset(), frozenset(patterns), self.queue_size)

    async def close(self) -> None:
        """End every subscription and release connections."""
        self._closed = True
        for sub in list(self._router.subscriptions):
            sub._end()
        self._router.subscriptions.clear()

    async def _attach(self, sub: Subscription) -> None:
        if self._closed:
            raise RuntimeError("the bus is closed")
        self._router.subscriptions.add(sub)

    def _detach(self, sub: Subscription) -> None:
        self._router.subscriptions.discard(sub)


class MemoryBus(Bus):
    """Bus within one process, for a single replica and for tests."""

    backend = "memory"

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        payload = _encode(message)  # refuses what Redis could not carry, listened to or not
        if self._router.has_listeners(channel):
            # Round-trip through JSON so subscribers see what they would see over Redis.
            self._router.deliver_local(channel, json.loads(payload))

    def may_deliver(self, channel: str) -> bool:
        return self._router.has_listeners(channel)

    async def health(self) -> ComponentHealth:
        detail = f"{len(self._router.subscriptions)} subscriptions"
        return ComponentHealth("ok", detail=detail, backend=self.backend)


class RedisBus(Bus):
    """Bus over Redis pub/sub; channels are named ``{prefix}{channel}`` in Redis."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "qt:",
        *,
        retry_seconds: float = 2.0,
        queue_size: int = 1000,
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(queue_size=queue_size)
        if retry_seconds <= 0:
            raise ValueError("retry_seconds must be positive")
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._sync_timeout = 2 * (connect_timeout + socket_timeout)
        self._client: Redis = Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._listener: asyncio.Task[None] | None = None
        self._state: Literal["idle", "connecting", "live", "down"] = "idle"
        self._generation = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._publish_down_until: float | None = None
        self._last_error: str | None = None
        self._lost = False  # the listener lost Redis and has not been live since

    @property
    def listening(self) -> bool:
        """Whether this process currently receives its subscriptions' messages from Redis."""
        return self._state == "live"

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        payload = _encode(message)
        sent = False
        if self._publish_usable():
            try:
                await self._client.publish(self.prefix + channel, payload)
                sent = True
                self._publish_down_until = None
            except REDIS_ERRORS as exc:
                self._trip(exc)
        # Local subscribers hear it from Redis only while the listener is live: no duplicates.
        if not (sent and self._state == "live"):
            self._router.deliver_local(channel, json.loads(payload))

    async def health(self) -> ComponentHealth:
        latency: float | None = None
        if self._publish_usable():
            started = time.perf_counter()
            try:
                await self._client.ping()
                latency = round((time.perf_counter() - started) * 1000, 3)
            except REDIS_ERRORS as exc:
                self._trip(exc)
        if latency is None:
            detail = f"redis unreachable ({self._last_error}); delivering to local subscribers only"
        elif self._state in ("idle", "live"):
            return ComponentHealth("ok", latency_ms=latency, backend=self.backend)
        elif self._state == "connecting" and not self._lost:
            # First subscription of this process: not an outage, just not confirmed yet.
            return ComponentHealth(
                "ok", detail="subscribing", latency_ms=latency, backend=self.backend
            )
        else:
            detail = "subscriptions reconnecting; delivering to local subscribers meanwhile"
        return ComponentHealth("degraded", detail=detail, latency_ms=latency, backend=self.backend)

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._release_waiters()
        await self._client.aclose()

    async def _attach(self, sub: Subscription) -> None:
        await super()._attach(sub)
        self._generation += 1
        if self._listener is None or self._listener.done():
            self._state = "connecting"
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        if self._state == "down":
            return  # Redis is away: local delivery covers this subscription until it returns
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._generation, waiter))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the waiter resolves.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._sync_timeout):
                await waiter

    def _detach(self, sub: Subscription) -> None:
        super()._detach(sub)
        self._generation += 1

    def _publish_usable(self) -> bool:
        if self._publish_down_until is None or self._state == "live":
            return True
        return self._clock() >= self._publish_down_until

    def _trip(self, exc: BaseException) -> None:
        if self._publish_down_until is None:
            _log.warning("redis bus unreachable, publishing locally: %s", exc)
        self._last_error = f"{type(exc).__name__}: {exc}"
        self._publish_down_until = self._clock() + self.retry_seconds

    def _release_waiters(self, generation: int | None = None) -> None:
        """Wake subscribers waiting for ``generation`` (all of them when None)."""
        keep: list[tuple[int, asyncio.Future[None]]] = []
        for waited, waiter in self._waiters:
            if generation is None or waited <= generation:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                keep.append((waited, waiter))
        self._waiters = keep

    async def _listen(self) -> None:
        """Keep one pub/sub connection subscribed to what local subscribers want."""
        delay = min(0.1, self.retry_seconds)
        while not self._closed:
            pubsub = self._client.pubsub()
            try:
                await self._serve(pubsub)
            except Exception as exc:
                was_live = self._state == "live"
                self._state = "down"
                self._lost = True
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._release_waiters()
                if not isinstance(exc, REDIS_ERRORS):
                    _log.exception("redis bus listener failed; reconnecting")
                elif was_live:
                    _log.warning("redis bus connection lost, reconnecting: %s", exc)
                if was_live:
                    delay = min(0.1, self.retry_seconds)
            finally:
                with contextlib.suppress(Exception):
                    # Typed in redis-py 8, untyped before: call it through Any for both.
                    closer: Any = pubsub.aclose
                    await closer()
            if self._closed:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_seconds)
            self._state = "connecting"

    async def _serve(self, pubsub: PubSub) -> None:
        """Relay messages until the connection fails; raises on failure."""
        channels: set[str] = set()
        patterns: dict[str, str] = {}  # Redis pattern -> local pattern
        synced = -1
        last_seen = last_ping = self._clock()
        # Checked as well as cancelled on close: redis-py can lose a cancellation that lands
        # just as a read completes, and the loop would then run on.
        while not self._closed:
            if synced != self._generation:
                synced = self._generation
                await self._reconcile(pubsub, channels, patterns)
                # Redis answers in order: this PING's reply confirms the commands before it.
                await pubsub.ping(f"{_SYNC_PREFIX}{synced}")
            message = await pubsub.get_message(timeout=_POLL_SECONDS)
            now = self._clock()
            if message is None:
                if now - last_seen > 3 * _KEEPALIVE_SECONDS:
                    raise RedisConnectionError("redis stopped answering on the pub/sub connection")
                if now - max(last_seen, last_ping) > _KEEPALIVE_SECONDS:
                    await pubsub.ping()
                    last_ping = now
                continue
            last_seen = now
            kind = message["type"]
            if kind == "pong":
                token = _text(message["data"])
                if token.startswith(_SYNC_PREFIX):
                    if self._state != "live":
                        _log.info("redis bus subscribed")
                    self._state = "live"
                    self._lost = False
                    self._release_waiters(int(token.removeprefix(_SYNC_PREFIX)))
            elif kind == "message":
                self._route(message["channel"], message["data"], None)
            elif kind == "pmessage":
                self._route(
                    message["channel"], message["data"], patterns.get(_text(message["pattern"]))
                )

    async def _reconcile(
        self, pubsub: PubSub, channels: set[str], patterns: dict[str, str]
    ) -> None:
        """Bring the connection's subscriptions in line with the local ones, in place."""
        want_channels = {self.prefix + channel for channel in self._router.channels()}
        want_patterns = {glob_escape(self.prefix) + p: p for p in self._router.patterns()}
        if added := want_channels - channels:
            await pubsub.subscribe(*sorted(added))
        if removed := channels - want_channels:
            await pubsub.unsubscribe(*sorted(removed))
        if added := want_patterns.keys() - patterns.keys():
            await pubsub.psubscribe(*sorted(added))
        if removed := patterns.keys() - want_patterns.keys():
            await pubsub.punsubscribe(*sorted(removed))
        channels.clear()
        channels.update(want_channels)
        patterns.clear()
        patterns.update(want_patterns)

    def _route(self, raw_channel: Any, raw_data: Any, pattern: str | None) -> None:
        channel = _text(raw_channel)
        if not channel.startswith(self.prefix):
            return
        try:
            data = json.loads(raw_data)
        except ValueError:
            _log.warning("dropping a non-JSON message on %r", channel)
            return
        if not isinstance(data, dict):
            _log.warning("dropping a non-object message on %r", channel)
            return
        self._router.dispatch(channel.removeprefix(self.prefix), data, pattern)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def create_bus(settings: Settings, *, prefix: str | None = None) -> Bus:
    """Return a Redis bus when Redis is configured, an in-process bus otherwise."""
    channel_prefix = settings.redis_prefix if prefix is None else prefix
    url = settings.effective_redis_url
    if url:
        return RedisBus(url, channel_prefix, retry_seconds=settings.redis_retry_seconds)
    return MemoryBus()
