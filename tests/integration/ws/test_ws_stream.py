"""Market streaming over /ws: subscriptions, unsubscribe, errors and limits."""

from __future__ import annotations

import json

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_through, recv_until


async def test_subscribe_only_subscribed_symbols_arrive(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["aapl", "MSFT"]}))
        reply = await recv_json(ws)
        assert reply["type"] == "subscribed"
        assert reply["symbols"] == ["AAPL", "MSFT"]
        assert reply["subscriptions"]["AAPL"] == ["bars", "quotes", "trades"]
        for symbol in ("AAPL", "NVDA", "MSFT", "TSLA"):
            await server.publish(symbol, type="price", price=100.0, size=1)
        await server.publish("MSFT", type="bar", close=1.0, volume=1)  # the end marker
        got = await recv_through(ws, lambda m: m["type"] == "bar")
        prices = [m["symbol"] for m in got if m["type"] == "price"]
        assert sorted(prices) == ["AAPL", "MSFT"]
        await ws.close()


async def test_channels_filter_the_kinds_of_message(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["NVDA"], "channels": ["bars"]}))
        assert (await recv_json(ws))["subscriptions"] == {"NVDA": ["bars"]}
        await server.publish("NVDA", type="price", price=1.0)
        await server.publish("NVDA", type="quote", bid=1.0, ask=1.1)
        await server.publish("NVDA", type="bar", close=1.0, volume=10)
        got = await recv_through(ws, lambda m: m["type"] == "bar")  # after the others, if sent
        assert [m["type"] for m in got] == ["bar"]
        await ws.close()


async def test_unsubscribe_stops_the_symbol(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["AAPL", "TSLA"]}))
        await recv_json(ws)
        await ws.send(json.dumps({"type": "unsubscribe", "symbols": ["AAPL"]}))
        reply = await recv_json(ws)
        assert reply == {
            "type": "subscribed",
            "symbols": ["TSLA"],
            "subscriptions": {"TSLA": ["bars", "quotes", "trades"]},
            "private": [],
        }
        await server.publish("AAPL", type="price", price=1.0)
        await server.publish("TSLA", type="price", price=2.0)
        await server.publish("TSLA", type="bar", close=2.0, volume=1)  # the end marker
        got = await recv_through(ws, lambda m: m["type"] == "bar")
        assert [m["symbol"] for m in got if m["type"] == "price"] == ["TSLA"]
        await ws.close()


async def test_bad_json_gets_an_error_and_the_socket_lives(live_server: ServerFactory) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send("{not json")
        assert (await recv_json(ws))["code"] == "invalid_json"
        await ws.send(json.dumps({"type": "dance"}))
        assert (await recv_json(ws))["code"] == "unknown_type"
        await ws.send(json.dumps(["subscribe"]))
        assert (await recv_json(ws))["code"] == "invalid_message"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"
        await ws.close()


async def test_deeply_nested_json_gets_an_error_and_the_socket_lives(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send("[" * 30000 + "]" * 30000)
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == "invalid_json"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"
        await ws.close()


async def test_unknown_symbols_are_listed_and_nothing_is_subscribed(
    live_server: ServerFactory,
) -> None:
    async with live_server() as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["AAPL", "NOPE", "ZZZZ"]}))
        reply = await recv_json(ws)
        assert reply["type"] == "error" and reply["code"] == "unknown_symbols"
        assert reply["details"] == {"symbols": ["NOPE", "ZZZZ"]}
        await ws.send(
            json.dumps({"type": "subscribe", "symbols": ["AAPL"], "channels": ["gossip"]})
        )
        assert (await recv_json(ws))["code"] == "unknown_channels"
        await ws.close()


async def test_ten_thousand_symbols_are_refused_and_the_socket_lives(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_max_message_bytes=1_000_000) as server:
        ws = await server.connect()
        symbols = [f"S{i}" for i in range(10_000)]
        await ws.send(json.dumps({"type": "subscribe", "symbols": symbols}))
        reply = await recv_json(ws)
        assert reply["code"] == "too_many_symbols"
        assert reply["details"] == {"limit": 200, "requested": 10_000}
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"
        assert server.container.metrics.websocket_connections._value.get() == 1
        await ws.close()


async def test_oversized_message_is_refused_and_the_socket_lives(
    live_server: ServerFactory,
) -> None:
    async with live_server(ws_max_message_bytes=1024) as server:
        ws = await server.connect()
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["AAPL"] * 500}))
        assert (await recv_json(ws))["code"] == "message_too_large"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"
        await ws.close()


async def test_live_feed_reaches_subscribers(live_server: ServerFactory) -> None:
    async with live_server(
        market_feed_enabled=True, market_always_open=True, market_ticks_per_second=50
    ) as server:
        ws = await server.connect()
        await ws.send(
            json.dumps({"type": "subscribe", "symbols": ["AAPL"], "channels": ["trades"]})
        )
        await recv_json(ws)
        price = await recv_until(ws, lambda m: m["type"] == "price")
        assert price["symbol"] == "AAPL" and price["price"] > 0 and "timestamp" in price
        others = [m for m in await drain(ws, 0.3) if m.get("symbol") not in (None, "AAPL")]
        assert others == []
        health = (await server.http.get("/api/health")).json()
        assert "market_feed" in json.dumps(health)
        await ws.close()
