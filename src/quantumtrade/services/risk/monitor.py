"""Risk monitoring: scheduled snapshots in ``risk_metrics`` and alerts as limits fill up.

One replica (a lease, like the matching engine) sweeps every portfolio that holds positions
every ``RISK_SNAPSHOT_MINUTES`` and once more after each session's close (marked
``end_of_day``). A snapshot keeps equity, historical VaR 95/99 % and CVaR 95 %, beta,
volatility, exposures and drawdown, with the usage of every limit in ``details``. A limit
used 80 % or more raises a ``risk_limit`` alert (the alerts table and the owner's ``alerts``
WebSocket channel): once a day per portfolio, rule and level (``warning`` or ``breach``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Alert, Portfolio, Position, RiskMetric
from quantumtrade.domain.risk.limits import WARNING_LEVEL, AccountRisk, Usage, limit_usage
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.alerts import alert_view, user_channel
from quantumtrade.services.market_feed import Lease, create_lease
from quantumtrade.services.risk import analytics
from quantumtrade.services.risk.limits import day_start, last_equity, limits_of, peak_equity
from quantumtrade.services.trading import portfolios
from quantumtrade.services.trading.desk import TradingDesk

_log = logging.getLogger(__name__)
NEW_YORK = ZoneInfo("America/New_York")
CLOSE = time(16, 0)
KIND = "risk_limit"
_SYMBOL_RULES = ("max_position_pct", "max_position_value", "max_symbol_concentration_pct")


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(repr(float(value))).quantize(Decimal("0.01"))


class RiskMonitor:
    """Sweep portfolios on a schedule while holding the monitor's lease."""

    def __init__(
        self, desk: TradingDesk, *, interval_seconds: float, lease: Lease | None = None
    ) -> None:
        self.desk = desk
        self.container = desk.container
        self.interval_seconds = interval_seconds
        self.lease = lease or create_lease(self.container, "risk_monitor")
        self.snapshots = 0
        self.alerts = 0
        self.last_error: str | None = None
        self._end_of_day: date | None = None

    async def sweep(self, kind: str = "scheduled") -> int:
        """Snapshot every portfolio that holds positions; return how many were written."""
        async with self.container.session_factory() as db:
            ids = list(await db.scalars(sa.select(Position.portfolio_id).distinct()))
        written = 0
        for portfolio_id in ids:
            try:
                async with self.container.session_factory() as db:
                    portfolio = await db.get(Portfolio, portfolio_id)
                    if portfolio is not None:
                        await self.snapshot(db, portfolio, kind=kind)
                        written += 1
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("risk snapshot failed for portfolio %s", portfolio_id)
        return written

    async def snapshot(self, db: AsyncSession, portfolio: Portfolio, *, kind: str) -> RiskMetric:
        """Write one snapshot of ``portfolio`` and raise the alerts its limits call for."""
        desk = self.desk
        now = self.container.clock.now()
        var95 = await analytics.value_at_risk(
            db, desk=desk, portfolio=portfolio, method="historical", confidence=0.95
        )
        var99 = await analytics.value_at_risk(
            db, desk=desk, portfolio=portfolio, method="historical", confidence=0.99
        )
        metrics = await analytics.risk_metrics(db, desk=desk, portfolio=portfolio)
        usage = await self.usage(db, portfolio, now)
        exposure = metrics.get("exposure") or {}
        drawdown = metrics.get("drawdown") or {}
        row = RiskMetric(
            portfolio_id=portfolio.id,
            time=now,
            equity=_money(metrics.get("equity")),
            var_95=_money(var95["methods"]["historical"]["var"]),
            var_99=_money(var99["methods"]["historical"]["var"]),
            cvar_95=_money(var95["methods"]["historical"]["cvar"]),
            beta=metrics.get("beta"),
            volatility=metrics.get("volatility_annualised"),
            gross_exposure=_money(exposure.get("gross")),
            net_exposure=_money(exposure.get("net")),
            max_drawdown=drawdown.get("max"),
            details={
                "kind": kind,
                "usage": [
                    {
                        "rule": u.rule,
                        "limit": u.limit,
                        "value": u.value,
                        "used": u.used,
                        "subject": u.subject,
                    }
                    for u in usage
                ],
            },
        )
        await db.merge(row)
        notices = await self._alerts(db, portfolio, usage, now)
        await db.commit()
        self.snapshots += 1
        for notice in notices:
            await self.container.bus.publish(
                user_channel(portfolio.user_id),
                {"channel": "alerts", "type": "alert", "alert": alert_view(notice)},
            )
        return row

    async def usage(self, db: AsyncSession, portfolio: Portfolio, now: datetime) -> list[Usage]:
        """Return how much of each of the portfolio's limits is in use now."""
        desk = self.desk
        account, positions, prices = await portfolios.figures(db, desk=desk, portfolio=portfolio)
        equity = float(account.equity)
        start = await last_equity(db, desk=desk, portfolio=portfolio, now=now)
        peak = max(await peak_equity(db, portfolio), equity)
        sectors = {info.symbol: info.sector for info in self.container.market.symbols()}
        state = AccountRisk(
            equity=equity,
            exposures={s: float(abs(p.qty * prices[s])) for s, p in positions.items()},
            sectors={s: sectors.get(s) for s in positions},
            day_pl=equity - start,
            last_equity=start,
            drawdown=equity / peak - 1 if peak > 0 else 0.0,
        )
        return limit_usage(limits_of(portfolio), state)

    async def _alerts(
        self, db: AsyncSession, portfolio: Portfolio, usage: list[Usage], now: datetime
    ) -> list[Alert]:
        since = day_start(now)
        raised = await db.scalars(
            sa.select(Alert).where(
                Alert.user_id == portfolio.user_id,
                Alert.kind == KIND,
                Alert.created_at >= since,
            )
        )
        seen = {
            (a.condition.get("portfolio_id"), a.condition.get("rule"), a.condition.get("level"))
            for a in raised
        }
        notices = []
        for item in usage:
            if item.used < WARNING_LEVEL:
                continue
            level = "breach" if item.used >= 1.0 else "warning"
            if (str(portfolio.id), item.rule, level) in seen:
                continue
            subject = f" ({item.subject})" if item.subject else ""
            verb = "is at or past" if level == "breach" else f"has used {item.used:.0%} of"
            alert = Alert(
                id=uuid.uuid4(),
                user_id=portfolio.user_id,
                symbol=item.subject if item.rule in _SYMBOL_RULES else None,
                kind=KIND,
                condition={
                    "portfolio_id": str(portfolio.id),
                    "rule": item.rule,
                    "level": level,
                    "limit": item.limit,
                    "value": item.value,
                    "used": item.used,
                },
                status="triggered",
                message=f"Portfolio {portfolio.name!r} {verb} its {item.rule} limit{subject}: "
                f"{item.value:.6g} against {item.limit:.6g}.",
                created_at=now,
                triggered_at=now,
                delivered_at=now,
            )
            db.add(alert)
            notices.append(alert)
            self.alerts += 1
        return notices

    def _due_end_of_day(self, now: datetime) -> date | None:
        local = now.astimezone(NEW_YORK)
        if local.weekday() >= 5 or local.time() < CLOSE or self._end_of_day == local.date():
            return None
        return local.date()

    async def run(self) -> None:
        """Run until cancelled: sweep on schedule and after each close, while leading."""
        try:
            while True:
                # Sleep first: a replica that just started has nothing new to report.
                await asyncio.sleep(self.interval_seconds)
                try:
                    if await self.lease.try_acquire():
                        day = self._due_end_of_day(self.container.clock.now())
                        if day is not None:
                            await self.sweep("end_of_day")
                            self._end_of_day = day
                        else:
                            await self.sweep()
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    _log.exception("risk monitor sweep failed")
                stop_if_cancelled()
        finally:
            await self.lease.release()
