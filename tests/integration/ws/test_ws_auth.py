"""Authentication on /ws and the private channels it unlocks."""

from __future__ import annotations

import json

from integration.ws.wsclient import ServerFactory, recv_json, recv_until


async def test_private_channel_without_auth_is_refused(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "channels": ["alerts"]}))
        reply = await recv_json(ws)
        assert reply["type"] == "error" and reply["code"] == "auth_required"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"
        await ws.close()


async def test_query_token_authenticates_and_unlocks_private_events(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        user = await server.register()
        ws = await server.websocket(user["access_token"])
        greeting = await recv_json(ws)
        assert greeting["type"] == "connected"
        assert greeting["authenticated"] is True and greeting["user_id"] == user["user"]["id"]
        await ws.send(json.dumps({"type": "subscribe", "channels": ["alerts", "orders"]}))
        assert (await recv_json(ws))["private"] == ["alerts", "orders"]
        bus = server.container.bus
        await bus.publish(f"user.{user['user']['id']}", {"channel": "orders", "id": "o-1"})
        await bus.publish(f"user.{user['user']['id']}", {"channel": "portfolio", "id": "p-1"})
        await bus.publish(f"user.{user['user']['id']}", {"channel": "alerts", "id": "a-1"})
        first = await recv_json(ws)
        second = await recv_json(ws)
        assert (first["type"], first["id"]) == ("orders", "o-1")
        assert (second["type"], second["id"]) == ("alerts", "a-1")
        await ws.close()


async def test_first_message_auth_authenticates(live_server: ServerFactory) -> None:
    async with live_server() as server:
        user = await server.register()
        ws = await server.connect()
        await ws.send(json.dumps({"type": "auth", "token": user["access_token"]}))
        reply = await recv_json(ws)
        assert reply == {"type": "authenticated", "user_id": user["user"]["id"]}
        await ws.send(json.dumps({"type": "subscribe", "channels": ["alerts"]}))
        assert (await recv_json(ws))["private"] == ["alerts"]
        await ws.close()


async def test_bad_token_gets_an_error_and_stays_anonymous(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.websocket("not-a-token")
        greeting = await recv_json(ws)
        assert greeting["authenticated"] is False
        assert (await recv_json(ws))["code"] == "invalid_token"
        await ws.send(json.dumps({"type": "auth", "token": "still-not-a-token"}))
        assert (await recv_json(ws))["code"] == "invalid_token"
        await ws.send(json.dumps({"type": "subscribe", "channels": ["fills"]}))
        assert (await recv_until(ws, lambda m: m["type"] == "error"))["code"] == "auth_required"
        await ws.close()
