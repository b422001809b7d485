"""Prometheus metrics and the in-process request statistics."""

from __future__ import annotations

from datetime import datetime

import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from quantumtrade.infra.metrics import Metrics


def test_snapshot_counts_requests_and_only_5xx_as_errors() -> None:
    metrics = Metrics()
    metrics.observe_request("get", "/api/orders/{order_id}", 200, 0.010)
    metrics.observe_request("POST", "/api/orders", 201, 0.030)
    metrics.observe_request("GET", "/api/orders/{order_id}", 404, 0.005)
    metrics.observe_request("GET", "/api/portfolio", 503, 0.075)

    snap = metrics.snapshot()
    assert snap["request_count"] == 4
    assert snap["error_count"] == 1
    assert snap["client_error_count"] == 1
    assert snap["average_response_ms"] == pytest.approx(30.0)
    assert snap["uptime_seconds"] >= 0
    assert datetime.fromisoformat(snap["started_at"]).tzinfo is not None
    system = snap["system"]
    assert system["memory_rss_bytes"] > 0
    assert 0 <= system["memory_percent"] <= 100
    assert system["cpu_percent"] >= 0
    assert system["threads"] >= 1
    assert system["load_average"] is None or len(system["load_average"]) == 3


def test_empty_snapshot_has_zero_average() -> None:
    snap = Metrics().snapshot()
    assert snap["request_count"] == 0
    assert snap["average_response_ms"] == 0.0


def test_render_exposes_route_templates_and_counters() -> None:
    metrics = Metrics()
    metrics.observe_request("GET", "/api/orders/{order_id}", 200, 0.01)
    metrics.count_trade()
    metrics.count_trade(2)
    metrics.count_ai_decision()
    metrics.websocket_opened()

    body, content_type = metrics.render()
    text = body.decode()
    assert content_type == CONTENT_TYPE_LATEST
    assert (
        'http_requests_total{method="GET",route="/api/orders/{order_id}",status="200"} 1.0' in text
    )
    assert (
        'http_request_duration_seconds_count{method="GET",route="/api/orders/{order_id}"} 1.0'
        in text
    )
    assert "trades_total 3.0" in text
    assert "ai_decisions_total 1.0" in text
    assert "websocket_connections 1.0" in text
    assert "http_requests_in_progress 0.0" in text
    assert "python_info" in text


def test_instances_do_not_share_counts() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("GET", "/api/health", 200, 0.001)
    first.count_trade()

    assert first.snapshot()["request_count"] == 1
    assert second.snapshot()["request_count"] == 0
    text = second.render()[0].decode()
    assert 'route="/api/health"' not in text
    assert "trades_total 0.0" in text


def test_snapshot_has_the_error_rate_and_response_time_percentiles() -> None:
    metrics = Metrics()
    assert metrics.snapshot()["p50_response_ms"] is None  # nothing measured yet
    for n in range(1, 101):  # 1 ms to 100 ms
        metrics.observe_request("GET", "/api/health", 500 if n % 10 == 0 else 200, n / 1000)

    snap = metrics.snapshot()
    assert snap["error_rate"] == pytest.approx(0.1)
    assert (snap["p50_response_ms"], snap["p95_response_ms"], snap["p99_response_ms"]) == (
        pytest.approx(50.0),
        pytest.approx(95.0),
        pytest.approx(99.0),
    )
    assert snap["latency_window"] == 100
    assert snap["system"]["cpu_seconds"] > 0
