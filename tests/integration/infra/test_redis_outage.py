"""Redis dying and coming back under a running cache and bus.

These tests run their own ``redis-server`` on a free port, so they can kill and restart it.
"""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from quantumtrade.infra.bus import BusMessage, RedisBus, Subscription
from quantumtrade.infra.cache import RedisCache
from support import RedisProcess, free_port, wait_until

PREFIX = "outage:"
RETRY = 0.2
# Generous bounds: they only turn a hang into a failure. Whether calls skip the dead Redis is
# checked by what reaches Redis, on a clock the test moves, not by how long the calls take.
HANG = 30.0

pytestmark = pytest.mark.redis


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def next_message(sub: Subscription, timeout: float = HANG) -> BusMessage:
    return await asyncio.wait_for(anext(sub), timeout)


async def test_cache_with_redis_down_bypasses_it_until_the_retry_time_then_recovers(
    private_redis: RedisProcess,
) -> None:
    clock = FakeClock()
    cache = RedisCache(private_redis.url, PREFIX, retry_seconds=RETRY, clock=clock)
    plain: Redis | None = None
    try:
        async with asyncio.timeout(HANG):
            await cache.set("k", "before", 60)
            assert await cache.get("k") == b"before"
            assert (await cache.incr_window("ip", 60))[0] == 1

            private_redis.kill()
            assert await cache.get("k") is None
            assert not cache.available  # the failed call opened the breaker
            await cache.set("k", "during", 60)
            await cache.delete("k")
            assert [(await cache.incr_window("ip", 60))[0] for _ in range(3)] == [1, 2, 3]
            health = await cache.health()
            assert health.status == "degraded"
            assert health.detail is not None and "unreachable" in health.detail

            async def loader() -> dict[str, int]:
                return {"fresh": 1}

            assert await cache.get_or_load("summary", 60, loader) == {"fresh": 1}

            private_redis.start()
            plain = Redis.from_url(private_redis.url)
            # An entry written before the outage whose invalidation was lost, and a live counter.
            await plain.set(cache.cache_key("stale"), "old")
            await plain.set(cache.counter_key("ip"), 5, ex=60)

            # Redis is back, but until the retry time nothing is sent to it.
            await cache.set("k", "early", 60)
            assert (await cache.incr_window("ip", 60))[0] == 4  # still counted locally
            assert (await cache.health()).status == "degraded"
            assert not cache.available
            assert await plain.exists(cache.cache_key("k")) == 0
            assert await plain.get(cache.counter_key("ip")) == b"5"
            assert await plain.get(cache.cache_key("stale")) == b"old"

            clock.now += RETRY
            await cache.set("k", "after", 60)
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


async def test_bus_with_redis_down_delivers_locally_then_resubscribes(
    private_redis: RedisProcess,
) -> None:
    bus = RedisBus(private_redis.url, PREFIX, retry_seconds=RETRY)
    clock = FakeClock()
    other = RedisBus(private_redis.url, PREFIX, retry_seconds=RETRY, clock=clock)
    plain: Redis | None = None
    try:
        async with asyncio.timeout(2 * HANG), bus.subscribe("events") as sub:
            await other.publish("events", {"n": 1})
            assert (await next_message(sub)).data == {"n": 1}

            private_redis.kill()
            await bus.publish("events", {"n": 2})
            assert (await next_message(sub)).data == {"n": 2}
            await other.publish("events", {"lost": True})
            assert (await bus.health()).status == "degraded"

            private_redis.start()
            await wait_until(lambda: bus.listening, message="the bus did not resubscribe")

            plain = Redis.from_url(private_redis.url)
            assert await plain.publish(f"{PREFIX}events", '{"n": 3}') == 1
            assert (await next_message(sub)).data == {"n": 3}
            # The other replica's breaker holds until its retry time: this stays off Redis.
            await other.publish("events", {"held": True})
            clock.now += RETRY
            await other.publish("events", {"n": 4})
            await bus.publish("events", {"n": 5})
            await other.publish("events", {"n": 6})
            # In order, each once: nothing held back leaks, nothing is delivered twice.
            assert [(await next_message(sub)).data for _ in range(3)] == [
                {"n": 4},
                {"n": 5},
                {"n": 6},
            ]
            assert (await bus.health()).status == "ok"
    finally:
        await bus.close()
        await other.close()
        if plain is not None:
            await plain.aclose()


async def test_cache_and_bus_with_redis_never_reachable_work_in_process() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    cache = RedisCache(url, PREFIX, retry_seconds=RETRY, clock=FakeClock())
    bus = RedisBus(url, PREFIX, retry_seconds=RETRY)
    try:
        async with asyncio.timeout(HANG):
            assert await cache.get("k") is None
            assert not cache.available
            await cache.set("k", "v", 10)
            assert await cache.get("k") is None
            assert (await cache.incr_window("ip", 60))[0] == 1
            assert (await cache.incr_window("ip", 60))[0] == 2
            assert (await cache.health()).status == "degraded"

            sub = await bus.subscribe("events").start()
            await bus.publish("events", {"n": 1})
            assert (await next_message(sub)).data == {"n": 1}
            assert not bus.listening
            assert (await bus.health()).status == "degraded"
            await sub.aclose()
    finally:
        await cache.close()
        await bus.close()
