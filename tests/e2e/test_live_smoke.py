"""Live smoke: the real server, its market feed publishing, answers every GET of its schema.

For each market state ``quantumtrade serve`` starts as a user starts it (settings from the
environment), on the backend the suite runs: SQLite with the in-process cache and bus by
default, PostgreSQL and Redis under ``QT_TEST_BACKEND=scale``.

- ``always_open``: ``MARKET_ALWAYS_OPEN=true``, equities trade around the clock.
- ``closed``: ``MARKET_ALWAYS_OPEN=false`` and ``MARKET_CLOCK_START`` on a Saturday: the US
  market is closed (checked), crypto trades around the clock.

A user signs in. A WebSocket client subscribes and waits for the feed's first ``price``
message, then the price endpoint is polled until it reflects the feed. The user creates what the
``{...}`` path parameters name: a portfolio, an order, an alert, an uploaded dataset and a
finished backtest (the session comes from signing in). Then every GET route of
``/openapi.json`` is called twice, a few seconds apart, ``{symbol}`` routes with ``AAPL`` and
``BTC/USD``. Before, between and after the two passes, ``/api/market/price/AAPL`` and
``/api/market/quotes?symbols=AAPL,MSFT`` are called again and checked against the response
schema that ``/openapi.json`` publishes.

No answer may be a 5xx and none may hang. A failure lists each such request with its body and
the traceback the server logged for it (matched by ``X-Request-ID``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from quantumtrade.marketdata.simulator.calendar import TradingCalendar
from support import (
    BACKEND,
    RUN_ID,
    STRONG_PASSWORD,
    bearer,
    create_pg_database,
    drop_pg_database,
    free_port,
    new_email,
)

# Routes with no answer for crypto (information_unavailable): no insider filings, no options.
NOT_FOR_CRYPTO = ("/api/insider/", "/api/options/")
# A portfolio made during the test existed on no closed session: its daily report answers 404
# by design (the system report of the same day is tested).
BEFORE_THE_PORTFOLIO = "/api/reports/"

jsonschema_rs: ModuleType | None
try:  # brought by schemathesis (a dev dependency); the key checks below run without it
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None

pytestmark = [pytest.mark.slow, pytest.mark.backend]

STARTUP_TIMEOUT_SECONDS = 120.0  # as the e2e server fixture
REQUEST_TIMEOUT_SECONDS = 20.0  # an answer slower than this counts as a hung request
FEED_TIMEOUT_SECONDS = 60.0  # bounds the waits on the feed; a healthy feed takes ~1 s
BACKTEST_TIMEOUT_SECONDS = 90.0
PAUSE_SECONDS = 3.0  # between the two passes over the routes
MARKET_CHECK_INTERVAL = 0.25

# Path parameter ``symbol``: a simulated equity and a crypto pair, its slash URL-encoded as the
# market router documents.
SYMBOLS = ("AAPL", "BTC%2FUSD")
QUOTE_SYMBOLS = "AAPL,MSFT"
CLOSED_MOMENT = "2026-11-21T17:00:00+00:00"  # a Saturday, 12:00 in New York

MARKET_STATES = {
    "always_open": {"MARKET_ALWAYS_OPEN": "true"},
    "closed": {"MARKET_ALWAYS_OPEN": "false", "MARKET_CLOCK_START": CLOSED_MOMENT},
}
# Variables of the outer environment the server must not inherit.
FOREIGN_PREFIXES = (
    "DB_",
    "DATABASE_",
    "REDIS_",
    "JWT_",
    "QT_",
    "ENVIRONMENT",
    "APP_ENV",
    "NODE_ENV",
    "MARKET_",
    "PAPER_",
    "LOG_",
    "RATE_LIMIT",
    "ALPACA_",
    "HOST",
    "PORT",
    "WORKERS",
    "DATA_DIR",
)


# --- the server process ------------------------------------------------------------------


@dataclass
class ServerLog:
    """The server's stdout and stderr, JSON lines (``LOG_JSON=true``) or plain text."""

    path: Path

    def entries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for line in self.path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            found.append(entry if isinstance(entry, dict) else {"event": line, "raw": True})
        return found

    def for_request(self, request_id: str) -> str:
        """Return what the server logged handling ``request_id``: its errors with their
        tracebacks, its access line, and a count of the other lines by logger."""
        shown: list[str] = []
        others: Counter[str] = Counter()
        for entry in self.entries():
            if entry.get("request_id") != request_id:
                continue
            if is_error(entry) or entry.get("event") == "request":
                shown.append(render(entry))
            else:
                others[f"{entry.get('level')} from {entry.get('logger')}"] += 1
        shown += [f"(and {n} {what} lines)" for what, n in others.items()]
        return "\n".join(shown)

    def errors(self) -> list[str]:
        """Return the error lines and tracebacks logged outside any request."""
        return [render(e) for e in self.entries() if "request_id" not in e and is_error(e)]

    def tail(self, chars: int = 4000) -> str:
        return self.path.read_text(errors="replace")[-chars:]


def is_error(entry: dict[str, Any]) -> bool:
    if entry.get("raw"):
        return "Traceback" in str(entry["event"])
    return entry.get("level") in ("error", "critical", "exception") or "exception" in entry


def render(entry: dict[str, Any]) -> str:
    if entry.get("raw"):
        return str(entry["event"])
    head = {k: v for k, v in entry.items() if k != "exception"}
    text = json.dumps(head, default=str)
    if "exception" in entry:
        text += "\n" + str(entry["exception"])
    return text


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: ServerLog

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_command() -> list[str]:
    """``.venv/bin/quantumtrade serve``, the documented command, from this interpreter's venv."""
    script = Path(sys.executable).with_name("quantumtrade")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "quantumtrade", "serve"]


@contextlib.asynccontextmanager
async def running_server(env: dict[str, str], workdir: Path) -> AsyncIterator[Server]:
    """Start the server on a free port in ``workdir``; stop it (SIGTERM) at the end."""
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command(),
            cwd=workdir,  # no stray .env file is read
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=log,
        )
    server = Server(process, port, ServerLog(log_path))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as http:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"server exited with {process.returncode}:\n{server.log.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"server did not become healthy:\n{server.log.tail()}")
                await asyncio.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
async def backend_env(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """Environment variables selecting the suite's backend, with a fresh database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    env.update(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "ENVIRONMENT": "development",
            "AUTO_MIGRATE": "true",
            "BCRYPT_ROUNDS": "4",
            "RATE_LIMIT_MAX": "1000000",  # the limiter stays in the path, but never refuses
            "LOG_JSON": "true",
            "LOG_LEVEL": "info",
        }
    )
    if BACKEND != "scale":
        yield env
        return
    admin_url = str(request.getfixturevalue("postgres_admin_url"))
    redis_url = str(request.getfixturevalue("redis_url"))
    name = f"qt_test_{RUN_ID}_smoke_{secrets.token_hex(3)}"
    database_url = await create_pg_database(admin_url, name)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": f"qt-test:{RUN_ID}:{secrets.token_hex(4)}:",
        }
    )
    try:
        yield env
    finally:
        await drop_pg_database(admin_url, name)


# --- requests, recorded ------------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    status: int | None  # None: no answer (timed out, or the connection failed)
    body: str
    request_id: str
    seconds: float


@dataclass
class Recorder:
    """Sends every request with its own ``X-Request-ID`` and keeps what came back."""

    http: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)

    async def call(
        self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        request_id = f"smoke-{RUN_ID}-{len(self.calls) + 1:04d}"
        url = f"{path}?{urlencode(params)}" if params else path
        headers = {"X-Request-ID": request_id}
        started = time.monotonic()
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            seconds = time.monotonic() - started
            what = "no answer" if isinstance(exc, httpx.TimeoutException) else "failed"
            body = f"{what} after {seconds:.1f}s: {type(exc).__name__}: {exc}"
            self.calls.append(Call(method, url, None, body, request_id, seconds))
            return None
        seconds = time.monotonic() - started
        self.calls.append(
            Call(method, url, response.status_code, response.text[:800], request_id, seconds)
        )
        return response

    async def json(
        self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> Any:
        """Send a request the test builds on; fail at once unless it answers ``expect``."""
        response = await self.call(method, path, **kwargs)
        assert response is not None, self.calls[-1].body
        assert response.status_code in expect, f"{method} {path}: {response.text}"
        return response.json()

    def bad(self) -> list[Call]:
        return [c for c in self.calls if c.status is None or c.status >= 500]


# --- the feed, watched over the WebSocket ------------------------------------------------


class FeedWatcher:
    """Reads ``/ws`` in the background and keeps the ``price`` messages per symbol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.prices: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.closed: str | None = None
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                if message.get("type") == "price":
                    self.prices[message["symbol"]].append(message)
                    self._arrived.set()
        except websockets.ConnectionClosed as exc:
            self.closed = f"closed: {exc}"
        else:
            self.closed = "closed by the server"
        finally:
            self._arrived.set()

    async def next_price(self, symbol: str, after: int = 0) -> dict[str, Any]:
        """Return the first ``price`` message of ``symbol`` past the first ``after`` of them."""
        deadline = time.monotonic() + FEED_TIMEOUT_SECONDS
        while True:
            self._arrived.clear()
            if len(self.prices[symbol]) > after:
                return self.prices[symbol][after]
            assert self.closed is None, f"the WebSocket {self.closed}"
            left = deadline - time.monotonic()
            if left <= 0:
                seen = {s: len(m) for s, m in self.prices.items()}
                pytest.fail(
                    f"no price message of {symbol} in {FEED_TIMEOUT_SECONDS:.0f}s (seen: {seen})"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.ws.close()


# --- the published schema ----------------------------------------------------------------


def response_schema(spec: dict[str, Any], template: str) -> dict[str, Any]:
    operation = spec["paths"][template]["get"]
    schema: dict[str, Any] = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def shape_problems(
    spec: dict[str, Any], schema: dict[str, Any], body: Any, where: str
) -> list[str]:
    """Return how ``body`` departs from ``schema``: missing or undocumented keys, nested too."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    problems: list[str] = []
    if "properties" in schema:
        if not isinstance(body, dict):
            return [f"{where}: expected an object, got {body!r:.200}"]
        documented = set(schema["properties"])
        missing = sorted(set(schema.get("required", ())) - set(body))
        extra = sorted(set(body) - documented)
        if missing:
            problems.append(f"{where}: missing {missing}")
        if extra:
            problems.append(f"{where}: undocumented {extra}")
        for key in documented & set(body):
            problems += shape_problems(spec, schema["properties"][key], body[key], f"{where}.{key}")
    elif schema.get("type") == "array" and "items" in schema:
        if not isinstance(body, list):
            return [f"{where}: expected an array, got {body!r:.200}"]
        for i, item in enumerate(body):
            problems += shape_problems(spec, schema["items"], item, f"{where}[{i}]")
    return problems


def schema_problems(spec: dict[str, Any], template: str, body: Any) -> list[str]:
    """Check ``body`` against the 200 response schema ``/openapi.json`` gives ``template``."""
    schema = response_schema(spec, template)
    problems = shape_problems(spec, schema, body, "body")
    if jsonschema_rs is not None:
        root = {"components": spec["components"], **schema}
        problems += [
            f"body{'.'.join(['', *map(str, e.instance_path)])}: {e.message}"
            for e in jsonschema_rs.validator_for(root).iter_errors(body)
        ]
    return problems


# --- filling the routes ------------------------------------------------------------------


def bars_csv(days: int = 60) -> bytes:
    """A tiny daily bar file, as a user would upload it."""
    lines = ["timestamp,open,high,low,close,volume"]
    start = date(2024, 1, 2)
    for i in range(days):
        close = 100 + 10 * ((i % 20) - 10) / 10
        day = start + timedelta(days=i)
        lines.append(f"{day.isoformat()},{close - 0.5},{close + 1},{close - 1},{close},{1000 + i}")
    return ("\n".join(lines) + "\n").encode()


async def create_resources(client: Recorder, session_id: str) -> dict[str, str]:
    """Create one of everything a path parameter names; return the values by parameter name."""
    portfolio = await client.json(
        "POST", "/api/portfolios", (201,), json={"name": "smoke", "starting_cash": "1000000"}
    )
    client_order_id = f"smoke-{secrets.token_hex(4)}"
    order = await client.json(
        "POST",
        "/api/orders",
        (201,),
        json={
            "symbol": "AAPL",
            "side": "buy",
            "type": "market",
            "qty": "1",
            "portfolio_id": portfolio["id"],
            "client_order_id": client_order_id,
        },
    )
    alert = await client.json(
        "POST",
        "/api/alerts",
        (201,),
        json={"symbol": "AAPL", "kind": "price_above", "condition": {"price": 1_000_000}},
    )
    dataset = await client.json(
        "POST",
        "/api/backtest/datasets",
        (201,),
        files={"file": ("smoke.csv", bars_csv(), "text/csv")},
        data={"symbol": "SMOKE", "name": "smoke"},
    )
    accepted = await client.json(
        "POST",
        "/api/backtest",
        (202,),
        json={
            "strategy": "sma_crossover",
            "symbol": "AAPL",
            "start": "2024-01-01T00:00:00Z",
            "end": "2024-07-01T00:00:00Z",
            "timeframe": "1Day",
            "params": {"fast": 5, "slow": 20},
        },
    )
    deadline = time.monotonic() + BACKTEST_TIMEOUT_SECONDS
    while True:
        run = await client.json("GET", f"/api/backtest/{accepted['id']}")
        if run["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, f"backtest still {run['status']}: {run}"
        await asyncio.sleep(0.2)
    assert run["status"] == "completed", run
    training = await client.json(
        "POST", "/api/ai/models/train", (202,), json={"symbol": "AAPL", "models": ["drift"]}
    )
    while True:
        job = await client.json("GET", f"/api/ai/jobs/{training['id']}")
        if job["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline + BACKTEST_TIMEOUT_SECONDS, f"training: {job}"
        await asyncio.sleep(0.2)
    assert job["status"] == "completed", job
    # Crypto trades around the clock: a fill, and so a journal entry, with the market closed too.
    await client.json(
        "POST",
        "/api/orders",
        (201,),
        json={
            "symbol": "BTC/USD",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "qty": "0.01",
            "portfolio_id": portfolio["id"],
        },
    )
    journal = await client.json(
        "GET", "/api/journal/entries", params={"portfolio_id": portfolio["id"]}
    )
    assert journal["items"], journal
    # The Alpaca-compatible routes (/v2) authenticate with a key pair bound to the portfolio.
    key = await client.json(
        "POST", "/api/auth/api-keys", (201,), json={"portfolio_id": portfolio["id"]}
    )
    client.http.headers.update(
        {"APCA-API-KEY-ID": key["key_id"], "APCA-API-SECRET-KEY": key["secret_key"]}
    )
    watchlist = await client.json(
        "POST", "/v2/watchlists", json={"name": "smoke", "symbols": ["AAPL", "BTCUSD"]}
    )
    return {
        "portfolio_id": portfolio["id"],
        "order_id": order["id"],
        "client_order_id": client_order_id,
        "alert_id": alert["id"],
        "dataset_id": dataset["id"],
        "backtest_id": accepted["id"],
        "session_id": session_id,
        "symbols": QUOTE_SYMBOLS,
        "timeframe": "1Min",  # the Alpaca-compatible data API's bars (/data/...)
        "job_id": job["id"],
        "model_id": job["result"]["models"][0]["id"],
        "entry_id": journal["items"][0]["id"],
        # The crypto buy above fills with the market open or closed: a position and a FILL.
        "symbol_or_asset_id": "BTCUSD",
        "activity_type": "FILL",
        "watchlist_id": watchlist["id"],
        "name": watchlist["name"],
    }


def last_closed_day(now: str, always_open: bool) -> str:
    """The latest exchange session closed by the server's ``now``, as the reports name it."""
    moment = datetime.fromisoformat(now)
    calendar = TradingCalendar(always_open=always_open)
    end = moment.astimezone(ZoneInfo("America/New_York")).date()
    sessions = calendar.sessions("us_equity", end - timedelta(days=10), end)
    closed = [
        day
        for day, close in zip(sessions.index, sessions["close"], strict=True)
        if close.to_pydatetime() <= moment
    ]
    return str(closed[-1].date())


def planned_gets(
    spec: dict[str, Any], values: dict[str, str]
) -> tuple[list[tuple[str, str, dict[str, str]]], list[str]]:
    """Return (route, path, required query) for every GET of the schema, and what cannot be filled.

    ``{symbol}`` routes are called once per symbol of :data:`SYMBOLS`; other path parameters and
    required query parameters take the value of the same name.
    """
    planned: list[tuple[str, str, dict[str, str]]] = []
    unfilled: list[str] = []
    for template, operations in sorted(spec["paths"].items()):
        operation = operations.get("get")
        if operation is None:
            continue
        query: dict[str, str] = {}
        for parameter in operation.get("parameters", ()):
            name = parameter["name"]
            if parameter["in"] == "query" and parameter.get("required"):
                if name in values:
                    query[name] = values[name]
                else:
                    unfilled.append(f"GET {template}: query parameter {name}")
            elif parameter["in"] == "header" and parameter.get("required"):
                unfilled.append(f"GET {template}: header {name}")
        paths = [template]
        for name in re.findall(r"{([^}]+)}", template):
            choices = SYMBOLS if name == "symbol" else (values[name],) if name in values else ()
            if not choices:
                unfilled.append(f"GET {template}: path parameter {name}")
            paths = [p.replace(f"{{{name}}}", choice) for p in paths for choice in choices]
        planned += [(template, path, query) for path in paths]
    return planned, unfilled


# --- the test ----------------------------------------------------------------------------


@dataclass
class MarketChecks:
    """Repeated price and quotes calls while the feed runs, checked against the schema."""

    client: Recorder
    spec: dict[str, Any]
    done: int = 0
    problems: list[str] = field(default_factory=list)

    async def once(self) -> None:
        for template, path, params, symbols in (
            ("/api/market/price/{symbol}", "/api/market/price/AAPL", None, ["AAPL"]),
            ("/api/market/quotes", "/api/market/quotes", {"symbols": QUOTE_SYMBOLS}, None),
        ):
            response = await self.client.call("GET", path, params)
            if response is None or response.status_code >= 500:
                continue  # reported with every other 5xx and hung request
            where = f"GET {self.client.calls[-1].url}"
            if response.status_code != 200:
                self.problems.append(f"{where} -> {response.status_code}: {response.text:.300}")
                continue
            body = response.json()
            self.problems += [f"{where}: {p}" for p in schema_problems(self.spec, template, body)]
            if symbols is None:
                symbols = QUOTE_SYMBOLS.split(",")
                got = [q.get("symbol") for q in body.get("quotes", ())]
            else:
                got = [body.get("symbol")]
            if got != symbols:
                self.problems.append(f"{where}: symbols {got}, expected {symbols}")
        self.done += 1

    async def during(self, seconds: float) -> None:
        """Call both routes every MARKET_CHECK_INTERVAL for ``seconds``."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            await self.once()
            await asyncio.sleep(MARKET_CHECK_INTERVAL)


def failure_report(failures: list[Call], log: ServerLog) -> str:
    """Each failing request once, with how often it failed and what the server logged."""
    groups: dict[tuple[str, str, int | None], list[Call]] = defaultdict(list)
    for call in failures:
        groups[(call.method, call.url, call.status)].append(call)
    parts = []
    for (method, url, status), calls in groups.items():
        first = calls[0]
        parts.append(
            f"{method} {url} -> {status or 'NO ANSWER'} ({len(calls)}x, first in "
            f"{first.seconds:.2f}s): {first.body}\n  server log for {first.request_id}:\n"
            + (log.for_request(first.request_id) or "  (nothing logged)")
        )
    return "\n\n".join(parts)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def price_reflects(client: Recorder, message: dict[str, Any]) -> None:
    """Poll the price endpoint until its last trade is at least as recent as ``message``'s."""
    path = "/api/market/price/" + message["symbol"].replace("/", "%2F")
    deadline = time.monotonic() + FEED_TIMEOUT_SECONDS
    while True:
        response = await client.call("GET", path)
        if response is None or response.status_code >= 500:
            return  # reported at the end with every other 5xx and hung request
        assert response.status_code == 200, response.text
        if parse_time(response.json()["timestamp"]) >= parse_time(message["timestamp"]):
            return
        assert time.monotonic() < deadline, (
            f"GET {path} never caught up with the feed's trade at {message['timestamp']}: "
            f"{response.text}"
        )
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("market", list(MARKET_STATES))
async def test_every_get_route_answers_without_5xx_while_the_feed_runs(
    market: str, backend_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**backend_env, **MARKET_STATES[market]}
    started = time.monotonic()
    async with (
        running_server(env, tmp_path) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT_SECONDS) as http,
    ):
        client = Recorder(http)
        email = new_email()
        await client.json(
            "POST",
            "/api/auth/register",
            (201,),
            json={"email": email, "password": STRONG_PASSWORD},
        )
        tokens = await client.json(
            "POST", "/api/auth/login", json={"email": email, "password": STRONG_PASSWORD}
        )
        http.headers.update(bearer(tokens["access_token"]))
        spec = await client.json("GET", "/openapi.json")
        clock = await client.json("GET", "/api/market/clock")
        if market == "always_open":
            assert clock["is_open"] is True, clock
        if market == "closed":
            assert clock["is_open"] is False, clock
        # The symbol whose trades prove the feed runs: AAPL while equities trade, else BTC/USD.
        watched = "AAPL" if clock["is_open"] else "BTC/USD"

        ws = await websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws?token={tokens['access_token']}",
            open_timeout=REQUEST_TIMEOUT_SECONDS,
        )
        feed = FeedWatcher(ws)
        try:
            await ws.send(
                json.dumps(
                    {"type": "subscribe", "symbols": ["AAPL", "BTC/USD"], "channels": ["trades"]}
                )
            )
            await price_reflects(client, await feed.next_price(watched))

            sessions = await client.json("GET", "/api/auth/sessions")
            values = await create_resources(client, sessions[0]["id"])
            values["day"] = last_closed_day(clock["timestamp"], market == "always_open")
            planned, unfilled = planned_gets(spec, values)
            assert not unfilled, "routes the test cannot fill:\n" + "\n".join(unfilled)

            checks = MarketChecks(client, spec)
            await checks.once()
            seen_before = len(feed.prices[watched])
            passes: list[dict[str, int | None]] = []
            for round_ in (1, 2):
                statuses: dict[str, int | None] = {}
                for _template, path, query in planned:
                    response = await client.call("GET", path, query)
                    statuses[client.calls[-1].url] = (
                        None if response is None else response.status_code
                    )
                passes.append(statuses)
                if round_ == 1:
                    await checks.during(PAUSE_SECONDS)  # "a few seconds apart"
            await checks.once()
            # The feed kept publishing through both passes.
            await feed.next_price(watched, after=seen_before)
            ws_state = feed.closed
        finally:
            await feed.stop()

        elapsed = time.monotonic() - started
        failures = client.bad()
        slowest = sorted(client.calls, key=lambda c: c.seconds, reverse=True)[:3]
        print(
            f"\nlive smoke [{market}, {BACKEND}]: market open={clock['is_open']} "
            f"(clock {clock['timestamp']}), {len(planned)} GET routes x 2 passes, "
            f"{checks.done} price/quotes checks, {len(client.calls)} requests, "
            f"{len(failures)} 5xx or hung, {elapsed:.1f}s; slowest: "
            + ", ".join(f"{c.method} {c.url} {c.seconds:.2f}s" for c in slowest)
        )
        refused = sorted(
            {f"GET {url} -> {s}" for p in passes for url, s in p.items() if s and 300 <= s < 500}
        )
        if refused:
            print("  4xx answers (not failures):\n    " + "\n    ".join(refused))
        background = server.log.errors()
        if background:
            print("  errors the server logged outside requests:\n" + "\n".join(background))

        assert not failures, (
            f"{len(failures)} of {len(client.calls)} requests answered 5xx or hung "
            f"[{market}, {BACKEND}]:\n\n" + failure_report(failures, server.log)
        )
        # A 404 means the test filled a parameter the API does not know: the route went untested.
        # Crypto has no Form 4 filings or listed options: those answer 404 by design, and the
        # same routes are tested with AAPL.
        missing = sorted(
            {
                u
                for p in passes
                for u, status in p.items()
                if status == 404
                and not (u.startswith(NOT_FOR_CRYPTO) and "BTC" in u)
                and not u.startswith(BEFORE_THE_PORTFOLIO)
            }
        )
        assert not missing, "GETs answered 404:\n" + "\n".join(missing)
        assert not checks.problems, "price/quotes answers off the schema:\n" + "\n".join(
            checks.problems
        )
        assert ws_state is None, f"the WebSocket {ws_state}"
