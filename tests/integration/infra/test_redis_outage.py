"""Redis dying and coming back under a running cache and bus.

These tests run their own ``redis-server`` on a free port, so they can kill and restart it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from redis.asyncio import Redis

from quantumtrade.infra.bus import BusMessage, RedisBus, Subscription
from quantumtrade.infra.cache import RedisCache
from support import RedisProcess, free_port

T = TypeVar("T")

PREFIX = "outage:"
RETRY = 0.2

pytestmark = pytest.mark.redis


async def quick(call: Awaitable[T], limit: float = 1.0) -> T:
    """Await ``call``, failing the test if it takes longer than ``limit`` seconds."""
    started = time.monotonic()
    result = await asyncio.wait_for(call, limit + 1)
    assert time.monotonic() - started < limit
    return result


async def next_message(sub: Subscription, timeout: float = 2.0) -> BusMessage:
    return await asyncio.wait_for(anext(sub), timeout)


async def test_cache_bypasses_a_dead_redis_and_recovers(private_redis: RedisProcess) -> None:
    cache = RedisCache(private_redis.url, PREFIX, retry_seconds=RETRY)
    plain: Redis | None = None
    try:
        await cache.set("k", "before", 60)
        assert await cache.get("k") == b"before"
        assert (await cache.incr_window("ip", 60))[0] == 1

        private_redis.kill()
        assert await quick(cache.get("k")) is None
        await quick(cache.set("k", "during", 60))
        await quick(cache.delete("k"))
        assert [(await quick(cache.incr_window("ip", 60)))[0] for _ in range(3)] == [1, 2, 3]
        health = await quick(cache.health())
        assert health.status == "degraded"
        assert health.detail is not None and "unreachable" in health.detail

        async def loader() -> dict[str, int]:
            return {"fresh": 1}

        assert await quick(cache.get_or_load("summary", 60, loader)) == {"fresh": 1}
        assert not cache.available

        private_redis.start()
        plain = Redis.from_url(private_redis.url)
        # An entry written before the outage whose invalidation was lost, and a live counter.
        await plain.set(cache.cache_key("stale"), "old")
        await plain.set(cache.counter_key("ip"), 5, ex=60)
        await asyncio.sleep(RETRY + 0.05)

        await quick(cache.set("k", "after", 60))
        assert await plain.get(cache.cache_key("k")) == b"after"
        assert await cache.get("k") == b"after"
        assert cache.available
        assert await plain.exists(cache.cache_key("stale")) == 0
        assert (await cache.incr_window("ip", 60))[0] == 6
        health = await cache.health()
        assert health.status == "ok"
    finally:
        await cache.close()
        if plain is not None:
            await plain.aclose()


async def test_bus_keeps_local_delivery_and_resubscribes(private_redis: RedisProcess) -> None:
    bus = RedisBus(private_redis.url, PREFIX, retry_seconds=RETRY)
    other = RedisBus(private_redis.url, PREFIX, retry_seconds=RETRY)
    plain: Redis | None = None
    try:
        async with bus.subscribe("events") as sub:
            await other.publish("events", {"n": 1})
            assert (await next_message(sub)).data == {"n": 1}

            private_redis.kill()
            await quick(bus.publish("events", {"n": 2}))
            assert (await next_message(sub)).data == {"n": 2}
            await quick(other.publish("events", {"lost": True}))
            assert (await quick(bus.health())).status == "degraded"

            private_redis.start()
            deadline = time.monotonic() + 5
            while not bus.listening and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert bus.listening

            plain = Redis.from_url(private_redis.url)
            assert await plain.publish(f"{PREFIX}events", '{"n": 3}') == 1
            assert (await next_message(sub)).data == {"n": 3}
            await asyncio.sleep(RETRY + 0.05)
            await other.publish("events", {"n": 4})
            await bus.publish("events", {"n": 5})
            assert [(await next_message(sub)).data for _ in range(2)] == [{"n": 4}, {"n": 5}]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(sub), 0.2)
            assert (await bus.health()).status == "ok"
    finally:
        await bus.close()
        await other.close()
        if plain is not None:
            await plain.aclose()


async def test_redis_never_reachable() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    cache = RedisCache(url, PREFIX, retry_seconds=RETRY)
    bus = RedisBus(url, PREFIX, retry_seconds=RETRY)
    try:
        assert await quick(cache.get("k")) is None
        await quick(cache.set("k", "v", 10))
        assert (await quick(cache.incr_window("ip", 60)))[0] == 1
        assert (await quick(cache.incr_window("ip", 60)))[0] == 2
        assert (await quick(cache.health())).status == "degraded"

        sub = await quick(bus.subscribe("events").start())
        await quick(bus.publish("events", {"n": 1}))
        assert (await next_message(sub)).data == {"n": 1}
        assert (await quick(bus.health())).status == "degraded"
        await sub.aclose()
    finally:
        await cache.close()
        await bus.close()
