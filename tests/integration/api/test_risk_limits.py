"""Risk limits: each refuses the order that would break it and lets risk-reducing ones through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integration.api.conftest import AppFactory
from quantumtrade.domain.clock import FixedClock
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York


def assert_filled(response: httpx.Response, qty: int) -> None:
    """Check that an order was accepted and filled in full at once."""
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], Decimal(order["filled_qty"])) == ("filled", qty), order


class Trader:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], clock: FixedClock):
        self.client = client
        self.headers = headers
        self.clock = clock
        self.portfolio_id = ""

    async def order(self, symbol: str, side: str, qty: str) -> httpx.Response:
        return await self.client.post(
            "/api/orders",
            json={"symbol": symbol, "side": side, "qty": qty, "portfolio_id": self.portfolio_id},
            headers=self.headers,
        )

    async def position_qty(self, symbol: str) -> Decimal:
        """Return the quantity held of ``symbol`` (0 when flat)."""
        response = await self.client.get(
            f"/api/portfolios/{self.portfolio_id}/positions", headers=self.headers
        )
        assert response.status_code == 200, response.text
        held = [Decimal(p["qty"]) for p in response.json() if p["symbol"] == symbol]
        return sum(held, Decimal(0))

    async def limits(self, **changes: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/risk/limits/{self.portfolio_id}", json=changes, headers=self.headers
        )


@pytest.fixture
async def trader(make_api: AppFactory) -> AsyncIterator[Trader]:
    clock = FixedClock(NOW)
    async with make_api(clock=clock, market_feed_enabled=False, paper_matching_enabled=False) as (
        _app,
        client,
    ):
        user = await register(client)
        headers = bearer(user["access_token"])
        created = await client.post(
            "/api/portfolios",
            json={"name": "risky", "margin_multiplier": 2, "shorting_enabled": True},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        me = Trader(client, headers, clock)
        me.portfolio_id = created.json()["id"]
        yield me


async def test_limits_start_with_the_documented_defaults(trader: Trader) -> None:
    response = await trader.client.get(
        f"/api/risk/limits/{trader.portfolio_id}", headers=trader.headers
    )
    assert response.status_code == 200
    limits = response.json()["limits"]
    assert limits["max_open_positions"] == 100
    assert limits["max_position_pct"] is None and limits["blocked_symbols"] == []


async def test_bad_limits_are_refused_and_leave_the_old_ones(trader: Trader) -> None:
    error = assert_error(await trader.limits(max_position_pct=1.5, nonsense=1), 422)
    assert error["code"] == "validation_error"
    assert len(error["details"]) == 2
    shown = await trader.client.get(
        f"/api/risk/limits/{trader.portfolio_id}", headers=trader.headers
    )
    assert shown.json()["limits"]["max_position_pct"] is None


async def test_percentage_limits_are_fractions_and_a_percent_is_refused(trader: Trader) -> None:
    # 50 means 5,000 %: a fraction is meant (0.5 = 50 %), so it is refused with a clear reason.
    error = assert_error(await trader.limits(max_position_pct=50), 422)
    assert error["details"][0]["loc"][-1] == "max_position_pct"
    accepted = await trader.limits(max_position_pct=0.05)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["limits"]["max_position_pct"] == 0.05


async def test_position_limit_refuses_adding_with_reasons_and_fills_a_reducing_sale(
    trader: Trader,
) -> None:
    assert (await trader.limits(max_position_pct=0.05)).status_code == 200
    error = assert_error(await trader.order("AAPL", "buy", "100"), 403)  # ~$8,000 of $100,000
    assert error["code"] == "risk_max_position_pct"
    assert error["details"]["limit"] == 0.05
    assert error["details"]["value"] > 0.05
    assert "of equity" in error["message"]
    assert (await trader.order("AAPL", "buy", "50")).status_code == 201  # ~4 %
    # Adding to it past 5 % is refused; selling (reducing) always goes through.
    assert_error(await trader.order("AAPL", "buy", "20"), 403, "risk_max_position_pct")
    assert await trader.position_qty("AAPL") == 50
    assert (await trader.limits(max_position_pct=0.001)).status_code == 200
    # Still far past 0.1 % after the sale, yet a sale only reduces the risk: it fills.
    assert_filled(await trader.order("AAPL", "sell", "30"), 30)
    assert await trader.position_qty("AAPL") == 20


async def test_blocked_and_allowed_symbols(trader: Trader) -> None:
    assert (await trader.order("TSLA", "buy", "1")).status_code == 201
    assert (await trader.limits(blocked_symbols=["tsla"])).status_code == 200
    assert_error(await trader.order("TSLA", "buy", "1"), 403, "risk_blocked_symbols")
    assert_filled(await trader.order("TSLA", "sell", "1"), 1)  # getting out is allowed
    assert await trader.position_qty("TSLA") == 0
    assert (await trader.limits(allowed_symbols=["MSFT"], blocked_symbols=[])).status_code == 200
    assert_error(await trader.order("AAPL", "buy", "1"), 403, "risk_allowed_symbols")
    assert (await trader.order("MSFT", "buy", "1")).status_code == 201
    # A symbol list is tickers: control characters (a NUL PostgreSQL cannot store), spaces
    # inside and other punctuation are refused before anything is written.
    for bad in (["AA\u0000PL"], ["BRK B"], ["$AAPL"], [""]):
        assert_error(await trader.limits(allowed_symbols=bad), 422, "validation_error")
    allowed = [" brk.b ", "BTC/USD", "BTC-USD"]
    assert (await trader.limits(allowed_symbols=allowed)).status_code == 200
    shown = await trader.client.get(
        f"/api/risk/limits/{trader.portfolio_id}", headers=trader.headers
    )
    assert shown.json()["limits"]["allowed_symbols"] == ["BRK.B", "BTC-USD", "BTC/USD"]


async def test_order_value_open_positions_and_leverage(trader: Trader) -> None:
    assert (await trader.limits(max_order_value=1000, max_open_positions=1)).status_code == 200
    error = assert_error(await trader.order("AAPL", "buy", "20"), 403, "risk_max_order_value")
    assert error["details"]["limit"] == 1000
    assert (await trader.order("AAPL", "buy", "5")).status_code == 201
    assert_error(await trader.order("MSFT", "buy", "1"), 403, "risk_max_open_positions")
    assert (
        await trader.limits(max_order_value=None, max_open_positions=None, max_leverage=0.5)
    ).status_code == 200
    error = assert_error(await trader.order("SPY", "buy", "150"), 403, "risk_max_leverage")
    assert error["details"]["value"] > 0.5


async def test_short_sale_counts_as_adding_risk(trader: Trader) -> None:
    assert (await trader.limits(max_position_value=500)).status_code == 200
    assert_error(await trader.order("AAPL", "sell", "10"), 403, "risk_max_position_value")


async def test_daily_loss_limit_blocks_new_risk_until_the_next_day(trader: Trader) -> None:
    # Buying at the ask and marking at the last trade shows a small loss at once.
    assert (await trader.order("AAPL", "buy", "200")).status_code == 201
    assert (await trader.limits(daily_loss_limit_value=0.01)).status_code == 200
    error = assert_error(await trader.order("MSFT", "buy", "1"), 403)
    assert error["code"] == "risk_daily_loss_limit_value"
    assert "next session" in error["message"]
    assert_filled(await trader.order("AAPL", "sell", "200"), 200)  # reducing: allowed
    assert await trader.position_qty("AAPL") == 0
    # The realised loss still counts today.
    assert_error(await trader.order("MSFT", "buy", "1"), 403, "risk_daily_loss_limit_value")
    trader.clock.set(NOW + timedelta(days=1))
    assert (await trader.order("MSFT", "buy", "1")).status_code == 201


async def test_drawdown_kill_switch(trader: Trader) -> None:
    assert (await trader.order("AAPL", "buy", "200")).status_code == 201
    assert (await trader.limits(max_drawdown_pct=0.00001)).status_code == 200
    assert_error(await trader.order("MSFT", "buy", "1"), 403, "risk_max_drawdown_pct")
    assert (await trader.limits(max_drawdown_pct=None)).status_code == 200
    assert (await trader.order("MSFT", "buy", "1")).status_code == 201


async def test_orders_per_minute(trader: Trader) -> None:
    assert (await trader.limits(max_orders_per_minute=2)).status_code == 200
    assert (await trader.order("AAPL", "buy", "1")).status_code == 201
    assert (await trader.order("AAPL", "buy", "1")).status_code == 201
    assert_error(await trader.order("AAPL", "buy", "1"), 403, "risk_max_orders_per_minute")
    trader.clock.set(NOW + timedelta(seconds=61))
    assert (await trader.order("AAPL", "buy", "1")).status_code == 201


async def test_two_concurrent_orders_cannot_together_break_a_limit(trader: Trader) -> None:
    assert (await trader.limits(max_position_value=1000)).status_code == 200
    # Each ~$650 of AAPL fits alone; both together would not.
    results = await asyncio.gather(*(trader.order("AAPL", "buy", "8") for _ in range(2)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 403], [r.text for r in results]
    positions = await trader.client.get(
        f"/api/portfolios/{trader.portfolio_id}/positions", headers=trader.headers
    )
    assert [p["qty"] for p in positions.json()] == ["8"]


async def test_another_users_limits_are_not_found(trader: Trader) -> None:
    stranger = await register(trader.client)
    headers = bearer(stranger["access_token"])
    url = f"/api/risk/limits/{trader.portfolio_id}"
    assert_error(await trader.client.get(url, headers=headers), 404)
    assert_error(await trader.client.post(url, json={"max_order_value": 1}, headers=headers), 404)


async def test_automatic_stop_rests_with_a_new_position_and_fills_through_the_engine(
    make_api: AppFactory,
) -> None:
    clock = FixedClock(NOW)
    async with make_api(clock=clock, market_feed_enabled=False, paper_matching_enabled=False) as (
        app,
        client,
    ):
        user = await register(client)
        headers = bearer(user["access_token"])
        first = await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "buy", "qty": "1"}, headers=headers
        )
        portfolio_id = first.json()["portfolio_id"]
        await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "sell", "qty": "1"}, headers=headers
        )
        response = await client.post(
            f"/api/risk/limits/{portfolio_id}", json={"auto_stop_pct": 0.05}, headers=headers
        )
        assert response.status_code == 200, response.text

        bought = await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "buy", "qty": "10"}, headers=headers
        )
        entry = float(bought.json()["filled_avg_price"])
        open_orders = (await client.get("/api/orders", headers=headers)).json()
        assert len(open_orders) == 1
        stop = open_orders[0]
        assert (stop["source"], stop["type"], stop["side"], stop["qty"]) == (
            "auto_stop",
            "stop",
            "sell",
            "10",
        )
        assert float(stop["stop_price"]) == pytest.approx(entry * 0.95, abs=0.01)
        assert float(stop["stop_price"]) <= entry * 0.95  # never tighter than asked

        engine = app.state.matching_engine
        await engine.load()
        level = float(stop["stop_price"])
        stamp = clock.now().isoformat()
        await engine.on_market(
            {
                "type": "quote",
                "symbol": "AAPL",
                "bid": level - 0.05,
                "bid_size": 100,
                "ask": level - 0.03,
                "ask_size": 100,
                "timestamp": stamp,
            }
        )
        await engine.on_market(
            {
                "type": "price",
                "symbol": "AAPL",
                "price": level - 0.04,
                "size": 100,
                "exchange": "V",
                "timestamp": stamp,
            }
        )
        filled = (await client.get(f"/api/orders/{stop['id']}", headers=headers)).json()
        assert filled["status"] == "filled"
        assert filled["filled_avg_price"] == f"{level - 0.05:.2f}"
        positions = await client.get(f"/api/portfolios/{portfolio_id}/positions", headers=headers)
        assert positions.json() == []
        # Flat again: no stop is left behind to open a short.
        assert (await client.get("/api/orders", headers=headers)).json() == []


async def test_closing_a_position_by_hand_cancels_its_automatic_stop(trader: Trader) -> None:
    assert (await trader.limits(auto_stop_pct=0.1)).status_code == 200
    assert (await trader.order("MSFT", "buy", "4")).status_code == 201
    assert (await trader.order("MSFT", "buy", "2")).status_code == 201
    stops = (await trader.client.get("/api/orders", headers=trader.headers)).json()
    assert [(s["source"], s["qty"]) for s in stops] == [("auto_stop", "6")]  # resized
    assert (await trader.order("MSFT", "sell", "6")).status_code == 201
    assert (await trader.client.get("/api/orders", headers=trader.headers)).json() == []
    assert_error(await trader.limits(auto_stop_pct=0.1, auto_stop_atr_multiple=2), 400)
