"""The trade journal through the real app: round trips from real fills, the trader's fields.

Each entry is checked against the executions the portfolio endpoint reports, not against
figures written into the test: net P&L is what the fills' cash says, the stop is the order the
trader placed, and a replay of the ledger gives back the same entries with the notes kept.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantumtrade.db.models import AIDecision, RegimeChange
from quantumtrade.domain.clock import FixedClock
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York: open
COMPUTED = (
    "key",
    "symbol",
    "direction",
    "status",
    "opened_at",
    "closed_at",
    "entry_qty",
    "exit_qty",
    "max_qty",
    "entry_price",
    "exit_price",
    "gross_pl",
    "fees",
    "net_pl",
    "return_pct",
    "holding_seconds",
    "stop_price",
    "r_multiple",
    "mae",
    "mfe",
    "fills",
)


@dataclass
class Desk:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock
    headers: dict[str, str]

    async def trade(
        self, side: str, qty: str, symbol: str = "AAPL", **extra: Any
    ) -> dict[str, Any]:
        body = {"symbol": symbol, "side": side, "type": "market", "time_in_force": "day"}
        body.update(qty=qty, **extra)
        response = await self.client.post("/api/orders", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        if body["type"] == "market":
            assert order["status"] == "filled", order
        return order

    async def entries(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/journal/entries", params=params, headers=self.headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def fills(self, portfolio_id: str | None = None) -> list[dict[str, Any]]:
        pid = portfolio_id or (await self.portfolio())["id"]
        response = await self.client.get(
            f"/api/portfolios/{pid}/trades", params={"limit": 500}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def portfolio(self) -> dict[str, Any]:
        response = await self.client.get("/api/portfolios", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()[0]
        return body

    async def patch(self, entry_id: str, **fields: Any) -> httpx.Response:
        return await self.client.patch(
            f"/api/journal/entries/{entry_id}", json=fields, headers=self.headers
        )


@contextlib.asynccontextmanager
async def desk(make_api: Any) -> AsyncIterator[Desk]:
    clock = FixedClock(NOW)
    async with make_api(clock=clock, market_feed_enabled=False, paper_matching_enabled=False) as (
        app,
        client,
    ):
        user = await register(client)
        yield Desk(app, client, clock, bearer(user["access_token"]))


def cash_of(fills: list[dict[str, Any]]) -> Decimal:
    """What the fills did to cash: sales in, purchases out, every fee out."""
    total = Decimal(0)
    for fill in fills:
        value = Decimal(fill["qty"]) * Decimal(fill["price"])
        total += value if fill["side"] == "sell" else -value
        total -= Decimal(fill["commission"]) + Decimal(fill["fees"])
    return total


async def test_scale_in_and_partial_exits_make_one_round_trip_priced_from_its_fills(
    make_api: Any,
) -> None:
    async with desk(make_api) as d:
        await d.trade("buy", "10")
        d.clock.advance(timedelta(minutes=20))
        await d.trade("buy", "5")
        d.clock.advance(timedelta(minutes=40))
        await d.trade("sell", "6")
        (open_trip,) = await d.entries()
        assert open_trip["status"] == "open"
        assert open_trip["closed_at"] is None
        assert Decimal(open_trip["entry_qty"]) == 15
        assert Decimal(open_trip["exit_qty"]) == 6
        d.clock.advance(timedelta(hours=1))
        await d.trade("sell", "9")
        (trip,) = await d.entries()
        fills = await d.fills()

    assert trip["id"] == open_trip["id"]  # the same entry, updated as the fills arrived
    assert trip["status"] == "closed" and trip["direction"] == "long"
    assert Decimal(trip["max_qty"]) == 15
    assert Decimal(trip["net_pl"]) == cash_of(fills)
    buys = [f for f in fills if f["side"] == "buy"]
    sells = [f for f in fills if f["side"] == "sell"]
    bought = sum(Decimal(f["qty"]) * Decimal(f["price"]) for f in buys)
    sold = sum(Decimal(f["qty"]) * Decimal(f["price"]) for f in sells)
    assert Decimal(trip["entry_price"]) == pytest.approx(bought / 15, abs=Decimal("1e-9"))
    assert Decimal(trip["exit_price"]) == pytest.approx(sold / 15, abs=Decimal("1e-9"))
    assert trip["holding_seconds"] == 2 * 3600
    assert [f["role"] for f in trip["fills"]] == ["entry", "entry", "exit", "exit"]
    # The bars while open bound the excursions at least as far as the fills went.
    entry, exit_ = Decimal(trip["entry_price"]), Decimal(trip["exit_price"])
    assert Decimal(trip["mae"]) >= 0 and Decimal(trip["mfe"]) >= 0
    assert Decimal(trip["mfe"]) >= max(exit_ - entry, Decimal(0)) * 15 - Decimal("0.01")
    assert Decimal(trip["mae"]) >= max(entry - exit_, Decimal(0)) * 15 - Decimal("0.01")
    assert trip["stop_price"] is None and trip["r_multiple"] is None
    assert trip["strategy"] is None and trip["ai_decision_id"] is None


async def test_a_flip_closes_the_long_and_opens_a_short_with_the_rest(make_api: Any) -> None:
    async with desk(make_api) as d:
        created = await d.client.post(
            "/api/portfolios",
            json={"name": "Flips", "margin_multiplier": 2, "shorting_enabled": True},
            headers=d.headers,
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        await d.trade("buy", "10", portfolio_id=pid)
        d.clock.advance(timedelta(minutes=5))
        await d.trade("sell", "25", portfolio_id=pid)
        d.clock.advance(timedelta(minutes=5))
        await d.trade("buy", "15", portfolio_id=pid)
        entries = await d.entries(portfolio_id=pid)
        fills = await d.fills(pid)

    short, long_ = entries  # newest opened first
    assert (long_["direction"], long_["status"]) == ("long", "closed")
    assert (short["direction"], short["status"]) == ("short", "closed")
    assert Decimal(long_["entry_qty"]) == Decimal(long_["exit_qty"]) == 10
    assert Decimal(short["entry_qty"]) == Decimal(short["exit_qty"]) == 15
    # The flipping fill is shared, its fees split, and nothing is lost between the two trips.
    assert long_["fills"][-1]["fill_id"] == short["fills"][0]["fill_id"]
    assert Decimal(long_["net_pl"]) + Decimal(short["net_pl"]) == cash_of(fills)


async def test_the_stop_order_in_force_gives_the_r_multiple(make_api: Any) -> None:
    async with desk(make_api) as d:
        await d.trade("buy", "10", symbol="MSFT")
        (trip,) = await d.entries()
        first = Decimal(trip["fills"][0]["price"])
        stop_price = (first - Decimal(2)).quantize(Decimal("0.01"))
        stop = await d.trade(
            "sell",
            "10",
            symbol="MSFT",
            type="stop",
            stop_price=str(stop_price),
            time_in_force="gtc",
        )
        d.clock.advance(timedelta(minutes=30))
        cancel = await d.client.delete(f"/api/orders/{stop['id']}", headers=d.headers)
        assert cancel.status_code in (200, 204), cancel.text
        await d.trade("sell", "10", symbol="MSFT")
        (trip,) = await d.entries()

    assert trip["stop_source"] == "order"
    assert Decimal(trip["stop_price"]) == stop_price
    risk = (first - stop_price) * 10
    assert trip["r_multiple"] == pytest.approx(float(Decimal(trip["net_pl"]) / risk))


async def test_what_the_trader_adds_is_validated_kept_and_used(make_api: Any) -> None:
    async with desk(make_api) as d:
        await d.trade("buy", "4", symbol="NVDA")
        d.clock.advance(timedelta(minutes=10))
        await d.trade("sell", "4", symbol="NVDA")
        (trip,) = await d.entries()
        entry_id, first = trip["id"], Decimal(trip["fills"][0]["price"])

        bad = [
            ({"emotion_before": "sleepy"}, 422, "validation_error"),
            ({"emotion_before": "calm", "emotion_before_intensity": 6}, 422, "validation_error"),
            ({"rating": 0}, 422, "validation_error"),
            ({"tags": ["x" * 41]}, 422, "validation_error"),
            ({"colour": "red"}, 422, "validation_error"),
            ({"emotion_after_intensity": 3}, 422, "intensity_without_emotion"),
            ({"planned_stop": str(first + 1)}, 422, "stop_on_wrong_side"),
            ({"planned_target": str(first - 1)}, 422, "target_on_wrong_side"),
            # NUL cannot be stored in PostgreSQL text: refused for every body, as here.
            ({"notes": "a\u0000b"}, 422, "validation_error"),
            ({"tags": ["ok", "n\u0000l"]}, 422, "validation_error"),
        ]
        for body, status, code in bad:
            assert_error(await d.patch(entry_id, **body), status, code)
        (unchanged,) = await d.entries()
        assert unchanged == trip  # a refused change leaves nothing behind

        stop = (first - Decimal("1.5")).quantize(Decimal("0.01"))
        response = await d.patch(
            entry_id,
            notes="Faded the open.",
            tags=["Fade", "fade", " morning "],
            setup="Opening fade",
            emotion_before="fomo",
            emotion_before_intensity=4,
            emotion_after="frustrated",
            rating=2,
            planned_stop=str(stop),
            planned_target=str(first + 3),
        )
        assert response.status_code == 200, response.text
        patched = response.json()
        assert patched["tags"] == ["Fade", "morning"]
        assert patched["emotion_before"] == "fomo" and patched["emotion_before_intensity"] == 4
        assert patched["stop_source"] == "planned" and Decimal(patched["stop_price"]) == stop
        risk = (first - stop) * 4
        assert patched["r_multiple"] == pytest.approx(float(Decimal(trip["net_pl"]) / risk))

        # Filters: by tag (any letter case), setup, symbol and status.
        assert [e["id"] for e in await d.entries(tag="FADE")] == [entry_id]
        assert [e["id"] for e in await d.entries(setup="opening FADE")] == [entry_id]
        assert await d.entries(tag="breakout") == []
        assert await d.entries(status="open") == []
        assert [e["id"] for e in await d.entries(symbol="nvda")] == [entry_id]

        # New fills and a full replay of the ledger keep what the trader wrote.
        d.clock.advance(timedelta(minutes=10))
        await d.trade("buy", "1", symbol="NVDA")
        rebuilt = await d.client.post("/api/journal/rebuild", headers=d.headers)
        assert rebuilt.status_code == 200, rebuilt.text
        assert rebuilt.json()["entries"] == 2
        got = await d.client.get(f"/api/journal/entries/{entry_id}", headers=d.headers)
        assert got.status_code == 200
        again = got.json()
        assert {k: again[k] for k in COMPUTED} == {k: patched[k] for k in COMPUTED}
        assert again["notes"] == "Faded the open." and again["rating"] == 2

        cleared = await d.patch(
            entry_id,
            planned_stop=None,
            tags=None,
            emotion_before=None,
            emotion_before_intensity=None,
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["r_multiple"] is None and cleared.json()["tags"] == []


async def test_a_reset_ends_the_open_trips_and_csv_exports_them(make_api: Any) -> None:
    async with desk(make_api) as d:
        await d.trade("buy", "3", symbol="AMD")
        pid = (await d.portfolio())["id"]
        d.clock.advance(timedelta(minutes=15))
        reset = await d.client.post(f"/api/portfolios/{pid}/reset", headers=d.headers)
        assert reset.status_code == 200, reset.text
        d.clock.advance(timedelta(minutes=15))
        await d.trade("buy", "2", symbol="AMD")
        after, before = await d.entries()
        csv = await d.client.get(
            "/api/journal/entries", params={"format": "csv"}, headers=d.headers
        )

    assert (before["status"], after["status"]) == ("reset", "open")
    assert before["holding_seconds"] == 15 * 60
    assert Decimal(after["entry_qty"]) == 2  # the reset flattened the 3 before
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    header, *rows = csv.text.strip().splitlines()
    assert header.startswith("id,symbol,direction,status")
    assert len(rows) == 2 and rows[0].startswith(after["id"])


async def test_entries_link_the_ai_decision_and_the_regime_at_entry(make_api: Any) -> None:
    async with desk(make_api) as d:
        container = d.app.state.container
        changed = NOW - timedelta(days=1, minutes=7, seconds=11)
        async with container.session_factory() as db:
            db.add(
                RegimeChange(
                    symbol="KO",
                    timeframe="1Day",
                    time=changed,
                    trend_regime="bear",
                    probabilities={"bull": 0.1, "bear": 0.8, "sideways": 0.1},
                    volatility_regime="normal",
                    detected_at=changed,
                )
            )
            await db.commit()
        order = await d.trade("buy", "5", symbol="KO")
        decision_id = uuid.uuid4()
        async with container.session_factory() as db:
            db.add(
                AIDecision(
                    id=decision_id,
                    symbol="KO",
                    action="buy",
                    confidence=0.6,
                    executed=True,
                    order_id=uuid.UUID(order["id"]),
                )
            )
            await db.commit()
        rebuilt = await d.client.post("/api/journal/rebuild", headers=d.headers)
        assert rebuilt.status_code == 200
        (trip,) = await d.entries(symbol="KO")
        async with container.session_factory() as db:
            await db.delete(await db.get(RegimeChange, ("KO", "1Day", changed)))
            await db.commit()

    assert trip["ai_decision_id"] == str(decision_id)
    assert trip["order_id"] == order["id"]
    assert trip["regime"] == "bear"


async def test_another_users_entries_are_not_found(make_api: Any) -> None:
    async with desk(make_api) as d:
        await d.trade("buy", "1", symbol="JPM")
        (trip,) = await d.entries()
        pid = (await d.portfolio())["id"]
        other = bearer((await register(d.client))["access_token"])
        for response in (
            await d.client.get(f"/api/journal/entries/{trip['id']}", headers=other),
            await d.client.patch(
                f"/api/journal/entries/{trip['id']}", json={"notes": "mine"}, headers=other
            ),
        ):
            assert_error(response, 404, "journal_entry_not_found")
        assert_error(
            await d.client.get("/api/journal/entries", params={"portfolio_id": pid}, headers=other),
            404,
            "portfolio_not_found",
        )
        assert_error(
            await d.client.get(f"/api/journal/entries/{uuid.uuid4()}", headers=d.headers),
            404,
            "journal_entry_not_found",
        )
        (mine,) = await d.entries()
        assert mine["notes"] is None


# -- review: mistakes, analysis, recommendations ---------------------------------------------


async def test_mistakes_name_the_trades_and_follow_the_thresholds_given(make_api: Any) -> None:
    async with desk(make_api) as d:
        # A quick round trip loses the spread and the fees; a bigger one 10 minutes later is a
        # revenge trade by the default rule (30 minutes, 1.5 times the size).
        await d.trade("buy", "10", symbol="XOM")
        await d.trade("sell", "10", symbol="XOM")
        d.clock.advance(timedelta(minutes=10))
        await d.trade("buy", "40", symbol="XOM")
        loser, revenge = sorted(await d.entries(), key=lambda e: e["opened_at"])
        assert Decimal(loser["net_pl"]) < 0

        response = await d.client.get("/api/journal/mistakes", headers=d.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found = {m["code"]: m for m in body["mistakes"]}
        assert body["trips"] == 2
        assert set(found["no_stop"]["trip_ids"]) == {loser["id"], revenge["id"]}
        assert found["revenge_trade"]["trip_ids"] == [revenge["id"]]
        assert body["rules"]["revenge_window_minutes"] == 30

        # The same trades under a 5-minute window: no revenge trade.
        tighter = await d.client.get(
            "/api/journal/mistakes", params={"revenge_window_minutes": 5}, headers=d.headers
        )
        assert tighter.status_code == 200
        assert "revenge_trade" not in {m["code"] for m in tighter.json()["mistakes"]}
        assert tighter.json()["rules"]["revenge_window_minutes"] == 5

        for params in (
            {"revenge_window_minutes": 0},
            {"chase_atr": -1},
            {"confidence": 1.5},
            {"group_by": "colour"},
        ):
            path = (
                "/api/journal/analysis"
                if {"confidence", "group_by"} & set(params)
                else ("/api/journal/mistakes")
            )
            assert_error(
                await d.client.get(path, params=params, headers=d.headers), 422, "validation_error"
            )


async def test_analysis_and_advice_come_from_the_trades_themselves(make_api: Any) -> None:
    async with desk(make_api) as d:
        # Twelve scalps, each losing the spread against a planned stop, tagged as such.
        for _ in range(12):
            await d.trade("buy", "20", symbol="PFE")
            await d.trade("sell", "20", symbol="PFE")
            d.clock.advance(timedelta(minutes=2))
        entries = await d.entries(limit=50)
        for entry in entries:
            first = Decimal(entry["fills"][0]["price"])
            patched = await d.patch(
                entry["id"],
                tags=["scalp"],
                planned_stop=str((first * Decimal("0.99")).quantize(Decimal("0.01"))),
            )
            assert patched.status_code == 200, patched.text
        analysis = await d.client.get(
            "/api/journal/analysis", params={"group_by": ["tag", "symbol"]}, headers=d.headers
        )
        advice = await d.client.get("/api/journal/recommendations", headers=d.headers)
        strict = await d.client.get(
            "/api/journal/analysis", params={"group_by": "tag", "min_sample": 20}, headers=d.headers
        )
        strict_advice = await d.client.get(
            "/api/journal/recommendations", params={"min_sample": 20}, headers=d.headers
        )

    assert analysis.status_code == 200, analysis.text
    body = analysis.json()
    assert set(body["groups"]) == {"tag", "symbol"}
    overall = body["overall"]
    assert overall["n"] == 12
    assert Decimal(overall["total_net_pl"]) == sum(Decimal(e["net_pl"]) for e in entries)
    (scalps,) = body["groups"]["tag"]
    assert (scalps["key"], scalps["n"], scalps["losses"]) == ("scalp", 12, 12)
    assert scalps["measure"] == "avg_r" and scalps["avg_r"] < 0
    assert scalps["conclusive"] is True
    assert sorted(scalps["trip_ids"]) == sorted(e["id"] for e in entries)

    assert advice.status_code == 200, advice.text
    recommendations = advice.json()["recommendations"]
    assert recommendations, advice.json()
    ids = {e["id"] for e in entries}
    for item in recommendations:
        assert set(item["evidence"]["trip_ids"]) <= ids
        assert item["evidence"]["n"] <= 12
    top = recommendations[0]
    assert top["kind"] in ("avoid", "fix")
    assert str(top["evidence"]["n"]) in top["message"]
    # Twelve trades are too few for a group of at least twenty: flagged, and no advice.
    (small,) = strict.json()["groups"]["tag"]
    assert small["small_sample"] is True and small["conclusive"] is False
    assert scalps["small_sample"] is False
    assert strict_advice.json()["recommendations"] == []


async def test_oversize_and_ignored_ai_use_the_portfolio_limit_and_the_decision_in_force(
    make_api: Any,
) -> None:
    async with desk(make_api) as d:
        container = d.app.state.container
        user_id = (await d.client.get("/api/auth/me", headers=d.headers)).json()["id"]
        async with container.session_factory() as db:
            db.add(
                AIDecision(
                    symbol="WMT",
                    action="sell",
                    confidence=0.7,
                    user_id=uuid.UUID(user_id),
                    created_at=NOW - timedelta(minutes=5),
                    expires_at=NOW + timedelta(hours=1),
                )
            )
            await db.commit()
        # About a third of the $100,000 account in one long, against the AI's "sell".
        ask = await _ask(d, "WMT")
        qty = int(Decimal(33_000) / ask)
        await d.trade("buy", str(qty), symbol="WMT")
        (trip,) = await d.entries()
        pid = (await d.portfolio())["id"]

        found = await d.client.get("/api/journal/mistakes", headers=d.headers)
        assert found.status_code == 200, found.text
        mistakes = {m["code"]: m for m in found.json()["mistakes"]}
        assert mistakes["ignored_ai"]["trip_ids"] == [trip["id"]]
        assert mistakes["oversized"]["trip_ids"] == [trip["id"]]
        (detail,) = mistakes["oversized"]["details"]
        assert detail["fraction"] == pytest.approx(float(qty * ask) / 100_000, abs=0.002)
        assert detail["limit"] == 0.25 and detail["limit_source"] == "default"

        # With the portfolio's own limit at 50 %, the same position is within it.
        limits = await d.client.post(
            f"/api/risk/limits/{pid}", json={"max_position_pct": 0.5}, headers=d.headers
        )
        assert limits.status_code == 200, limits.text
        again = await d.client.get("/api/journal/mistakes", headers=d.headers)
        assert "oversized" not in {m["code"] for m in again.json()["mistakes"]}


async def _ask(d: Desk, symbol: str) -> Decimal:
    quote = await d.app.state.container.market.latest_quote(symbol)
    return Decimal(str(quote.ask_price))
