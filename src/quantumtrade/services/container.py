"""The long-lived resources a running server shares: built once by the composition roots."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from quantumtrade.core.settings import Settings
from quantumtrade.domain.clock import Clock
from quantumtrade.infra.bus import Bus
from quantumtrade.infra.cache import Cache
from quantumtrade.infra.health import ComponentHealth
from quantumtrade.infra.metrics import Metrics
from quantumtrade.marketdata.information import InformationSource
from quantumtrade.marketdata.source import MarketDataSource
from quantumtrade.services.notifier import OutboxNotifier

HealthCheck = Callable[[], Awaitable[ComponentHealth]]
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cache: Cache
    bus: Bus
    clock: Clock
    metrics: Metrics
    notifier: OutboxNotifier
    market: MarketDataSource
    # News, social posts, filings and options; None where no source provides them.
    information: InformationSource | None = None
    health_checks: dict[str, HealthCheck] = field(default_factory=dict)
    background_jobs: dict[str, BackgroundJob] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # A service's per-app state (its tasks, pools), by the service's own key.
    state: dict[str, Any] = field(default_factory=dict)
    started_monotonic: float = field(default_factory=time.monotonic)

    def register_health_check(self, name: str, check: HealthCheck) -> None:
        """Report a service's health under ``name`` in ``GET /api/health``."""
        self.health_checks[name] = check

    def add_closer(self, close: Callable[[], Awaitable[None]]) -> None:
        """Call ``close`` when the server stops (before the database and cache close)."""
        self.closers.append(close)

    def add_background_job(self, name: str, job: BackgroundJob) -> None:
        """Run ``job`` for the server's lifetime (started after migrations, cancelled at exit)."""
        self.background_jobs[name] = job
