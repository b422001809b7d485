"""The ``news`` and ``sentiment`` WebSocket channels: what the sentiment watch finds reaches the
symbol's subscribers of each channel, and nobody else."""

from __future__ import annotations

import json
from datetime import timedelta

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_until


async def test_news_and_sentiment_reach_their_channels_only(live_server: ServerFactory) -> None:
    async with live_server() as server:
        app = server.app
        container = app.state.container
        watch = app.state.sentiment_watch
        watch.since = container.clock.now() - timedelta(days=3)
        stories = await container.information.get_news(None, watch.since, container.clock.now())
        symbol = next(item.symbols[0] for item in stories if len(item.symbols) == 1)

        news = await server.connect()
        await news.send(
            json.dumps({"type": "subscribe", "symbols": [symbol], "channels": ["news"]})
        )
        assert (await recv_json(news))["type"] == "subscribed"
        mood = await server.connect()
        await mood.send(
            json.dumps({"type": "subscribe", "symbols": [symbol], "channels": ["sentiment"]})
        )
        assert (await recv_json(mood))["type"] == "subscribed"
        prices = await server.connect()
        await prices.send(json.dumps({"type": "subscribe", "symbols": [symbol]}))
        assert (await recv_json(prices))["type"] == "subscribed"

        await watch.poll()
        story = await recv_until(news, lambda m: m.get("type") == "news")
        assert story["symbol"] == symbol and symbol in story["symbols"]
        assert story["sentiment"]["label"] in ("positive", "negative", "neutral")
        assert story["id"] in {item.id for item in stories}

        await watch.check([symbol])
        moved = await recv_until(mood, lambda m: m.get("type") == "sentiment")
        assert moved["symbol"] == symbol and -1 <= moved["score"] <= 1
        assert set(moved["components"]) == {"news", "social", "insider", "options"}

        assert not [m for m in await drain(mood, 0.5) if m.get("type") == "news"]
        assert not [m for m in await drain(news, 0.5) if m.get("type") == "sentiment"]
        kinds = {m.get("type") for m in await drain(prices, 0.5)}
        assert not kinds & {"news", "sentiment"}
        for ws in (news, mood, prices):
            await ws.close()
