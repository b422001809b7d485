"""The ``regime`` WebSocket channel: a forced regime change reaches the symbol's subscribers."""

from __future__ import annotations

import json
from datetime import timedelta

from integration.ws.wsclient import ServerFactory, drain, recv_json, recv_until
from quantumtrade.db.models import RegimeChange


async def test_forced_regime_change_reaches_regime_subscribers_only(
    live_server: ServerFactory,
) -> None:
    async with live_server(regime_history_days=1500) as server:
        app = server.app
        watching = await server.connect()
        await watching.send(
            json.dumps({"type": "subscribe", "symbols": ["XOM"], "channels": ["regime"]})
        )
        subscribed = await recv_json(watching)
        assert subscribed["type"] == "subscribed"
        prices_only = await server.connect()
        await prices_only.send(json.dumps({"type": "subscribe", "symbols": ["XOM"]}))
        assert (await recv_json(prices_only))["type"] == "subscribed"

        now = (await server.http.get("/api/regime/XOM", timeout=120)).json()
        forced = "bear" if now["trend_regime"] != "bear" else "bull"
        container = app.state.container
        async with container.session_factory() as db:
            now_ = container.clock.now()
            db.add(  # the latest belief about XOM: a label that differs from today's
                RegimeChange(
                    symbol="XOM",
                    timeframe="1Day",
                    time=now_ - timedelta(days=300),
                    trend_regime=forced,
                    probabilities={},
                    volatility_regime="normal",
                    detected_at=now_ - timedelta(seconds=1),
                )
            )
            await db.commit()
        await app.state.regime_watch.check(["XOM"])

        event = await recv_until(watching, lambda m: m.get("type") == "regime")
        assert event["symbol"] == "XOM" and event["timeframe"] == "1Day"
        assert (event["previous_regime"], event["trend_regime"]) == (forced, now["trend_regime"])
        assert event["since"] == now["since"]
        assert not [m for m in await drain(prices_only, 0.5) if m.get("type") == "regime"]
        await watching.close()
        await prices_only.close()
