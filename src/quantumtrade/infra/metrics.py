"""Prometheus metrics and the in-process request statistics behind the stats endpoint.

Each :class:`Metrics` owns its own :class:`~prometheus_client.CollectorRegistry`, so several
application instances (as in the test suite) never share or collide on series.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

# The route label for requests that matched no route, so scanners probing random paths add one
# series instead of one per path.
UNMATCHED_ROUTE = "<unmatched>"
# The response-time percentiles of the stats endpoint are over this many latest requests: a
# bounded window that follows the current load, at a fixed memory cost.
LATENCY_WINDOW = 4096


class Metrics:
    """Request, trading and process metrics for one application instance.

    The ``route`` passed to :meth:`observe_request` must be the route template (for example
    ``/api/orders/{order_id}``), or :data:`UNMATCHED_ROUTE`, never the raw path: every distinct
    label value is a new time series, and raw paths carry ids.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests_total = Counter(
            "http_requests_total",
            "HTTP requests handled, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.http_request_duration_seconds = Histogram(
            "http_request_duration_seconds",
            "Time spent handling HTTP requests, by method and route template.",
            ("method", "route"),
            registry=self.registry,
        )
        self.http_requests_in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled right now.",
            registry=self.registry,
        )
        self.trades_total = Counter("trades_total", "Trades executed.", registry=self.registry)
        self.ai_decisions_total = Counter(
            "ai_decisions_total",
            "Trading decisions produced by the AI engine.",
            registry=self.registry,
        )
        self.websocket_connections = Gauge(
            "websocket_connections", "Open WebSocket connections.", registry=self.registry
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

        self._lock = threading.Lock()
        self._request_count = 0
        self._error_count = 0
        self._client_error_count = 0
        self._total_duration_s = 0.0
        self._recent_durations_s: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._started_monotonic = time.monotonic()
        self.started_at = datetime.now(UTC)
        self._process = psutil.Process()
        # The first cpu_percent(None) call only starts the measurement and returns 0.0.
        self._process.cpu_percent(None)

    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        """Record one finished HTTP request; ``route`` is the route template, not the path."""
        method = method.upper()
        self.http_requests_total.labels(method, route, str(status)).inc()
        self.http_request_duration_seconds.labels(method, route).observe(duration_s)
        with self._lock:
            self._request_count += 1
            self._total_duration_s += duration_s
            self._recent_durations_s.append(duration_s)
            if status >= 500:
                self._error_count += 1
            elif status >= 400:
                self._client_error_count += 1

    def count_trade(self, n: int = 1) -> None:
        """Count ``n`` executed trades."""
        self.trades_total.inc(n)

    def count_ai_decision(self, n: int = 1) -> None:
        """Count ``n`` AI trading decisions."""
        self.ai_decisions_total.inc(n)

    def websocket_opened(self) -> None:
        """Count a newly opened WebSocket connection."""
        self.websocket_connections.inc()

    def websocket_closed(self) -> None:
        """Forget a closed WebSocket connection."""
        self.websocket_connections.dec()

    def render(self) -> tuple[bytes, str]:
        """Return the exposition body and its content type for a ``/metrics`` response."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def snapshot(self) -> dict[str, Any]:
        """Return the request statistics and a reading of this process's resource use."""
        with self._lock:
            requests = self._request_count
            errors = self._error_count
            client_errors = self._client_error_count
            total_s = self._total_duration_s
            recent = sorted(self._recent_durations_s)
        return {
            "request_count": requests,
            "error_count": errors,
            "client_error_count": client_errors,
            "error_rate": round(errors / requests, 6) if requests else 0.0,
            "average_response_ms": round(total_s / requests * 1000, 3) if requests else 0.0,
            "p50_response_ms": _percentile_ms(recent, 50),
            "p95_response_ms": _percentile_ms(recent, 95),
            "p99_response_ms": _percentile_ms(recent, 99),
            "latency_window": len(recent),
            "uptime_seconds": round(time.monotonic() - self._started_monotonic, 3),
            "started_at": self.started_at.isoformat(),
            "system": self._system(),
        }

    def _system(self) -> dict[str, Any]:
        with self._process.oneshot():
            memory = self._process.memory_info()
            memory_percent = self._process.memory_percent()
            threads = self._process.num_threads()
            cpu = self._process.cpu_times()
        try:
            load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
        except (AttributeError, OSError):  # not available on every platform
            load = None
        return {
            "memory_rss_bytes": int(memory.rss),
            "memory_percent": round(float(memory_percent), 2),
            # Non-blocking: CPU use since the previous call (or since construction).
            "cpu_percent": float(self._process.cpu_percent(None)),
            "cpu_seconds": round(float(cpu.user + cpu.system), 3),
            "load_average": load,
            "threads": int(threads),
        }


def _percentile_ms(ordered: list[float], percent: float) -> float | None:
    """Return the nearest-rank percentile of sorted durations in milliseconds; None if empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 3)
