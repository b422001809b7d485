"""``/api/backtest/datasets``: upload a bar file, backtest on it, and every way an upload fails."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI

from integration.api.conftest import AppFactory
from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from support import assert_error, bearer, register

DATASETS = "/api/backtest/datasets"


def make_bars(n: int = 300, seed: int = 7, freq: str = "D") -> pd.DataFrame:
    """A seeded random walk with consistent OHLC, indexed by UTC timestamps."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    open_ = np.concatenate([[50.0], close[:-1]])
    high = np.maximum(open_, close) * 1.004
    low = np.minimum(open_, close) * 0.996
    index = pd.date_range("2021-01-04", periods=n, freq=freq, tz="UTC", name="timestamp")
    volume = rng.integers(1_000, 50_000, n).astype(np.float64)
    frame = {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
    return pd.DataFrame(frame, index=index).round(4)


def as_csv(bars: pd.DataFrame) -> bytes:
    return bars.to_csv(date_format="%Y-%m-%dT%H:%M:%SZ").encode()


def as_parquet(bars: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    bars.to_parquet(buffer)
    return buffer.getvalue()


@pytest.fixture
async def api(make_api: AppFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api(
        market_feed_enabled=False,
        paper_matching_enabled=False,
        risk_monitor_enabled=False,
        max_upload_bytes=200_000,
    ) as (app, client):
        yield app, client


async def upload(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    content: bytes,
    filename: str = "acme.csv",
    **form: str,
) -> httpx.Response:
    files = {"file": (filename, content, "application/octet-stream")}
    return await client.post(DATASETS, files=files, data=form, headers=auth)


async def wait_for(client: httpx.AsyncClient, auth: dict[str, str], backtest_id: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        body = (await client.get(f"/api/backtest/{backtest_id}", headers=auth)).json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def test_a_backtest_on_an_uploaded_csv_equals_the_engine_on_the_same_bars(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    bars = make_bars()
    response = await upload(client, auth, as_csv(bars), name="Acme daily")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert dataset["symbol"] == "ACME"  # from the file name
    assert dataset["name"] == "Acme daily"
    assert dataset["asset_class"] == "us_equity"
    assert dataset["timeframe"] == "1Day"
    assert dataset["rows"] == len(bars)
    assert pd.Timestamp(dataset["first_time"]) == bars.index[0]
    assert pd.Timestamp(dataset["last_time"]) == bars.index[-1]

    run = {"strategy": "sma_crossover", "dataset_id": dataset["id"], "params": {"fast": 5}}
    run |= {"per_share": 0.01, "slippage_bps": 1}
    created = await client.post("/api/backtest", json=run, headers=auth)
    assert created.status_code == 202, created.text
    body = await wait_for(client, auth, created.json()["id"])
    assert body["status"] == "completed", body
    assert body["dataset_id"] == dataset["id"]
    assert body["symbols"] == ["ACME"]
    assert body["timeframe"] == "1Day"

    config = BacktestConfig(per_share=0.01, slippage_bps=1)
    expected = run_strategy(bars, "sma_crossover", {"fast": 5}, config)
    assert len(expected.trades) > 3
    assert body["metrics"]["bars"] == len(bars)
    assert body["metrics"]["final_equity"] == pytest.approx(float(expected.equity.iloc[-1]))
    assert [t["entry_price"] for t in body["trades"]] == pytest.approx(
        expected.trades["entry_price"].tolist()
    )
    assert [t["pnl"] for t in body["trades"]] == pytest.approx(expected.trades["pnl"].tolist())


async def test_a_parquet_upload_with_a_range_backtests_only_that_range(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    bars = make_bars(n=2_000, freq="min")
    response = await upload(client, auth, as_parquet(bars), "minutes.parquet", symbol="btc/usd")
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert (dataset["symbol"], dataset["asset_class"]) == ("BTC/USD", "crypto")
    assert dataset["timeframe"] == "1Min"

    start, end = bars.index[500], bars.index[1500]
    run = {"strategy": "rsi", "dataset_id": dataset["id"], "symbol": "BTC/USD"}
    run |= {"start": start.isoformat(), "end": end.isoformat()}
    created = await client.post("/api/backtest", json=run, headers=auth)
    assert created.status_code == 202, created.text
    body = await wait_for(client, auth, created.json()["id"])
    assert body["status"] == "completed", body
    window = bars[(bars.index >= start) & (bars.index < end)]
    assert body["metrics"]["bars"] == len(window) == 1000
    # Crypto minute bars: a year of 365 * 1440 periods, unless the request says otherwise;
    # crypto trades in fractions of a coin.
    assert body["config"]["periods_per_year"] == 365 * 1440
    assert body["config"]["fractional"] is True
    config = BacktestConfig(periods_per_year=365 * 1440, fractional=True)
    expected = run_strategy(window, "rsi", {}, config)
    assert any(trade["qty"] != int(trade["qty"]) for trade in body["trades"])
    assert body["metrics"]["final_equity"] == pytest.approx(float(expected.equity.iloc[-1]))


async def test_a_bad_file_is_refused_by_line_and_nothing_is_stored(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    text = as_csv(make_bars(n=10)).decode().splitlines()
    fields = text[3].split(",")
    fields[2] = "-5"  # a negative high on line 4
    text[3] = ",".join(fields)
    text[7] = text[7].replace(text[7].split(",")[0], "not a time")  # line 8
    response = await upload(client, auth, "\n".join(text).encode())
    error = assert_error(response, 422, "invalid_bar_file")
    lines = {problem["line"] for problem in error["details"]["errors"]}
    assert {4, 8} <= lines
    listed = await client.get(DATASETS, headers=auth)
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("bars.xlsx", b"whatever", "unsupported_file_type"),
        ("bars.csv", b"", "invalid_bar_file"),
        ("bars.csv", b"timestamp,open,high,low,close\n2024-01-02,1,2,1,2\n", "invalid_bar_file"),
        (
            "bars.csv",
            b"timestamp,open,high,low,close,volume\n2024-01-02,1,2,1,2,5\n",
            "invalid_bar_file",
        ),
        ("bars.parquet", b"PAR1 but not parquet", "invalid_bar_file"),
    ],
    ids=["type", "empty", "missing-column", "one-bar", "corrupt-parquet"],
)
async def test_unusable_uploads_get_a_clear_422(
    api: tuple[FastAPI, httpx.AsyncClient], filename: str, content: bytes, code: str
) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    assert_error(await upload(client, auth, content, filename), 422, code)


async def test_upload_limits_and_labels(api: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    too_big = as_csv(make_bars(n=4_000))
    assert len(too_big) > 200_000
    response = await upload(client, auth, too_big)
    assert_error(response, 413, "payload_too_large")
    bad_label = await upload(client, auth, as_csv(make_bars(n=10)), symbol="no spaces")
    assert_error(bad_label, 422, "invalid_symbol")
    missing = await client.post(DATASETS, data={"name": "x"}, headers=auth)
    assert missing.status_code == 422
    assert "error" in missing.json()
    anonymous = await client.post(DATASETS, files={"file": ("a.csv", b"x")})
    assert anonymous.status_code == 401


async def test_datasets_are_private_listed_and_deletable(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    owner = bearer((await register(client))["access_token"])
    other = bearer((await register(client))["access_token"])
    first = (await upload(client, owner, as_csv(make_bars(n=50)), "one.csv")).json()
    second = (await upload(client, owner, as_csv(make_bars(n=60, seed=3)), "two.csv")).json()

    page = (await client.get(DATASETS, params={"limit": 1}, headers=owner)).json()
    assert page["total"] == 2
    assert [item["id"] for item in page["items"]] == [second["id"]]
    assert (await client.get(DATASETS, headers=other)).json()["total"] == 0

    for method, path in (
        ("GET", f"{DATASETS}/{first['id']}"),
        ("DELETE", f"{DATASETS}/{first['id']}"),
    ):
        assert_error(await client.request(method, path, headers=other), 404, "dataset_not_found")
    run = {"strategy": "sma_crossover", "dataset_id": first["id"]}
    assert_error(
        await client.post("/api/backtest", json=run, headers=other), 404, "dataset_not_found"
    )
    mismatch = await client.post("/api/backtest", json=run | {"symbol": "AAPL"}, headers=owner)
    assert_error(mismatch, 422, "dataset_symbol_mismatch")
    no_source = await client.post("/api/backtest", json={"strategy": "rsi"}, headers=owner)
    assert no_source.status_code == 422

    created = await client.post("/api/backtest", json=run, headers=owner)
    assert created.status_code == 202
    completed = await wait_for(client, owner, created.json()["id"])
    assert completed["status"] == "completed"

    deleted = await client.delete(f"{DATASETS}/{first['id']}", headers=owner)
    assert deleted.status_code == 204
    assert_error(await client.get(f"{DATASETS}/{first['id']}", headers=owner), 404)
    # The results computed from it stay.
    kept = await client.get(f"/api/backtest/{completed['id']}", headers=owner)
    assert kept.json()["status"] == "completed"
    assert (await client.get(DATASETS, headers=owner)).json()["total"] == 1
