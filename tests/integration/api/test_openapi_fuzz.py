"""Schemathesis over the app's own OpenAPI: every operation, signed in, in process.

The schema the app publishes is a contract, and this test holds the app to it. For generated
requests (the schema's examples, boundary and invalid values from the coverage phase, random
ones, and stateful sequences that reuse what an answer returned) no answer is a 5xx, every
status code is one the operation declares (a business-rule 422, a risk 403 is a declared
refusal), every body matches the schema of its status and content type, a method a path does
not have is a 405 with the right ``Allow``, invalid input is refused and valid input accepted.
Every check schemathesis has is on (the response-time limit aside: timing is for benchmarks);
the one expectation changed is explained at ``RULES_ANSWERED_400``.

The run is bounded and deterministic: ``QT_FUZZ_EXAMPLES`` generated cases per operation and
phase (default 25, about a minute on two cores), a fixed seed (``QT_FUZZ_SEED``), no example
database; set ``QT_FUZZ_EXAMPLES=500`` for a longer search. A failure is reported once per
operation, check and kind, with a curl command that reproduces it and the answer it got (``-s``
also prints the status codes each operation answered).

The app is ``make_api``'s (SQLite, or PostgreSQL and Redis with ``QT_TEST_BACKEND=scale``), on
the test's event loop. Schemathesis is synchronous: it runs in a worker thread and sends through
its own ASGI client, and ``LoopBridge`` carries each request over to the test's loop.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from schemathesis.core.failures import Failure
from schemathesis.engine import events
from schemathesis.engine.recorder import CheckFailureInfo, ScenarioRecorder
from schemathesis.engine.run import PhaseName
from schemathesis.openapi.checks import RejectedPositiveData

from quantumtrade.db.models import User
from support import bearer, register

from .conftest import AppFactory

EXAMPLES = int(os.environ.get("QT_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("QT_FUZZ_SEED", "20261118"))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


class LoopBridge:
    """An ASGI app on schemathesis's event loop that serves each request on another loop.

    The request body is read whole, the app answers on ``loop`` (where its database engine,
    cache and background jobs live), and the answer's messages are replayed to the caller. The
    lifespan is not forwarded: whoever runs the app on ``loop`` runs its lifespan too.
    """

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        served = asyncio.run_coroutine_threadsafe(self._serve(dict(scope), bytes(body)), self.loop)
        for message in await asyncio.wrap_future(served):
            await send(message)

    async def _serve(self, scope: Scope, body: bytes) -> list[Message]:
        sent: list[Message] = []
        complete = asyncio.Event()
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                await complete.wait()
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                complete.set()

        await self.app(scope, receive, send)
        return sent


@dataclass
class Finding:
    """One distinct failure (operation, check, kind) and the first request that showed it."""

    operation: str
    check: str
    title: str
    message: str
    curl: str
    answer: str
    count: int = 1

    def render(self) -> list[str]:
        lines = [f"  [{self.check}] {self.title} (x{self.count})"]
        lines += [f"      {line}" for line in self.message.strip().splitlines()[:8]]
        lines += [f"      {line}" for line in self.curl.splitlines()[:3]]
        lines.append(f"      -> {self.answer}")
        return lines


def error_code(response: schemathesis.Response | None) -> str:
    """``status code`` of an answer, as the uniform error body names it (failures differ by it)."""
    if response is None:
        return "(no answer)"
    try:
        code = response.json()["error"]["code"]
    except Exception:  # not the error body: the status alone
        code = ""
    return f"{response.status_code} {code}".strip()


@dataclass
class Report:
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    # One per operation, check and kind of failure (its title, the status and error code).
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        if event.phase is not PhaseName.STATEFUL_TESTING:
            self.operations.add(recorder.label)
        self.requests += len(recorder.interactions)
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[recorder.label][interaction.response.status_code] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is not None:
                    self._found(recorder, case_id, check.name, check.failure_info)

    def _found(
        self, recorder: ScenarioRecorder, case_id: str, check: str, info: CheckFailureInfo
    ) -> None:
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        key = (recorder.label, check, f"{info.failure.title} {error_code(response)}")
        if key in self.findings:
            self.findings[key].count += 1
            return
        self.findings[key] = Finding(
            operation=recorder.label,
            check=check,
            title=info.failure.title,
            message=info.failure.message,
            curl=info.code_sample,
            answer="(none)"
            if response is None
            else f"{response.status_code} {response.content[:300]!r}",
        )

    def failures(self) -> str:
        by_operation: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings.values():
            by_operation[finding.operation].append(finding)
        lines = [f"{len(self.findings)} distinct failures in {len(by_operation)} operations"]
        for operation in sorted(by_operation):
            lines.append(f"\n== {operation}")
            for finding in sorted(by_operation[operation], key=lambda f: (f.check, f.title)):
                lines += finding.render()
        lines += [f"\n!! {error}" for error in self.errors]
        return "\n".join(lines)

    def answered(self) -> str:
        return "\n".join(
            f"  {label}: {dict(sorted(counts.items()))}"
            for label, counts in sorted(self.statuses.items())
        )


# Operations that end sessions: each request gets a fresh session of a second user, so that
# a successful logout or session revocation never signs the fuzzer out of the rest of the run.
SESSION_ENDING = frozenset(
    {
        "POST /api/auth/logout",
        "DELETE /api/auth/sessions/{session_id}",
        "POST /api/auth/password",
        "POST /api/auth/password-reset/confirm",
    }
)


@dataclass
class Seeded:
    """What the fuzzer signs in as, and real ids for it to use."""

    token: str
    login: Callable[[], str]
    ids: dict[str, list[str]]


def bind_auth(schema: Any, seeded: Seeded) -> None:
    """Sign every request in (``ignored_auth`` still sends some without)."""

    class Session:
        def get(self, case: schemathesis.Case[Any], _ctx: schemathesis.AuthContext) -> str:
            if case.operation.label in SESSION_ENDING:
                return seeded.login()
            return seeded.token

        def set(
            self, case: schemathesis.Case[Any], token: str, _ctx: schemathesis.AuthContext
        ) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

    schema.auth(refresh_interval=None, retry_on=[])(Session)


# Decisions train each symbol's models on first use: tiny ones keep the fuzzing quick.
SMALL_AI_MODELS = {
    "ai_history_days": 1100,
    "ai_min_train_bars": 300,
    "ai_folds": 3,
    "ai_gbm_trees": 20,
    "ai_lstm_epochs": 2,
}


# Real ids, drawn for a parameter of the name most of the time; the rest are generated.
ID_PARAMETERS = {
    "portfolio_id": ("path", "query", "body"),
    "order_id": ("path",),
    "alert_id": ("path",),
    "backtest_id": ("path",),
    "dataset_id": ("path", "body"),
    "session_id": ("path",),
    "client_order_id": ("query",),
    "symbol": ("path", "body"),
}


# A request the schema accepts may still break a rule the schema cannot state (an order type's
# prices, a symbol the market knows, a risk limit): the API answers it with a declared 422 or
# 403, not a failure of ``positive_data_acceptance``. A 400 for such a request means a bound the
# schema left out, and fails, except for the rules below, which answer 400 by design and which
# no schema can state: a password's strength or correctness, an opaque token, a cross-field
# rule, the span of the market's data, a timeframe's spellings.
ACCEPTED: list[str | int] = ["2xx", "3xx", 401, 403, 404, 409, 422, 429]
RULES_ANSWERED_400 = {
    "POST /api/auth/register": {"weak_password"},
    "POST /api/auth/password": {"weak_password", "invalid_current_password", "password_unchanged"},
    "POST /api/auth/password-reset/confirm": {"weak_password", "invalid_reset_token"},
    "POST /api/risk/limits/{portfolio_id}": {"invalid_risk_limits"},  # both automatic stops
    "GET /api/market/history/{symbol}": {
        "invalid_timeframe",
        "invalid_page_token",
        "invalid_range",
        "out_of_range",
    },
    "GET /api/regime/{symbol}/history": {"invalid_range", "out_of_range"},
}


def filter_failure(
    _context: schemathesis.HookContext,
    failure: Failure,
    case: schemathesis.Case[Any],
    response: schemathesis.Response,
) -> bool:
    """Keep every failure but a by-design 400 (see ``RULES_ANSWERED_400``) for valid data."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    code = error_code(response).removeprefix("400 ")
    return code not in RULES_ANSWERED_400.get(case.operation.label, set())


def build_config(seeded: Seeded) -> schemathesis.Config:
    """Every phase and every check (negative-data rejection included: it holds here)."""
    parameters: dict[str, Any] = {}
    for name, locations in ID_PARAMETERS.items():
        for location in locations:
            parameters[f"{location}.{name}"] = {"dictionary": name, "probability": 0.75}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Contracts, not latency (benchmarks measure that): a cold market-wide view
            # (GET /api/sentiment/market reads the whole universe, 2.5 s on an idle machine)
            # ran past the default 10 s with both cores oversubscribed.
            "request-timeout": 60,
            "generation": {
                "mode": "all",  # valid and invalid requests
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"max-steps": 10}},
            # Report every distinct failure of an operation, not only its first.
            "continue-on-failure": True,
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
            "dictionaries": {name: {"values": values} for name, values in seeded.ids.items()},
            "parameters": parameters,
        }
    )


def run_schemathesis(bridge: LoopBridge, seeded: Seeded) -> Report:
    report = Report()
    schema = schemathesis.openapi.from_asgi("/openapi.json", bridge, config=build_config(seeded))
    bind_auth(schema, seeded)
    schema.hook(filter_failure)
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.add(event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.title}: {event.value!r}"[:2000])
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    return report


@pytest.mark.slow
async def test_every_operation_keeps_its_contract(make_api: AppFactory) -> None:
    async with make_api(
        paper_matching_enabled=False, risk_monitor_enabled=False, **SMALL_AI_MODELS
    ) as (
        app,
        client,
    ):
        seeded = await seed(client, asyncio.get_running_loop())
        await make_admin(app, client, seeded.token)
        bridge = LoopBridge(app, asyncio.get_running_loop())
        started = time.monotonic()
        report = await asyncio.to_thread(run_schemathesis, bridge, seeded)
        elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {len(report.operations)} operations, {EXAMPLES} examples each,"
        f" {report.requests} requests in {elapsed:.0f} s; answers:\n{report.answered()}"
    )
    assert not report.findings and not report.errors, report.failures()


async def make_admin(app: Any, client: httpx.AsyncClient, token: str) -> None:
    """Give the fuzzer's user the admin role: the admin routes answer past their 403."""
    me = (await client.get("/api/auth/me", headers=bearer(token))).json()
    async with app.state.container.session_factory() as db, db.begin():
        await db.execute(sa.update(User).where(User.id == uuid.UUID(me["id"])).values(role="admin"))


BARS_CSV = "timestamp,open,high,low,close,volume\n" + "\n".join(
    f"2024-01-{day:02d}T00:00:00Z,{100 + day},{101 + day},{99 + day},{100.5 + day},{1000 * day}"
    for day in range(1, 29)
)


async def seed(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> Seeded:
    """Register the fuzzer's user and give it one of everything."""
    user = await register(client)
    auth = bearer(user["access_token"])

    async def ok(response: Awaitable[httpx.Response], status: int) -> Any:
        answer = await response
        assert answer.status_code == status, answer.text
        return answer.json()

    margin = await ok(
        client.post(
            "/api/portfolios",
            json={"name": "Margin", "margin_multiplier": 2, "shorting_enabled": True},
            headers=auth,
        ),
        201,
    )
    bought = await ok(
        client.post(
            "/api/orders",
            json={"symbol": "AAPL", "side": "buy", "type": "market", "qty": "3"},
            headers=auth,
        ),
        201,
    )
    resting = await ok(
        client.post(
            "/api/orders",
            json={
                "symbol": "MSFT",
                "side": "buy",
                "type": "limit",
                "limit_price": "50.00",
                "qty": "1",
                "time_in_force": "gtc",
                "client_order_id": "fuzz-resting",
            },
            headers=auth,
        ),
        201,
    )
    portfolios = await ok(client.get("/api/portfolios", headers=auth), 200)
    alert = await ok(
        client.post(
            "/api/alerts",
            json={"symbol": "AAPL", "kind": "price_above", "condition": {"price": 500}},
            headers=auth,
        ),
        201,
    )
    dataset = await ok(
        client.post(
            "/api/backtest/datasets",
            files={"file": ("bars.csv", BARS_CSV.encode(), "text/csv")},
            data={"symbol": "FUZZ"},
            headers=auth,
        ),
        201,
    )
    backtest = await ok(
        client.post(
            "/api/backtest",
            json={
                "strategy": "sma_crossover",
                "symbol": "AAPL",
                "start": "2024-01-01T00:00:00Z",
                "end": "2024-06-01T00:00:00Z",
                "params": {"fast": 5, "slow": 20},
            },
            headers=auth,
        ),
        202,
    )
    deadline = time.monotonic() + 60
    while (await ok(client.get(f"/api/backtest/{backtest['id']}", headers=auth), 200))[
        "status"
    ] not in ("completed", "failed"):
        assert time.monotonic() < deadline, "the seed backtest did not finish"
        await asyncio.sleep(0.05)

    # A second user: a session to revoke, and fresh sessions for the operations that end one.
    other = await register(client)
    credentials = {"email": other["user"]["email"], "password": other["password"]}
    spare = await ok(client.post("/api/auth/login", json=credentials), 200)

    def login() -> str:
        answer = asyncio.run_coroutine_threadsafe(
            ok(client.post("/api/auth/login", json=credentials), 200), loop
        ).result()
        token: str = answer["access_token"]
        return token

    return Seeded(
        token=user["access_token"],
        login=login,
        ids={
            "portfolio_id": [portfolios[0]["id"], margin["id"]],
            "order_id": [bought["id"], resting["id"]],
            "client_order_id": [resting["client_order_id"]],
            "alert_id": [alert["id"]],
            "backtest_id": [backtest["id"]],
            "dataset_id": [dataset["id"]],
            "session_id": [spare["session_id"]],
            "symbol": ["AAPL", "MSFT", "SPY", "BTCUSD"],
        },
    )
