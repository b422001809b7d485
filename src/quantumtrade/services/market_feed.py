"""The market feed: one replica streams the market and publishes every event on the bus.

Exactly one replica leads, holding a lease: a session-level PostgreSQL advisory lock on a
dedicated connection (freed by the server when the process dies), or on SQLite an exclusive
``flock`` on a file in the data directory (freed by the kernel likewise). Followers retry
every few seconds and take over when the leader goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quantumtrade.domain.market import Bar, Channel, MarketEvent, Quote, Trade
from quantumtrade.infra.health import ComponentHealth
from quantumtrade.services import market
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)

HEARTBEAT_CHANNEL = "feed.heartbeat"
MARKET_PREFIX = "market."
_PRICE_WRITE_INTERVAL = 0.2  # per symbol: the cache need not see every tick
_HEARTBEAT_SECONDS = 2.0
_STALL_SECONDS = 15.0
FEED_CHANNELS: tuple[Channel, ...] = ("trades", "quotes", "bars")

EventHook = Callable[[dict[str, Any]], Awaitable[None]]


def market_channel(symbol: str) -> str:
    """Return the bus channel carrying ``symbol``'s events."""
    return MARKET_PREFIX + symbol


def event_message(event: MarketEvent) -> dict[str, Any]:
    """Return the JSON body published for a market event (the WebSocket message too)."""
    if isinstance(event, Trade):
        return {
            "type": "price",
            "symbol": event.symbol,
            "price": event.price,
            "size": event.size,
            "exchange": event.exchange,
            "timestamp": event.time.isoformat(),
        }
    if isinstance(event, Quote):
        return {
            "type": "quote",
            "symbol": event.symbol,
            "bid": event.bid_price,
            "bid_size": event.bid_size,
            "ask": event.ask_price,
            "ask_size": event.ask_size,
            "timestamp": event.time.isoformat(),
        }
    assert isinstance(event, Bar)
    return {
        "type": "bar",
        "symbol": event.symbol,
        "timeframe": event.timeframe.value,
        "open": event.open,
        "high": event.high,
        "low": event.low,
        "close": event.close,
        "volume": event.volume,
        "vwap": event.vwap,
        "trade_count": event.trade_count,
        "timestamp": event.time.isoformat(),
    }


class Lease(Protocol):
    """A lock that at most one replica holds at a time."""

    async def try_acquire(self) -> bool:
        """Take the lease if it is free; return whether this replica holds it."""
        ...

    async def held(self) -> bool:
        """Return whether the lease is still held (a lost connection loses it)."""
        ...

    async def release(self) -> None:
        """Give the lease up."""
        ...


class FileLease:
    """An exclusive ``flock`` on ``path``: one holder among the processes of one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    async def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    async def held(self) -> bool:
        return self._file is not None

    async def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class PostgresLease:
    """A session-level advisory lock held on a connection of its own."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        digest = hashlib.sha256(name.encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = await self.engine.connect()
        try:
            # Autocommit: the lock belongs to the session, and no transaction idles open.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = await connection.scalar(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
            )
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def held(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.scalar(sa.text("SELECT 1"))
        except Exception:
            # The session is gone, and the server released its lock with it.
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.scalar(
                    sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key}
                )
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


def create_lease(container: Container, name: str = "market_feed") -> Lease:
    """Return the lease called ``name`` that fits the configured database."""
    if container.settings.is_sqlite:
        return FileLease(Path(container.settings.data_dir) / f".{name.replace('_', '-')}.lock")
    return PostgresLease(container.engine, f"quantumtrade.{name}")


class MarketFeed:
    """Lead (stream and publish) or follow (watch the leader's heartbeat), for ever."""

    def __init__(
        self,
        container: Container,
        *,
        lease: Lease | None = None,
        symbols: Sequence[str] | None = None,
        hooks: Sequence[EventHook] = (),
        retry_seconds: float = 3.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.container = container
        self.lease = lease or create_lease(container)
        self.symbols = list(symbols) if symbols else [s.symbol for s in container.market.symbols()]
        self.hooks = list(hooks)
        self.retry_seconds = retry_seconds
        self.max_backoff = max_backoff
        self.replica = secrets.token_hex(4)
        self.leading = False
        self.published = 0
        self.restarts = 0
        self.last_error: str | None = None
        self.last_event_at: float | None = None
        self.leader_seen_at: float | None = None
        self.leader_seen: str | None = None
        self._price_written: dict[tuple[str, str], float] = {}
        self._since = time.monotonic()  # start of the current role, for a grace period

    async def run(self) -> None:
        """Run until cancelled: take the lease when free and stream while holding it."""
        self._since = time.monotonic()
        watcher = asyncio.create_task(self._watch_heartbeats(), name="market-feed-watch")
        try:
            while True:
                try:
                    acquired = await self.lease.try_acquire()
                except Exception as exc:
                    self.last_error = f"lease: {type(exc).__name__}: {exc}"
                    _log.warning("market feed lease check failed: %s", exc)
                    acquired = False
                if acquired:
                    await self._lead()
                stop_if_cancelled()
                await asyncio.sleep(self.retry_seconds)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            self.leading = False
            await self.lease.release()

    async def _lead(self) -> None:
        """Stream and publish while the lease holds; restart the stream with backoff."""
        self.leading = True
        self._since = time.monotonic()
        _log.info("market feed leading (replica %s)", self.replica)
        backoff = 0.5
        beat = asyncio.create_task(self._heartbeat(), name="market-feed-heartbeat")
        try:
            while await self.lease.held():
                stop_if_cancelled()
                started = time.monotonic()
                try:
                    await self._stream_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.restarts += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    _log.warning("market stream failed, restarting in %.1fs: %s", backoff, exc)
                if time.monotonic() - started > 60:
                    backoff = 0.5  # it ran well for a while: start the backoff afresh
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            self.leading = False
            self._since = time.monotonic()
            await self.lease.release()

    async def _stream_once(self) -> None:
        stream = self.container.market.stream(self.symbols, FEED_CHANNELS)
        check_every, next_check = 5.0, time.monotonic() + 5.0
        try:
            async for event in stream:
                await self.publish(event)
                stop_if_cancelled()
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + check_every
                    if not await self.lease.held():
                        _log.warning("market feed lost its lease; following")
                        return
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    async def publish(self, event: MarketEvent) -> None:
        """Publish one event, refresh the cached price, and hand it to the hooks."""
        message = event_message(event)
        await self.container.bus.publish(market_channel(event.symbol), message)
        self.published += 1
        now = self.last_event_at = time.monotonic()
        if isinstance(event, Trade | Quote):
            written = (event.symbol, type(event).__name__)
            if now - self._price_written.get(written, 0.0) >= _PRICE_WRITE_INTERVAL:
                self._price_written[written] = now
                await market.refresh_cached_price(
                    self.container, event, self.container.settings.price_cache_ttl
                )
        for hook in self.hooks:
            try:
                await hook(message)
            except Exception:
                _log.exception("market feed hook failed")

    async def _heartbeat(self) -> None:
        while True:
            await self.container.bus.publish(
                HEARTBEAT_CHANNEL, {"leader": self.replica, "published": self.published}
            )
            stop_if_cancelled()  # redis-py can absorb a cancellation that lands mid-publish
            await asyncio.sleep(_HEARTBEAT_SECONDS)

    async def _watch_heartbeats(self) -> None:
        async with self.container.bus.subscribe(HEARTBEAT_CHANNEL) as sub:
            async for message in sub:
                self.leader_seen_at = time.monotonic()
                self.leader_seen = str(message.data.get("leader"))

    async def health(self) -> ComponentHealth:
        """Report ``ok`` while events flow (or a live leader is heard), else ``degraded``."""
        now = time.monotonic()
        if self.leading:
            first = self.last_event_at is None
            age = now - (self._since if self.last_event_at is None else self.last_event_at)
            detail = (
                f"leading (replica {self.replica}); {self.published} events published, "
                f"{self.restarts} restarts"
            )
            if age > _STALL_SECONDS:
                waited = "no events yet" if first else f"no event for {age:.0f}s"
                return ComponentHealth("degraded", detail=f"{detail}; stalled: {waited}")
            last = "waiting for the first event" if first else f"last event {age:.1f}s ago"
            return ComponentHealth("ok", detail=f"{detail}; {last}")
        seen = None if self.leader_seen_at is None else now - self.leader_seen_at
        if seen is not None and seen <= 3 * _HEARTBEAT_SECONDS + self.retry_seconds:
            return ComponentHealth(
                "ok", detail=f"following leader {self.leader_seen} (heard {seen:.1f}s ago)"
            )
        if now - self._since <= 3 * _HEARTBEAT_SECONDS + self.retry_seconds:
            return ComponentHealth("ok", detail="starting: looking for the feed leader")
        error = f"; last error: {self.last_error}" if self.last_error else ""
        return ComponentHealth("degraded", detail=f"no live leader heard{error}")
