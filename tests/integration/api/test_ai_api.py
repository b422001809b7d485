"""The AI decision endpoints over HTTP: decide, store, execute once, the registry, evaluations.

Models are tiny here (three folds, 20 trees, two LSTM epochs, three years of bars) so the
suite stays fast; the full-size figures are in ``benchmarks/``.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI

from quantumtrade.db.models import AIDecision
from quantumtrade.domain.clock import FixedClock
from quantumtrade.services import ai
from quantumtrade.services.ai import _data, _registry
from support import DEFAULT_NOW, assert_error, bearer, register

SETTINGS = {
    "ai_history_days": 1100,
    "ai_min_train_bars": 300,
    "ai_folds": 3,
    "ai_gbm_trees": 20,
    "ai_lstm_epochs": 2,
    "regime_history_days": 1100,
}


@pytest.fixture
async def ai_api(make_api: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with make_api(**SETTINGS) as (app, client):
        yield app, client


async def _user(client: httpx.AsyncClient) -> dict[str, str]:
    tokens = await register(client)
    return bearer(tokens["access_token"])


async def _wait_for(client: httpx.AsyncClient, headers: dict[str, str], names: set[str]) -> None:
    for _ in range(600):
        page = await client.get("/api/ai/models", params={"symbol": "AAPL"}, headers=headers)
        if names <= {m["name"] for m in page.json()["items"]}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{names} never trained")


async def test_first_decision_trains_quick_models_and_names_the_pending_ones(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = ai_api
    me = await _user(client)
    response = await client.get("/api/ai/decision/aapl", headers=me)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == "AAPL" and body["horizon"] == 1 and body["timeframe"] == "1Day"
    assert body["action"] in ("buy", "sell", "hold")
    assert 0.5 <= body["confidence"] <= 1.0
    assert body["confidence"] == pytest.approx(
        max(body["probability_up"], 1 - body["probability_up"])
    )
    assert body["expires_at"] > body["created_at"]
    models = body["models"]
    assert {"rules", "pattern", "sentiment", "drift"} <= set(models["ready"])
    assert set(models["pending"]) == {"gbm", "lstm"} or models["status"] == "complete"
    votes = {v["model"]: v for v in body["votes"]}
    assert set(votes) == set(models["ready"])
    for vote in votes.values():
        assert 0.0 <= vote["probability_up"] <= 1.0
        assert len(vote["content_hash"]) == 64 and vote["version"] >= 1
        assert vote["track_record"]["n"] > 0  # measured out of sample, never assumed
    assert all(votes[b]["weight"] == 0 for b in ("always_flat", "drift", "previous_direction"))
    if body["action"] == "hold":
        assert body["size_fraction"] == 0 and body["stop"] is None
    else:
        assert 0 < body["size_fraction"] <= 0.10 and body["stop"] is not None

    again = (await client.get("/api/ai/decision/AAPL", headers=me)).json()
    if again["models"]["ready"] == models["ready"]:  # no new model version in between
        assert again["id"] == body["id"]  # the cached decision, stored once for this user
    other = (await client.get("/api/ai/decision/AAPL", headers=await _user(client))).json()
    assert other["id"] != body["id"]
    assert other["probability_up"] == body["probability_up"]

    listed = (await client.get("/api/ai/decisions", headers=me)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert listed["items"][0]["outcome"] is None

    await _wait_for(client, me, {"gbm", "lstm", "consensus"})
    page = (await client.get("/api/ai/models", params={"symbol": "AAPL"}, headers=me)).json()
    gbm = next(m for m in page["items"] if m["name"] == "gbm")
    detail = (await client.get(f"/api/ai/models/{gbm['id']}", headers=me)).json()
    assert len(detail["folds"]) == 3 and detail["walk_forward"]["n"] > 0
    assert detail["reliability"] and detail["features"]
    assert set(detail["baselines"]) == {"always_flat", "previous_direction", "drift"}
    assert detail["window"]["end"] <= DEFAULT_NOW.isoformat()


async def test_decision_of_an_unknown_symbol_or_bad_horizon_is_a_clear_error(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = ai_api
    me = await _user(client)
    assert_error(await client.get("/api/ai/decision/NOPE", headers=me), 404)
    assert_error(await client.get("/api/ai/decision/AAPL?horizon=0", headers=me), 422)
    assert_error(await client.get("/api/ai/decision/AAPL?horizon=99", headers=me), 422)
    odd = assert_error(await client.get("/api/ai/decision/AAPL?horizon=2", headers=me), 422)
    assert odd["code"] == "invalid_horizon" and odd["details"]["allowed"] == [1, 5, 20]
    assert_error(await client.get("/api/ai/decision/AAPL"), 401)
    assert_error(await client.get(f"/api/ai/models/{uuid.uuid4()}", headers=me), 404)


async def _stored_decision(
    app: FastAPI, user_id: str, *, action: str = "buy", expires_in: float = 300.0
) -> str:
    container = app.state.container
    now = container.clock.now()
    row = AIDecision(
        id=uuid.uuid4(),
        user_id=uuid.UUID(user_id),
        symbol="AAPL",
        action=action,
        confidence=0.6,
        price=Decimal("100"),
        reasoning={"edge": 0.001},
        model_votes={"votes": []},
        executed=False,
        created_at=now,
        horizon=1,
        probability_up=0.6 if action == "buy" else 0.4,
        expected_return=0.001,
        size_fraction=0.05,
        bar_time=now - timedelta(days=1),
        expires_at=now + timedelta(seconds=expires_in),
    )
    async with container.session_factory() as db:
        db.add(row)
        await db.commit()
    return str(row.id)


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    return str((await client.get("/api/auth/me", headers=headers)).json()["id"])


async def test_execute_goes_through_risk_checks_once_and_only_while_fresh(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = ai_api
    me = await _user(client)
    decision = await _stored_decision(app, await _me(client, me))

    refused = await client.post(
        "/api/ai/decision/execute", json={"decision_id": decision, "qty": "1000000"}, headers=me
    )
    assert refused.status_code == 403, refused.text  # more than the account can buy
    row = (await client.get("/api/ai/decisions", headers=me)).json()["items"][0]
    assert row["executed"] is False  # a refusal leaves it executable

    done = await client.post(
        "/api/ai/decision/execute", json={"decision_id": decision, "qty": "2"}, headers=me
    )
    assert done.status_code == 201, done.text
    order = done.json()["order"]
    assert order["client_order_id"] == f"ai-{decision}" and order["side"] == "buy"
    assert done.json()["decision"]["order_id"] == order["id"]
    twice = await client.post(
        "/api/ai/decision/execute", json={"decision_id": decision, "qty": "2"}, headers=me
    )
    body = assert_error(twice, 409, "decision_already_executed")
    assert body["details"]["order_id"] == order["id"]
    orders = (await client.get("/api/orders", params={"status": "all"}, headers=me)).json()
    items = orders["items"] if isinstance(orders, dict) else orders
    assert sum(o["client_order_id"] == f"ai-{decision}" for o in items) == 1


async def test_execute_refuses_stale_hold_foreign_and_malformed_requests(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = ai_api
    me, them = await _user(client), await _user(client)
    my_id = await _me(client, me)
    stale = await _stored_decision(app, my_id, expires_in=-1)
    assert_error(
        await client.post(
            "/api/ai/decision/execute", json={"decision_id": stale, "qty": "1"}, headers=me
        ),
        422,
        "decision_stale",
    )
    hold = await _stored_decision(app, my_id, action="hold")
    assert_error(
        await client.post(
            "/api/ai/decision/execute", json={"decision_id": hold, "qty": "1"}, headers=me
        ),
        422,
        "decision_not_actionable",
    )
    mine = await _stored_decision(app, my_id)
    assert_error(
        await client.post(
            "/api/ai/decision/execute", json={"decision_id": mine, "qty": "1"}, headers=them
        ),
        404,
        "decision_not_found",
    )
    created = await client.post("/api/portfolios", json={"name": "Theirs"}, headers=them)
    their_id = created.json()["id"]
    response = await client.post(
        "/api/ai/decision/execute",
        json={"decision_id": mine, "portfolio_id": their_id, "qty": "1"},
        headers=me,
    )
    assert_error(response, 404)
    assert (await client.get("/api/ai/decisions", headers=me)).json()["items"][0][
        "executed"
    ] is False
    for body in (
        {"decision_id": mine},
        {"decision_id": mine, "qty": "1", "notional": "100"},
        {"decision_id": mine, "qty": "-1"},
        {"decision_id": "not-a-uuid", "qty": "1"},
    ):
        assert_error(await client.post("/api/ai/decision/execute", json=body, headers=me), 422)
    sized = await client.post(
        "/api/ai/decision/execute",
        json={"decision_id": mine, "use_suggested_size": True},
        headers=me,
    )
    assert sized.status_code == 201, sized.text
    order = sized.json()["order"]
    assert Decimal(order["notional"] or "0") > 0 or Decimal(order["qty"] or "0") > 0


async def test_outcomes_record_the_realised_return_after_the_horizon(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = ai_api
    me = await _user(client)
    container = app.state.container
    bars = await _data.bars(container, "AAPL")
    decision = await _stored_decision(app, await _me(client, me))
    bar_time = bars.index[-10].to_pydatetime()
    async with container.session_factory() as db:
        row = await db.get(AIDecision, uuid.UUID(decision))
        assert row is not None
        row.bar_time, row.horizon = bar_time, 3
        await db.commit()
    assert await ai.resolve_outcomes(container) >= 1
    item = (await client.get("/api/ai/decisions", headers=me)).json()["items"][0]
    expected = math.log(bars["close"].iloc[-7] / bars["close"].iloc[-10])
    assert item["outcome"]["return"] == pytest.approx(expected, rel=1e-12)
    assert item["outcome"]["correct"] is (expected > 0)


def _walk(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    days = pd.bdate_range("2005-01-03", periods=n, tz="UTC")
    return [
        {"timestamp": d.isoformat(), "close": round(float(c), 4), "volume": 1e6}
        for d, c in zip(days, close, strict=True)
    ]


async def test_evaluate_scores_every_model_and_the_baselines_or_starts_a_job(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = ai_api
    me = await _user(client)
    response = await client.post("/api/ai/evaluate", json={"bars": _walk(600, 3)}, headers=me)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["models"]) == {"lstm", "gbm", "rules", "pattern", "sentiment"}
    assert set(body["baselines"]) == {"always_flat", "previous_direction", "drift"}
    for card in (*body["models"].values(), body["consensus"]):
        assert card["n"] == body["tested_bars"] > 0
        for key in ("accuracy", "brier", "log_loss", "ece", "ic"):
            assert key in card
    assert_error(
        await client.post("/api/ai/evaluate", json={"bars": _walk(50, 3)}, headers=me),
        422,
        "not_enough_bars",
    )
    big = await client.post("/api/ai/evaluate", json={"bars": _walk(5001, 4)}, headers=me)
    assert big.status_code == 202, big.text
    job = big.json()
    assert job["kind"] == "evaluate" and job["status"] in ("queued", "running")
    assert_error(await client.get(f"/api/ai/jobs/{job['id']}", headers=await _user(client)), 404)


async def test_train_job_stores_a_version_with_its_hash(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = ai_api
    me = await _user(client)
    response = await client.post(
        "/api/ai/models/train", json={"symbol": "MSFT", "models": ["rules"]}, headers=me
    )
    assert response.status_code == 202, response.text
    job = response.json()
    for _ in range(600):
        job = (await client.get(f"/api/ai/jobs/{job['id']}", headers=me)).json()
        if job["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "completed", job
    names = {m["name"]: m for m in job["result"]["models"]}
    assert {"rules", "consensus"} <= set(names)
    first_hash = names["rules"]["content_hash"]
    again = await client.post(
        "/api/ai/models/train", json={"symbol": "MSFT", "models": ["rules"]}, headers=me
    )
    for _ in range(600):
        job = (await client.get(f"/api/ai/jobs/{again.json()['id']}", headers=me)).json()
        if job["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.1)
    rules = next(m for m in job["result"]["models"] if m["name"] == "rules")
    assert rules["content_hash"] == first_hash and rules["version"] == names["rules"]["version"]
    assert_error(
        await client.post("/api/ai/models/train", json={"symbol": "NOPE"}, headers=me), 404
    )
    assert_error(
        await client.post(
            "/api/ai/models/train", json={"symbol": "MSFT", "models": ["x"]}, headers=me
        ),
        422,
    )


async def test_the_watch_retrains_on_schedule_and_names_the_new_versions(
    make_api: Any,
) -> None:
    clock = FixedClock(DEFAULT_NOW)
    async with make_api(clock=clock, ai_retrain_hours=24, **SETTINGS) as (app, client):
        me = await _user(client)
        watch = app.state.ai_watch
        container = app.state.container
        horizon = container.settings.ai_default_horizon
        # one model trained on request: the watch trains the others
        await _registry.train(container, "MSFT", horizon, ["rules"], backend=False)
        await watch.check(["MSFT"])
        first = (await client.get("/api/ai/decision/MSFT", headers=me)).json()
        assert first["models"]["status"] == "complete"

        async def registry() -> set[tuple[str, int]]:
            page = await client.get(
                "/api/ai/models", params={"symbol": "MSFT", "limit": 200}, headers=me
            )
            return {(m["name"], m["version"]) for m in page.json()["items"]}

        trained = await registry()
        await watch.check(["MSFT"])  # within the period: nothing retrains
        assert await registry() == trained

        clock.advance(timedelta(days=3))  # new bars: the models are a day past due
        await watch.check(["MSFT"])
        page = await client.get(
            "/api/ai/models", params={"symbol": "MSFT", "name": "gbm"}, headers=me
        )
        versions = sorted((m["version"], m["window"]["end"]) for m in page.json()["items"])
        assert [v for v, _ in versions] == [1, 2] and versions[1][1] > versions[0][1]
        later = (await client.get("/api/ai/decision/MSFT", headers=me)).json()
        gbm = next(v for v in later["votes"] if v["model"] == "gbm")
        assert gbm["version"] == 2 and later["bar_time"] > first["bar_time"]


async def test_live_record_scores_each_model_on_resolved_decisions(
    ai_api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = ai_api
    symbol = "DIS"  # no other test decides on it: the session's database is shared
    me = await _user(client)
    container = app.state.container
    await client.get(f"/api/ai/decision/{symbol}", headers=me)
    bars = await _data.bars(container, symbol)
    close = bars["close"].to_numpy()
    rows = []
    for k in range(12, 2, -1):  # ten past bars; "rules" says up before every rise
        up = close[-k + 1] > close[-k]
        rows.append(
            AIDecision(
                id=uuid.uuid4(),
                user_id=None,
                symbol=symbol,
                action="hold",
                confidence=0.5,
                executed=False,
                created_at=container.clock.now(),
                horizon=1,
                probability_up=0.5,
                bar_time=bars.index[-k].to_pydatetime(),
                model_votes={"votes": [{"model": "rules", "probability_up": 0.9 if up else 0.1}]},
            )
        )
    async with container.session_factory() as db:
        db.add_all(rows)
        await db.commit()
    assert await ai.resolve_outcomes(container) >= 10
    page = await client.get(
        "/api/ai/models", params={"symbol": symbol, "name": "rules"}, headers=me
    )
    detail = (
        await client.get(f"/api/ai/models/{page.json()['items'][0]['id']}", headers=me)
    ).json()
    live = detail["live"]
    assert live["decisions"] >= 10 and live["n"] >= 10
    assert live["accuracy"] == 1.0 and live["brier"] == pytest.approx(0.01)
    assert live["reliability"]
