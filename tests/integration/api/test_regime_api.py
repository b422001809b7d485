"""The market regime endpoints over HTTP, and the regime WebSocket event on a change."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI

from quantumtrade.db.models import RegimeChange
from quantumtrade.services.regime import _recommend
from support import DEFAULT_NOW, assert_error, bearer, register

# Four years of daily bars keep each model fit short; the service reads ten by default.
SETTINGS = {"regime_history_days": 1500}


@pytest.fixture
async def regime_api(make_api: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api(**SETTINGS) as (app, client):
        yield app, client


def bars(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    drift = np.concatenate([np.full(n // 2, 0.002), np.full(n - n // 2, -0.002)])
    close = 100 * np.exp(np.cumsum(drift + rng.normal(0, 0.01, n)))
    days = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    return [
        {"timestamp": day.isoformat(), "close": round(float(c), 4)}
        for day, c in zip(days, close, strict=True)
    ]


async def test_regime_of_a_symbol_has_label_probabilities_volatility_and_trend(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = regime_api
    response = await client.get("/api/regime/AAPL", params={"timeframe": "1Day"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL" and body["timeframe"] == "1Day"
    assert body["trend_regime"] in ("bull", "bear", "sideways")
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert body["probabilities"][body["trend_regime"]] == max(body["probabilities"].values())
    assert body["bars_held"] >= 1 and body["since"] <= body["time"]
    assert body["volatility"]["regime"] in ("low", "normal", "high", "extreme")
    assert 0.0 <= body["volatility"]["percentile"] <= 1.0
    assert body["trend"]["direction"] in ("up", "down", "flat")
    assert body["recommendations"]["status"] == "pending"


async def test_regime_of_an_unknown_symbol_is_404(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = regime_api
    assert_error(await client.get("/api/regime/NOPE"), 404, "unknown_symbol")
    assert_error(await client.get("/api/regime/NOPE/history"), 404, "unknown_symbol")
    assert_error(await client.get("/api/regime/AAPL", params={"timeframe": "2Day"}), 422)


async def test_regime_history_segments_cover_the_range_in_order(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = regime_api
    start = (DEFAULT_NOW - timedelta(days=700)).isoformat()
    response = await client.get("/api/regime/SPY/history", params={"start": start})
    assert response.status_code == 200, response.text
    segments = response.json()["segments"]
    assert segments and all(s["bars"] >= 1 for s in segments)
    assert all(a["end"] < b["start"] for a, b in itertools.pairwise(segments))
    assert all(a["trend_regime"] != b["trend_regime"] for a, b in itertools.pairwise(segments))
    assert segments[-1]["end"] >= start


async def test_classify_bars_answers_one_label_per_bar(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = regime_api
    headers = bearer((await register(client))["access_token"])
    sent = bars(400)
    for mode in ("filtered", "smoothed"):
        response = await client.post(
            "/api/regime/classify", json={"bars": sent, "mode": mode}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["mode"] == mode and body["bars"] == len(sent)
        assert [label["time"][:10] for label in body["labels"]] == [
            b["timestamp"][:10] for b in sent
        ]
        assert sum(s["bars"] for s in body["segments"]) == len(sent)


async def test_classify_bad_bars_names_the_offending_rows(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = regime_api
    headers = bearer((await register(client))["access_token"])
    sent = bars(150)
    sent[7]["timestamp"] = sent[6]["timestamp"]  # not after the previous row
    sent[20]["high"], sent[20]["low"] = 1.0, 2.0  # high below low
    error = assert_error(
        await client.post("/api/regime/classify", json={"bars": sent}, headers=headers),
        422,
        "invalid_bars",
    )
    assert [row["row"] for row in error["details"]["rows"]] == [7, 20]
    negative = bars(150)
    negative[3]["close"] = -5
    error = assert_error(
        await client.post("/api/regime/classify", json={"bars": negative}, headers=headers), 422
    )
    assert error["details"][0]["loc"][:4] == ["body", "bars", 3, "close"]
    assert_error(
        await client.post("/api/regime/classify", json={"bars": bars(20)}, headers=headers),
        422,
        "not_enough_bars",
    )
    assert_error(
        await client.post("/api/regime/classify", json={"mode": "filtered"}, headers=headers), 422
    )


async def test_market_regime_has_spy_and_breadth(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = regime_api
    market = app.state.container.market
    kept = [s for s in market.symbols() if s.symbol in ("AAPL", "KO", "SPY")]
    market.symbols = lambda: kept  # a universe of three keeps the test short
    first = (await client.get("/api/regime/market")).json()
    # Only SPY's model is fitted by the call; the others wait for the regime watch.
    assert set(first["symbols"]) == {"SPY"} and sorted(first["pending"]) == ["AAPL", "KO"]
    await app.state.container.cache.delete("regime:market")
    for symbol in ("AAPL", "KO"):
        assert (await client.get(f"/api/regime/{symbol}")).status_code == 200
    response = await client.get("/api/regime/market")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "SPY" and body["regime"]["symbol"] == "SPY"
    assert set(body["symbols"]) == {"AAPL", "KO", "SPY"} and body["pending"] == []
    shares = body["breadth"]
    assert sum(shares.values()) == pytest.approx(1.0)
    for regime in ("bull", "bear", "sideways"):
        count = sum(1 for label in body["symbols"].values() if label == regime)
        assert shares[regime] == pytest.approx(count / 3)


async def test_recommendations_after_the_daily_measurement_name_their_evidence(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = regime_api
    container = app.state.container
    measured = await _recommend.refresh(container, symbols=["AAPL", "MSFT"])
    assert measured["symbols"] == ["AAPL", "MSFT"]
    body = (await client.get("/api/regime/AAPL")).json()
    advice = body["recommendations"]
    assert advice["status"] == "ready" and advice["measured_at"] == measured["measured_at"]
    strategies = advice["strategies"]
    assert [s["rank"] for s in strategies] == list(range(1, len(strategies) + 1))
    assert {s["strategy"] for s in strategies} == {
        "sma_crossover",
        "rsi",
        "macd",
        "mean_reversion",
        "momentum",
    }
    for advice_row in strategies:
        assert set(advice_row["out_of_sample"]) >= {"sharpe", "bars", "segments", "max_drawdown"}


async def test_regime_change_is_stored_and_pushed_on_the_websocket_channel(
    regime_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = regime_api
    container = app.state.container
    now = (await client.get("/api/regime/KO")).json()
    other = "bear" if now["trend_regime"] != "bear" else "bull"
    async with container.session_factory() as db:  # a stored label that differs from now's
        db.add(
            RegimeChange(
                symbol="KO",
                timeframe="1Day",
                time=DEFAULT_NOW - timedelta(days=400),
                trend_regime=other,
                probabilities={},
                volatility_regime="normal",
                detected_at=DEFAULT_NOW - timedelta(seconds=1),
            )
        )
        await db.commit()
    async with container.bus.subscribe("market.KO") as sub:
        changed = await app.state.regime_watch.check(["KO"])
        message = await asyncio.wait_for(anext(aiter(sub)), 30)
    assert [row.trend_regime for row in changed] == [now["trend_regime"]]
    assert message.data["type"] == "regime" and message.data["symbol"] == "KO"
    assert message.data["previous_regime"] == other
    assert message.data["trend_regime"] == now["trend_regime"]
    assert await app.state.regime_watch.check(["KO"]) == []  # unchanged: nothing new
