"""After each session's close, one replica builds and announces every portfolio's report.

Every ``REPORTS_CHECK_MINUTES`` (by the injected clock) it looks at the latest closed session
and builds the report of each portfolio that traded that day or holds positions, then the
system report. A stored report is never built twice (a unique row per portfolio and day), a
failure with one portfolio is logged and the others go on, and the day is marked done only
when all succeeded, so the next check retries the failures.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa

from quantumtrade.db.models import LedgerEntry, Portfolio, Position
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import Lease, create_lease
from quantumtrade.services.reports import announce, store_portfolio_report, store_system_report
from quantumtrade.services.reports._days import TradingDay, last_closed_day

_log = logging.getLogger(__name__)
FIRST_CHECK_SECONDS = 30.0


class ReportScheduler:
    """Build the reports of the latest closed session while holding the scheduler's lease."""

    def __init__(
        self, container: Container, *, interval_seconds: float, lease: Lease | None = None
    ) -> None:
        self.container = container
        self.interval_seconds = interval_seconds
        self.lease = lease or create_lease(container, "report_scheduler")
        self.built = 0
        self.failed = 0
        self.last_error: str | None = None
        self.done: date | None = None

    async def _portfolio_ids(self, session: TradingDay) -> list[uuid.UUID]:
        async with self.container.session_factory() as db:
            active = set(
                await db.scalars(
                    sa.select(LedgerEntry.portfolio_id)
                    .where(LedgerEntry.at > session.previous_close, LedgerEntry.at <= session.close)
                    .distinct()
                )
            )
            holding = set(await db.scalars(sa.select(Position.portfolio_id).distinct()))
        return sorted(active | holding, key=str)

    async def check(self, portfolio_ids: Sequence[uuid.UUID] | None = None) -> int:
        """Build what the latest closed session still lacks; return how many reports were new.

        ``portfolio_ids`` limits the round to those portfolios (every one with activity or
        positions when None); only a full round marks the day done.
        """
        session = last_closed_day(self.container)
        if session is None or self.done == session.day:
            return 0
        built, failures = 0, 0
        wanted = await self._portfolio_ids(session) if portfolio_ids is None else portfolio_ids
        for portfolio_id in wanted:
            try:
                async with self.container.session_factory() as db:
                    portfolio = await db.get(Portfolio, portfolio_id)
                    if portfolio is None or portfolio.created_at > session.close:
                        continue
                    row, created = await store_portfolio_report(
                        db, self.container, portfolio, session
                    )
                if created:
                    built += 1
                    await announce(self.container, row)
            except Exception as exc:
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("daily report of portfolio %s failed", portfolio_id)
            stop_if_cancelled()
        try:
            await store_system_report(self.container, session)
        except Exception as exc:
            failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            _log.exception("system daily report failed")
        self.built += built
        self.failed += failures
        if not failures and portfolio_ids is None:
            self.done = session.day
        return built

    async def run(self) -> None:
        """Run until cancelled: check on schedule while leading."""
        try:
            await asyncio.sleep(min(self.interval_seconds, FIRST_CHECK_SECONDS))
            while True:
                try:
                    if await self.lease.try_acquire():
                        await self.check()
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    _log.exception("daily reports check failed")
                stop_if_cancelled()
                await asyncio.sleep(self.interval_seconds)
        finally:
            await self.lease.release()
