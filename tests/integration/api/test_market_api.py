"""The market data API through the real app: prices, quotes, history paging, CSV, clock."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket
from support import assert_error

# A Wednesday, mid-session on NYSE (15:00 UTC = 11:00 New York).
NOW = datetime(2025, 6, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
async def market(make_api):  # type: ignore[no-untyped-def]
    clock = FixedClock(NOW)
    # No live feed: these tests read history and snapshots only.
    async with make_api(clock=clock, market_feed_enabled=False) as (_app, client):
        yield client, clock


async def test_price_has_quote_and_change_fields(
    market: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, _ = market
    response = await client.get("/api/market/price/aapl")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL"
    assert body["bid"] <= body["ask"] and body["price"] > 0
    assert body["bid_size"] > 0 and body["ask_size"] > 0
    assert body["market_open"] is True
    assert body["change"] == pytest.approx(body["price"] - body["previous_close"])
    assert body["change_percent"] == pytest.approx(body["change"] / body["previous_close"] * 100)
    assert datetime.fromisoformat(body["timestamp"]) <= NOW


async def test_price_within_five_seconds_is_cached(
    market: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, clock = market
    first = (await client.get("/api/market/price/MSFT")).json()
    clock.advance(timedelta(minutes=3))  # the market moves on, the cached price does not
    second = (await client.get("/api/market/price/msft")).json()
    assert second == first


async def test_crypto_spellings_resolve_to_one_symbol(
    market: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, _ = market
    for spelling in ("BTC/USD", "btcusd", "BTC-USD"):
        response = await client.get(f"/api/market/price/{spelling}")
        assert response.status_code == 200, response.text
        assert response.json()["symbol"] == "BTC/USD"


async def test_history_pages_concatenate_to_the_whole_range(
    market: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, _ = market
    params = {"timeframe": "5Min", "start": "2025-05-27T00:00:00Z", "end": "2025-06-03T00:00:00Z"}
    whole = await client.get("/api/market/history/AAPL", params={**params, "limit": 5000})
    assert whole.status_code == 200, whole.text
    assert whole.json()["next_page_token"] is None
    expected = [bar["time"] for bar in whole.json()["bars"]]
    assert len(expected) == 5 * 78  # five sessions of 6.5 hours (Tue to Mon)

    times: list[str] = []
    token = None
    while True:
        page_params = {**params, "limit": 100, **({"page_token": token} if token else {})}
        page = (await client.get("/api/market/history/AAPL", params=page_params)).json()
        assert len(page["bars"]) <= 100
        times += [bar["time"] for bar in page["bars"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert times == expected


async def test_history_bar_shape_and_daily_default_range(
    market: tuple[httpx.AsyncClient, FixedClock],
) -> None:
    client, _ = market
    response = await client.get("/api/market/history/SPY", params={"timeframe": "1d"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timeframe"] == "1Day"
    assert 25 <= len(body["bars"]) <= 35
    bar = body["bars"][-1]
    assert set(bar) == {"time", "open", "high", "low", "close", "volume", "vwap", "trade_count"}
    assert bar["time"] == "2025-06-03T00:00:00Z"
    assert bar["low"] <= min(bar["open"], bar["close"]) <= bar["high"]


async def test_history_as_csv(market: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, _ = market
    params = {"timeframe": "1Hour", "start": "2025-06-02", "end": "2025-06-03"}
    by_query = await client.get("/api/market/history/AAPL", params={**params, "format": "csv"})
    by_header = await client.get(
        "/api/market/history/AAPL", params=params, headers={"Accept": "text/csv"}
    )
    as_json = (await client.get("/api/market/history/AAPL", params=params)).json()
    assert by_query.status_code == 200
    assert by_query.headers["content-type"].startswith("text/csv")
    assert by_query.text == by_header.text
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    assert [row["time"] for row in rows] == [bar["time"] for bar in as_json["bars"]]
    assert float(rows[0]["close"]) == as_json["bars"][0]["close"]


async def test_quotes_batch(market: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, _ = market
    response = await client.get("/api/market/quotes", params={"symbols": "AAPL,msft, SPY"})
    assert response.status_code == 200, response.text
    assert [q["symbol"] for q in response.json()["quotes"]] == ["AAPL", "MSFT", "SPY"]


async def test_symbols_and_clock(market: tuple[httpx.AsyncClient, FixedClock]) -> None:
    client, _ = market
    symbols = (await client.get("/api/market/symbols")).json()["symbols"]
    names = {s["symbol"]: s for s in symbols}
    assert {"AAPL", "SPY", "BTC/USD"} <= set(names)
    assert names["BTC/USD"]["asset_class"] == "crypto"
    clock = (await client.get("/api/market/clock")).json()
    assert clock["is_open"] is True and clock["crypto_is_open"] is True
    assert datetime.fromisoformat(clock["next_close"]) == datetime(2025, 6, 4, 20, tzinfo=UTC)
    assert datetime.fromisoformat(clock["next_open"]) == datetime(2025, 6, 5, 13, 30, tzinfo=UTC)


async def test_market_endpoints_need_no_login(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/market/clock")).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/market/price/NOPE", {}, 404, "unknown_symbol"),
        ("/api/market/history/NOPE", {}, 404, "unknown_symbol"),
        ("/api/market/history/AAPL", {"timeframe": "7Min"}, 400, "invalid_timeframe"),
        (
            "/api/market/history/AAPL",
            {"start": "2025-06-02", "end": "2025-06-01"},
            400,
            "invalid_range",
        ),
        ("/api/market/history/AAPL", {"limit": 100_001}, 422, "validation_error"),
        ("/api/market/history/AAPL", {"limit": 0}, 422, "validation_error"),
        ("/api/market/history/AAPL", {"page_token": "%%%"}, 400, "invalid_page_token"),
        (
            "/api/market/history/AAPL",
            {"start": "1990-01-01", "end": "1990-02-01"},
            400,
            "out_of_range",
        ),
        (
            "/api/market/quotes",
            {"symbols": ",".join(f"S{i}" for i in range(101))},
            422,
            "too_many_symbols",
        ),
        ("/api/market/quotes", {"symbols": "AAPL,NOPE"}, 404, "unknown_symbol"),
    ],
)
async def test_bad_requests_get_the_uniform_error_body(
    market: tuple[httpx.AsyncClient, FixedClock],
    path: str,
    params: dict[str, object],
    status: int,
    code: str,
) -> None:
    client, _ = market
    assert_error(await client.get(path, params=params), status, code)


async def test_symbols_routed_to_file_are_served_from_stored_bars(make_api) -> None:  # type: ignore[no-untyped-def]
    from quantumtrade.db.repositories import upsert_bars
    from quantumtrade.domain.market import Timeframe

    simulated = SimulatedMarket(seed=3, clock=FixedClock(NOW))
    daily = simulated.bars("KO", Timeframe.DAY_1, datetime(2025, 5, 1, tzinfo=UTC), NOW)
    overrides = {"market_data_sources": {"ZZFILE": "file"}, "market_feed_enabled": False}
    async with make_api(clock=FixedClock(NOW), **overrides) as (app, client):
        engine = app.state.container.engine
        await upsert_bars(engine, "ZZFILE", Timeframe.DAY_1, daily, source="file")
        history = await client.get(
            "/api/market/history/zzfile", params={"timeframe": "1Day", "start": "2025-05-01"}
        )
        price = await client.get("/api/market/price/ZZFILE")
        listed = (await client.get("/api/market/symbols")).json()["symbols"]
    assert history.status_code == 200, history.text
    assert [bar["close"] for bar in history.json()["bars"]] == daily["close"].tolist()
    assert price.status_code == 200, price.text
    assert price.json()["price"] == daily["close"].iloc[-1]
    assert price.json()["previous_close"] == daily["close"].iloc[-2]
    assert "ZZFILE" in {s["symbol"] for s in listed}
