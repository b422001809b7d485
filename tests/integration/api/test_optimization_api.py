"""``POST /api/backtest/optimize``: grid search and walk-forward in the background, as stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integration.api.conftest import AppFactory
from quantumtrade.backtest import optimize
from quantumtrade.backtest.compute import LocalBackend
from quantumtrade.backtest.engine import BacktestConfig
from quantumtrade.domain.market import Timeframe
from support import assert_error, bearer, register

SEARCH = {
    "strategy": "sma_crossover",
    "symbol": "AAPL",
    "start": "2019-01-01T00:00:00Z",
    "end": "2023-01-01T00:00:00Z",
    "grid": {"fast": [5, 10, 20], "slow": [20, 40, 80]},
    "objective": "sharpe",
    "per_share": 0.005,
}


@pytest.fixture
async def api(make_api: AppFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api(
        market_feed_enabled=False, paper_matching_enabled=False, risk_monitor_enabled=False
    ) as (app, client):
        yield app, client


async def finished(client: httpx.AsyncClient, auth: dict[str, str], run_id: str) -> Any:
    deadline = time.monotonic() + 90
    while True:
        body = (await client.get(f"/api/backtest/{run_id}", headers=auth)).json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


async def start(client: httpx.AsyncClient, auth: dict[str, str], **changes: Any) -> str:
    response = await client.post("/api/backtest/optimize", json=SEARCH | changes, headers=auth)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


async def market_bars(app: FastAPI) -> Any:
    return await app.state.container.market.get_bars(
        "AAPL", Timeframe.DAY_1, datetime(2019, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
    )


async def test_grid_search_ranks_like_the_library_and_skips_invalid_combinations(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = api
    auth = bearer((await register(client))["access_token"])
    body = await finished(client, auth, await start(client, auth))
    assert body["status"] == "completed", body
    assert body["kind"] == "optimization"
    assert body["grid"] == SEARCH["grid"] and body["objective"] == "sharpe"
    assert body["equity"] is None and body["trades"] is None
    report = body["report"]
    assert report["kind"] == "grid_search"
    assert report["combinations"] == 8 and report["skipped"] == 1  # fast 20 / slow 20

    expected = optimize.grid_search(
        await market_bars(app),
        "sma_crossover",
        SEARCH["grid"],
        config=BacktestConfig(per_share=0.005),
        fixed={"allow_short": False},  # the request left the strategy's other params default
        backend=LocalBackend(1),
    )
    assert [r["params"] for r in report["ranking"]] == [r.params for r in expected.ranking]
    assert [r["score"] for r in report["ranking"]] == pytest.approx(
        [r.score for r in expected.ranking]
    )
    assert body["metrics"]["best_params"] == expected.best.params
    scores = [r["score"] for r in report["ranking"] if r["score"] is not None]
    assert scores == sorted(scores, reverse=True)

    listed = (await client.get("/api/backtests", headers=auth)).json()
    assert [(i["id"], i["kind"]) for i in listed["items"]] == [(body["id"], "optimization")]
    trades = await client.get(f"/api/backtest/{body['id']}/trades", headers=auth)
    assert_error(trades, 409, "not_a_backtest")
    simulated = await client.post(f"/api/backtest/{body['id']}/monte-carlo", json={}, headers=auth)
    assert_error(simulated, 409, "not_a_backtest")


async def test_walk_forward_scores_each_choice_only_after_its_in_sample_window(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = api
    auth = bearer((await register(client))["access_token"])
    windows = {"in_sample": 300, "out_of_sample": 150, "folds": 3}
    body = await finished(client, auth, await start(client, auth, walk_forward=windows))
    assert body["status"] == "completed", body
    report = body["report"]
    assert report["kind"] == "walk_forward"
    folds = report["folds"]
    assert len(folds) == 3 and body["metrics"]["folds"] == 3
    bars = len(await market_bars(app))
    assert folds[-1]["oos_end"] == bars
    for fold in folds:
        assert fold["is_end"] - fold["is_start"] == 300
        assert fold["oos_start"] == fold["is_end"]
        assert fold["oos_end"] - fold["oos_start"] == 150
        chosen = fold["params"]
        assert chosen["fast"] in SEARCH["grid"]["fast"] and chosen["slow"] in SEARCH["grid"]["slow"]
        assert chosen["fast"] < chosen["slow"]
    assert body["metrics"]["chosen_params"] == [f["params"] for f in folds]
    assert body["metrics"]["mean_in_sample_score"] == pytest.approx(report["mean_is_score"])
    gap = report["mean_is_score"] - report["mean_oos_score"]
    assert report["overfitting_gap"] == pytest.approx(gap)


async def test_bad_searches_are_refused_or_fail_with_a_reason(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    auth = bearer((await register(client))["access_token"])
    post = "/api/backtest/optimize"
    cases = [
        ({"grid": {"nope": [1, 2]}}, "invalid_grid"),
        ({"grid": {"fast": [30], "slow": [10]}}, "invalid_grid"),  # no valid combination
        ({"grid": {"fast": list(range(1, 101)), "slow": list(range(101, 201))}}, "invalid_grid"),
        ({"objective": "luck"}, "invalid_objective"),
        ({"symbol": "NOPE"}, "unknown_symbol"),
    ]
    for changes, code in cases:
        assert_error(await client.post(post, json=SEARCH | changes, headers=auth), 422, code)
    for changes in ({"grid": {}}, {"walk_forward": {"in_sample": 1, "out_of_sample": 5}}):
        refused = await client.post(post, json=SEARCH | changes, headers=auth)
        assert refused.status_code == 422 and "error" in refused.json()
    # Windows larger than the range are found once the bars are loaded: the run fails, saying why.
    too_long = {"in_sample": 5_000, "out_of_sample": 500}
    body = await finished(client, auth, await start(client, auth, walk_forward=too_long))
    assert body["status"] == "failed"
    assert "cannot hold" in body["error"]
