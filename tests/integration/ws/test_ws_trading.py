"""Order events reach their owner's WebSocket connections, and only theirs."""

from __future__ import annotations

import json

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_until


async def test_trade_updates_reach_only_the_owner(live_server: ServerFactory) -> None:
    async with live_server(market_always_open=True, paper_matching_enabled=False) as server:
        owner, other = await server.register(), await server.register()
        sockets = {}
        for name, user in (("owner", owner), ("other", other)):
            ws = await server.connect(user["access_token"])
            await ws.send(
                json.dumps({"type": "subscribe", "channels": ["orders", "fills", "portfolio"]})
            )
            assert (await recv_json(ws))["private"] == ["fills", "orders", "portfolio"]
            sockets[name] = ws

        response = await server.http.post(
            "/api/orders",
            json={"symbol": "MSFT", "side": "buy", "qty": "3", "client_order_id": "ws-1"},
            headers={"Authorization": f"Bearer {owner['access_token']}"},
        )
        assert response.status_code == 201, response.text
        order = response.json()
        assert order["status"] == "filled"

        owner_ws = sockets["owner"]
        new = await recv_until(owner_ws, lambda m: m.get("type") == "trade_update")
        assert new["channel"] == "orders"
        assert new["data"]["event"] == "new"
        assert new["data"]["order"]["client_order_id"] == "ws-1"
        fill = await recv_until(
            owner_ws, lambda m: m.get("type") == "trade_update" and m["data"]["event"] == "fill"
        )
        # Alpaca's trade_updates fields, inside our envelope.
        assert fill["data"]["order"]["id"] == order["id"]
        assert fill["data"]["qty"] == "3"
        assert fill["data"]["price"] == order["filled_avg_price"]
        assert fill["data"]["position_qty"] == "3"
        assert fill["data"]["order"]["status"] == "filled"
        kinds: set[tuple[str | None, str | None]] = set()
        wanted = {("fills", "trade_update"), ("portfolio", "portfolio_update")}
        while not wanted <= kinds:  # each arrives, in whichever order; recv_json bounds the wait
            message = await recv_json(owner_ws)
            kinds.add((message.get("channel"), message.get("type")))
        stranger = [m for m in await drain(sockets["other"], 0.3) if m.get("channel")]
        assert stranger == []
        for ws in sockets.values():
            await ws.close()


async def test_unsubscribed_private_channels_stay_quiet(live_server: ServerFactory) -> None:
    async with live_server(market_always_open=True, paper_matching_enabled=False) as server:
        user = await server.register()
        ws = await server.connect(user["access_token"])
        await ws.send(json.dumps({"type": "subscribe", "channels": ["portfolio"]}))
        assert (await recv_json(ws))["private"] == ["portfolio"]
        response = await server.http.post(
            "/api/orders",
            json={"symbol": "MSFT", "side": "buy", "qty": "1"},
            headers={"Authorization": f"Bearer {user['access_token']}"},
        )
        assert response.status_code == 201, response.text
        got = await recv_until(ws, lambda m: m.get("type") == "portfolio_update")
        assert got["portfolio_id"] == response.json()["portfolio_id"]
        later = await drain(ws, 0.3)
        assert [m for m in later if m.get("type") == "trade_update"] == []
        await ws.close()


async def test_portfolio_updates_carry_the_account_after_each_fill(
    live_server: ServerFactory,
) -> None:
    async with live_server(market_always_open=True, paper_matching_enabled=False) as server:
        user = await server.register()
        auth = {"Authorization": f"Bearer {user['access_token']}"}
        ws = await server.connect(user["access_token"])
        await ws.send(json.dumps({"type": "subscribe", "channels": ["portfolio"]}))
        await recv_json(ws)
        updates = []
        for side, qty in (("buy", "4"), ("sell", "4")):
            placed = await server.http.post(
                "/api/orders", json={"symbol": "MSFT", "side": side, "qty": qty}, headers=auth
            )
            assert placed.status_code == 201, placed.text
            updates.append(await recv_until(ws, lambda m: m.get("type") == "portfolio_update"))
            summary = await server.http.get(
                f"/api/portfolios/{placed.json()['portfolio_id']}", headers=auth
            )
            assert updates[-1]["cash"] == summary.json()["cash"]
            assert updates[-1]["realized_pl"] == summary.json()["realized_pl"]
        bought, sold = updates
        assert bought["positions"] == [
            {
                "symbol": "MSFT",
                "qty": "4",
                "side": "long",
                "avg_entry_price": bought["positions"][0]["avg_entry_price"],
            }
        ]
        assert float(bought["positions"][0]["avg_entry_price"]) > 0
        assert sold["positions"][0]["qty"] == "0" and sold["positions"][0]["side"] == "flat"
        assert sold["ledger_seq"] > bought["ledger_seq"]
        await ws.close()
