"""Response bodies of ``/api/health`` and ``/api/stats`` (``services.system``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.orders_out import Timestamp

HealthStatusName = Literal["ok", "degraded", "down"]


class ComponentHealthOut(BaseModel):
    """One component: ``degraded`` still serves requests, ``down`` does not."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ok", "detail": None, "latency_ms": 0.72, "backend": "postgresql"}
            ]
        }
    )

    status: HealthStatusName
    detail: str | None = Field(examples=["4 entries, 1 counters"])
    latency_ms: float | None = Field(description="The check's round trip, when measured.")
    backend: str | None = Field(examples=["postgresql", "redis", "memory"])


class HealthOut(BaseModel):
    """Overall health (``down`` when the database is down, answered with 503)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "version": "0.1.0",
                    "environment": "production",
                    "uptime_seconds": 3600.125,
                    "components": {
                        "database": {
                            "status": "ok",
                            "detail": None,
                            "latency_ms": 0.72,
                            "backend": "postgresql",
                        },
                        "cache": {
                            "status": "ok",
                            "detail": None,
                            "latency_ms": 0.31,
                            "backend": "redis",
                        },
                        "bus": {
                            "status": "ok",
                            "detail": "0 subscriptions",
                            "latency_ms": None,
                            "backend": "memory",
                        },
                    },
                }
            ]
        }
    )

    status: HealthStatusName
    version: str = Field(examples=["0.1.0"])
    environment: str = Field(examples=["production"])
    uptime_seconds: float = Field(examples=[3600.125])
    components: dict[str, ComponentHealthOut] = Field(
        description="database, cache, bus and each registered service, by name."
    )


class SystemResources(BaseModel):
    """This process's resource use."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "memory_rss_bytes": 409747456,
                    "memory_percent": 1.62,
                    "cpu_percent": 12.5,
                    "cpu_seconds": 41.27,
                    "load_average": [1.83, 1.33, 0.69],
                    "threads": 7,
                }
            ]
        }
    )

    memory_rss_bytes: int = Field(description="Resident set size.")
    memory_percent: float
    cpu_percent: float = Field(
        description="CPU use since the previous reading, in percent of one core."
    )
    cpu_seconds: float = Field(ge=0, description="User and system CPU time since the start.")
    load_average: list[float] | None = Field(
        description="1, 5 and 15 minute load averages; null where unavailable."
    )
    threads: int


class StatsOut(BaseModel):
    """Request, error, trade and AI-decision counts, uptime and resource use."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_count": 23,
                    "error_count": 1,
                    "client_error_count": 0,
                    "error_rate": 0.043478,
                    "average_response_ms": 46.263,
                    "p50_response_ms": 3.912,
                    "p95_response_ms": 180.44,
                    "p99_response_ms": 412.035,
                    "latency_window": 23,
                    "uptime_seconds": 1.092,
                    "started_at": "2026-12-04T18:14:07.662025+00:00",
                    "system": {
                        "memory_rss_bytes": 409747456,
                        "memory_percent": 1.62,
                        "cpu_percent": 12.5,
                        "cpu_seconds": 41.27,
                        "load_average": [1.83, 1.33, 0.69],
                        "threads": 7,
                    },
                    "trade_count": 3,
                    "ai_decision_count": 0,
                    "version": "0.1.0",
                }
            ]
        }
    )

    request_count: int = Field(ge=0)
    error_count: int = Field(ge=0, description="Answers with a 5xx status.")
    client_error_count: int = Field(ge=0, description="Answers with a 4xx status.")
    error_rate: float = Field(
        ge=0, le=1, description="error_count / request_count (0 before any request)."
    )
    average_response_ms: float = Field(description="Over every request since the start.")
    p50_response_ms: float | None = Field(
        description="Median response time over the latest `latency_window` requests."
    )
    p95_response_ms: float | None = Field(
        description="95th percentile over the latest `latency_window` requests."
    )
    p99_response_ms: float | None = Field(
        description="99th percentile over the latest `latency_window` requests."
    )
    latency_window: int = Field(
        ge=0, description="How many of the latest requests the percentiles cover."
    )
    uptime_seconds: float
    started_at: Timestamp
    system: SystemResources
    trade_count: int = Field(ge=0, description="Trades booked (fills), all users.")
    ai_decision_count: int = Field(ge=0, description="AI trading decisions made, all users.")
    version: str = Field(examples=["0.1.0"])
