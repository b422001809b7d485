"""What the server logged: the stored error records, and the same failures grouped.

The rows come from ``system_logs``, which :class:`quantumtrade.infra.logging.SystemLogSink`
fills with every record at or above ``DB_LOG_LEVEL`` (errors by default). Each row's
``context`` holds a ``fingerprint`` (:mod:`quantumtrade.infra.fingerprint`), the key of
:func:`error_groups`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from quantumtrade.db.models import SystemLog
from quantumtrade.services.container import Container

LEVELS = ("debug", "info", "warning", "error", "critical")
ERROR_LEVELS = ("error", "critical")
MAX_LIST = 500


def _utc(moment: datetime) -> datetime:
    """A naive date-time from the query string is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999: the range of datetime is the bound
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def levels_from(level: str) -> tuple[str, ...]:
    """Return ``level`` and every level more severe than it."""
    return LEVELS[LEVELS.index(level.lower()) :]


def _log_view(row: SystemLog) -> dict[str, Any]:
    context = row.context or {}
    return {
        "id": str(row.id),
        "time": row.time.isoformat(),
        "level": row.level,
        "logger": row.logger,
        "message": row.message,
        "request_id": row.request_id,
        "fingerprint": context.get("fingerprint"),
        "context": context,
    }


async def list_logs(
    container: Container,
    *,
    level: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    request_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of stored log records, newest first, and how many match in all.

    ``level`` keeps that level and the more severe ones; ``since`` is inclusive, ``until``
    exclusive.
    """
    where: list[sa.ColumnElement[bool]] = []
    if level is not None:
        where.append(SystemLog.level.in_(levels_from(level)))
    if since is not None:
        where.append(SystemLog.time >= _utc(since))
    if until is not None:
        where.append(SystemLog.time < _utc(until))
    if request_id is not None:
        where.append(SystemLog.request_id == request_id)
    page = (
        sa.select(SystemLog)
        .where(*where)
        .order_by(SystemLog.time.desc(), SystemLog.id.desc())
        .limit(limit)
        .offset(offset)
    )
    async with container.session_factory() as db:
        total = await db.scalar(sa.select(sa.func.count()).select_from(SystemLog).where(*where))
        rows = (await db.scalars(page)).all()
    return [_log_view(row) for row in rows], int(total or 0)


async def error_groups(
    container: Container, *, since: datetime | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """Return the error and critical records grouped by fingerprint, and how many groups exist.

    Each group has its count, first and last time, and the level, logger, messages, exception
    type and request id of its latest record; the most recent groups come first. The grouping
    runs in the database, with window functions that SQLite and PostgreSQL both have.
    """
    fingerprint = SystemLog.context["fingerprint"].as_string()
    where: list[sa.ColumnElement[bool]] = [
        SystemLog.level.in_(ERROR_LEVELS),
        fingerprint.is_not(None),
    ]
    if since is not None:
        where.append(SystemLog.time >= _utc(since))
    ranked = (
        sa.select(
            fingerprint.label("fingerprint"),
            SystemLog.time.label("last_seen"),
            SystemLog.level,
            SystemLog.logger,
            SystemLog.message,
            SystemLog.request_id.label("last_request_id"),
            SystemLog.context["exception_type"].as_string().label("exception_type"),
            SystemLog.context["exception_message"].as_string().label("exception_message"),
            SystemLog.context["location"].as_string().label("location"),
            sa.func.count().over(partition_by=fingerprint).label("count"),
            sa.func.min(SystemLog.time).over(partition_by=fingerprint).label("first_seen"),
            sa.func.row_number()
            .over(
                partition_by=fingerprint,
                order_by=(SystemLog.time.desc(), SystemLog.id.desc()),
            )
            .label("recency"),
        )
        .where(*where)
        .subquery()
    )
    latest = (
        sa.select(ranked)
        .where(ranked.c.recency == 1)
        .order_by(ranked.c.last_seen.desc(), ranked.c.fingerprint)
        .limit(limit)
    )
    async with container.session_factory() as db:
        total = await db.scalar(
            sa.select(sa.func.count(sa.distinct(fingerprint))).select_from(SystemLog).where(*where)
        )
        rows = (await db.execute(latest)).mappings().all()
    return [_group_view(row) for row in rows], int(total or 0)


def _group_view(row: sa.RowMapping) -> dict[str, Any]:
    view = dict(row)
    del view["recency"]
    view["count"] = int(view["count"])
    view["first_seen"] = view["first_seen"].isoformat()
    view["last_seen"] = view["last_seen"].isoformat()
    return view
