"""RedisCache against the real Redis: the cache contract, shared between replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from quantumtrade.core.settings import Settings
from quantumtrade.infra.cache import (
    RedisCache,
    create_cache,
    invalidate_portfolio,
    portfolio_summary_key,
)
from quantumtrade.infra.ratelimit import RateLimiter
from support import wait_until


@pytest.fixture
async def cache(redis_url: str, redis_prefix: str, plain_redis: Redis) -> AsyncIterator[RedisCache]:
    cache = RedisCache(redis_url, redis_prefix, retry_seconds=0.2)
    yield cache
    await cache.close()


@pytest.fixture
async def replica(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisCache]:
    """A second cache on the same Redis and prefix, as another app replica would have."""
    cache = RedisCache(redis_url, redis_prefix, retry_seconds=0.2)
    yield cache
    await cache.close()


async def test_set_get_delete_round_trip(cache: RedisCache, plain_redis: Redis) -> None:
    await cache.set("a", "text", 10)
    await cache.set("b", b"\x00bytes", 10)
    assert await cache.get("a") == b"text"
    assert await cache.get("b") == b"\x00bytes"
    assert await plain_redis.get(cache.cache_key("a")) == b"text"
    assert 0 < await plain_redis.pttl(cache.cache_key("a")) <= 10_000
    await cache.delete("a", "b", "never-set")
    assert await cache.get("a") is None
    assert await plain_redis.exists(cache.cache_key("b")) == 0


async def test_ttl_of_a_tenth_of_a_second_expires_the_entry(
    cache: RedisCache, plain_redis: Redis
) -> None:
    await cache.set("k", "v", 0.1)
    remaining = await plain_redis.pttl(cache.cache_key("k"))
    assert remaining != -1 and remaining <= 100  # 100 ms at most (-2: gone already)

    async def expired() -> bool:
        return await cache.get("k") is None

    await wait_until(expired, message="the entry outlived its TTL")


async def test_non_positive_ttl_deletes(cache: RedisCache) -> None:
    await cache.set("k", "v", 10)
    await cache.set("k", "w", 0)
    assert await cache.get("k") is None


async def test_json_and_invalidation(cache: RedisCache, replica: RedisCache) -> None:
    key = portfolio_summary_key("p1")
    await cache.set_json(key, {"value": 12.5, "positions": 3}, 30)
    assert await replica.get_json(key) == {"value": 12.5, "positions": 3}
    await invalidate_portfolio(replica, "p1")
    assert await cache.get_json(key) is None


async def test_get_or_load_is_shared_by_replicas(cache: RedisCache, replica: RedisCache) -> None:
    calls = 0

    async def loader() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"n": calls}

    assert await cache.get_or_load("k", 10, loader) == {"n": 1}
    assert await replica.get_or_load("k", 10, loader) == {"n": 1}
    assert calls == 1


async def test_incr_window_counts_within_the_window_and_restarts_after_it(
    cache: RedisCache, plain_redis: Redis
) -> None:
    assert await cache.incr_window("ip", 60) == (1, pytest.approx(60, abs=1))
    count, reset = await cache.incr_window("ip", 60)
    assert count == 2 and 0 < reset <= 60
    assert 0 < await plain_redis.pttl(cache.counter_key("ip")) <= 60_000

    count, reset = await cache.incr_window("short", 1)
    assert count == 1 and 0 < reset <= 1

    async def window_over() -> bool:
        return (await cache.peek_window("short"))[0] == 0

    await wait_until(window_over, message="the one-second window never ended")
    assert (await cache.incr_window("short", 1))[0] == 1


async def test_replicas_share_one_window_count(cache: RedisCache, replica: RedisCache) -> None:
    counts = await asyncio.gather(*(node.incr_window("ip", 60) for node in [cache, replica] * 5))
    assert sorted(count for count, _ in counts) == list(range(1, 11))
    assert all(0 < reset <= 60 for _, reset in counts)


async def test_rate_limit_is_shared_by_replicas(cache: RedisCache, replica: RedisCache) -> None:
    first = RateLimiter(cache, default=(3, 60))
    second = RateLimiter(replica, default=(3, 60))
    assert (await first.hit("GET", "/x", "ip")).allowed
    assert (await second.hit("GET", "/x", "ip")).allowed
    assert (await first.hit("GET", "/x", "ip")).allowed
    refused = await second.hit("GET", "/x", "ip")
    assert not refused.allowed
    assert refused.retry_after is not None and 0 < refused.retry_after <= 60


async def test_health_is_ok(cache: RedisCache) -> None:
    health = await cache.health()
    assert (health.status, health.backend) == ("ok", "redis")
    assert health.latency_ms is not None and health.latency_ms >= 0


async def test_create_cache_uses_redis_url(redis_url: str, redis_prefix: str) -> None:
    settings = Settings(_env_file=None, redis_url=redis_url)
    cache = create_cache(settings, prefix=redis_prefix)
    try:
        assert isinstance(cache, RedisCache)
        await cache.set("k", "v", 5)
        assert await cache.get("k") == b"v"
        await cache.delete("k")
    finally:
        await cache.close()


async def test_peek_window_sees_a_replicas_count_without_counting(
    cache: RedisCache, replica: RedisCache
) -> None:
    assert await replica.peek_window("peek") == (0, 0.0)
    await cache.incr_window("peek", 60)
    count, reset = await replica.peek_window("peek")
    assert count == 1 and 0 < reset <= 60
    assert (await cache.peek_window("peek"))[0] == 1
