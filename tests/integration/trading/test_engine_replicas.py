"""The matching engine resumes after a restart and fills each order once across replicas."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantumtrade.api.app import create_app
from quantumtrade.db import migrate
from quantumtrade.db.engine import create_engine
from quantumtrade.domain.clock import FixedClock
from support import bearer, build_settings, register

JWT_SECRET = "replicas-share-one-secret-of-at-least-32-bytes"
NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York


@contextlib.asynccontextmanager
async def replica(
    url: str, redis_url: str | None, data_dir: Path, clock: FixedClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """One API replica with its own engine object, driven by hand (no background jobs)."""
    settings = build_settings(
        url,
        redis_url,
        data_dir,
        market_feed_enabled=False,
        paper_matching_enabled=False,
        jwt_secret=JWT_SECRET,
    )
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield app, client


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each kind: the replicas share it and nothing else."""
    name = "fresh_sqlite_url" if request.param == "sqlite" else "fresh_pg_url"
    return str(request.getfixturevalue(name))


async def migrated(url: str) -> str:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return url


def quote(ask: float, bid: float | None = None) -> dict[str, Any]:
    return {
        "type": "quote",
        "symbol": "AAPL",
        "bid": bid if bid is not None else ask - 0.02,
        "bid_size": 100,
        "ask": ask,
        "ask_size": 100,
        "timestamp": NOW.isoformat(),
    }


async def place_resting_buy(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    user = await register(client)
    headers = bearer(user["access_token"])
    response = await client.post(
        "/api/orders",
        json={
            "symbol": "AAPL",
            "side": "buy",
            "qty": "5",
            "type": "limit",
            "limit_price": "60",
            "time_in_force": "gtc",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "new"
    return headers, response.json()["id"]


async def test_engine_resumes_open_orders_after_a_restart(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    await migrated(database_url)
    async with replica(database_url, app_redis_url, tmp_path, clock) as (_app, client):
        headers, order_id = await place_resting_buy(client)

    async with replica(database_url, app_redis_url, tmp_path, clock) as (app, client):
        engine = app.state.matching_engine
        await engine.load()
        assert order_id in engine.resting
        await engine.on_market(quote(ask=60.5))  # not marketable yet
        assert (await client.get(f"/api/orders/{order_id}", headers=headers)).json()[
            "status"
        ] == "new"
        await engine.on_market(quote(ask=59.9))
        order = (await client.get(f"/api/orders/{order_id}", headers=headers)).json()
        assert order["status"] == "filled"
        assert order["filled_avg_price"] == "59.9"  # the better of the limit and the ask
        assert order_id not in engine.resting


async def test_two_engines_on_one_database_fill_an_order_once(
    database_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    await migrated(database_url)
    async with (
        replica(database_url, app_redis_url, tmp_path / "a", clock) as (app_a, client),
        replica(database_url, app_redis_url, tmp_path / "b", clock) as (app_b, _),
    ):
        headers, order_id = await place_resting_buy(client)
        engines = [app_a.state.matching_engine, app_b.state.matching_engine]
        for engine in engines:
            await engine.load()
            assert order_id in engine.resting
        await asyncio.gather(*(engine.on_market(quote(ask=59.5)) for engine in engines))
        await asyncio.gather(*(engine.on_market(quote(ask=59.4)) for engine in engines))

        order = (await client.get(f"/api/orders/{order_id}", headers=headers)).json()
        assert order["status"] == "filled" and order["filled_qty"] == "5"
        portfolio_id = order["portfolio_id"]
        trades = (
            await client.get(f"/api/portfolios/{portfolio_id}/trades", headers=headers)
        ).json()
        assert trades["total"] == 1
        assert sum(engine.fills for engine in engines) == 1
        positions = (
            await client.get(f"/api/portfolios/{portfolio_id}/positions", headers=headers)
        ).json()
        assert [(p["symbol"], p["qty"]) for p in positions] == [("AAPL", "5")]
        events = (await client.get(f"/api/orders/{order_id}/events", headers=headers)).json()
        assert [e["event"] for e in events] == ["new", "fill"]
