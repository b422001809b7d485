"""Health, stats, metrics, security headers, rate limits and the uniform error body."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from quantumtrade.api.middleware import DOCS_CSP, SECURITY_HEADERS
from quantumtrade.db.models import SystemLog
from quantumtrade.infra.logging import configure_logging
from support import BACKEND, assert_error, bearer, register


async def test_health_reports_each_component(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body["components"]
    assert {"database", "cache", "bus"} <= set(body["components"])
    assert body["components"]["database"]["status"] == "ok"
    expected_backend = "redis" if BACKEND == "scale" else "memory"
    assert body["components"]["cache"]["backend"] == expected_backend


async def test_health_is_503_when_the_database_is_down(make_api: Any, tmp_path: Any) -> None:
    unreachable = "postgresql+asyncpg://postgres:x@127.0.0.1:1/none"
    async with make_api(database_url=unreachable) as (_app, api):
        response = await api.get("/api/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "down"
        assert body["components"]["database"]["status"] == "down"
        login = await api.post(
            "/api/auth/login", json={"email": "a@example.com", "password": "whatever-pass"}
        )
        assert_error(login, 503, "database_unavailable")


async def test_stats_needs_a_login_and_reports_the_spec_figures(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/stats"), 401)
    user = await register(api)
    await api.get("/api/nowhere")
    response = await api.get("/api/stats", headers=bearer(user["access_token"]))
    assert response.status_code == 200
    stats = response.json()
    for key in (
        "request_count",
        "error_count",
        "average_response_ms",
        "trade_count",
        "ai_decision_count",
        "uptime_seconds",
        "system",
    ):
        assert key in stats, key
    assert stats["request_count"] >= 3
    assert stats["client_error_count"] >= 2
    assert stats["system"]["memory_rss_bytes"] > 0


async def test_metrics_speak_prometheus_with_route_templates(api: httpx.AsyncClient) -> None:
    user = await register(api)
    await api.delete(
        "/api/auth/sessions/00000000-0000-0000-0000-000000000000",
        headers=bearer(user["access_token"]),
    )
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'route="/api/auth/sessions/{session_id}"' in text
    assert "00000000-0000-0000-0000-000000000000" not in text
    assert "http_request_duration_seconds_bucket" in text


async def test_metrics_token_protects_the_endpoint(make_api: Any) -> None:
    async with make_api(metrics_token="scrape-secret") as (_app, api):
        assert_error(await api.get("/metrics"), 401)
        ok = await api.get("/metrics", headers=bearer("scrape-secret"))
        assert ok.status_code == 200


async def test_every_response_carries_the_security_headers_and_a_request_id(
    api: httpx.AsyncClient,
) -> None:
    for response in (await api.get("/api/health"), await api.get("/api/missing")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, name
        assert response.headers["x-request-id"]
    echoed = await api.get("/api/health", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    unsafe = await api.get("/api/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


async def test_the_docs_get_their_own_content_security_policy(api: httpx.AsyncClient) -> None:
    docs = await api.get("/docs")
    assert docs.status_code == 200
    assert docs.headers.get_list("content-security-policy") == [DOCS_CSP]
    assert docs.headers["x-frame-options"] == SECURITY_HEADERS["X-Frame-Options"]


async def test_unknown_route_and_wrong_method_use_the_uniform_body(api: httpx.AsyncClient) -> None:
    error = assert_error(await api.get("/api/does-not-exist"), 404, "not_found")
    assert error["request_id"]
    assert_error(await api.get("/api/auth/login"), 405, "method_not_allowed")


async def test_crash_answers_500_without_a_stack_trace(make_api: Any, tmp_path: Any) -> None:
    production = {
        "environment": "production",
        "jwt_secret": "x" * 48,
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/crash.db",
    }
    async with make_api(**production) as (app, api):

        @app.get("/api/test-crash")
        async def crash() -> None:
            raise RuntimeError("secret internals /srv/app.py line 42")

        response = await api.get("/api/test-crash")
        error = assert_error(response, 500, "internal_error")
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
        assert error["request_id"] == response.headers["x-request-id"]


async def test_unhandled_error_is_recorded_in_system_logs(make_api: Any) -> None:
    async with make_api() as (app, api):
        configure_logging(app.state.container.settings)  # as the server entry points do

        @app.get("/api/test-crash-logged")
        async def crash() -> None:
            raise RuntimeError("ledger exploded")

        response = await api.get("/api/test-crash-logged")
        assert response.status_code == 500
        container = app.state.container
        await app.state.system_log_sink.flush(container.session_factory)
        request_id = response.headers["x-request-id"]
        async with container.session_factory() as db:
            rows = (
                await db.scalars(sa.select(SystemLog).where(SystemLog.request_id == request_id))
            ).all()
        assert rows, "the crash was not written to system_logs"
        assert rows[0].level in {"error", "critical"}
        assert "ledger exploded" in str(rows[0].context)


async def test_the_101st_request_in_a_window_is_refused(make_api: Any) -> None:
    async with make_api(rate_limit_max=100, rate_limit_window_seconds=900) as (_app, api):
        for i in range(100):
            response = await api.get("/api/auth/me")
            assert response.status_code == 401, i
        assert response.headers["RateLimit-Limit"] == "100"
        assert response.headers["RateLimit-Remaining"] == "0"
        refused = await api.get("/api/auth/me")
        error = assert_error(refused, 429, "rate_limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 900
        assert error["details"]["limit"] == 100
        # Health checks stay exempt so load balancers never see a 429.
        assert (await api.get("/api/health")).status_code == 200


async def test_per_endpoint_rule_applies_its_own_limit(make_api: Any) -> None:
    async with make_api(rate_limit_rules={"POST /api/auth/login": "3/60"}) as (_app, api):
        body = {"email": "nobody@example.com", "password": "whatever-pass"}
        for _ in range(3):
            assert (await api.post("/api/auth/login", json=body)).status_code == 401
        assert_error(await api.post("/api/auth/login", json=body), 429, "rate_limited")
        assert (await api.get("/api/auth/me")).status_code == 401


async def test_two_instances_share_the_rate_limit_through_redis(
    make_api: Any, redis_url: str, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_url, "redis_prefix": redis_prefix, "rate_limit_max": 10}
    async with make_api(**shared) as (_a, first), make_api(**shared) as (_b, second):
        statuses = [
            (await (first if i % 2 else second).get("/api/auth/me")).status_code for i in range(10)
        ]
        assert statuses == [401] * 10
        assert_error(await first.get("/api/auth/me"), 429)
        assert_error(await second.get("/api/auth/me"), 429)


@pytest.mark.parametrize("origin", ["https://app.example.com"])
async def test_cors_allows_only_configured_origins(make_api: Any, origin: str) -> None:
    async with make_api(cors_origins=[origin]) as (_app, api):
        allowed = await api.options(
            "/api/auth/login",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers.get("access-control-allow-origin") == origin
        denied = await api.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers


async def test_concurrent_registrations_of_one_email_create_one_account(
    api: httpx.AsyncClient,
) -> None:
    email = "race-" + str(id(api)) + "@example.com"
    body = {"email": email, "password": "violet-Harbor-93-quasar"}
    responses = await asyncio.gather(*(api.post("/api/auth/register", json=body) for _ in range(5)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert set(codes) - {201} == {409}
