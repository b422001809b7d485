"""The API while the live feed runs and the market is open: what users read between ticks.

The rest of the suite keeps the feed off and the clock fixed. Here the clock runs in real time
from a session in progress, so the feed streams and refreshes the cached prices as it does by
day, and every read must still answer with the full documented shape.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from quantumtrade.domain.clock import ShiftedClock
from quantumtrade.marketdata.source import UnknownSymbol
from quantumtrade.services import price_cache
from quantumtrade.services.price_cache import PriceSnapshot
from support import DEFAULT_NOW, bearer, register

PRICE_FIELDS = set(PriceSnapshot.__dataclass_fields__)


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 60.0,
    client: httpx.AsyncClient | None = None,
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds (generous: noisy VM).

    With ``client``, a failure shows the app's health, where the feed says whether it leads,
    what it published and its last error.
    """
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() >= deadline:
            health = (await client.get("/api/health")).text if client is not None else ""
            raise AssertionError(f"condition not reached in {timeout:.0f} s; health: {health}")
        await asyncio.sleep(0.05)


def live(make_api: Any, **settings: Any) -> Any:
    return make_api(
        clock=ShiftedClock(DEFAULT_NOW),
        market_feed_enabled=True,
        market_always_open=True,
        **settings,
    )


async def price(client: httpx.AsyncClient, symbol: str = "AAPL") -> dict[str, Any]:
    response = await client.get(f"/api/market/price/{symbol}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == PRICE_FIELDS
    return body


async def feed_refreshed(
    app: FastAPI, client: httpx.AsyncClient, symbol: str, loaded: str
) -> Callable[[], Awaitable[bool]]:
    """Return a check that the cached snapshot of ``symbol`` moved past ``loaded`` (a timestamp).

    The feed only refreshes a snapshot that is cached; a miss is the price endpoint's to load.
    So on a miss the check reads the price as a user would, which caches it again, and then
    waits for the feed to move that one: a Redis blip under load (the cache bypassed, then
    its namespace purged) must not leave the test waiting for a refresh that by design never
    comes, nor let the reload pass for the feed's refresh.
    """
    mark = [loaded]

    async def check() -> bool:
        snapshot = await price_cache.read(app.state.container.cache, symbol)
        if snapshot is None:
            mark[0] = (await price(client, symbol))["timestamp"]
            return False
        return snapshot.timestamp > mark[0]

    return check


async def test_price_after_the_feed_refreshed_the_cache_answers_the_full_shape(
    make_api: Any,
) -> None:
    async with live(make_api) as (app, client):
        first = await price(client)
        await eventually(
            await feed_refreshed(app, client, "AAPL", first["timestamp"]), client=client
        )
        cached = await price_cache.read(app.state.container.cache, "AAPL")
        assert cached is not None
        served = await price(client)
        assert served["timestamp"] >= cached.timestamp > first["timestamp"]
        assert served["previous_close"] == first["previous_close"]
        assert served["bid"] <= served["ask"]
        assert served["market_open"] is True


async def test_quotes_while_the_feed_runs_answer_every_symbol(make_api: Any) -> None:
    async with live(make_api) as (app, client):
        first = await price(client, "MSFT")
        await eventually(
            await feed_refreshed(app, client, "MSFT", first["timestamp"]), client=client
        )
        for _ in range(3):
            response = await client.get("/api/market/quotes", params={"symbols": "AAPL,MSFT"})
            assert response.status_code == 200, response.text
            quotes = response.json()["quotes"]
            assert [q["symbol"] for q in quotes] == ["AAPL", "MSFT"]
            assert all(set(q) == PRICE_FIELDS for q in quotes)
            await asyncio.sleep(0.3)


async def test_portfolio_while_the_feed_runs_reports_the_day_pl(make_api: Any) -> None:
    async with live(make_api) as (app, client):
        headers = bearer((await register(client))["access_token"])
        first = await price(client)
        order = await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "buy", "qty": "5"}, headers=headers
        )
        assert order.status_code == 201, order.text
        await eventually(
            await feed_refreshed(app, client, "AAPL", first["timestamp"]), client=client
        )
        portfolios = await client.get("/api/portfolios", headers=headers)
        assert portfolios.status_code == 200, portfolios.text
        (portfolio,) = portfolios.json()
        assert portfolio["day_pl_unavailable"] == []
        assert isinstance(portfolio["day_pl"], str)
        positions = await client.get(
            f"/api/portfolios/{portfolio['id']}/positions", headers=headers
        )
        (position,) = positions.json()
        assert Decimal(position["lastday_price"]) == Decimal(str(first["previous_close"]))


async def test_portfolio_without_a_previous_close_says_so_instead_of_zero(
    make_api: Any,
) -> None:
    async with live(make_api) as (app, client):
        headers = bearer((await register(client))["access_token"])
        order = await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "buy", "qty": "5"}, headers=headers
        )
        assert order.status_code == 201, order.text
        market = app.state.container.market

        async def failing_quote(symbol: str) -> Any:
            raise UnknownSymbol(f"{symbol} has no quote right now")

        await price_cache.forget(app.state.container.cache, "AAPL")
        market.latest_quote = failing_quote
        (portfolio,) = (await client.get("/api/portfolios", headers=headers)).json()
        assert portfolio["day_pl"] is None
        assert portfolio["day_pl_unavailable"] == ["AAPL"]
        positions = await client.get(
            f"/api/portfolios/{portfolio['id']}/positions", headers=headers
        )
        (position,) = positions.json()
        assert position["lastday_price"] is None
        assert position["unrealized_intraday_pl"] is None
        assert position["change_today"] is None
