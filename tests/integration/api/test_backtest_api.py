"""``/api/backtest``: background runs, parity with the engine, paging, exports, Monte Carlo."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from integration.api.conftest import AppFactory
from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.domain.market import Timeframe
from quantumtrade.infra.bus import BusMessage
from quantumtrade.services.alerts import user_channel
from support import assert_error, bearer, register

START = "2020-01-01T00:00:00Z"
END = "2023-01-01T00:00:00Z"
RUN = {
    "strategy": "sma_crossover",
    "symbol": "AAPL",
    "start": START,
    "end": END,
    "params": {"fast": 10, "slow": 30},
    "initial_cash": 50_000,
    "slippage_bps": 2,
    "per_share": 0.005,
    "per_share_min": 1,
    "name": "sma 10/30",
}


@pytest.fixture
async def backtest_api(make_api: AppFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api(
        market_feed_enabled=False, paper_matching_enabled=False, risk_monitor_enabled=False
    ) as (app, client):
        yield app, client


async def _wait(client: httpx.AsyncClient, auth: dict[str, str], backtest_id: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        response = await client.get(f"/api/backtest/{backtest_id}", headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def _run(client: httpx.AsyncClient, auth: dict[str, str], **changes: Any) -> Any:
    created = await client.post("/api/backtest", json=RUN | changes, headers=auth)
    assert created.status_code == 202, created.text
    assert created.json()["status"] in ("queued", "running")
    body = await _wait(client, auth, created.json()["id"])
    assert body["status"] == "completed", body
    return body


async def test_backtest_completes_with_the_engines_figures(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = backtest_api
    user = await register(client)
    auth = bearer(user["access_token"])
    async with app.state.container.bus.subscribe(user_channel(user["user"]["id"])) as events:
        body = await _run(client, auth)
        seen: list[BusMessage] = []
        while not seen or seen[-1].data.get("status") != "completed":
            seen.append(await asyncio.wait_for(events.__anext__(), 5))
    assert {m.data["channel"] for m in seen} == {"backtests"}
    assert seen[0].data["status"] == "running"
    progress = [m.data["progress"] for m in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert all(m.data["id"] == body["id"] for m in seen)

    bars = await app.state.container.market.get_bars(
        "AAPL", Timeframe.DAY_1, datetime(2020, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
    )
    config = BacktestConfig(initial_cash=50_000, slippage_bps=2, per_share=0.005, per_share_min=1)
    expected = run_strategy(bars, "sma_crossover", {"fast": 10, "slow": 30}, config)

    metrics = body["metrics"]
    assert metrics["n_trades"] == len(expected.trades) > 0
    assert metrics["final_equity"] == pytest.approx(float(expected.equity.iloc[-1]), rel=1e-12)
    assert metrics["sharpe"] == pytest.approx(expected.metrics["sharpe"], rel=1e-9)
    assert metrics["bars"] == len(bars)
    assert body["progress"] == 1.0 and body["completed_at"] is not None
    assert body["params"] == {"fast": 10, "slow": 30, "allow_short": False}
    assert body["timeframe"] == "1Day"
    assert body["config"]["per_share"] == 0.005 and body["name"] == "sma 10/30"
    assert len(body["trades"]) == len(expected.trades)
    assert [t["pnl"] for t in body["trades"]] == pytest.approx(expected.trades["pnl"].tolist())
    equity = body["equity"]
    assert 2 <= len(equity) <= 2000
    assert equity[-1]["equity"] == pytest.approx(metrics["final_equity"])
    assert all(point["drawdown"] <= 0 for point in equity)


async def test_long_runs_are_downsampled_and_exports_parse(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    body = await _run(
        client,
        auth,
        timeframe="1Hour",
        start="2021-01-01T00:00:00Z",
        end="2023-01-01T00:00:00Z",
        params={"fast": 5, "slow": 20},
    )
    assert body["metrics"]["bars"] > 2000 and len(body["equity"]) <= 2000
    backtest_id = body["id"]

    trades_csv = await client.get(f"/api/backtest/{backtest_id}/trades?format=csv", headers=auth)
    assert trades_csv.status_code == 200
    assert trades_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(trades_csv.text)))
    assert len(rows) == body["metrics"]["n_trades"]
    assert sum(float(r["pnl"]) for r in rows) == pytest.approx(
        sum(t["pnl"] for t in body["trades"])
    )
    assert {r["side"] for r in rows} <= {"long", "short"}

    equity_csv = await client.get(f"/api/backtest/{backtest_id}/equity?format=csv", headers=auth)
    points = list(csv.DictReader(io.StringIO(equity_csv.text)))
    assert [float(p["equity"]) for p in points] == pytest.approx(
        [p["equity"] for p in body["equity"]]
    )
    assert datetime.fromisoformat(points[0]["time"]).tzinfo is not None
    as_json = await client.get(f"/api/backtest/{backtest_id}/trades", headers=auth)
    assert as_json.json() == body["trades"]


async def test_monte_carlo_is_reproducible_and_ordered(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    body = await _run(client, auth)
    url = f"/api/backtest/{body['id']}/monte-carlo"
    for method in ("reshuffle", "bootstrap"):
        request = {"method": method, "simulations": 500, "seed": 7, "block_size": 10}
        first = await client.post(url, json=request, headers=auth)
        assert first.status_code == 200, first.text
        again = await client.post(url, json=request, headers=auth)
        assert again.json() == first.json()
        figures = first.json()
        for key in ("final_equity", "max_drawdown"):
            values = [figures[key][f"p{p}"] for p in (5, 25, 50, 75, 95)]
            assert values == sorted(values)
        assert 0.0 <= figures["probability_of_ruin"] <= 1.0
        assert figures["simulations"] == 500 and figures["initial_cash"] == 50_000
    reshuffled = (await client.post(url, json={"seed": 1}, headers=auth)).json()
    # Reordering trades never changes where they end up.
    assert reshuffled["final_equity"]["p5"] == pytest.approx(reshuffled["final_equity"]["p95"])
    other = await client.post(url, json={"method": "bootstrap", "seed": 8}, headers=auth)
    assert other.json() != first.json()
    assert_error(await client.post(url, json={"simulations": 20_001}, headers=auth), 422)
    assert_error(await client.post(url, json={"method": "magic"}, headers=auth), 422)


async def test_list_pages_newest_first_and_hides_others_backtests(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    first = await _run(client, auth, name="first")
    app.state.container.clock.advance(timedelta(seconds=1))  # the app's clock is fixed
    second = await _run(client, auth, name="second", strategy="momentum", params={})

    page = (await client.get("/api/backtests?limit=1", headers=auth)).json()
    assert page["total"] == 2 and page["limit"] == 1 and len(page["items"]) == 1
    assert page["items"][0]["id"] == second["id"]
    assert "equity" not in page["items"][0] and "trades" not in page["items"][0]
    assert page["items"][0]["metrics"]["n_trades"] == second["metrics"]["n_trades"]
    rest = (await client.get("/api/backtests?limit=1&offset=1", headers=auth)).json()
    assert [item["id"] for item in rest["items"]] == [first["id"]]

    other = bearer((await register(client))["access_token"])
    assert (await client.get("/api/backtests", headers=other)).json()["total"] == 0
    for path in ("", "/trades", "/equity"):
        response = await client.get(f"/api/backtest/{first['id']}{path}", headers=other)
        assert_error(response, 404, "backtest_not_found")
    monte_carlo = await client.post(
        f"/api/backtest/{first['id']}/monte-carlo", json={}, headers=other
    )
    assert_error(monte_carlo, 404, "backtest_not_found")
    missing = await client.get(f"/api/backtest/{uuid.uuid4()}", headers=auth)
    assert_error(missing, 404, "backtest_not_found")
    assert_error(await client.get("/api/backtests"), 401)


async def test_tick_rounding_and_fractional_sizing_reach_the_engine(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    bars = await app.state.container.market.get_bars(
        "AAPL", Timeframe.DAY_1, datetime(2020, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
    )
    params = {"fast": 10, "slow": 30}
    for changes, config in (
        ({"tick_size": "us"}, {"tick_size": "us"}),
        ({"sizing": "all_in", "fractional": True}, {"sizing": "all_in", "fractional": True}),
        ({"tick_size": 0.05, "sizing": "all_in"}, {"tick_size": 0.05, "sizing": "all_in"}),
    ):
        body = await _run(client, auth, **changes)
        engine = BacktestConfig(
            initial_cash=50_000, slippage_bps=2, per_share=0.005, per_share_min=1, **config
        )
        expected = run_strategy(bars, "sma_crossover", params, engine)
        assert body["metrics"]["final_equity"] == pytest.approx(
            float(expected.equity.iloc[-1]), rel=1e-12
        )
        prices = [t["entry_price"] for t in body["trades"]]
        assert prices == pytest.approx(expected.trades["entry_price"].tolist(), rel=1e-12)
        assert {k: body["config"][k] for k in config} == config
    # Fractional sizing holds fractions of a share; whole-share sizing does not.
    fractional = await _run(client, auth, sizing="all_in", fractional=True)
    assert any(t["qty"] != int(t["qty"]) for t in fractional["trades"])
    whole = await _run(client, auth, sizing="all_in")
    assert all(t["qty"] == int(t["qty"]) for t in whole["trades"])


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"strategy": "astrology"}, "unknown_strategy", "known: "),
        ({"params": {"fast": 30, "slow": 10}}, "invalid_params", "fast must be < slow"),
        ({"params": {"speed": 3}}, "invalid_params", "speed"),
        ({"start": END, "end": START}, "invalid_range", "start must be before end"),
        (
            {"timeframe": "1Min", "start": "2000-01-01T00:00:00Z"},
            "range_too_large",
            "2,000,000",
        ),
        ({"symbol": "NOPE"}, "unknown_symbol", "NOPE"),
        ({"stop_loss": 1.5}, "invalid_config", "stop_loss"),
        ({"timeframe": "5Min"}, "validation_error", None),
        ({"fill": "whenever"}, "validation_error", None),
        ({"symbols": ["AAPL"]}, "validation_error", None),
        ({"initial_cash": 0}, "validation_error", None),
        ({"tick_size": "cents"}, "validation_error", None),
        ({"tick_size": 0}, "validation_error", None),
        ({"fractional": "yes"}, "validation_error", None),
    ],
)
async def test_bad_input_is_422_with_the_uniform_body(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
    changes: dict[str, Any],
    code: str,
    words: str | None,
) -> None:
    _app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    response = await client.post("/api/backtest", json=RUN | changes, headers=auth)
    error = assert_error(response, 422, code)
    if words is not None:
        assert words in error["message"]
    assert (await client.get("/api/backtests", headers=auth)).json()["total"] == 0


async def test_symbols_list_is_accepted_and_a_failed_run_keeps_its_error(
    backtest_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = backtest_api
    auth = bearer((await register(client))["access_token"])
    one = {k: v for k, v in RUN.items() if k != "symbol"} | {"symbols": ["aapl"]}
    created = await client.post("/api/backtest", json=one, headers=auth)
    assert created.status_code == 202, created.text
    done = await _wait(client, auth, created.json()["id"])
    assert done["status"] == "completed" and done["symbols"] == ["AAPL"]

    # A range before the simulated market's first day has no bars: the run fails, with a reason.
    empty = RUN | {"start": "1990-01-01T00:00:00Z", "end": "1990-02-01T00:00:00Z"}
    created = await client.post("/api/backtest", json=empty, headers=auth)
    assert created.status_code == 202, created.text
    failed = await _wait(client, auth, created.json()["id"])
    assert failed["status"] == "failed" and failed["error"], failed
    assert failed["metrics"] is None and failed["equity"] is None
    response = await client.get(f"/api/backtest/{failed['id']}/trades", headers=auth)
    assert_error(response, 409, "backtest_not_completed")
    url = f"/api/backtest/{failed['id']}/monte-carlo"
    assert_error(await client.post(url, json={}, headers=auth), 409, "backtest_not_completed")
