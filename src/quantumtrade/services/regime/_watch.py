"""Regime changes: one replica checks every symbol on a schedule, stores and pushes changes.

A change is a row in ``regime_changes`` and a ``regime`` message on the symbol's market
channel, which the WebSocket hub sends to the subscribers of that symbol's ``regime``
channel. One replica leads (a lease, as the market feed does); the daily strategy
recommendations are refreshed on the same schedule.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from quantumtrade.db.models import RegimeChange
from quantumtrade.domain.market import Timeframe
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import Lease, create_lease, market_channel

_log = logging.getLogger(__name__)
TIMEFRAME = Timeframe.DAY_1
FIRST_CHECK_SECONDS = 30.0


def change_message(row: RegimeChange) -> dict[str, Any]:
    """Return the ``regime`` message of a stored change (the WebSocket message too)."""
    return {
        "type": "regime",
        "symbol": row.symbol,
        "timeframe": row.timeframe,
        "trend_regime": row.trend_regime,
        "previous_regime": row.previous_regime,
        "probabilities": row.probabilities,
        "volatility_regime": row.volatility_regime,
        "annual_volatility": row.annual_volatility,
        "since": row.time.isoformat(),
        "detected_at": row.detected_at.isoformat(),
    }


class RegimeWatch:
    """Check every symbol's regime while holding the watch's lease."""

    def __init__(
        self, container: Container, *, interval_seconds: float, lease: Lease | None = None
    ) -> None:
        self.container = container
        self.interval_seconds = interval_seconds
        self.lease = lease or create_lease(container, "regime_watch")
        self.changes = 0
        self.last_error: str | None = None

    async def check(self, symbols: list[str] | None = None) -> list[RegimeChange]:
        """Classify each symbol now; store and publish the regimes that changed."""
        from quantumtrade.services import regime

        wanted = symbols or [info.symbol for info in self.container.market.symbols()]
        changed = []
        for symbol in wanted:
            try:
                view = await regime.current(self.container, symbol, TIMEFRAME)
                row = await self._record(symbol, view)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("regime check failed for %s", symbol)
                continue
            if row is not None:
                changed.append(row)
                await self.container.bus.publish(market_channel(symbol), change_message(row))
        self.changes += len(changed)
        return changed

    async def _record(self, symbol: str, view: dict[str, Any]) -> RegimeChange | None:
        async with self.container.session_factory() as db:
            last = await db.scalar(
                sa.select(RegimeChange)
                .where(RegimeChange.symbol == symbol, RegimeChange.timeframe == TIMEFRAME.value)
                .order_by(RegimeChange.detected_at.desc(), RegimeChange.time.desc())
                .limit(1)
            )
            if last is not None and last.trend_regime == view["trend_regime"]:
                return None
            row = RegimeChange(
                symbol=symbol,
                timeframe=TIMEFRAME.value,
                time=datetime.fromisoformat(view["since"]),
                trend_regime=view["trend_regime"],
                previous_regime=None if last is None else last.trend_regime,
                probabilities=view["probabilities"],
                volatility_regime=view["volatility"]["regime"],
                annual_volatility=view["volatility"]["annualized"],
                detected_at=self.container.clock.now(),
            )
            row = await db.merge(row)  # the same start seen again replaces its row
            await db.commit()
            return row

    async def run(self) -> None:
        """Run until cancelled: check on schedule while leading."""
        from quantumtrade.services.regime import _recommend

        try:
            # A short pause first: a server that is starting has better things to do.
            await asyncio.sleep(min(self.interval_seconds, FIRST_CHECK_SECONDS))
            while True:
                if await self.lease.try_acquire():
                    await self.check()
                    try:
                        measured = await _recommend.latest(self.container)
                        today = self.container.clock.now().date().isoformat()
                        if measured is None or not measured["measured_at"].startswith(today):
                            await _recommend.refresh(self.container)
                    except Exception as exc:
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        _log.exception("regime recommendations failed")
                stop_if_cancelled()
                await asyncio.sleep(self.interval_seconds)
        finally:
            await self.lease.release()
