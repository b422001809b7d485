"""The market feed: one leader among several instances, taking over when it goes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from integration.ws.wsclient import ServerFactory
from quantumtrade.db.engine import create_engine
from quantumtrade.services.market_feed import FileLease, MarketFeed, PostgresLease


async def _published_by(feeds: list[MarketFeed], seconds: float) -> list[int]:
    await asyncio.sleep(seconds)
    return [feed.published for feed in feeds]


@contextlib.asynccontextmanager
async def _running(feeds: list[MarketFeed]) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(feed.run()) for feed in feeds]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_file_lease_lets_one_of_two_feeds_publish_and_fails_over(
    live_server: ServerFactory, tmp_path: Path
) -> None:
    async with live_server(market_always_open=True, market_ticks_per_second=20) as server:
        messages: list[dict[str, Any]] = []
        container = server.container
        lock = tmp_path / "feed.lock"
        feeds = [
            MarketFeed(container, lease=FileLease(lock), symbols=["AAPL"], retry_seconds=0.2)
            for _ in range(2)
        ]
        async with container.bus.subscribe("market.AAPL") as sub, _running(feeds) as tasks:

            async def collect() -> None:
                async for message in sub:
                    messages.append(message.data)

            collector = asyncio.create_task(collect())
            counts = await _published_by(feeds, 1.0)
            assert sorted(c > 0 for c in counts) == [False, True], counts
            assert sum(counts) == len(messages)
            leader = counts.index(max(counts))
            assert (await feeds[leader].health()).status == "ok"
            for _ in range(40):  # the leader's heartbeat comes every two seconds
                follower_health = await feeds[1 - leader].health()
                if "following" in (follower_health.detail or ""):
                    break
                await asyncio.sleep(0.1)
            assert follower_health.status == "ok" and "following" in (follower_health.detail or "")

            tasks[leader].cancel()  # the leader dies: the follower takes over
            before = feeds[1 - leader].published
            await asyncio.sleep(1.0)
            assert feeds[1 - leader].published > before
            collector.cancel()


@pytest.fixture
async def pg_engine_url(fresh_pg_url: str) -> str:
    return fresh_pg_url


async def test_postgres_lease_is_exclusive_and_freed_with_its_session(pg_engine_url: str) -> None:
    engine = create_engine(pg_engine_url)
    try:
        first, second = PostgresLease(engine, "feed-test"), PostgresLease(engine, "feed-test")
        assert await first.try_acquire() and await first.held()
        assert not await second.try_acquire()
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
        await second.release()
    finally:
        await engine.dispose()
