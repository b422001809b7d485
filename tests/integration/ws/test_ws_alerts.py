"""Alerts fire exactly once and reach only their owner's WebSocket connections."""

from __future__ import annotations

import asyncio
import json
import uuid

import sqlalchemy as sa

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_until
from quantumtrade.db.models import Alert
from quantumtrade.services.alerts import AlertEvaluator


async def test_alert_fires_once_across_racing_evaluators_and_reaches_only_its_owner(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        owner, other = await server.register(), await server.register()
        response = await server.http.post(
            "/api/alerts",
            json={"symbol": "AAPL", "kind": "price_above", "condition": {"price": 150}},
            headers={"Authorization": f"Bearer {owner['access_token']}"},
        )
        assert response.status_code == 201, response.text
        alert_id = response.json()["id"]
        sockets = {}
        for name, user in (("owner", owner), ("other", other)):
            ws = await server.connect(user["access_token"])
            await ws.send(json.dumps({"type": "subscribe", "channels": ["alerts"]}))
            assert (await recv_json(ws))["private"] == ["alerts"]
            sockets[name] = ws

        container = server.container
        # The suite's database is shared: alerts other tests left armed would race here too.
        async with container.session_factory() as db:
            await db.execute(
                sa.update(Alert)
                .where(Alert.status == "active", Alert.id != uuid.UUID(alert_id))
                .values(status="disabled")
            )
            await db.commit()
        evaluators = [
            AlertEvaluator(
                session_factory=container.session_factory, bus=container.bus, clock=container.clock
            )
            for _ in range(2)
        ]
        for evaluator in evaluators:
            await evaluator.refresh()
            assert [a.id.hex for a in evaluator.by_symbol["AAPL"]] == [alert_id.replace("-", "")]
        below = {"type": "price", "symbol": "AAPL", "price": 149.0, "timestamp": "t0"}
        above = {"type": "price", "symbol": "AAPL", "price": 151.0, "timestamp": "t1"}
        await asyncio.gather(*(e.on_event(below) for e in evaluators))
        await asyncio.gather(*(e.on_event(above) for e in evaluators))
        await asyncio.gather(*(e.drain() for e in evaluators))
        await asyncio.gather(*(e.on_event(above) for e in evaluators))  # claimed: no refire
        await asyncio.gather(*(e.drain() for e in evaluators))
        assert sum(e.fired for e in evaluators) == 1

        notice = await recv_until(sockets["owner"], lambda m: m["type"] == "alert")
        assert notice["alert"]["id"] == alert_id and notice["alert"]["status"] == "triggered"
        assert notice["event"]["price"] == 151.0
        later = await drain(sockets["owner"], 0.5)
        assert [m for m in later if m["type"] == "alert"] == []
        assert [m for m in await drain(sockets["other"], 0.2) if m["type"] == "alert"] == []

        shown = await server.http.get(
            f"/api/alerts/{alert_id}", headers={"Authorization": f"Bearer {owner['access_token']}"}
        )
        assert shown.json()["status"] == "triggered" and shown.json()["triggered_at"]
        assert shown.json()["delivered_at"]
        for ws in sockets.values():
            await ws.close()


async def test_percent_change_and_volume_spike_evaluate_on_the_stream(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        user = await server.register()
        headers = {"Authorization": f"Bearer {user['access_token']}"}
        for body in (
            {
                "symbol": "TSLA",
                "kind": "percent_change",
                "condition": {"percent": 5, "window_minutes": 10, "direction": "down"},
            },
            {
                "symbol": "TSLA",
                "kind": "volume_spike",
                "condition": {"multiplier": 3, "lookback_bars": 3},
            },
        ):
            assert (await server.http.post("/api/alerts", json=body, headers=headers)).is_success
        container = server.container
        evaluator = AlertEvaluator(
            session_factory=container.session_factory, bus=container.bus, clock=container.clock
        )
        await evaluator.refresh()
        for price in (100.0, 101.0, 97.0):
            await evaluator.on_event({"type": "price", "symbol": "TSLA", "price": price})
        await evaluator.drain()
        assert evaluator.fired == 0
        await evaluator.on_event({"type": "price", "symbol": "TSLA", "price": 94.0})
        for volume in (100.0, 100.0, 100.0, 290.0, 600.0):
            await evaluator.on_event({"type": "bar", "symbol": "TSLA", "volume": volume})
        await evaluator.drain()
        assert evaluator.fired == 2
        listed = await server.http.get("/api/alerts?status=triggered", headers=headers)
        assert sorted(a["kind"] for a in listed.json()["items"]) == [
            "percent_change",
            "volume_spike",
        ]
