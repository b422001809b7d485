"""Order rules through the real app: bad input, client order ids, ownership and margin.

A refused order leaves nothing behind; one user can never see, change or trade in another
user's portfolio or orders (it answers 404, like something that does not exist); margin
portfolios get their multiplier's buying power and may sell short when shorting is enabled.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantumtrade.domain.clock import FixedClock
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
NIGHT = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Tuesday 21:00 in New York: closed
START = Decimal(100_000)


def dec(value: object) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@dataclass
class Trader:
    """One registered user of the app under test."""

    client: httpx.AsyncClient
    headers: dict[str, str]

    async def place(self, **fields: Any) -> httpx.Response:
        """POST /api/orders (a day market buy of AAPL unless told otherwise)."""
        body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"}
        body.update(fields)
        return await self.client.post("/api/orders", json=body, headers=self.headers)

    async def placed(self, **fields: Any) -> dict[str, Any]:
        response = await self.place(**fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def orders(self, status: str = "all") -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/orders", params={"status": status}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    async def portfolios(self) -> list[dict[str, Any]]:
        response = await self.client.get("/api/portfolios", headers=self.headers)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    async def create_portfolio(self, **fields: Any) -> dict[str, Any]:
        response = await self.client.post("/api/portfolios", json=fields, headers=self.headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


async def new_trader(client: httpx.AsyncClient) -> Trader:
    user = await register(client)
    return Trader(client, bearer(user["access_token"]))


@dataclass
class Market:
    app: FastAPI
    client: httpx.AsyncClient

    async def quote(self, symbol: str = "AAPL") -> tuple[Decimal, Decimal]:
        """Return the (bid, ask) a market order fills against now."""
        quote = await self.app.state.container.market.latest_quote(symbol)
        return dec(quote.bid_price), dec(quote.ask_price)


@contextlib.asynccontextmanager
async def trading(make_api: Any, *, now: datetime = NOW, **settings: Any) -> AsyncIterator[Market]:
    async with make_api(
        clock=FixedClock(now),
        market_feed_enabled=False,
        paper_matching_enabled=False,
        **settings,
    ) as (app, client):
        yield Market(app, client)


# -- bad input -------------------------------------------------------------------------------

LIMIT = {"type": "limit", "limit_price": "80.00"}
BRACKET = {
    "type": "limit",
    "limit_price": "80.00",
    "order_class": "bracket",
    "take_profit": {"limit_price": "85.00"},
    "stop_loss": {"stop_price": "78.00"},
}


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        pytest.param(
            {**LIMIT, "limit_price": "1.234", "qty": "1"}, 422, "sub_penny_price", id="sub_penny"
        ),
        pytest.param(
            {**LIMIT, "limit_price": "80.005", "qty": "1"},
            422,
            "sub_penny_price",
            id="sub_penny_near",
        ),
        pytest.param({"qty": "0"}, 422, "invalid_qty", id="qty_zero"),
        pytest.param({"qty": "-5"}, 422, "invalid_qty", id="qty_negative"),
        pytest.param(
            {"qty": "1", "notional": "100"}, 422, "qty_or_notional", id="qty_and_notional"
        ),
        pytest.param({"symbol": "NOPE", "qty": "1"}, 422, "unknown_symbol", id="unknown_symbol"),
        pytest.param({"type": "limit", "qty": "1"}, 422, "missing_price", id="limit_without_price"),
        pytest.param({"qty": "1", "colour": "red"}, 422, "validation_error", id="unknown_field"),
        pytest.param({**BRACKET, "qty": "1.5"}, 422, "invalid_qty", id="fractional_bracket"),
        pytest.param({"side": "sell", "qty": "5"}, 403, "shorting_not_allowed", id="short_in_cash"),
        pytest.param({"qty": "5000"}, 403, "insufficient_buying_power", id="buying_power"),
    ],
)
async def test_bad_order_is_refused_with_the_uniform_error_and_nothing_stored(
    make_api: Any, fields: dict[str, Any], status: int, code: str
) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        assert_error(await trader.place(**fields), status, code)
        assert await trader.orders() == []
        for portfolio in await trader.portfolios():
            assert dec(portfolio["cash"]) == START
            assert portfolio["position_count"] == 0


async def test_order_with_several_problems_lists_every_one(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        response = await trader.place(type="limit", qty="0", stop_price="80.00")
        error = assert_error(response, 422, "invalid_order")
        assert {d["code"] for d in error["details"]} >= {
            "invalid_qty",
            "missing_price",
            "unexpected_field",
        }
        assert await trader.orders() == []


async def test_buying_power_counts_what_open_orders_reserve(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        await trader.placed(type="limit", limit_price="80.00", qty="1000")  # reserves $80,000
        (portfolio,) = await trader.portfolios()
        assert dec(portfolio["reserved_for_orders"]) == 80_000
        assert dec(portfolio["buying_power"]) == 20_000
        response = await trader.place(qty="300")  # ~$24,500 at the ask
        error = assert_error(response, 403, "insufficient_buying_power")
        assert dec(error["details"]["buying_power"]) == 20_000
        assert len(await trader.orders()) == 1


async def test_queued_market_orders_reserve_buying_power(make_api: Any) -> None:
    async with trading(make_api, now=NIGHT) as market:
        trader = await new_trader(market.client)
        first = await trader.placed(qty="1000")  # about $81,600, queued for the open
        assert first["status"] == "accepted"
        response = await trader.place(qty="1000")  # another $81,600 on a $100,000 account
        assert_error(response, 403, "insufficient_buying_power")
        assert [o["id"] for o in await trader.orders()] == [first["id"]]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        pytest.param({"qty": "5000"}, 403, "insufficient_buying_power", id="buying_power"),
        pytest.param({"limit_price": "900.00"}, 422, "price_out_of_range", id="price_collar"),
    ],
)
async def test_replace_runs_the_pretrade_checks(
    make_api: Any, change: dict[str, str], status: int, code: str
) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        order = await trader.placed(type="limit", limit_price="80.00", qty="10")
        response = await market.client.patch(
            f"/api/orders/{order['id']}", json=change, headers=trader.headers
        )
        assert_error(response, status, code)
        (still,) = await trader.orders()
        assert still["id"] == order["id"] and still["status"] == "new"
        assert dec(still["qty"]) == 10 and dec(still["limit_price"]) == 80


# -- client order ids ------------------------------------------------------------------------


async def test_client_order_id_reuse_is_refused_and_the_retry_creates_nothing(
    make_api: Any,
) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        first = await trader.placed(qty="2", client_order_id="my-order-1")
        (portfolio,) = await trader.portfolios()
        for _ in range(2):
            error = assert_error(
                await trader.place(qty="2", client_order_id="my-order-1"),
                422,
                "client_order_id_in_use",
            )
            assert error["details"]["order_id"] == first["id"]
        assert [o["id"] for o in await trader.orders()] == [first["id"]]
        (after,) = await trader.portfolios()
        assert after["cash"] == portfolio["cash"]
        trades = await market.client.get(
            f"/api/portfolios/{portfolio['id']}/trades", headers=trader.headers
        )
        assert trades.json()["total"] == 1


async def test_client_order_id_lookup_finds_the_order(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        order = await trader.placed(
            type="limit", limit_price="80.00", qty="2", client_order_id="x7"
        )
        assert order["client_order_id"] == "x7"
        response = await market.client.get(
            "/api/orders:by_client_order_id",
            params={"client_order_id": "x7"},
            headers=trader.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["id"] == order["id"]
        missing = await market.client.get(
            "/api/orders:by_client_order_id",
            params={"client_order_id": "nope"},
            headers=trader.headers,
        )
        assert_error(missing, 404, "order_not_found")


async def test_client_order_id_may_be_reused_by_another_user(make_api: Any) -> None:
    async with trading(make_api) as market:
        alice, bob = await new_trader(market.client), await new_trader(market.client)
        await alice.placed(qty="1", client_order_id="shared")
        await bob.placed(qty="1", client_order_id="shared")
        assert len(await bob.orders()) == 1


# -- ownership -------------------------------------------------------------------------------


@dataclass
class TwoUsers:
    market: Market
    alice: Trader
    bob: Trader
    portfolio_id: str
    order_id: str


@pytest.fixture
async def two_users(make_api: Any) -> AsyncIterator[TwoUsers]:
    async with trading(make_api) as market:
        alice, bob = await new_trader(market.client), await new_trader(market.client)
        await alice.placed(qty="5")  # a position and a trade
        order = await alice.placed(
            type="limit", limit_price="80.00", qty="3", client_order_id="alice-1"
        )
        yield TwoUsers(market, alice, bob, order["portfolio_id"], order["id"])


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("GET", "/positions"),
        ("GET", "/performance"),
        ("GET", "/trades"),
        ("POST", "/reset"),
    ],
)
async def test_other_users_portfolio_is_not_found(
    two_users: TwoUsers, method: str, suffix: str
) -> None:
    users = two_users
    path = f"/api/portfolios/{users.portfolio_id}{suffix}"
    response = await users.market.client.request(method, path, headers=users.bob.headers)
    assert_error(response, 404, "portfolio_not_found")
    (portfolio,) = await users.alice.portfolios()
    assert portfolio["position_count"] == 1 and dec(portfolio["cash"]) < START


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("GET", "/events", None),
        ("PATCH", "", {"limit_price": "79.00"}),
        ("DELETE", "", None),
    ],
)
async def test_other_users_order_is_not_found(
    two_users: TwoUsers, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    users = two_users
    path = f"/api/orders/{users.order_id}{suffix}"
    response = await users.market.client.request(method, path, json=body, headers=users.bob.headers)
    assert_error(response, 404, "order_not_found")
    (order,) = await users.alice.orders("open")
    assert order["id"] == users.order_id
    assert order["status"] == "new" and dec(order["limit_price"]) == 80


async def test_other_users_client_order_id_is_not_found(two_users: TwoUsers) -> None:
    users = two_users
    response = await users.market.client.get(
        "/api/orders:by_client_order_id",
        params={"client_order_id": "alice-1"},
        headers=users.bob.headers,
    )
    assert_error(response, 404, "order_not_found")


async def test_order_into_another_users_portfolio_is_refused(two_users: TwoUsers) -> None:
    users = two_users
    response = await users.bob.place(qty="1", portfolio_id=users.portfolio_id)
    assert_error(response, 404, "portfolio_not_found")
    assert await users.bob.orders() == []
    assert len(await users.alice.orders()) == 2


async def test_cancel_all_leaves_other_users_orders_alone(two_users: TwoUsers) -> None:
    users = two_users
    own = await users.bob.placed(type="limit", limit_price="79.00", qty="1")
    response = await users.market.client.delete("/api/orders", headers=users.bob.headers)
    assert response.status_code == 207, response.text
    assert [item["id"] for item in response.json()] == [own["id"]]
    assert response.json()[0]["status"] == 200
    assert [o["status"] for o in await users.bob.orders()] == ["canceled"]
    (order,) = await users.alice.orders("open")
    assert order["id"] == users.order_id and order["status"] == "new"


async def test_listing_orders_shows_only_your_own(two_users: TwoUsers) -> None:
    users = two_users
    assert await users.bob.orders() == []
    assert {o["portfolio_id"] for o in await users.alice.orders()} == {users.portfolio_id}


# -- margin ----------------------------------------------------------------------------------


async def test_margin_portfolio_has_its_multiplier_of_buying_power(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        created = await trader.create_portfolio(
            name="Margin", starting_cash="50000", margin_multiplier=2
        )
        assert created["account_type"] == "margin"
        assert dec(created["cash"]) == 50_000
        assert dec(created["buying_power"]) == 100_000
        # It can buy more than its cash: $70,000 of stock on $50,000.
        _bid, ask = await market.quote()
        qty = int(Decimal(70_000) / ask)
        order = await trader.placed(qty=str(qty), portfolio_id=created["id"])
        assert order["status"] == "filled"
        summary = await market.client.get(
            f"/api/portfolios/{created['id']}", headers=trader.headers
        )
        assert dec(summary.json()["cash"]) == 50_000 - qty * ask


async def test_cash_portfolio_buying_power_is_its_cash(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        created = await trader.create_portfolio(name="Cash", starting_cash="50000")
        assert created["account_type"] == "cash"
        assert dec(created["buying_power"]) == 50_000
        _bid, ask = await market.quote()
        response = await trader.place(qty=str(int(60_000 / ask)), portfolio_id=created["id"])
        assert_error(response, 403, "insufficient_buying_power")


async def test_margin_portfolio_with_shorting_sells_short(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        created = await trader.create_portfolio(
            name="Shorts", starting_cash="50000", margin_multiplier=2, shorting_enabled=True
        )
        bid, _ask = await market.quote()
        order = await trader.placed(side="sell", qty="10", portfolio_id=created["id"])
        assert order["status"] == "filled"
        assert dec(order["filled_avg_price"]) == bid
        response = await market.client.get(
            f"/api/portfolios/{created['id']}/positions", headers=trader.headers
        )
        assert response.status_code == 200, response.text
        (position,) = response.json()
        assert position["symbol"] == "AAPL"
        assert position["side"] == "short"
        assert dec(position["qty"]) == -10
        summary = await market.client.get(
            f"/api/portfolios/{created['id']}", headers=trader.headers
        )
        assert dec(summary.json()["cash"]) == 50_000 + 10 * bid


async def test_margin_portfolio_without_shorting_refuses_a_short_sale(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        created = await trader.create_portfolio(
            name="Long only", starting_cash="50000", margin_multiplier=4
        )
        response = await trader.place(side="sell", qty="10", portfolio_id=created["id"])
        assert_error(response, 403, "shorting_not_allowed")
        assert await trader.orders() == []


async def test_shorting_without_margin_is_refused(make_api: Any) -> None:
    async with trading(make_api) as market:
        trader = await new_trader(market.client)
        response = await market.client.post(
            "/api/portfolios",
            json={"name": "Bad", "margin_multiplier": 1, "shorting_enabled": True},
            headers=trader.headers,
        )
        assert_error(response, 422, "shorting_needs_margin")
        assert await trader.portfolios() == []
