"""Cross-user isolation: another user's id answers 404 on every route that takes one, and
changes nothing.

The routes under test come from the app's own route table, so a new route is covered without
anyone adding it here. A path parameter this file cannot map to one of user A's ids, a request
body it has no example of, or a new ``*_id`` query or body field fails the test until it is
mapped (or excluded below, with the reason).

User A owns one of every resource with an id; user B calls each route with A's ids and with
random ones. B must get the resource's own 404 (proof that the handler ran, past the body's
validation), the same answer for a random id (no existence oracle), and A's view must stay
exactly as it was. One app and one set of A's resources serve the whole module (``make_api``
is per test; building them for every route would take far too long), so the routes run
reads first and deletes last, and each test compares A's view with the one the test before
it left.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from pydantic import BaseModel

from quantumtrade.api.app import create_app
from quantumtrade.domain.clock import FixedClock
from support import STRONG_PASSWORD, assert_error, bearer, build_settings, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
PARAM = re.compile(r"{(\w+)(?::\w+)?}")

# A path parameter naming a user-owned resource -> the 404 code its lookup answers.
ID_PARAMS = {
    "portfolio_id": "portfolio_not_found",
    "order_id": "order_not_found",
    "alert_id": "alert_not_found",
    "dataset_id": "dataset_not_found",
    "backtest_id": "backtest_not_found",
    "session_id": "session_not_found",
    "job_id": "job_not_found",
    "entry_id": "journal_entry_not_found",
    "api_key_id": "api_key_not_found",
    "watchlist_id": "watchlist_not_found",
}

# Routes whose path parameters name no user's resource: (method, path) -> why.
EXCLUDED = {
    ("GET", "/api/market/price/{symbol:path}"): "a market symbol: public market data",
    ("GET", "/api/market/history/{symbol:path}"): "a market symbol: public market data",
    ("GET", "/api/risk/stops/{symbol:path}"): (
        "a market symbol: stops computed from public prices and the query, no user's data"
    ),
    ("GET", "/api/regime/{symbol:path}"): "a market symbol: regimes of public market data",
    ("GET", "/api/regime/{symbol:path}/history"): "a market symbol: public market data",
    ("GET", "/api/sentiment/{symbol:path}"): "a market symbol: public news, posts and filings",
    ("GET", "/api/sentiment/{symbol:path}/news"): "a market symbol: public news",
    ("GET", "/api/sentiment/{symbol:path}/social"): "a market symbol: public social posts",
    ("GET", "/api/insider/{symbol:path}"): "a market symbol: public SEC filings",
    ("GET", "/api/options/{symbol:path}/chain"): "a market symbol: public option quotes",
    ("GET", "/api/options/{symbol:path}/flow"): "a market symbol: public option trades",
    ("GET", "/api/ai/decision/{symbol:path}"): (
        "a market symbol: the decision is made from public data; each caller gets their own row"
    ),
    ("GET", "/api/ai/models/{model_id}"): (
        "the shared model registry: models are trained on public market data, not a user's"
    ),
    ("GET", "/api/reports/{day}"): (
        "a trading day, not a resource: the portfolio is the portfolio_id query (REFERENCES)"
    ),
    ("POST", "/api/reports/{day}/regenerate"): (
        "a trading day, not a resource: the portfolio is the portfolio_id query (REFERENCES)"
    ),
    ("GET", "/v2/assets/{symbol_or_asset_id}"): "a market symbol: public asset data",
    ("GET", "/v2/positions/{symbol_or_asset_id}"): (
        "a market symbol, read in the API key's own portfolio only: another key sees no "
        "position there (test_alpaca_api checks the 404)"
    ),
    ("DELETE", "/v2/positions/{symbol_or_asset_id}"): (
        "a market symbol, closed in the API key's own portfolio only (test_alpaca_api checks "
        "that another key's call leaves the position alone)"
    ),
    ("GET", "/v2/account/activities/{activity_type}"): (
        "an activity type, not a resource: only the API key's own portfolio is listed"
    ),
    ("DELETE", "/v2/watchlists/{watchlist_id}/{symbol}"): (
        "a watchlist and a symbol: test_alpaca_watchlists checks that another key gets 404 "
        "and leaves the list alone"
    ),
    **{
        ("GET", f"/data/v2/stocks/{{symbol:text}}/{tail}"): "a market symbol: public market data"
        for tail in (
            "bars",
            "trades",
            "quotes",
            "snapshot",
            "trades/latest",
            "quotes/latest",
            "bars/latest",
        )
    },
    ("GET", "/api/admin/reports/system/{day}"): (
        "a trading day on an admins-only route: a user gets 403 (test_reports_api checks it)"
    ),
}

# Path parameters that name no resource, filled in when a route's query or body is tested.
PATH_VALUES = {"day": "2026-11-17"}  # a trading day before the clock's

# A valid body for every route with an id in its path that takes one: B's call must get past
# validation to the lookup. A new route with a body and no entry here fails its test.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/orders/{order_id}"): {"qty": "2", "time_in_force": "gtc"},
    ("PATCH", "/api/alerts/{alert_id}"): {"condition": {"price": 1}, "status": "disabled"},
    ("POST", "/api/risk/limits/{portfolio_id}"): {"max_position_pct": 0.01},
    ("POST", "/api/backtest/{backtest_id}/monte-carlo"): {"simulations": 10, "seed": 1},
    ("PATCH", "/api/journal/entries/{entry_id}"): {"notes": "B was here", "rating": 1},
    ("PATCH", "/v2/orders/{order_id}"): {"qty": "2", "time_in_force": "gtc"},
    ("PUT", "/v2/watchlists/{watchlist_id}"): {"name": "B was here", "symbols": ["MSFT"]},
    ("POST", "/v2/watchlists/{watchlist_id}"): {"symbol": "MSFT"},
}

B_ORDER = {"symbol": "AAPL", "side": "buy", "qty": "1"}  # fills at once, in B's own portfolio
B_V2_ORDER = B_ORDER | {"type": "market", "time_in_force": "day"}  # the same through /v2
B_RUN = {"strategy": "sma_crossover", "params": {"fast": 3, "slow": 10}}


@dataclass(frozen=True)
class Own:
    """In a request: A's id of this kind (a key of ``World.ids``)."""

    kind: str


@dataclass(frozen=True)
class Reference:
    """How B sends A's id in a query or body field, and what B must get.

    ``not_found`` is the 404 code B must get; None means any answer will do, as long as it is
    the same as for a random value (and A's data stays as it was).
    """

    where: Literal["query", "body"]
    kind: str
    base: Mapping[str, Any]
    not_found: str | None


# Every ``*_id`` field of a query or a JSON body, (method, path, field) -> how to test it.
REFERENCES = {
    ("POST", "/api/orders", "portfolio_id"): Reference(
        "body", "portfolio_id", B_ORDER, "portfolio_not_found"
    ),
    ("POST", "/api/trade", "portfolio_id"): Reference(
        "body", "portfolio_id", B_ORDER, "portfolio_not_found"
    ),
    # Labels are unique per portfolio: A's must not collide with (and so reveal) anything.
    ("POST", "/api/orders", "client_order_id"): Reference("body", "client_order_id", B_ORDER, None),
    ("POST", "/api/trade", "client_order_id"): Reference("body", "client_order_id", B_ORDER, None),
    ("POST", "/v2/orders", "client_order_id"): Reference(
        "body", "client_order_id", B_V2_ORDER, None
    ),
    ("GET", "/v2/orders:by_client_order_id", "client_order_id"): Reference(
        "query", "client_order_id", {}, "order_not_found"
    ),
    ("POST", "/api/auth/api-keys", "portfolio_id"): Reference(
        "body", "portfolio_id", {"name": "B"}, "portfolio_not_found"
    ),
    ("GET", "/api/orders", "portfolio_id"): Reference(
        "query", "portfolio_id", {"status": "all"}, None
    ),
    ("DELETE", "/api/orders", "portfolio_id"): Reference("query", "portfolio_id", {}, None),
    ("GET", "/api/orders:by_client_order_id", "client_order_id"): Reference(
        "query", "client_order_id", {}, "order_not_found"
    ),
    ("GET", "/api/orders:by_client_order_id", "portfolio_id"): Reference(
        "query", "portfolio_id", {"client_order_id": Own("client_order_id")}, "order_not_found"
    ),
    ("POST", "/api/backtest", "dataset_id"): Reference(
        "body", "dataset_id", B_RUN, "dataset_not_found"
    ),
    ("POST", "/api/backtest/optimize", "dataset_id"): Reference(
        "body", "dataset_id", B_RUN | {"grid": {"fast": [3, 5]}}, "dataset_not_found"
    ),
    ("POST", "/api/regime/classify", "dataset_id"): Reference(
        "body", "dataset_id", {"mode": "filtered"}, "dataset_not_found"
    ),
    ("POST", "/api/ai/evaluate", "dataset_id"): Reference(
        "body", "dataset_id", {"horizon": 1}, "dataset_not_found"
    ),
    ("GET", "/api/journal/entries", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("POST", "/api/journal/rebuild", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("GET", "/api/journal/mistakes", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("GET", "/api/journal/analysis", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("GET", "/api/journal/recommendations", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("POST", "/api/ai/decision/execute", "decision_id"): Reference(
        "body", "decision_id", {"qty": "1"}, "decision_not_found"
    ),
    ("GET", "/api/reports", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("GET", "/api/reports/{day}", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
    ("GET", "/api/reports/daily", "portfolio_id"): Reference(
        "query", "portfolio_id", {"date": PATH_VALUES["day"]}, "portfolio_not_found"
    ),
    ("POST", "/api/reports/{day}/regenerate", "portfolio_id"): Reference(
        "query", "portfolio_id", {}, "portfolio_not_found"
    ),
}

REFERENCES_EXCLUDED = {
    ("GET", "/api/admin/logs", "request_id"): (
        "a request's id, not a user's resource, on an admins-only route: a user gets 403 for any "
        "value (test_admin_monitoring checks it)"
    ),
    ("POST", "/api/ai/decision/execute", "portfolio_id"): (
        "needs B's own executable decision first: test_ai_api executes B's decision into A's "
        "portfolio and checks the 404 and that the decision stays unexecuted"
    ),
    ("PATCH", "/v2/orders/{order_id}", "client_order_id"): (
        "the replacement's new label, as for PATCH /api/orders/{order_id}"
    ),
    ("PATCH", "/api/orders/{order_id}", "client_order_id"): (
        "the replacement's new label, the caller's choice: the order in the path is what must "
        "be the caller's (the path matrix checks it); labels are unique per portfolio only"
    ),
}


# -- the route table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    params: tuple[str, ...]
    has_body: bool
    references: tuple[tuple[str, str], ...]  # (where, name) of each *_id query or body field

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _routes(app: FastAPI) -> Iterator[tuple[str, Any, set[str] | None]]:
    """Yield (path, route, methods) of every route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI keeps app.routes flat
        for route in app.routes:
            yield getattr(route, "path", ""), route, getattr(route, "methods", None)
        return
    for context in iter_route_contexts(app.routes):
        yield context.path or "", context.original_route, context.methods


def _references(route: Any, params: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not isinstance(route, APIRoute):
        return ()
    found = [("query", f.alias) for f in route.dependant.query_params]
    model = route.body_field.field_info.annotation if route.body_field is not None else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        found += [("body", name) for name in model.model_fields]
    return tuple((w, n) for w, n in found if n.endswith("_id") and n not in params)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for path, route, methods in _routes(app):
        params = tuple(PARAM.findall(path))
        if isinstance(route, APIWebSocketRoute):
            methods = {"WEBSOCKET"}
        for method in sorted((methods or set()) - {"HEAD", "OPTIONS"}):
            has_body = isinstance(route, APIRoute) and route.body_field is not None
            found.append(Endpoint(method, path, params, has_body, _references(route, params)))
    return found


def _offline_table() -> list[Endpoint]:
    """The route table of an app that is built but never started (nothing connects)."""
    settings = build_settings("sqlite+aiosqlite://", None, Path("data"))
    return endpoints(create_app(settings))


ROUTE_TABLE = _offline_table()
_ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 2, "DELETE": 3}  # reads first, deletes last
PATH_ROUTES = sorted(
    (e for e in ROUTE_TABLE if e.params and e.key not in EXCLUDED),
    key=lambda e: (_ORDER.get(e.method, 4), e.path),
)
REFERENCE_CASES = sorted(
    {
        (e.method, e.path, name)
        for e in ROUTE_TABLE
        for _where, name in e.references
        if (e.method, e.path, name) not in REFERENCES_EXCLUDED
    },
    key=lambda c: (_ORDER.get(c[0], 4), c[1], c[2]),
)


def fill(path: str, values: Mapping[str, str]) -> str:
    return PARAM.sub(lambda match: values[match.group(1)], path)


# -- A's resources and A's view of them -------------------------------------------------------


def bars_csv(n: int = 80) -> bytes:
    lines = ["timestamp,open,high,low,close,volume"]
    close = 50.0
    for i in range(n):
        day = datetime(2021, 1, 4, tzinfo=UTC) + timedelta(days=i)
        open_, close = close, round(close * (1.02 if (i // 5) % 2 else 0.985), 4)
        high, low = round(max(open_, close) * 1.004, 4), round(min(open_, close) * 0.996, 4)
        lines.append(f"{day:%Y-%m-%dT%H:%M:%SZ},{open_},{high},{low},{close},{1000 + i}")
    return ("\n".join(lines) + "\n").encode()


def _normal(value: Any) -> Any:
    """Lists of objects sorted by id: rows with equal timestamps come back in any order."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normal(v) for v in value]
        if items and all(isinstance(v, dict) and "id" in v for v in items):
            items.sort(key=lambda v: str(v["id"]))
        return items
    return value


def _ids(value: Any) -> Iterator[str]:
    """Every object's own id (and order label) in a view, not ids it refers to: a backtest
    names its dataset, which may be gone."""
    if isinstance(value, dict):
        yield from (str(value[key]) for key in ("id", "client_order_id") if key in value)
        for item in value.values():
            yield from _ids(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _ids(item)


def _error(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return {k: v for k, v in body["error"].items() if k != "request_id"}
    return body


def assert_not_found(response: httpx.Response, codes: list[str]) -> None:
    """A 404 with one of ``codes``: the uniform error body, or Alpaca's on ``/v2`` routes
    (``{"code": 40410000, "message", "reason"}``, the reason being our code)."""
    body = response.json()
    if isinstance(body, dict) and "error" in body:
        assert_error(response, 404)
        assert body["error"]["code"] in codes, body
        return
    assert response.status_code == 404, response.text
    assert body["code"] == 40410000 and body.get("reason") in codes, body


def _shown(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:300]}"


@dataclass
class World:
    client: httpx.AsyncClient
    app: FastAPI
    owner: dict[str, str]  # A's headers
    ids: dict[str, dict[str, str]]  # kind -> {label: A's value}
    view: dict[str, Any] = field(default_factory=dict)  # A's view after the last test

    async def stranger(self) -> dict[str, str]:
        """A new user B for each test: what one test's B made cannot disturb the next.

        B signs in both ways: a bearer token for ``/api``, and an API key of B's own
        portfolio for the Alpaca-compatible ``/v2`` routes.
        """
        headers = bearer((await register(self.client))["access_token"])
        portfolio = _created(
            await self.client.post("/api/portfolios", json={"name": "B"}, headers=headers)
        )
        key = _created(
            await self.client.post(
                "/api/auth/api-keys", json={"portfolio_id": portfolio["id"]}, headers=headers
            )
        )
        return headers | {
            "APCA-API-KEY-ID": key["key_id"],
            "APCA-API-SECRET-KEY": key["secret_key"],
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Own):
            return next(iter(self.ids[value.kind].values()))
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    async def snapshot(self) -> dict[str, Any]:
        """A's view: portfolios with cash, positions, trades and risk limits; every order with
        its legs; journal entries; alerts, backtests with their results, datasets and live
        sessions."""
        paths = ["/api/portfolios", "/api/orders?status=all&limit=500", "/api/alerts"]
        paths += ["/api/backtests", "/api/backtest/datasets", "/api/auth/sessions"]
        paths += ["/api/ai/decisions", "/api/auth/api-keys", "/v2/watchlists"]
        paths += [f"/v2/watchlists/{i}" for i in self.ids["watchlist_id"].values()]
        for portfolio_id in self.ids["portfolio_id"].values():
            paths += [f"/api/risk/limits/{portfolio_id}"]
            paths += [f"/api/journal/entries?portfolio_id={portfolio_id}"]
            paths += [f"/api/portfolios/{portfolio_id}/{tail}" for tail in ("positions", "trades")]
        paths += [f"/api/backtest/{i}" for i in self.ids["backtest_id"].values()]
        paths += [f"/api/ai/jobs/{i}" for i in self.ids["job_id"].values()]
        view = {}
        for path in paths:
            response = await self.client.get(path, headers=self.owner)
            shown = _error(response) if response.status_code >= 400 else response.json()
            view[path] = (response.status_code, _normal(shown))
        return view

    def require(self, values: list[str]) -> None:
        """Fail unless A still has these: a case must not pass on what a leak destroyed."""
        seen = set(_ids(self.view))
        gone = [value for value in values if value not in seen]
        if gone:
            pytest.fail(f"A's {gone} were destroyed by an earlier case", pytrace=False)

    async def changes(self) -> list[str]:
        """Compare A's view with the one the last test left; remember the new one."""
        before, after = self.view, await self.snapshot()
        self.view = after
        return [
            f"A's {path} changed: {str(before[path])[:300]} -> {str(after[path])[:300]}"
            for path in before
            if before[path] != after[path]
        ]


async def _finished(client: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        body = (await client.get(f"/api/backtest/{run_id}", headers=headers)).json()
        if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
            assert body["status"] == "completed", body
            return
        await asyncio.sleep(0.02)


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


async def _populate(app: FastAPI, client: httpx.AsyncClient) -> World:
    """User A creates one of every resource with an id."""
    a_user = await register(client)
    a = bearer(a_user["access_token"])
    login = {"email": a_user["user"]["email"], "password": STRONG_PASSWORD}
    a_second = (await client.post("/api/auth/login", json=login)).json()
    portfolio = _created(await client.post("/api/portfolios", json={"name": "A"}, headers=a))
    pid = portfolio["id"]

    last = Decimal(str((await app.state.container.market.latest_trade("AAPL")).price))

    def price(fraction: str) -> str:
        return str((last * Decimal(fraction)).quantize(Decimal("0.01")))

    async def order(**fields: Any) -> dict[str, Any]:
        body = {"symbol": "AAPL", "side": "buy", "qty": "1", "portfolio_id": pid} | fields
        return _created(await client.post("/api/orders", json=body, headers=a))

    filled = await order(type="market")
    assert filled["status"] == "filled", filled
    journal = await client.get("/api/journal/entries", params={"portfolio_id": pid}, headers=a)
    assert journal.status_code == 200, journal.text
    (entry,) = journal.json()["items"]
    resting = await order(type="limit", limit_price=price("0.8"), time_in_force="gtc")
    bracket = await order(
        type="limit",
        limit_price=price("0.8"),
        time_in_force="gtc",
        order_class="bracket",
        take_profit={"limit_price": price("0.9")},
        stop_loss={"stop_price": price("0.7")},
    )
    legs = {leg["leg_role"]: leg["id"] for leg in bracket["legs"]}
    limits = await client.post(
        f"/api/risk/limits/{pid}", json={"max_orders_per_minute": 50}, headers=a
    )
    assert limits.status_code == 200, limits.text
    alert = _created(
        await client.post(
            "/api/alerts",
            json={"symbol": "AAPL", "kind": "price_above", "condition": {"price": 500}},
            headers=a,
        )
    )
    files = {"file": ("acme.csv", bars_csv(), "text/csv")}
    dataset = _created(
        await client.post("/api/backtest/datasets", files=files, data={"symbol": "ACME"}, headers=a)
    )
    run = B_RUN | {"dataset_id": dataset["id"]}
    backtest = _created(await client.post("/api/backtest", json=run, headers=a))
    search = run | {"grid": {"fast": [3, 5]}}
    optimization = _created(await client.post("/api/backtest/optimize", json=search, headers=a))
    for run_id in (backtest["id"], optimization["id"]):
        await _finished(client, a, run_id)
    training = await client.post(
        "/api/ai/models/train", json={"symbol": "AAPL", "models": ["drift"]}, headers=a
    )
    assert training.status_code == 202, training.text
    for _ in range(600):  # finished, so A's view of it stays still
        job = (await client.get(f"/api/ai/jobs/{training.json()['id']}", headers=a)).json()
        if job["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.1)
    decision = await client.get("/api/ai/decision/AAPL", headers=a)
    assert decision.status_code == 200, decision.text
    api_key = _created(
        await client.post("/api/auth/api-keys", json={"portfolio_id": pid}, headers=a)
    )
    # A's key signs A's /v2 calls: A's view includes A's watchlists.
    a |= {"APCA-API-KEY-ID": api_key["key_id"], "APCA-API-SECRET-KEY": api_key["secret_key"]}
    watchlist = await client.post(
        "/v2/watchlists", json={"name": "A", "symbols": ["AAPL"]}, headers=a
    )
    assert watchlist.status_code == 200, watchlist.text

    ids = {
        "portfolio_id": {"portfolio": pid},
        "order_id": {
            "filled market order": filled["id"],
            "resting limit order": resting["id"],
            "bracket entry": bracket["id"],
            "bracket take-profit leg": legs["take_profit"],
            "bracket stop-loss leg": legs["stop_loss"],
        },
        "alert_id": {"alert": alert["id"]},
        "dataset_id": {"dataset": dataset["id"]},
        "backtest_id": {"backtest": backtest["id"], "optimization": optimization["id"]},
        "session_id": {
            "current session": a_user["session_id"],
            "other session": a_second["session_id"],
        },
        "client_order_id": {"resting limit order": resting["client_order_id"]},
        "job_id": {"training job": training.json()["id"]},
        "decision_id": {"decision": decision.json()["id"]},
        "entry_id": {"journal entry": entry["id"]},
        "api_key_id": {"api key": api_key["id"]},
        "watchlist_id": {"watchlist": watchlist.json()["id"]},
    }
    return World(client=client, app=app, owner=a, ids=ids)


@pytest.fixture(scope="module")
async def world(
    app_database_url: str, app_redis_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    # What make_api does, once for the module: nothing in the background moves A's data.
    settings = build_settings(
        app_database_url,
        app_redis_url,
        tmp_path_factory.mktemp("cross-user"),
        market_feed_enabled=False,
        paper_matching_enabled=False,
        risk_monitor_enabled=False,
        ai_history_days=1100,  # small models: A's decision trains them
        ai_min_train_bars=300,
        ai_folds=3,
        ai_gbm_trees=20,
        ai_lstm_epochs=2,
    )
    app = create_app(settings, clock=FixedClock(NOW))
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        world = await _populate(app, client)
        world.view = await world.snapshot()
        unreadable = {path: status for path, (status, _) in world.view.items() if status != 200}
        assert not unreadable, f"A cannot read its own resources: {unreadable}"
        yield world


# -- the tests ---------------------------------------------------------------------------------


def test_tables_against_the_route_table_have_no_stale_entries() -> None:
    keys = {e.key for e in ROUTE_TABLE}
    with_id_and_body = {e.key for e in ROUTE_TABLE if e.params and e.has_body}
    references = {(e.method, e.path, name) for e in ROUTE_TABLE for _where, name in e.references}
    assert set(EXCLUDED) <= keys, f"excluded routes that no longer exist: {set(EXCLUDED) - keys}"
    assert set(BODIES) <= with_id_and_body, f"bodies of no route: {set(BODIES) - with_id_and_body}"
    stale = (set(REFERENCES) | set(REFERENCES_EXCLUDED)) - references
    assert not stale, f"id fields that no route has any more: {stale}"


async def test_route_table_of_the_started_app_equals_the_collected_one(world: World) -> None:
    assert endpoints(world.app) == ROUTE_TABLE


@pytest.mark.parametrize("endpoint", PATH_ROUTES, ids=str)
async def test_path_with_another_users_id_answers_404_and_changes_nothing(
    world: World, endpoint: Endpoint
) -> None:
    unmapped = [name for name in endpoint.params if name not in ID_PARAMS]
    if unmapped:
        pytest.fail(
            f"{endpoint}: path parameter(s) {unmapped} name nothing user A owns here; add them "
            "to ID_PARAMS (and create one in _populate), or add the route to EXCLUDED with why",
            pytrace=False,
        )
    if endpoint.method not in _ORDER:
        pytest.fail(
            f"{endpoint}: not callable over HTTP; add it to EXCLUDED with why", pytrace=False
        )
    if endpoint.has_body and endpoint.key not in BODIES:
        pytest.fail(f"{endpoint}: takes a body; add a valid one to BODIES", pytrace=False)
    body = BODIES.get(endpoint.key)
    codes = sorted({ID_PARAMS[name] for name in endpoint.params})
    other = await world.stranger()

    async def call(values: Mapping[str, str]) -> httpx.Response:
        path = fill(endpoint.path, values)
        return await world.client.request(endpoint.method, path, json=body, headers=other)

    labelled = [list(world.ids[name].items()) for name in endpoint.params]
    world.require([value for pairs in labelled for _, value in pairs])
    problems = []
    for combination in itertools.product(*labelled):
        label = ", ".join(
            f"{name}={lbl}" for name, (lbl, _) in zip(endpoint.params, combination, strict=True)
        )
        theirs = await call({n: v for n, (_, v) in zip(endpoint.params, combination, strict=True)})
        unknown = await call({name: str(uuid.uuid4()) for name in endpoint.params})
        try:
            assert_not_found(theirs, codes)  # the lookup's own 404, not the router's
        except AssertionError:
            problems.append(f"A's {label}: expected 404 {' or '.join(codes)}, got {_shown(theirs)}")
        if (theirs.status_code, _error(theirs)) != (unknown.status_code, _error(unknown)):
            problems.append(
                f"A's {label} and a random id answer differently: "
                f"{_shown(theirs)} vs {_shown(unknown)}"
            )
    problems += await world.changes()
    assert not problems, f"{endpoint} as user B:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=" ".join)
async def test_query_or_body_with_another_users_id_reveals_nothing_and_changes_nothing(
    world: World, case: tuple[str, str, str]
) -> None:
    method, path, name = case
    reference = REFERENCES.get(case)
    if reference is None:
        pytest.fail(
            f"{method} {path} takes {name!r}: add to REFERENCES how B sends A's value (or to "
            "REFERENCES_EXCLUDED, with why)",
            pytrace=False,
        )
    other = await world.stranger()

    async def call(value: str) -> httpx.Response:
        request = world.resolve(dict(reference.base)) | {name: value}
        url = fill(path, PATH_VALUES)
        if reference.where == "query":
            return await world.client.request(method, url, params=request, headers=other)
        return await world.client.request(method, url, json=request, headers=other)

    world.require(list(world.ids[reference.kind].values()))
    problems = []
    for label, value in world.ids[reference.kind].items():
        theirs, unknown = await call(value), await call(str(uuid.uuid4()))
        if reference.not_found is not None:
            try:
                assert_not_found(theirs, [reference.not_found])
            except AssertionError:
                problems.append(
                    f"A's {label}: expected 404 {reference.not_found}, got {_shown(theirs)}"
                )
        same = theirs.status_code == unknown.status_code
        if same and (theirs.status_code >= 400 or method in ("GET", "DELETE")):
            same = _error(theirs) == _error(unknown)  # errors, and what reads/cancels list
        if not same:
            problems.append(
                f"A's {label} and a random value answer differently: "
                f"{_shown(theirs)} vs {_shown(unknown)}"
            )
    problems += await world.changes()
    assert not problems, f"{method} {path} with A's {name} as user B:\n  " + "\n  ".join(problems)
