"""Stored reports: one row per subject (a portfolio, or the system) and trading day."""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import DailyReport
from quantumtrade.domain.reports import content_hash
from quantumtrade.services.reports._days import TradingDay

MAX_PAGE = 200


def finite(value: Any) -> Any:
    """Return ``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def view(row: DailyReport) -> dict[str, Any]:
    """Return the stored report with its id, hash and when it was generated."""
    return {
        **row.content,
        "id": str(row.id),
        "generated_at": row.generated_at.isoformat(),
        "content_hash": row.content_hash,
    }


def summary_view(row: DailyReport) -> dict[str, Any]:
    """Return a list item: what the report is and its headline figures."""
    return {
        "id": str(row.id),
        "portfolio_id": None if row.portfolio_id is None else str(row.portfolio_id),
        "date": row.day.isoformat(),
        "generated_at": row.generated_at.isoformat(),
        "content_hash": row.content_hash,
        "summary": row.content.get("summary", {}),
    }


async def find(db: AsyncSession, subject: str, day: date) -> DailyReport | None:
    found: DailyReport | None = await db.scalar(
        sa.select(DailyReport).where(DailyReport.subject == subject, DailyReport.day == day)
    )
    return found


async def save(
    db: AsyncSession,
    *,
    subject: str,
    kind: str,
    session: TradingDay,
    body: dict[str, Any],
    generated_at: Any,
    portfolio_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    replace: bool,
) -> tuple[DailyReport, bool]:
    """Store ``body`` for (subject, day); return the row and whether it is new.

    Without ``replace`` an existing row wins (a report is built once per day, whoever gets
    there first); with it, the row keeps its id and takes the new content.
    """
    body = finite(body)
    digest = content_hash(body)
    row = await find(db, subject, session.day)
    if row is not None:
        if replace:
            row.content, row.content_hash, row.generated_at = body, digest, generated_at
            await db.commit()
        return row, False
    row = DailyReport(
        id=uuid.uuid4(),
        subject=subject,
        kind=kind,
        portfolio_id=portfolio_id,
        user_id=user_id,
        day=session.day,
        session_close=session.close,
        content=body,
        content_hash=digest,
        generated_at=generated_at,
    )
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:  # another replica stored it first: theirs stands
        await db.rollback()
        existing = await find(db, subject, session.day)
        if existing is None:
            raise
        return existing, False
    return row, True


async def page(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    since: date | None,
    until: date | None,
    limit: int,
    offset: int,
) -> tuple[list[DailyReport], int]:
    """Return one page of the user's stored reports, newest day first, and the total."""
    where: list[sa.ColumnElement[bool]] = [
        DailyReport.user_id == user_id,
        DailyReport.kind == "portfolio",
    ]
    if portfolio_id is not None:
        where.append(DailyReport.portfolio_id == portfolio_id)
    if since is not None:
        where.append(DailyReport.day >= since)
    if until is not None:
        where.append(DailyReport.day <= until)
    total = await db.scalar(sa.select(sa.func.count()).select_from(DailyReport).where(*where))
    rows = await db.scalars(
        sa.select(DailyReport)
        .where(*where)
        .order_by(DailyReport.day.desc(), DailyReport.subject)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)
