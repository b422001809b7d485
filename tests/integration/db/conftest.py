"""Engines on fresh databases, empty or migrated to head, disposed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db.engine import create_engine
from quantumtrade.db.migrate import upgrade


@pytest.fixture
async def sqlite_engine(fresh_sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg_engine(fresh_pg_url: str) -> AsyncIterator[AsyncEngine]:
    # Disposed before the fixture drops the database, so no pooled connection outlives it.
    engine = create_engine(fresh_pg_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def migrated_sqlite(sqlite_engine: AsyncEngine) -> AsyncEngine:
    await upgrade(sqlite_engine)
    return sqlite_engine


@pytest.fixture
async def migrated_pg(pg_engine: AsyncEngine) -> AsyncEngine:
    await upgrade(pg_engine)
    return pg_engine
