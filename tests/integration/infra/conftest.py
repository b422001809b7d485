"""Fixtures for the Redis-backed infrastructure tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis


@pytest.fixture
async def plain_redis(redis_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    """A plain client on the test Redis; deletes the test's keys afterwards."""
    client: Redis = Redis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()
