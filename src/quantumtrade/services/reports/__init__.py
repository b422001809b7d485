"""Daily reports: each portfolio's trading day, and the system's day for administrators.

A portfolio's report covers its trading day, from the previous session's close (exclusive) to
this session's close (inclusive), on the exchange calendar (America/New_York): P&L and equity
against SPY, the trades with the best and the worst, the risk limits used, the owner's AI
decisions, and tomorrow's watch items. Reports are stored once per portfolio and day (the
scheduler builds them after each close; a past day without one is built when first asked
for); ``regenerate`` rebuilds one from the ledger and market data, which give the same
content again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import DailyReport, Portfolio
from quantumtrade.db.models.reports import SYSTEM_SUBJECT
from quantumtrade.domain.errors import NotFound
from quantumtrade.domain.reports import to_html, to_markdown
from quantumtrade.services.alerts import user_channel
from quantumtrade.services.container import Container
from quantumtrade.services.reports import _data, _mistakes, _store, _system
from quantumtrade.services.reports._days import TradingDay, closed_day, last_closed_day
from quantumtrade.services.reports._sections import (
    Section,
    ai_decisions,
    performance,
    risk,
    trades,
)
from quantumtrade.services.reports._store import MAX_PAGE
from quantumtrade.services.reports._watchlist import watch
from quantumtrade.services.trading import portfolios
from quantumtrade.services.trading.desk import TradingDesk

__all__ = [
    "FORMATS",
    "MAX_PAGE",
    "SECTIONS",
    "build_portfolio_report",
    "get_report",
    "last_closed_day",
    "list_reports",
    "regenerate",
    "render",
    "report_day",
    "store_portfolio_report",
    "system_report",
]

FORMATS = ("json", "markdown", "html")
# The sections of a portfolio's report, in order: each builds from the day alone.
SECTIONS: tuple[Callable[[_data.PortfolioDay], Section], ...] = (
    performance,
    trades,
    risk,
    ai_decisions,
    watch,
)
MEDIA_TYPES = {"markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def render(report: dict[str, Any], fmt: str) -> tuple[str, str]:
    """Return the report as ``markdown`` or ``html`` text and its media type."""
    body = to_markdown(report) if fmt == "markdown" else to_html(report)
    return body, MEDIA_TYPES[fmt]


async def build_portfolio_report(
    db: AsyncSession, container: Container, portfolio: Portfolio, session: TradingDay
) -> dict[str, Any]:
    """Return the body of ``portfolio``'s report on ``session`` (not stored)."""
    day = await _data.load(db, container, portfolio, session)
    sections = [build(day) for build in SECTIONS]
    # The journal's rules read the trader's history as well as the day: built apart.
    after_trades = next(i for i, s in enumerate(sections) if s["id"] == "trades") + 1
    sections.insert(after_trades, await _mistakes.mistakes(db, container, portfolio, session))
    by_id = {s["id"]: s["data"] for s in sections}
    performance = by_id["performance"]
    return {
        "kind": "portfolio",
        "title": f"Daily report: {portfolio.name}, {session.day.isoformat()}",
        "portfolio_id": str(portfolio.id),
        "date": session.day.isoformat(),
        "session": session.view(),
        "summary": {
            "equity_start": performance["equity_start"],
            "equity_end": performance["equity_end"],
            "net_flow": performance["net_flow"],
            "pl": performance["pl"],
            "return": performance["return"],
            "benchmark": performance["benchmark"],
            "benchmark_return": performance["benchmark_return"],
            "excess_return": performance["excess_return"],
            "trades": by_id["trades"]["count"],
            "ai_decisions": by_id["ai_decisions"]["count"],
            "mistakes": by_id["mistakes"]["count"],
            "watch_items": len(by_id["watch"]["items"]),
        },
        "sections": sections,
    }


async def store_portfolio_report(
    db: AsyncSession,
    container: Container,
    portfolio: Portfolio,
    session: TradingDay,
    *,
    replace: bool = False,
) -> tuple[DailyReport, bool]:
    """Build and store the report unless one is stored (or ``replace``); return it and if new."""
    if not replace:
        found = await _store.find(db, str(portfolio.id), session.day)
        if found is not None:
            return found, False
    body = await build_portfolio_report(db, container, portfolio, session)
    return await _store.save(
        db,
        subject=str(portfolio.id),
        kind="portfolio",
        session=session,
        body=body,
        generated_at=container.clock.now(),
        portfolio_id=portfolio.id,
        user_id=portfolio.user_id,
        replace=replace,
    )


async def announce(container: Container, row: DailyReport) -> None:
    """Tell the owner on their private ``reports`` WebSocket channel that a report is ready."""
    if row.user_id is None:
        return
    day = row.day.isoformat()
    await container.bus.publish(
        user_channel(row.user_id),
        {
            "channel": "reports",
            "type": "report",
            "id": str(row.id),
            "portfolio_id": str(row.portfolio_id),
            "date": day,
            "summary": row.content.get("summary", {}),
            "path": f"/api/reports/{day}?portfolio_id={row.portfolio_id}",
        },
    )


async def _owned(
    db: AsyncSession, desk: TradingDesk, user_id: uuid.UUID, portfolio_id: uuid.UUID | None
) -> Portfolio:
    if portfolio_id is None:
        return await portfolios.default_portfolio(db, desk=desk, user_id=user_id)
    return await portfolios.get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)


def _existing_session(container: Container, portfolio: Portfolio, day: date) -> TradingDay:
    session = closed_day(container, day)
    if session.close < portfolio.created_at:
        raise NotFound(
            f"No report for {day.isoformat()}: the portfolio did not exist yet.",
            code="report_not_found",
            details={"date": day.isoformat()},
        )
    return session


def report_day(container: Container, day: date | None) -> date:
    """The day asked for, or the latest session closed by now; 404 when there is none."""
    if day is not None:
        return day
    session = last_closed_day(container)
    if session is None:
        raise NotFound("No session has closed yet.", code="report_not_found")
    return session.day


async def get_report(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    day: date,
) -> dict[str, Any]:
    """Return the stored report of the day, building and storing it if there is none yet."""
    portfolio = await _owned(db, desk, user_id, portfolio_id)
    found = await _store.find(db, str(portfolio.id), day)
    if found is not None:
        return _store.view(found)
    session = _existing_session(desk.container, portfolio, day)
    row, created = await store_portfolio_report(db, desk.container, portfolio, session)
    if created:
        await announce(desk.container, row)
    return _store.view(row)


async def regenerate(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    day: date,
) -> dict[str, Any]:
    """Rebuild the day's report from the ledger and market data, replacing the stored one."""
    portfolio = await _owned(db, desk, user_id, portfolio_id)
    session = _existing_session(desk.container, portfolio, day)
    row, _created = await store_portfolio_report(
        db, desk.container, portfolio, session, replace=True
    )
    await announce(desk.container, row)
    return _store.view(row)


async def list_reports(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    since: date | None,
    until: date | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of the user's stored reports (one portfolio's, or all), newest first."""
    if portfolio_id is not None:
        await portfolios.get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)
    rows, total = await _store.page(
        db,
        user_id=user_id,
        portfolio_id=portfolio_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [_store.summary_view(row) for row in rows], total


async def store_system_report(
    container: Container, session: TradingDay, *, replace: bool = False
) -> tuple[DailyReport, bool]:
    """Build and store the system report of ``session`` unless it is stored."""
    async with container.session_factory() as db:
        if not replace:
            found = await _store.find(db, SYSTEM_SUBJECT, session.day)
            if found is not None:
                return found, False
        body = await _system.build(container, session)
        return await _store.save(
            db,
            subject=SYSTEM_SUBJECT,
            kind="system",
            session=session,
            body=body,
            generated_at=container.clock.now(),
            replace=replace,
        )


async def system_report(container: Container, *, day: date) -> dict[str, Any]:
    """Return the system report of the day, stored, or built now and stored."""
    async with container.session_factory() as db:
        found = await _store.find(db, SYSTEM_SUBJECT, day)
        if found is not None:
            return _store.view(found)
    row, _created = await store_system_report(container, closed_day(container, day))
    return _store.view(row)
