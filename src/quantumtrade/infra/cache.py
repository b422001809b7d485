"""Key/value cache with TTLs and fixed-window counters, on Redis or in process memory.

:class:`RedisCache` never lets a Redis outage reach its callers: while Redis is unreachable reads
miss, writes are dropped and counters move to process memory, and a circuit breaker keeps calls
fast. Redis is tried again after ``retry_seconds`` and used again as soon as it answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quantumtrade.core.settings import Settings
from quantumtrade.infra.health import ComponentHealth

T = TypeVar("T")

_log = logging.getLogger(__name__)

# Everything a Redis call can raise; builtin TimeoutError is an OSError.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)
# The subset meaning the server is dead, slow, restarting or unreachable.
UNREACHABLE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

PRICE_TTL: int = Settings.model_fields["price_cache_ttl"].default
PORTFOLIO_SUMMARY_TTL: int = Settings.model_fields["portfolio_cache_ttl"].default

# INCR and the expiry must be one atomic step, or a crash between them leaves an immortal counter.
_WINDOW_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


def price_key(symbol: str) -> str:
    """Return the cache key of the latest price of ``symbol``."""
    return f"price:{symbol.strip().upper()}"


def portfolio_summary_key(portfolio_id: str | int | UUID) -> str:
    """Return the cache key of a portfolio's summary."""
    return f"portfolio:{portfolio_id}:summary"


async def invalidate_portfolio(cache: Cache, portfolio_id: str | int | UUID) -> None:
    """Drop everything cached about a portfolio after it changed."""
    await cache.delete(portfolio_summary_key(portfolio_id))


def glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters so ``text`` matches only itself."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class Cache(ABC):
    """Byte values with TTLs, JSON helpers, load-through and fixed-window counters."""

    backend: str

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._loads: dict[str, asyncio.Future[Any]] = {}

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """Return the value stored under ``key``, or None when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: bytes | str, ttl: float) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (a ``ttl`` <= 0 deletes it)."""

    @abstractmethod
    async def delete(self, *keys: str) -> None:
        """Remove ``keys``; missing keys are ignored."""

    @abstractmethod
    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        """Count one event in the current window: return the count and seconds until reset."""

    @abstractmethod
    async def peek_window(self, key: str) -> tuple[int, float]:
        """Return a window counter's count and seconds until reset, without counting."""

    @abstractmethod
    async def health(self) -> ComponentHealth:
        """Report whether the cache works and how."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the cache must not be used afterwards."""

    async def get_json(self, key: str) -> Any | None:
        """Return the decoded JSON value under ``key``, or None (unreadable entries miss)."""
        raw = await self.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            _log.warning("cache entry %r is not valid JSON; treating it as a miss", key)
            return None

    async def set_json(self, key: str, value: Any, ttl: float) -> None:
        """Store ``value`` as JSON under ``key`` for ``ttl`` seconds."""
        await self.set(key, json.dumps(value, separators=(",", ":")), ttl)

    async def get_or_load(
        self,
        key: str,
        ttl: float,
        loader: Callable[[], Awaitable[T]],
        *,
        parse: Callable[[Any], T | None] | None = None,
        dump: Callable[[T], Any] | None = None,
    ) -> T:
        """Return the cached JSON value of ``key``, calling ``loader`` and storing it on a miss.

        Concurrent misses of one key in this process share a single ``loader`` call. Hits come
        back JSON-decoded (tuples become lists), or as ``parse`` makes them: a cached value
        ``parse`` refuses (None) is a miss. ``dump`` turns a loaded value into JSON. A loaded
        None is returned but never counts as a hit.
        """
        while True:
            cached = await self.get_json(key)
            if parse is not None and cached is not None:
                cached = parse(cached)
            if cached is not None:
                return cast(T, cached)
            pending = self._loads.get(key)
            if pending is None:
                break
            try:
                return cast(T, await asyncio.shield(pending))
            except asyncio.CancelledError:
                # Only the loading task was cancelled, not this one: load again here.
                if not pending.cancelled():
                    raise
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loads[key] = future
        try:
            value = await loader()
            await self.set_json(key, value if dump is None else dump(value), ttl)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: with no waiters asyncio would log it
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._loads[key]


class MemoryCache(Cache):
    """In-process cache: one event loop, bounded size, least recently used entries go first."""

    backend = "memory"

    def __init__(
        self,
        prefix: str = "",
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(prefix)
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._clock = clock
        # No awaits inside the operations below, so each one is atomic for asyncio tasks.
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._counters: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes | str, ttl: float) -> None:
        if ttl <= 0:
            self._entries.pop(key, None)
            return
        data = value.encode() if isinstance(value, str) else bytes(value)
        self._entries[key] = (data, self._clock() + ttl)
        self._entries.move_to_end(key)
        self._trim(self._entries)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        now = self._clock()
        entry = self._counters.get(key)
        if entry is None or entry[1] <= now:
            count, resets_at = 1, now + window_seconds
        else:
            count, resets_at = entry[0] + 1, entry[1]
        self._counters[key] = (count, resets_at)
        self._counters.move_to_end(key)
        self._trim(self._counters)
        return count, resets_at - now

    async def peek_window(self, key: str) -> tuple[int, float]:
        now = self._clock()
        entry = self._counters.get(key)
        if entry is None or entry[1] <= now:
            return 0, 0.0
        return entry[0], entry[1] - now

    async def health(self) -> ComponentHealth:
        detail = f"{len(self._entries)} entries, {len(self._counters)} counters"
        return ComponentHealth("ok", detail=detail, backend=self.backend)

    async def close(self) -> None:
        self._entries.clear()
        self._counters.clear()

    def _trim(self, store: OrderedDict[str, Any]) -> None:
        while len(store) > self.max_entries:
            store.popitem(last=False)


class RedisCache(Cache):
    """Redis-backed cache shared by every replica, degrading to bypass while Redis is away.

    Cache entries live under ``{prefix}cache:`` and counters under ``{prefix}rate:``.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "qt:",
        *,
        retry_seconds: float = 2.0,
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(prefix)
        if retry_seconds <= 0:
            raise ValueError("retry_seconds must be positive")
        self.retry_seconds = retry_seconds
        self._clock = clock
        # No client-side retries: the breaker decides when to try again, so calls stay short.
        self._client: Redis = Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._window_script = self._client.register_script(_WINDOW_SCRIPT)
        self._fallback = MemoryCache(prefix)
        self._down_until: float | None = None
        self._recovering = False
        self._last_error: str | None = None

    def cache_key(self, key: str) -> str:
        """Return the Redis key holding the cache entry ``key``."""
        return f"{self.prefix}cache:{key}"

    def counter_key(self, key: str) -> str:
        """Return the Redis key holding the window counter ``key``."""
        return f"{self.prefix}rate:{key}"

    @property
    def available(self) -> bool:
        """Whether the breaker is closed, i.e. calls currently go to Redis."""
        return self._down_until is None

    async def get(self, key: str) -> bytes | None:
        if not await self._usable():
            return None
        try:
            value = await self._client.get(self.cache_key(key))
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return None
        return value if value is None or isinstance(value, bytes) else value.encode()

    async def set(self, key: str, value: bytes | str, ttl: float) -> None:
        if not await self._usable():
            return
        try:
            if ttl <= 0:
                await self._client.unlink(self.cache_key(key))
            else:
                await self._client.set(self.cache_key(key), value, px=max(1, round(ttl * 1000)))
        except REDIS_ERRORS as exc:
            self._failed(exc)

    async def delete(self, *keys: str) -> None:
        # A delete lost here is made good by the purge that runs when Redis comes back.
        if not keys or not await self._usable():
            return
        try:
            await self._client.unlink(*(self.cache_key(key) for key in keys))
        except REDIS_ERRORS as exc:
            self._failed(exc)

    async def incr_window(self, key: str, window_seconds: int) -> tuple[int, float]:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        if await self._usable():
            try:
                count, ttl_ms = await self._window_script(
                    keys=[self.counter_key(key)], args=[round(window_seconds * 1000)]
                )
                return int(count), max(int(ttl_ms), 0) / 1000
            except REDIS_ERRORS as exc:
                self._failed(exc)
        # Limits keep applying per instance rather than not at all.
        return await self._fallback.incr_window(key, window_seconds)

    async def peek_window(self, key: str) -> tuple[int, float]:
        if await self._usable():
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    pipe.get(self.counter_key(key))
                    pipe.pttl(self.counter_key(key))
                    raw, ttl_ms = await pipe.execute()
                if raw is None or int(ttl_ms) <= 0:
                    return 0, 0.0
                return int(raw), int(ttl_ms) / 1000
            except REDIS_ERRORS as exc:
                self._failed(exc)
        return await self._fallback.peek_window(key)

    async def health(self) -> ComponentHealth:
        if await self._usable():
            started = time.perf_counter()
            try:
                await self._client.ping()
            except REDIS_ERRORS as exc:
                self._failed(exc)
            else:
                latency = round((time.perf_counter() - started) * 1000, 3)
                return ComponentHealth("ok", latency_ms=latency, backend=self.backend)
        return ComponentHealth(
            "degraded",
            detail=f"redis unreachable ({self._last_error}); cache bypassed, counters local",
            backend=self.backend,
        )

    async def close(self) -> None:
        await self._client.aclose()
        await self._fallback.close()

    async def _usable(self) -> bool:
        """Return whether to use Redis now, reconnecting once the retry interval has passed."""
        if self._down_until is None:
            return True
        if self._recovering or self._clock() < self._down_until:
            return False
        self._recovering = True
        try:
            await self._client.ping()
            await self._purge_cache_namespace()
        except REDIS_ERRORS as exc:
            self._trip(exc)
            return False
        finally:
            self._recovering = False
        self._down_until = None
        _log.warning("redis cache reachable again; cache namespace purged, using redis")
        return True

    def _failed(self, exc: BaseException) -> None:
        """Open the breaker if Redis is unreachable; a command it refused leaves it closed."""
        if isinstance(exc, UNREACHABLE_ERRORS):
            self._trip(exc)
        else:
            self._last_error = f"{type(exc).__name__}: {exc}"
            _log.warning("redis cache command failed: %s", exc)

    def _trip(self, exc: BaseException) -> None:
        """Open the breaker: skip Redis for ``retry_seconds``."""
        if self._down_until is None:
            _log.warning(
                "redis cache unreachable, bypassing it for %.1fs: %s", self.retry_seconds, exc
            )
        self._last_error = f"{type(exc).__name__}: {exc}"
        self._down_until = self._clock() + self.retry_seconds

    async def _purge_cache_namespace(self) -> None:
        """Delete every cache entry: invalidations may have been lost during the outage.

        Counters are kept; they expire by themselves and carry no stale data.
        """
        pattern = glob_escape(self.cache_key("")) + "*"
        batch: list[bytes] = []
        async for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await self._client.unlink(*batch)
                batch.clear()
        if batch:
            await self._client.unlink(*batch)


def create_cache(settings: Settings, *, prefix: str | None = None) -> Cache:
    """Return a Redis cache when Redis is configured, an in-process cache otherwise."""
    key_prefix = settings.redis_prefix if prefix is None else prefix
    url = settings.effective_redis_url
    if url:
        return RedisCache(url, key_prefix, retry_seconds=settings.redis_retry_seconds)
    return MemoryCache(key_prefix)
