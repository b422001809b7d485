"""An API under test: the real app, its lifespan, and an HTTP client over ASGI.

The database is migrated once per run; tests stay independent by using fresh e-mail addresses
and, with Redis, a fresh key prefix per app. The app's clock is fixed (``DEFAULT_NOW``, a
session in progress) and its market feed is off unless a test asks for them: results must
not depend on the time of day the suite runs at.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantumtrade.api.app import create_app
from quantumtrade.domain.clock import Clock, FixedClock
from support import DEFAULT_NOW, build_settings

AppFactory = Callable[
    ..., contextlib.AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]
]


@pytest.fixture
def make_api(app_database_url: str, app_redis_url: str | None, tmp_path: Path) -> AppFactory:
    """Return a factory: ``async with make_api(**setting_overrides) as (app, client)``."""

    @contextlib.asynccontextmanager
    async def factory(
        *, clock: Clock | None = None, client_ip: str = "127.0.0.1", **overrides: Any
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        overrides.setdefault("market_feed_enabled", False)
        settings = build_settings(app_database_url, app_redis_url, tmp_path, **overrides)
        app = create_app(settings, clock=clock or FixedClock(DEFAULT_NOW))
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=(client_ip, 50000)
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            yield app, client

    return factory


@pytest.fixture
async def api(make_api: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_api() as (_app, client):
        yield client
