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
from support import wait_until


@contextlib.asynccontextmanager
async def _running(feeds: list[MarketFeed]) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(feed.run()) for feed in feeds]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_file_lease_with_two_feeds_lets_one_publish_and_the_other_take_over(
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
            await wait_until(lambda: sum(feed.published for feed in feeds) >= 20)
            counts = [feed.published for feed in feeds]
            assert sorted(c > 0 for c in counts) == [False, True], counts
            leader, follower = feeds[counts.index(max(counts))], feeds[counts.index(0)]
            await wait_until(lambda: len(messages) >= max(counts))  # the bus carried them
            assert {message["symbol"] for message in messages} == {"AAPL"}
            assert (await leader.health()).status == "ok"

            async def following() -> bool:
                health = await follower.health()
                return health.status == "ok" and "following" in (health.detail or "")

            await wait_until(following, message="the follower never heard the leader")
            assert follower.published == 0  # all this while, the lease kept it quiet

            tasks[feeds.index(leader)].cancel()  # the leader dies: the follower takes over
            await wait_until(lambda: follower.published > 0, message="no takeover")
            assert follower.leading and not leader.leading
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
