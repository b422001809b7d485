"""Paper orders through the real app: each order type, time in force and order class.

The background matching engine is off; each test drives ``app.state.matching_engine`` itself
with feed-shaped market messages, so every fill price is known in advance. The simulated
market is deterministic from its seed, so a market order's price is read from the same
source (``latest_quote``) the desk fills against.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from quantumtrade.domain.clock import FixedClock
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
CLOSE = datetime(2026, 11, 18, 21, 0, tzinfo=UTC)  # 16:00 in New York
NIGHT = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # Tuesday 21:00 in New York: closed
OPENING = datetime(2026, 11, 18, 14, 35, tzinfo=UTC)  # 09:35 in New York
START = Decimal(100_000)


def dec(value: object) -> Decimal:
    """Read a money or quantity field (a string) or a float price as an exact decimal."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@dataclass
class Desk:
    """One user trading against an app whose matching engine the test drives."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock
    headers: dict[str, str]

    @property
    def engine(self) -> Any:
        return self.app.state.matching_engine

    async def market_quote(self, symbol: str = "AAPL") -> tuple[Decimal, Decimal]:
        """Return the source's (bid, ask) now: what a market order fills against."""
        quote = await self.app.state.container.market.latest_quote(symbol)
        return dec(quote.bid_price), dec(quote.ask_price)

    async def last_trade(self, symbol: str = "AAPL") -> Decimal:
        return dec((await self.app.state.container.market.latest_trade(symbol)).price)

    async def place(self, **fields: Any) -> httpx.Response:
        """POST /api/orders (a day market buy of AAPL unless told otherwise)."""
        body = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day"}
        body.update({k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()})
        response = await self.client.post("/api/orders", json=body, headers=self.headers)
        await self.engine.load()  # what the engine's notice on trading.orders does
        return response

    async def placed(self, **fields: Any) -> dict[str, Any]:
        response = await self.place(**fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/orders/{order_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self, order_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/orders/{order_id}/events", headers=self.headers)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    async def portfolio(self) -> dict[str, Any]:
        response = await self.client.get("/api/portfolios", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()[0]
        return body

    async def positions(self) -> dict[str, dict[str, Any]]:
        portfolio_id = (await self.portfolio())["id"]
        response = await self.client.get(
            f"/api/portfolios/{portfolio_id}/positions", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return {p["symbol"]: p for p in response.json()}

    async def trades(self) -> list[dict[str, Any]]:
        portfolio_id = (await self.portfolio())["id"]
        response = await self.client.get(
            f"/api/portfolios/{portfolio_id}/trades", headers=self.headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def quote(self, bid: str, ask: str, symbol: str = "AAPL") -> None:
        await self.engine.on_market(
            {
                "type": "quote",
                "symbol": symbol,
                "bid": float(bid),
                "bid_size": 100,
                "ask": float(ask),
                "ask_size": 100,
                "timestamp": self.clock.now().isoformat(),
            }
        )

    async def trade(self, price: str, symbol: str = "AAPL") -> None:
        await self.engine.on_market(
            {
                "type": "price",
                "symbol": symbol,
                "price": float(price),
                "size": 100,
                "exchange": "X",
                "timestamp": self.clock.now().isoformat(),
            }
        )

    async def bar(self, volume: int, price: float = 81.5, symbol: str = "AAPL") -> None:
        await self.engine.on_market(
            {
                "type": "bar",
                "symbol": symbol,
                "timeframe": "1Min",
                "open": price,
                "high": price + 0.1,
                "low": price - 0.1,
                "close": price,
                "volume": volume,
                "vwap": price,
                "trade_count": 5,
                "timestamp": self.clock.now().isoformat(),
            }
        )

    async def hold(self, qty: int = 10) -> Decimal:
        """Buy ``qty`` AAPL at the market; return the price paid."""
        order = await self.placed(qty=str(qty))
        assert order["status"] == "filled", order
        return dec(order["filled_avg_price"])


@contextlib.asynccontextmanager
async def trading(make_api: Any, *, now: datetime = NOW, **settings: Any) -> AsyncIterator[Desk]:
    clock = FixedClock(now)
    async with make_api(
        clock=clock, market_feed_enabled=False, paper_matching_enabled=False, **settings
    ) as (app, client):
        user = await register(client)
        yield Desk(app, client, clock, bearer(user["access_token"]))


def legs_by_role(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {leg["leg_role"]: leg for leg in order["legs"] or []}


# -- market orders ---------------------------------------------------------------------------


async def test_market_buy_fills_at_the_ask_and_debits_cash(make_api: Any) -> None:
    async with trading(make_api) as desk:
        _bid, ask = await desk.market_quote()
        order = await desk.placed(qty="10")
        assert order["status"] == "filled"
        assert dec(order["filled_qty"]) == 10
        assert dec(order["filled_avg_price"]) == ask
        assert dec((await desk.portfolio())["cash"]) == START - 10 * ask
        position = (await desk.positions())["AAPL"]
        assert dec(position["qty"]) == 10 and position["side"] == "long"
        assert dec(position["avg_entry_price"]) == ask


async def test_market_sell_fills_at_the_bid_and_credits_cash(make_api: Any) -> None:
    async with trading(make_api) as desk:
        bid, ask = await desk.market_quote()
        await desk.hold(10)
        order = await desk.placed(side="sell", qty="4")
        assert order["status"] == "filled"
        assert dec(order["filled_avg_price"]) == bid
        assert dec((await desk.portfolio())["cash"]) == START - 10 * ask + 4 * bid
        assert dec((await desk.positions())["AAPL"]["qty"]) == 6


async def test_notional_buy_gets_fractional_qty_truncated_to_nine_decimals(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        _bid, ask = await desk.market_quote()
        order = await desk.placed(notional="1000")
        expected = (Decimal(1000) / ask).quantize(Decimal("1e-9"), rounding=ROUND_FLOOR)
        assert expected != expected.to_integral_value()
        assert order["status"] == "filled"
        assert dec(order["notional"]) == 1000
        assert dec(order["qty"]) == expected
        assert dec(order["filled_qty"]) == expected
        assert dec((await desk.positions())["AAPL"]["qty"]) == expected
        cost = (expected * ask).quantize(Decimal("0.01"))
        assert dec((await desk.portfolio())["cash"]) == START - cost


# -- limit orders ----------------------------------------------------------------------------


async def test_limit_buy_below_the_ask_rests_then_fills_at_the_better_price(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10")
        assert order["status"] == "new" and dec(order["filled_qty"]) == 0
        await desk.quote("80.05", "80.10")  # ask above the limit: nothing
        assert (await desk.order(order["id"]))["status"] == "new"
        await desk.quote("79.85", "79.90")
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("79.90")
        assert dec((await desk.portfolio())["cash"]) == START - 10 * Decimal("79.90")


async def test_limit_buy_marketable_at_submission_fills_at_once_at_the_ask(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        _bid, ask = await desk.market_quote()
        order = await desk.placed(type="limit", limit_price=str(ask + 1), qty="10")
        assert order["status"] == "filled"
        assert dec(order["filled_avg_price"]) == ask


# -- stops -----------------------------------------------------------------------------------


async def test_stop_sell_under_the_market_rests_until_a_trade_through_it_then_fills_at_bid(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        await desk.hold(10)
        order = await desk.placed(side="sell", type="stop", stop_price="80.00", qty="10")
        assert order["status"] == "new" and dec(order["filled_qty"]) == 0
        await desk.trade("80.50")  # above the stop
        assert (await desk.order(order["id"]))["status"] == "new"
        await desk.quote("79.88", "79.90")
        await desk.trade("79.95")  # through the stop
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("79.88")
        assert "AAPL" not in await desk.positions()


async def test_stop_limit_triggers_then_rests_as_a_limit(make_api: Any) -> None:
    async with trading(make_api) as desk:
        await desk.hold(10)
        order = await desk.placed(
            side="sell", type="stop_limit", stop_price="80.00", limit_price="79.50", qty="10"
        )
        assert order["status"] == "new" and dec(order["filled_qty"]) == 0
        await desk.trade("79.90")  # triggers: now a sell limit at 79.50
        await desk.quote("79.40", "79.45")  # bid under the limit: rests
        assert (await desk.order(order["id"]))["status"] == "new"
        await desk.quote("79.60", "79.62")
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("79.60")


async def test_trailing_stop_by_price_raises_its_stop_with_highs_and_fills_on_pullback(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        last = await desk.last_trade()
        await desk.hold(10)
        order = await desk.placed(side="sell", type="trailing_stop", trail_price="1.00", qty="10")
        assert order["status"] == "new"
        assert dec(order["hwm"]) == last and dec(order["stop_price"]) == last - 1
        await desk.trade("83.00")
        moved = await desk.order(order["id"])
        assert dec(moved["hwm"]) == Decimal("83.00")
        assert dec(moved["stop_price"]) == Decimal("82.00")
        await desk.trade("82.50")  # a dip that stays above the stop: no change
        held = await desk.order(order["id"])
        assert held["status"] == "new" and dec(held["hwm"]) == Decimal("83.00")
        await desk.quote("81.95", "81.97")
        await desk.trade("81.99")
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("81.95")


async def test_trailing_stop_by_percent_raises_its_stop_with_highs_and_fills_on_pullback(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        await desk.hold(10)
        order = await desk.placed(side="sell", type="trailing_stop", trail_percent="5", qty="10")
        assert order["status"] == "new"
        await desk.trade("90.00")
        moved = await desk.order(order["id"])
        assert dec(moved["hwm"]) == Decimal("90.00")
        assert dec(moved["stop_price"]) == Decimal("85.50")
        await desk.trade("86.00")
        assert (await desk.order(order["id"]))["status"] == "new"
        await desk.quote("85.40", "85.42")
        await desk.trade("85.45")
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("85.40")


# -- time in force ---------------------------------------------------------------------------


async def test_ioc_limit_not_marketable_is_canceled_unfilled(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10", time_in_force="ioc")
        assert order["status"] == "canceled"
        assert dec(order["filled_qty"]) == 0
        assert await desk.positions() == {}
        assert await desk.trades() == []


async def test_fok_larger_than_the_participation_cap_is_canceled_without_a_fill(
    make_api: Any,
) -> None:
    async with trading(make_api, paper_participation=Decimal("0.1")) as desk:
        await desk.bar(volume=100)  # at most 10 shares may fill now
        order = await desk.placed(qty="20", time_in_force="fok")
        assert order["status"] == "canceled"
        assert dec(order["filled_qty"]) == 0
        assert await desk.trades() == []
        assert dec((await desk.portfolio())["cash"]) == START
        within = await desk.placed(qty="10", time_in_force="fok")  # the cap is 10: fills
        assert within["status"] == "filled" and dec(within["filled_qty"]) == 10


async def test_day_limit_expires_after_the_close(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10")
        await desk.engine.housekeeping()  # mid-session: nothing to do
        assert (await desk.order(order["id"]))["status"] == "new"
        desk.clock.set(CLOSE + timedelta(minutes=1))
        await desk.engine.housekeeping()
        expired = await desk.order(order["id"])
        assert expired["status"] == "expired"
        assert expired["expired_at"] is not None


async def test_gtc_limit_survives_the_close(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10", time_in_force="gtc")
        desk.clock.set(CLOSE + timedelta(minutes=1))
        await desk.engine.housekeeping()
        assert (await desk.order(order["id"]))["status"] == "new"


async def test_opg_placed_while_closed_is_accepted_and_fills_at_first_quote_after_open(
    make_api: Any,
) -> None:
    async with trading(make_api, now=NIGHT) as desk:
        order = await desk.placed(qty="5", time_in_force="opg")
        assert order["status"] == "accepted" and dec(order["filled_qty"]) == 0
        await desk.quote("80.00", "80.02")  # still closed: nothing happens
        assert (await desk.order(order["id"]))["status"] == "accepted"
        desk.clock.set(OPENING)
        await desk.quote("80.10", "80.12")
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("80.12")


async def test_opg_while_the_market_is_open_is_refused(make_api: Any) -> None:
    async with trading(make_api) as desk:
        assert_error(await desk.place(qty="5", time_in_force="opg"), 422, "market_open")


async def test_cls_order_waits_for_the_close_and_fills_there(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(qty="5", time_in_force="cls")
        assert order["status"] == "accepted"
        await desk.quote("81.00", "81.02")  # mid-session quotes do not fill it
        await desk.engine.housekeeping()
        assert (await desk.order(order["id"]))["status"] == "accepted"
        desk.clock.set(CLOSE)
        await desk.quote("81.50", "81.52")
        await desk.engine.housekeeping()
        filled = await desk.order(order["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("81.52")


async def test_market_order_while_closed_is_accepted_by_default(make_api: Any) -> None:
    async with trading(make_api, now=NIGHT) as desk:
        order = await desk.placed(qty="5")
        assert order["status"] == "accepted"
        assert dec(order["filled_qty"]) == 0
        assert await desk.positions() == {}


async def test_market_order_while_closed_is_refused_when_configured_to_reject(
    make_api: Any,
) -> None:
    async with trading(make_api, now=NIGHT, paper_outside_session="reject") as desk:
        assert_error(await desk.place(qty="5"), 422, "market_closed")
        listed = await desk.client.get(
            "/api/orders", params={"status": "all"}, headers=desk.headers
        )
        assert listed.json() == []
        # Only market orders are refused: a limit order still queues for the open.
        limit = await desk.placed(type="limit", limit_price="80.00", qty="5")
        assert limit["status"] == "accepted"


async def test_ioc_while_closed_is_refused(make_api: Any) -> None:
    async with trading(make_api, now=NIGHT) as desk:
        response = await desk.place(type="limit", limit_price="80.00", qty="5", time_in_force="ioc")
        assert_error(response, 422, "market_closed")


# -- order classes ---------------------------------------------------------------------------

BRACKET = {
    "type": "limit",
    "limit_price": "81.00",
    "qty": "10",
    "time_in_force": "gtc",
    "order_class": "bracket",
    "take_profit": {"limit_price": "85.00"},
    "stop_loss": {"stop_price": "78.00"},
}


async def test_bracket_entry_rests_with_both_legs_held(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(**BRACKET)
        assert entry["status"] == "new" and entry["order_class"] == "bracket"
        legs = legs_by_role(entry)
        assert set(legs) == {"take_profit", "stop_loss"}
        assert {leg["status"] for leg in legs.values()} == {"held"}
        assert {leg["side"] for leg in legs.values()} == {"sell"}
        assert legs["take_profit"]["type"] == "limit"
        assert dec(legs["take_profit"]["limit_price"]) == 85
        assert legs["stop_loss"]["type"] == "stop"
        assert dec(legs["stop_loss"]["stop_price"]) == 78
        await desk.quote("81.50", "81.52")  # the entry still rests
        await desk.trade("77.00")  # a held stop-loss must not fire
        assert {leg["status"] for leg in (await desk.order(entry["id"]))["legs"]} == {"held"}


async def test_bracket_market_entry_with_stop_loss_above_the_market_is_refused(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        last = await desk.last_trade()
        through = (last * Decimal("1.5")).quantize(Decimal("0.01"))
        response = await desk.place(
            qty="10",
            order_class="bracket",
            take_profit={"limit_price": str(through + 10)},
            stop_loss={"stop_price": str(through)},
        )
        error = assert_error(response, 422, "invalid_legs")
        assert error["details"]["field"] == "stop_loss.stop_price"
        assert await desk.positions() == {}


async def test_bracket_market_entry_with_take_profit_below_the_market_is_refused(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        last = await desk.last_trade()
        below = (last * Decimal("0.9")).quantize(Decimal("0.01"))
        response = await desk.place(
            qty="10",
            order_class="bracket",
            take_profit={"limit_price": str(below)},
            stop_loss={"stop_price": str((below * Decimal("0.9")).quantize(Decimal("0.01")))},
        )
        error = assert_error(response, 422, "invalid_legs")
        assert error["details"]["field"] == "take_profit.limit_price"


async def test_oco_exit_with_stop_loss_above_the_market_is_refused(make_api: Any) -> None:
    async with trading(make_api) as desk:
        await desk.placed(qty="10")
        last = await desk.last_trade()
        response = await desk.place(
            side="sell",
            type="limit",
            qty="10",
            time_in_force="gtc",
            order_class="oco",
            take_profit={"limit_price": str((last * Decimal("1.3")).quantize(Decimal("0.01")))},
            stop_loss={"stop_price": str((last * Decimal("1.1")).quantize(Decimal("0.01")))},
        )
        error = assert_error(response, 422, "invalid_legs")
        assert error["details"]["field"] == "stop_loss.stop_price"


async def test_bracket_market_entry_with_legs_either_side_of_the_market_fills(
    make_api: Any,
) -> None:
    async with trading(make_api) as desk:
        last = await desk.last_trade()
        entry = await desk.placed(
            qty="10",
            order_class="bracket",
            take_profit={"limit_price": str((last * Decimal("1.1")).quantize(Decimal("0.01")))},
            stop_loss={"stop_price": str((last * Decimal("0.9")).quantize(Decimal("0.01")))},
        )
        assert entry["status"] == "filled"
        assert {leg["status"] for leg in entry["legs"]} == {"new"}


async def test_bracket_entry_fill_activates_both_legs(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(**BRACKET)
        await desk.quote("80.88", "80.90")
        filled = await desk.order(entry["id"])
        assert filled["status"] == "filled"
        assert dec(filled["filled_avg_price"]) == Decimal("80.90")
        legs = legs_by_role(filled)
        assert {leg["status"] for leg in legs.values()} == {"new"}
        assert {dec(leg["qty"]) for leg in legs.values()} == {Decimal(10)}


async def test_bracket_take_profit_fill_cancels_the_stop_loss(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(**BRACKET)
        await desk.quote("80.88", "80.90")
        await desk.quote("85.10", "85.12")
        legs = legs_by_role(await desk.order(entry["id"]))
        assert legs["take_profit"]["status"] == "filled"
        assert dec(legs["take_profit"]["filled_avg_price"]) == Decimal("85.10")
        assert legs["stop_loss"]["status"] == "canceled"
        assert await desk.positions() == {}
        expected = START - 10 * Decimal("80.90") + 10 * Decimal("85.10")
        assert dec((await desk.portfolio())["cash"]) == expected


async def test_bracket_stop_loss_fill_cancels_the_take_profit(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(**BRACKET)
        await desk.quote("80.88", "80.90")
        await desk.quote("77.80", "77.82")
        await desk.trade("77.85")
        legs = legs_by_role(await desk.order(entry["id"]))
        assert legs["stop_loss"]["status"] == "filled"
        assert dec(legs["stop_loss"]["filled_avg_price"]) == Decimal("77.80")
        assert legs["take_profit"]["status"] == "canceled"
        assert await desk.positions() == {}


async def test_bracket_canceling_the_unfilled_entry_cancels_its_legs(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(**BRACKET)
        response = await desk.client.delete(f"/api/orders/{entry['id']}", headers=desk.headers)
        assert response.status_code == 204, response.text
        canceled = await desk.order(entry["id"])
        assert canceled["status"] == "canceled"
        assert {leg["status"] for leg in canceled["legs"]} == {"canceled"}
        open_orders = await desk.client.get("/api/orders", headers=desk.headers)
        assert open_orders.json() == []


OCO = {
    "side": "sell",
    "type": "limit",
    "qty": "10",
    "time_in_force": "gtc",
    "order_class": "oco",
    "take_profit": {"limit_price": "85.00"},
    "stop_loss": {"stop_price": "78.00"},
}


async def test_oco_take_profit_fill_cancels_the_stop_leg(make_api: Any) -> None:
    async with trading(make_api) as desk:
        await desk.hold(10)
        oco = await desk.placed(**OCO)
        assert oco["status"] == "new" and dec(oco["limit_price"]) == 85
        (stop,) = oco["legs"]
        assert stop["status"] == "new" and stop["type"] == "stop" and stop["side"] == "sell"
        await desk.quote("85.05", "85.07")
        done = await desk.order(oco["id"])
        assert done["status"] == "filled"
        assert dec(done["filled_avg_price"]) == Decimal("85.05")
        assert done["legs"][0]["status"] == "canceled"
        assert await desk.positions() == {}


async def test_oco_stop_fill_cancels_the_take_profit(make_api: Any) -> None:
    async with trading(make_api) as desk:
        await desk.hold(10)
        oco = await desk.placed(**OCO)
        await desk.quote("77.85", "77.87")
        await desk.trade("77.90")
        done = await desk.order(oco["id"])
        assert done["legs"][0]["status"] == "filled"
        assert dec(done["legs"][0]["filled_avg_price"]) == Decimal("77.85")
        assert done["status"] == "canceled"
        assert await desk.positions() == {}


async def test_oto_with_one_leg_activates_it_when_the_entry_fills(make_api: Any) -> None:
    async with trading(make_api) as desk:
        entry = await desk.placed(
            type="limit",
            limit_price="81.00",
            qty="10",
            time_in_force="gtc",
            order_class="oto",
            stop_loss={"stop_price": "78.00"},
        )
        (leg,) = entry["legs"]
        assert leg["leg_role"] == "stop_loss" and leg["status"] == "held"
        await desk.quote("80.88", "80.90")
        (leg,) = (await desk.order(entry["id"]))["legs"]
        assert leg["status"] == "new" and leg["side"] == "sell" and dec(leg["qty"]) == 10
        await desk.quote("77.85", "77.87")
        await desk.trade("77.90")
        (leg,) = (await desk.order(entry["id"]))["legs"]
        assert leg["status"] == "filled"
        assert await desk.positions() == {}


# -- replace ---------------------------------------------------------------------------------


async def test_replace_creates_a_new_order_and_marks_the_old_replaced(make_api: Any) -> None:
    async with trading(make_api) as desk:
        old = await desk.placed(type="limit", limit_price="80.00", qty="10")
        response = await desk.client.patch(
            f"/api/orders/{old['id']}",
            json={"qty": "5", "limit_price": "80.50"},
            headers=desk.headers,
        )
        assert response.status_code == 200, response.text
        await desk.engine.load()
        new = response.json()
        assert new["id"] != old["id"]
        assert new["replaces"] == old["id"]
        assert new["status"] == "new"
        assert dec(new["qty"]) == 5 and dec(new["limit_price"]) == Decimal("80.50")
        replaced = await desk.order(old["id"])
        assert replaced["status"] == "replaced"
        assert replaced["replaced_by"] == new["id"]
        listed = await desk.client.get("/api/orders", headers=desk.headers)
        assert [o["id"] for o in listed.json()] == [new["id"]]
        await desk.quote("80.35", "80.40")  # marketable for the new limit only
        assert (await desk.order(old["id"]))["status"] == "replaced"
        filled = await desk.order(new["id"])
        assert filled["status"] == "filled" and dec(filled["filled_qty"]) == 5
        assert dec((await desk.positions())["AAPL"]["qty"]) == 5


async def test_replace_a_filled_order_is_refused(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="90.00", qty="10")
        assert order["status"] == "filled"
        response = await desk.client.patch(
            f"/api/orders/{order['id']}", json={"limit_price": "91.00"}, headers=desk.headers
        )
        assert_error(response, 422, "order_not_open")


async def test_replace_a_canceled_order_is_refused(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10")
        await desk.client.delete(f"/api/orders/{order['id']}", headers=desk.headers)
        response = await desk.client.patch(
            f"/api/orders/{order['id']}", json={"qty": "3"}, headers=desk.headers
        )
        assert_error(response, 422, "order_not_open")
        assert (await desk.order(order["id"]))["status"] == "canceled"


# -- the event trail -------------------------------------------------------------------------


async def test_events_record_new_partial_fill_and_fill_in_order(make_api: Any) -> None:
    async with trading(make_api, paper_participation=Decimal("0.1")) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="15")
        await desk.bar(volume=100)  # 10 shares per fill
        await desk.quote("79.85", "79.90")
        assert (await desk.order(order["id"]))["status"] == "partially_filled"
        await desk.quote("79.88", "79.92")  # same bar: its 10-share budget is spent
        assert dec((await desk.order(order["id"]))["filled_qty"]) == 10
        await desk.bar(volume=100)  # a new bar, a new budget
        await desk.quote("79.90", "79.95")
        events = await desk.events(order["id"])
        assert [(e["event"], e["status"]) for e in events] == [
            ("new", "new"),
            ("partial_fill", "partially_filled"),
            ("fill", "filled"),
        ]
        assert [(e["qty"], e["price"]) for e in events[1:]] == [("10", "79.9"), ("5", "79.95")]
        assert dec((await desk.order(order["id"]))["filled_qty"]) == 15


async def test_events_record_new_then_canceled(make_api: Any) -> None:
    async with trading(make_api) as desk:
        order = await desk.placed(type="limit", limit_price="80.00", qty="10")
        await desk.client.delete(f"/api/orders/{order['id']}", headers=desk.headers)
        events = await desk.events(order["id"])
        assert [(e["event"], e["status"]) for e in events] == [
            ("new", "new"),
            ("canceled", "canceled"),
        ]
        assert events[1]["reason"]


async def test_events_of_a_market_order_show_new_then_fill(make_api: Any) -> None:
    async with trading(make_api) as desk:
        _bid, ask = await desk.market_quote()
        order = await desk.placed(qty="3")
        events = await desk.events(order["id"])
        assert [(e["event"], e["status"]) for e in events] == [
            ("new", "new"),
            ("fill", "filled"),
        ]
        assert dec(events[1]["qty"]) == 3 and dec(events[1]["price"]) == ask
