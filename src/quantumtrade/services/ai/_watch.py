"""The AI watch: one replica keeps every symbol's models trained and its decisions current.

While it holds its lease, every ``AI_WATCH_MINUTES`` it records the outcomes of decisions
whose horizon has passed, trains the models of symbols that have none (the universe at
start-up, a few minutes for all of it on a small machine) or whose newest training is older
than ``AI_RETRAIN_HOURS``, and refreshes each trained symbol's decision, which is pushed on
its ``ai`` channel when it is new.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import sqlalchemy as sa

from quantumtrade.db.models import AIModel
from quantumtrade.ml import pipeline
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import Lease, create_lease

_log = logging.getLogger(__name__)
FIRST_CHECK_SECONDS = 30.0


class AiWatch:
    """Train, retrain, decide and record outcomes on a schedule while leading."""

    def __init__(
        self, container: Container, *, interval_seconds: float, lease: Lease | None = None
    ) -> None:
        self.container = container
        self.interval_seconds = interval_seconds
        self.lease = lease or create_lease(container, "ai_watch")
        self.trained = 0
        self.resolved = 0
        self.last_error: str | None = None

    async def _due(self, symbol: str, horizon: int) -> list[str]:
        """Return the models of ``symbol`` never trained or whose newest is older than the period.

        Judged per model: a symbol with only some models (one trained on request, say) gets
        the rest on the next check.
        """
        async with self.container.session_factory() as db:
            rows = await db.execute(
                sa.select(AIModel.name, sa.func.max(AIModel.created_at))
                .where(AIModel.symbol == symbol, AIModel.horizon == horizon)
                .group_by(AIModel.name)
            )
            newest = {name: created for name, created in rows}
        oldest_allowed = self.container.clock.now() - timedelta(
            hours=self.container.settings.ai_retrain_hours
        )
        return [
            name
            for name in pipeline.MODEL_NAMES
            if name not in newest or newest[name] < oldest_allowed
        ]

    async def check(self, symbols: list[str] | None = None) -> None:
        """Resolve outcomes, (re)train what is missing or old, refresh every decision."""
        from quantumtrade.services import ai
        from quantumtrade.services.ai import _registry

        horizon = self.container.settings.ai_default_horizon
        try:
            self.resolved += await ai.resolve_outcomes(self.container)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            _log.exception("recording AI decision outcomes failed")
        wanted = symbols or [info.symbol for info in self.container.market.symbols()]
        for symbol in wanted:
            try:
                due = await self._due(symbol, horizon)
                if due:
                    await _registry.train(self.container, symbol, horizon, due)
                    self.trained += 1
                await ai.shared_decision(self.container, symbol, horizon)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.warning("AI check of %s failed: %s", symbol, exc)
            stop_if_cancelled()

    async def run(self) -> None:
        """Run until cancelled: check on schedule while leading."""
        try:
            await asyncio.sleep(min(self.interval_seconds, FIRST_CHECK_SECONDS))
            while True:
                if await self.lease.try_acquire():
                    await self.check()
                stop_if_cancelled()
                await asyncio.sleep(self.interval_seconds)
        finally:
            await self.lease.release()
