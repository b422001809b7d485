"""MemoryCache: the cache contract in process memory, and the cache helpers."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from quantumtrade.core.settings import Settings
from quantumtrade.infra.cache import (
    PORTFOLIO_SUMMARY_TTL,
    PRICE_TTL,
    MemoryCache,
    RedisCache,
    create_cache,
    invalidate_portfolio,
    portfolio_summary_key,
    price_key,
)
from support import wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> MemoryCache:
    return MemoryCache("t:", clock=clock)


async def test_set_get_delete_round_trip(cache: MemoryCache) -> None:
    await cache.set("a", "text", 10)
    await cache.set("b", b"\x00bytes", 10)
    assert await cache.get("a") == b"text"
    assert await cache.get("b") == b"\x00bytes"
    await cache.delete("a", "b", "never-set")
    assert await cache.get("a") is None
    assert await cache.get("b") is None


async def test_ttl_expires_entries(cache: MemoryCache, clock: FakeClock) -> None:
    await cache.set("k", "v", 5)
    clock.now += 4.9
    assert await cache.get("k") == b"v"
    clock.now += 0.2
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_non_positive_ttl_deletes(cache: MemoryCache) -> None:
    await cache.set("k", "v", 5)
    await cache.set("k", "w", 0)
    assert await cache.get("k") is None


async def test_size_is_bounded_evicting_least_recently_used(clock: FakeClock) -> None:
    cache = MemoryCache(max_entries=3, clock=clock)
    for key in "abc":
        await cache.set(key, key, 60)
    assert await cache.get("a") == b"a"  # "b" is now the least recently used
    await cache.set("d", "d", 60)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(key) for key in "acd"] == [b"a", b"c", b"d"]


async def test_json_helpers(cache: MemoryCache) -> None:
    await cache.set_json("j", {"price": 1.5, "tags": ("x", "y")}, 10)
    assert await cache.get_json("j") == {"price": 1.5, "tags": ["x", "y"]}
    assert await cache.get_json("missing") is None
    await cache.set("broken", b"{not json", 10)
    assert await cache.get_json("broken") is None


async def test_get_or_load_loads_once_then_hits(cache: MemoryCache) -> None:
    calls = 0

    async def loader() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"n": calls}

    assert await cache.get_or_load("k", 10, loader) == {"n": 1}
    assert await cache.get_or_load("k", 10, loader) == {"n": 1}
    assert calls == 1


async def test_get_or_load_reloads_after_expiry(cache: MemoryCache, clock: FakeClock) -> None:
    calls = 0

    async def loader() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_load("k", 5, loader) == 1
    clock.now += 6
    assert await cache.get_or_load("k", 5, loader) == 2


async def test_concurrent_misses_share_one_load(cache: MemoryCache) -> None:
    calls = 0
    release = asyncio.Event()

    async def loader() -> list[int]:
        nonlocal calls
        calls += 1
        await release.wait()
        return [1, 2]

    tasks = [asyncio.create_task(cache.get_or_load("k", 10, loader)) for _ in range(10)]
    # Tasks run in creation order: once the first is loading, the others wait on its load.
    await wait_until(lambda: calls == 1)
    release.set()
    assert await asyncio.gather(*tasks) == [[1, 2]] * 10
    assert calls == 1


async def test_failed_load_reaches_every_waiter_and_is_not_cached(cache: MemoryCache) -> None:
    release, started = asyncio.Event(), asyncio.Event()

    async def failing() -> int:
        started.set()
        await release.wait()
        raise LookupError("no such portfolio")

    tasks = [asyncio.create_task(cache.get_or_load("k", 10, failing)) for _ in range(3)]
    await started.wait()  # the first task is loading, the two after it wait on its load
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, LookupError) for result in results)

    async def working() -> int:
        return 7

    assert await cache.get_or_load("k", 10, working) == 7


async def test_cancelled_load_lets_a_waiter_load_instead(cache: MemoryCache) -> None:
    started = asyncio.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(10)
        return 1

    async def fast() -> int:
        return 2

    leader = asyncio.create_task(cache.get_or_load("k", 10, slow))
    await started.wait()
    waiter = asyncio.create_task(cache.get_or_load("k", 10, fast))
    await asyncio.sleep(0)  # one turn of the loop: the waiter joins the leader's load
    leader.cancel()
    assert await asyncio.wait_for(waiter, 30) == 2
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_incr_window_counts_and_resets(cache: MemoryCache, clock: FakeClock) -> None:
    assert await cache.incr_window("ip", 60) == (1, 60)
    clock.now += 10
    assert await cache.incr_window("ip", 60) == (2, 50)
    assert (await cache.incr_window("other", 60))[0] == 1
    clock.now += 50
    assert await cache.incr_window("ip", 60) == (1, 60)


async def test_incr_window_rejects_empty_window(cache: MemoryCache) -> None:
    with pytest.raises(ValueError):
        await cache.incr_window("ip", 0)


async def test_health_and_close(cache: MemoryCache) -> None:
    await cache.set("k", "v", 10)
    health = await cache.health()
    assert health.status == "ok"
    assert health.backend == "memory"
    assert health.to_dict() == {
        "status": "ok",
        "detail": health.detail,
        "latency_ms": None,
        "backend": "memory",
    }
    await cache.close()
    assert await cache.get("k") is None


async def test_key_helpers_and_invalidation(cache: MemoryCache) -> None:
    assert price_key(" aapl ") == "price:AAPL"
    assert portfolio_summary_key(42) == "portfolio:42:summary"
    await cache.set_json(portfolio_summary_key(42), {"value": 1}, PORTFOLIO_SUMMARY_TTL)
    await invalidate_portfolio(cache, 42)
    assert await cache.get_json(portfolio_summary_key(42)) is None


TTL_VARIABLES = ("PRICE_CACHE_TTL", "PORTFOLIO_CACHE_TTL")


def test_cache_ttls_by_default_are_five_seconds_for_prices_and_thirty_for_summaries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in TTL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    defaults = Settings(_env_file=None)
    assert (defaults.price_cache_ttl, defaults.portfolio_cache_ttl) == (5, 30)
    assert (PRICE_TTL, PORTFOLIO_SUMMARY_TTL) == (5, 30)


def test_cache_ttls_set_in_the_environment_replace_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRICE_CACHE_TTL", "7")
    monkeypatch.setenv("PORTFOLIO_CACHE_TTL", "45")
    configured = Settings(_env_file=None)
    assert (configured.price_cache_ttl, configured.portfolio_cache_ttl) == (7, 45)
    monkeypatch.setenv("PRICE_CACHE_TTL", "0")  # an entry that expires at once: refused
    with pytest.raises(ValidationError, match="price_cache_ttl"):
        Settings(_env_file=None)


async def test_create_cache_picks_backend() -> None:
    memory = create_cache(Settings(_env_file=None, redis_url=None, redis_host=None))
    assert isinstance(memory, MemoryCache)
    assert memory.prefix == "qt:"
    configured = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0", redis_retry_seconds=3)
    redis_cache = create_cache(configured, prefix="x:")
    try:
        assert isinstance(redis_cache, RedisCache)
        assert (redis_cache.backend, redis_cache.prefix) == ("redis", "x:")
        assert redis_cache.retry_seconds == 3
    finally:
        await redis_cache.close()


async def test_peek_window_reads_the_count_without_counting() -> None:
    cache = MemoryCache()
    assert await cache.peek_window("k") == (0, 0.0)
    await cache.incr_window("k", 60)
    await cache.incr_window("k", 60)
    count, reset = await cache.peek_window("k")
    assert count == 2 and 0 < reset <= 60
    assert (await cache.peek_window("k"))[0] == 2
