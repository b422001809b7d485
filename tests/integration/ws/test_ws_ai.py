"""The ``ai`` WebSocket channel: a new decision reaches the symbol's ``ai`` subscribers only."""

from __future__ import annotations

import json

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_until

SMALL_MODELS = {
    "ai_history_days": 1100,
    "ai_min_train_bars": 300,
    "ai_folds": 3,
    "ai_gbm_trees": 20,
    "ai_lstm_epochs": 2,
}


async def test_a_new_decision_reaches_its_channel_only(live_server: ServerFactory) -> None:
    async with live_server(**SMALL_MODELS) as server:
        watch = server.app.state.ai_watch
        listener = await server.connect()
        await listener.send(
            json.dumps({"type": "subscribe", "symbols": ["MSFT"], "channels": ["ai"]})
        )
        assert (await recv_json(listener))["type"] == "subscribed"
        prices = await server.connect()
        await prices.send(json.dumps({"type": "subscribe", "symbols": ["MSFT"]}))
        assert (await recv_json(prices))["type"] == "subscribed"
        other = await server.connect()
        await other.send(json.dumps({"type": "subscribe", "symbols": ["AAPL"], "channels": ["ai"]}))
        assert (await recv_json(other))["type"] == "subscribed"

        await watch.check(["MSFT"])  # trains MSFT's models, then decides
        decision = await recv_until(listener, lambda m: m.get("type") == "ai", timeout=120)
        assert decision["symbol"] == "MSFT" and decision["action"] in ("buy", "sell", "hold")
        assert decision["models"]["status"] == "complete"  # the watch trains every model
        assert {v["model"] for v in decision["votes"]} >= {"gbm", "lstm", "rules"}

        assert not [m for m in await drain(prices, 0.5) if m.get("type") == "ai"]
        assert not [m for m in await drain(other, 0.5) if m.get("type") == "ai"]
        for ws in (listener, prices, other):
            await ws.close()
