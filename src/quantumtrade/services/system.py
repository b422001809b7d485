"""Health and statistics of the running server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa

from quantumtrade import __version__
from quantumtrade.db.engine import ping
from quantumtrade.db.models import AIDecision, Trade
from quantumtrade.infra.health import ComponentHealth
from quantumtrade.services.container import Container

CHECK_TIMEOUT_SECONDS = 2.0


async def _database_health(container: Container) -> ComponentHealth:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(ping(container.engine), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to answer means the database is down
        return ComponentHealth(
            status="down",
            detail=f"{type(exc).__name__}: {exc}"[:200],
            backend=container.engine.dialect.name,
        )
    return ComponentHealth(
        status="ok",
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        backend=container.engine.dialect.name,
    )


async def _guarded(name: str, check: Any) -> tuple[str, ComponentHealth]:
    try:
        return name, await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # a broken check reports its component down, not the server
        return name, ComponentHealth(status="down", detail=f"{type(exc).__name__}: {exc}"[:200])


async def health(*, container: Container) -> tuple[int, dict[str, Any]]:
    """Check every component; return the HTTP status (503 when the database is down) and body."""
    checks = {
        "database": lambda: _database_health(container),
        "cache": container.cache.health,
        "bus": container.bus.health,
        **container.health_checks,
    }
    results = dict(await asyncio.gather(*(_guarded(n, c) for n, c in checks.items())))
    statuses = {result.status for result in results.values()}
    if results["database"].status == "down":
        overall = "down"
    elif statuses == {"ok"}:
        overall = "ok"
    else:
        overall = "degraded"
    body = {
        "status": overall,
        "version": __version__,
        "environment": container.settings.environment.value,
        "uptime_seconds": round(time.monotonic() - container.started_monotonic, 3),
        "components": {name: result.to_dict() for name, result in results.items()},
    }
    return (503 if overall == "down" else 200), body


async def stats(*, container: Container) -> dict[str, Any]:
    """Return the spec's operational figures: traffic, trades, AI decisions, uptime, resources."""
    snapshot = container.metrics.snapshot()
    async with container.session_factory() as db:
        trade_count = await db.scalar(sa.select(sa.func.count()).select_from(Trade))
        decision_count = await db.scalar(sa.select(sa.func.count()).select_from(AIDecision))
    return {
        **snapshot,
        "trade_count": int(trade_count or 0),
        "ai_decision_count": int(decision_count or 0),
        "version": __version__,
    }
