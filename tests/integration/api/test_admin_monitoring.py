"""Monitoring: crashes land in ``system_logs``, admins read and group them, ``/api/stats``.

The error sink writes in batches in the background: each test flushes it and polls the API,
within a bound, instead of sleeping.
"""

from __future__ import annotations

import logging
import random
import re
import string
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from quantumtrade.api.schemas.admin import ErrorGroupsOut, LogPage
from quantumtrade.db.models import User
from quantumtrade.infra.logging import configure_logging
from support import assert_error, bearer, register, wait_until

from .conftest import AppFactory
from .test_response_schemas import conforms

FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


@dataclass
class Monitored:
    app: FastAPI
    api: httpx.AsyncClient
    admin: dict[str, str]
    user: dict[str, str]
    tag: str  # unique to the test: its failures group apart from every other test's
    started: datetime

    async def flush(self) -> None:
        container = self.app.state.container
        await self.app.state.system_log_sink.flush(container.session_factory)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.api.get(path, params=params, headers=self.admin)

    async def logs_of(self, request_id: str, expected: int = 1) -> list[dict[str, Any]]:
        """The stored records of one request, once ``expected`` of them are there."""
        found: list[dict[str, Any]] = []

        async def stored() -> bool:
            nonlocal found
            await self.flush()
            response = await self.get("/api/admin/logs", request_id=request_id)
            assert response.status_code == 200, response.text
            found = response.json()["items"]
            return len(found) >= expected

        await wait_until(stored, timeout=15, message=f"{expected} records of {request_id}")
        return found


async def promote_to_admin(app: FastAPI, user_id: str) -> None:
    """What ``quantumtrade create-user --admin`` gives: the admin role."""
    async with app.state.container.session_factory() as db, db.begin():
        await db.execute(sa.update(User).where(User.id == uuid.UUID(user_id)).values(role="admin"))


@pytest.fixture
async def monitored(make_api: AppFactory) -> AsyncIterator[Monitored]:
    async with make_api() as (app, api):
        configure_logging(app.state.container.settings)  # as the server entry points do
        tag = "".join(random.choices(string.ascii_lowercase, k=12))

        @app.get("/api/test-monitoring/crash/{n}")
        async def crash(n: int) -> None:
            raise ValueError(f"order {n} of {tag} has no price")

        @app.get("/api/test-monitoring/other")
        async def other() -> None:
            raise LookupError(f"{tag} ledger missing")

        @app.get("/api/test-monitoring/three-errors")
        async def three_errors() -> dict[str, str]:
            for n in range(3):
                logging.getLogger("quantumtrade.test.monitoring").error("%s error %d", tag, n)
            return {"status": "logged"}

        admin = await register(api)
        await promote_to_admin(app, admin["user"]["id"])
        user = await register(api)
        yield Monitored(
            app,
            api,
            bearer(admin["access_token"]),
            bearer(user["access_token"]),
            tag,
            datetime.now(UTC) - timedelta(seconds=1),
        )


async def test_a_crash_is_stored_with_its_request_id_stack_and_fingerprint(
    monitored: Monitored,
) -> None:
    m = monitored
    response = await m.api.get("/api/test-monitoring/crash/7")
    error = assert_error(response, 500, "internal_error")
    request_id = response.headers["x-request-id"]
    assert error["request_id"] == request_id

    [record] = await m.logs_of(request_id)
    assert record["level"] == "error"
    assert record["request_id"] == request_id
    assert FINGERPRINT.match(record["fingerprint"])
    context = record["context"]
    assert context["fingerprint"] == record["fingerprint"]
    assert context["method"] == "GET"
    assert context["path"] == "/api/test-monitoring/crash/7"
    assert context["exception_type"] == "ValueError"
    assert context["exception_message"] == f"order 7 of {m.tag} has no price"
    assert "Traceback" in context["exception"] and m.tag in context["exception"]
    assert context["stack"][-1]["function"] == "crash"
    assert context["location"].startswith("quantumtrade/")  # the innermost frame of ours

    # The level filter keeps that level and the more severe ones, in any letter case.
    for level, shown in (("ERROR", True), ("warning", True), ("critical", False)):
        page = await m.get("/api/admin/logs", level=level, request_id=request_id)
        assert page.status_code == 200, page.text
        assert bool(page.json()["items"]) is shown, level
    # One crash, one record: the server's own error handler does not store it again.
    recent = (await m.get("/api/admin/logs", since=m.started.isoformat(), limit=500)).json()
    assert [r["request_id"] for r in recent["items"]].count(request_id) == 1
    conforms(LogPage, recent)  # strictly, with exactly the schema's fields


async def test_identical_failures_share_a_group_and_a_different_one_has_its_own(
    monitored: Monitored,
) -> None:
    m = monitored
    ids = []
    # The numbers differ: they vary between occurrences, so they are no part of the identity.
    for path in ("crash/1", "crash/22", "other"):
        response = await m.api.get(f"/api/test-monitoring/{path}")
        assert response.status_code == 500
        ids.append(response.headers["x-request-id"])
    for request_id in ids:
        await m.logs_of(request_id)

    body: dict[str, Any] = {}

    async def grouped() -> bool:
        nonlocal body
        response = await m.get("/api/admin/errors", since=m.started.isoformat())
        assert response.status_code == 200, response.text
        body = response.json()
        return sum(g["count"] for g in body["items"] if m.tag in g["exception_message"]) == 3

    await wait_until(grouped, timeout=15, message="three grouped failures")
    conforms(ErrorGroupsOut, body)
    groups = {g["exception_type"]: g for g in body["items"] if m.tag in g["exception_message"]}
    assert set(groups) == {"ValueError", "LookupError"}
    same, different = groups["ValueError"], groups["LookupError"]
    assert same["count"] == 2 and different["count"] == 1
    assert same["fingerprint"] != different["fingerprint"]
    assert same["last_request_id"] == ids[1]
    assert same["exception_message"] == f"order 22 of {m.tag} has no price"
    assert same["first_seen"] <= same["last_seen"]
    assert same["level"] == "error" and same["message"] == "unhandled error"
    assert body["total"] >= 2

    first = await m.get("/api/admin/errors", since=m.started.isoformat(), limit=1)
    assert len(first.json()["items"]) == 1 and first.json()["total"] == body["total"]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert (await m.get("/api/admin/errors", since=later.isoformat())).json()["items"] == []


async def test_logs_are_paged_newest_first(monitored: Monitored) -> None:
    m = monitored
    response = await m.api.get("/api/test-monitoring/three-errors")
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    stored = await m.logs_of(request_id, expected=3)
    assert len(stored) == 3
    # Only a number tells the three apart, and numbers are normalised away: one fingerprint.
    assert len({r["fingerprint"] for r in stored}) == 1

    first = (await m.get("/api/admin/logs", request_id=request_id, limit=2)).json()
    second = (await m.get("/api/admin/logs", request_id=request_id, limit=2, offset=2)).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert (second["total"], len(second["items"])) == (3, 1)
    pages = first["items"] + second["items"]
    assert len({r["id"] for r in pages}) == 3
    times = [r["time"] for r in pages]
    assert times == sorted(times, reverse=True)
    assert [r["message"] for r in pages] == [f"{m.tag} error {n}" for n in (2, 1, 0)]

    until = (await m.get("/api/admin/logs", request_id=request_id, until=pages[-1]["time"])).json()
    assert until["total"] == 0  # until is exclusive
    since = (await m.get("/api/admin/logs", request_id=request_id, since=pages[0]["time"])).json()
    assert [r["id"] for r in since["items"]] == [pages[0]["id"]]  # since is inclusive


@pytest.mark.parametrize("path", ["/api/admin/logs", "/api/admin/errors"])
async def test_only_admins_may_read_the_logs(monitored: Monitored, path: str) -> None:
    m = monitored
    assert_error(await m.api.get(path), 401)
    assert_error(await m.api.get(path, headers=m.user), 403, "admin_required")
    # Refused before its query is read: a user learns nothing of what an admin may ask.
    assert_error(await m.api.get(path, params={"limit": 0}, headers=m.user), 403)
    assert (await m.api.get(path, headers=m.admin)).status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/admin/logs", {"level": "verbose"}),
        ("/api/admin/logs", {"level": ""}),
        ("/api/admin/logs", {"since": "yesterday"}),
        ("/api/admin/logs", {"since": "1700000000"}),  # a number is not a date-time here
        ("/api/admin/logs", {"until": "2026-13-01T00:00:00Z"}),
        ("/api/admin/logs", {"request_id": "bad id"}),
        ("/api/admin/logs", {"limit": "0"}),
        ("/api/admin/logs", {"limit": "501"}),
        ("/api/admin/logs", {"offset": "-1"}),
        ("/api/admin/errors", {"since": "not-a-time"}),
        ("/api/admin/errors", {"limit": "0"}),
    ],
)
async def test_bad_filters_are_a_422(
    monitored: Monitored, path: str, params: dict[str, str]
) -> None:
    assert_error(await monitored.get(path, **params), 422, "validation_error")


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "2026-11-18T16:00:00"],
)
async def test_extreme_or_naive_times_are_read_not_a_500(monitored: Monitored, moment: str) -> None:
    for path in ("/api/admin/logs", "/api/admin/errors"):
        assert (await monitored.get(path, since=moment)).status_code == 200, path
    assert (await monitored.get("/api/admin/logs", until=moment)).status_code == 200


async def test_the_openapi_declares_the_refusal_and_the_pages(monitored: Monitored) -> None:
    spec = (await monitored.api.get("/openapi.json")).json()
    for path, model in (("/api/admin/logs", "LogPage"), ("/api/admin/errors", "ErrorGroupsOut")):
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["403"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
        ok = responses["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}
        assert "422" in responses


async def test_stats_count_requests_and_errors_and_report_resources(
    monitored: Monitored,
) -> None:
    m = monitored
    before = (await m.api.get("/api/stats", headers=m.user)).json()
    for key in (
        "request_count",
        "error_count",
        "client_error_count",
        "error_rate",
        "average_response_ms",
        "p50_response_ms",
        "p95_response_ms",
        "p99_response_ms",
        "latency_window",
        "trade_count",
        "ai_decision_count",
        "uptime_seconds",
        "started_at",
        "system",
    ):
        assert key in before, key
    for key in ("memory_rss_bytes", "cpu_percent", "cpu_seconds", "threads"):
        assert key in before["system"], key

    assert (await m.api.get("/api/test-monitoring/crash/3")).status_code == 500
    assert (await m.api.get("/api/nowhere")).status_code == 404
    after = (await m.api.get("/api/stats", headers=m.user)).json()
    # The first stats call, the crash and the 404 were answered in between.
    assert after["request_count"] == before["request_count"] + 3
    assert after["error_count"] == before["error_count"] + 1
    assert after["client_error_count"] == before["client_error_count"] + 1
    assert after["error_rate"] == pytest.approx(
        after["error_count"] / after["request_count"], abs=1e-6
    )
    assert 0 < after["p50_response_ms"] <= after["p95_response_ms"] <= after["p99_response_ms"]
    assert after["average_response_ms"] > 0
    assert after["uptime_seconds"] >= before["uptime_seconds"]
    assert after["system"]["memory_rss_bytes"] > 0
    assert after["system"]["cpu_seconds"] > 0
