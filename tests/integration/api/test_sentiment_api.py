"""The sentiment, insider and options endpoints over HTTP, and the news and sentiment channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantumtrade.db.models import SentimentData
from support import DEFAULT_NOW, assert_error, bearer, register

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def api(make_api: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api() as (app, client):
        yield app, client


@pytest.fixture
async def token(api: tuple[FastAPI, httpx.AsyncClient]) -> str:
    _, client = api
    return str((await register(client))["access_token"])


# -- POST /api/sentiment/analyze ----------------------------------------------------------


async def test_analyze_scores_each_text_in_order_with_cues(
    api: tuple[FastAPI, httpx.AsyncClient], token: str
) -> None:
    _, client = api
    texts = [
        "Acme beats estimates and raises full-year guidance",
        "Acme cuts guidance after quarterly loss, shares slump",
        "Acme to present at investor conference on Tuesday",
    ]
    response = await client.post(
        "/api/sentiment/analyze", json={"texts": texts}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["label"] for r in results] == ["positive", "negative", "neutral"]
    for text, result in zip(texts, results, strict=True):
        assert -1 <= result["score"] <= 1 and 0 <= result["confidence"] <= 1
        for cue in result["cues"]:
            assert cue["text"].lower() in text.lower()
    assert results[0]["cues"] and results[1]["cues"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"texts": []}, "no texts"),
        ({"texts": ["ok"] * 1001}, "over 1,000 texts"),
        ({"texts": ["x" * 5001]}, "a text over 5,000 characters"),
        ({"texts": [42]}, "not a string"),
        ({"texts": "Acme beats"}, "not a list"),
        ({}, "no field"),
        ({"texts": ["ok"], "extra": 1}, "an unknown field"),
    ],
)
async def test_analyze_refuses_bad_input_with_422(
    api: tuple[FastAPI, httpx.AsyncClient], token: str, body: dict[str, Any], why: str
) -> None:
    _, client = api
    response = await client.post("/api/sentiment/analyze", json=body, headers=bearer(token))
    assert_error(response, 422)


async def test_analyze_needs_a_login(api: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = api
    response = await client.post("/api/sentiment/analyze", json={"texts": ["Acme beats"]})
    assert_error(response, 401)


async def test_analyze_accepts_the_limits(
    api: tuple[FastAPI, httpx.AsyncClient], token: str
) -> None:
    _, client = api
    # 1,000 texts of 5,000 characters, some of them emoji that JSON escapes as 12 bytes each.
    text = ("Shares rally after upgrade 🚀 " * 200)[:5000]
    texts = [text] * 999 + ["🚀" * 5000]
    response = await client.post(
        "/api/sentiment/analyze", json={"texts": texts}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1000 and results[0]["label"] == "positive"


# -- GET /api/insider/{symbol} ------------------------------------------------------------


async def test_insider_lists_form4_filings_newest_first_with_a_summary(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    response = await client.get("/api/insider/AAPL", params={"limit": 20})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL" and body["source"] == "simulator"
    filings = body["filings"]
    assert 0 < len(filings) <= 20
    filed = [f["filed_at"] for f in filings]
    assert filed == sorted(filed, reverse=True)
    assert all(datetime.fromisoformat(f) <= DEFAULT_NOW for f in filed)
    codes = {tx["code"] for f in filings for tx in f["transactions"]}
    assert codes <= set("PSAMFGDJCEHIKLOUVWXZ")
    summary = body["summary"]
    assert summary["window_days"] == 90 and -1 <= summary["score"] <= 1
    assert (
        summary["purchases"] + summary["discretionary_sales"] + summary["planned_sales"]
        == (summary["trades"])
    )
    assert set(summary["by_role"]) == {"officer", "director", "10% owner", "other"}


async def test_insider_of_crypto_an_etf_or_an_unknown_symbol(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    assert_error(await client.get("/api/insider/BTC/USD"), 404, "information_unavailable")
    assert_error(await client.get("/api/insider/NOPE"), 404, "unknown_symbol")
    assert_error(await client.get("/api/insider/AAPL", params={"limit": 0}), 422)
    etf = await client.get("/api/insider/SPY")
    assert etf.status_code == 200 and etf.json()["filings"] == []


# -- news, social, the aggregate ----------------------------------------------------------


async def test_news_and_social_are_scored_newest_first_and_never_from_the_future(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    for kind in ("news", "social"):
        response = await client.get(f"/api/sentiment/AAPL/{kind}", params={"limit": 30})
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert 0 < len(items) <= 30, kind
        created = [item["created_at"] for item in items]
        assert created == sorted(created, reverse=True)
        assert datetime.fromisoformat(created[0]) <= DEFAULT_NOW
        assert all("AAPL" in item["symbols"] for item in items)
        assert all(
            item["sentiment"]["label"] in ("positive", "negative", "neutral") for item in items
        )
    assert_error(await client.get("/api/sentiment/AAPL/news", params={"limit": 201}), 422)
    assert_error(await client.get("/api/sentiment/NOPE/news"), 404, "unknown_symbol")


async def test_symbol_sentiment_has_every_component_and_a_weighted_aggregate(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    response = await client.get("/api/sentiment/AAPL")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["components"]) == {"news", "social", "insider", "options"}
    scores = {k: v["score"] for k, v in body["components"].items() if v["score"] is not None}
    assert set(body["weights"]) == set(scores)
    assert sum(body["weights"].values()) == pytest.approx(1.0)
    expected = sum(body["weights"][k] * scores[k] for k in scores)
    assert body["score"] == pytest.approx(expected)
    assert body["sources"] == ["simulator"]
    crypto = (await client.get("/api/sentiment/BTC/USD")).json()
    assert crypto["components"]["insider"]["status"] == "unavailable"
    assert crypto["components"]["options"]["status"] == "unavailable"
    assert "insider" not in crypto["weights"]


async def test_market_sentiment_is_an_index_with_every_component_shown(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    response = await client.get("/api/sentiment/market")
    assert response.status_code == 200, response.text
    body = response.json()
    names = {c["name"] for c in body["components"]}
    assert names == {
        "breadth",
        "put_call",
        "implied_volatility",
        "news_tone",
        "social_tone",
        "insider_ratio",
    }
    assert body["index"] is not None and 0 <= body["index"] <= 100
    scored = [c["score"] for c in body["components"] if c["score"] is not None]
    assert body["index"] == pytest.approx(sum(scored) / len(scored))


# -- options ------------------------------------------------------------------------------


async def test_option_chain_and_one_expiry(api: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = api
    response = await client.get("/api/options/AAPL/chain")
    assert response.status_code == 200, response.text
    chain = response.json()
    assert chain["symbol"] == "AAPL" and chain["spot"] > 0 and len(chain["expiries"]) >= 4
    for c in chain["contracts"]:
        assert 0 <= c["bid"] <= c["ask"] and c["iv"] > 0 and c["open_interest"] >= 0
        assert (c["delta"] > 0) == (c["kind"] == "call")
    first = chain["expiries"][0]
    one = (await client.get("/api/options/AAPL/chain", params={"expiry": first})).json()
    assert one["expiries"] == [first] and one["contracts"]
    unlisted = date.fromisoformat(first) + timedelta(days=1)
    assert_error(
        await client.get("/api/options/AAPL/chain", params={"expiry": unlisted.isoformat()}),
        422,
        "invalid_expiry",
    )
    assert_error(await client.get("/api/options/AAPL/chain", params={"expiry": "soon"}), 422)
    assert_error(await client.get("/api/options/BTC/USD/chain"), 404, "information_unavailable")


async def test_option_flow_shows_ratios_iv_rank_skew_and_unusual_trades(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = api
    response = await client.get("/api/options/AAPL/flow", params={"limit": 10})
    assert response.status_code == 200, response.text
    flow = response.json()
    assert flow["call_volume"] + flow["put_volume"] > 0
    assert flow["put_call_open_interest"] is not None and flow["put_call_open_interest"] > 0
    assert flow["iv"] is not None and 0 <= flow["iv_rank"] <= 1 and 0 <= flow["iv_percentile"] <= 1
    assert flow["skew_25d"] is not None
    assert len(flow["unusual"]) <= 10
    premiums = [u["premium"] for u in flow["unusual"]]
    assert premiums == sorted(premiums, reverse=True)
    for u in flow["unusual"]:
        assert u["sweep"] or u["volume"] > u["open_interest"]


# -- the live side ------------------------------------------------------------------------


async def test_watch_stores_news_once_and_pushes_it_on_the_symbol_channel(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = api
    container = app.state.container
    watch = app.state.sentiment_watch
    watch.since = DEFAULT_NOW - timedelta(days=7)
    source = container.information
    stories = await source.get_news(None, watch.since, DEFAULT_NOW)
    target = next(item for item in stories if item.symbols)
    symbol = target.symbols[0]
    async with container.bus.subscribe(f"market.{symbol}") as sub:
        polled = await watch.poll()
        message = await asyncio.wait_for(anext(aiter(sub)), 30)
    assert [item.id for item in polled] == [item.id for item in stories]
    assert message.data["type"] == "news" and message.data["symbol"] == symbol
    assert message.data["sentiment"]["label"] in ("positive", "negative", "neutral")
    async with container.session_factory() as db:
        import sqlalchemy as sa

        count = await db.scalar(
            sa.select(sa.func.count())
            .select_from(SentimentData)
            .where(SentimentData.source == "news")
        )
        assert count == sum(max(len(item.symbols), 1) for item in stories)
        watch.since = DEFAULT_NOW - timedelta(days=7)  # the same week again stores nothing new
        await watch.poll()
        again = await db.scalar(
            sa.select(sa.func.count())
            .select_from(SentimentData)
            .where(SentimentData.source == "news")
        )
        assert again == count


async def test_watch_stores_aggregates_and_pushes_sentiment_when_it_moves(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = api
    container = app.state.container
    watch = app.state.sentiment_watch
    async with container.bus.subscribe("market.AAPL") as sub:
        moved = await watch.check(["AAPL"])
        message = await asyncio.wait_for(anext(aiter(sub)), 30)
    assert [m["symbol"] for m in moved] == ["AAPL"]  # the first view always counts as a move
    assert message.data["type"] == "sentiment" and message.data["previous_score"] is None
    assert await watch.check(["AAPL"]) == []  # the same clock: the same view, no move
    async with container.session_factory() as db:
        import sqlalchemy as sa

        stored = (
            await db.execute(
                sa.select(SentimentData.source, SentimentData.score).where(
                    SentimentData.symbol == "AAPL",
                    SentimentData.source.in_(("aggregate", "insider", "options")),
                )
            )
        ).all()
    assert sorted(source for source, _ in stored) == ["aggregate", "insider", "options"]
    assert dict(stored)["aggregate"] == pytest.approx(message.data["score"])
