"""Training and evaluation jobs: a row of ``ai_jobs`` each, run by the backtest job runner.

The runner (``services.backtests.BacktestRunner``) owns the tasks and bounds how many run at
once; each status change is stored, so any replica answers ``GET /api/ai/jobs/{id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import AIJob
from quantumtrade.domain.errors import AppError, NotFound
from quantumtrade.services.backtests import BacktestRunner
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)
Work = Callable[[], Awaitable[dict[str, Any]]]


def job_view(row: AIJob) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "status": row.status,
        "progress": row.progress,
        "params": row.params,
        "result": row.result,
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "completed_at": None if row.completed_at is None else row.completed_at.isoformat(),
    }


async def submit(
    container: Container,
    runner: BacktestRunner,
    *,
    user_id: uuid.UUID | None,
    kind: str,
    params: dict[str, Any],
    work: Work,
) -> AIJob:
    """Store a queued job and start ``work`` in the runner."""
    row = AIJob(
        id=uuid.uuid4(),
        user_id=user_id,
        kind=kind,
        status="queued",
        progress=0.0,
        params=params,
        created_at=container.clock.now(),
    )
    async with container.session_factory() as db:
        db.add(row)
        await db.commit()
    runner.spawn(_run(container, runner, row.id, work))
    return row


async def _update(container: Container, job_id: uuid.UUID, **values: Any) -> None:
    async with container.session_factory() as db:
        await db.execute(sa.update(AIJob).where(AIJob.id == job_id).values(**values))
        await db.commit()


async def _run(container: Container, runner: BacktestRunner, job_id: uuid.UUID, work: Work) -> None:
    try:
        async with runner.slots:
            await _update(container, job_id, status="running", progress=0.05)
            result = await work()
            await _update(
                container,
                job_id,
                status="completed",
                progress=1.0,
                result=result,
                completed_at=container.clock.now(),
            )
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await _update(container, job_id, status="failed", error="Interrupted by shutdown.")
        raise
    except Exception as exc:
        message = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        _log.warning("AI job %s failed: %s", job_id, message)
        with contextlib.suppress(Exception):
            await _update(
                container,
                job_id,
                status="failed",
                error=message[:2000],
                completed_at=container.clock.now(),
            )


async def get_job(db: AsyncSession, user_id: uuid.UUID, job_id: uuid.UUID) -> AIJob:
    """Return one of the user's jobs, or 404 (also for someone else's)."""
    row = await db.get(AIJob, job_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Job not found.", code="job_not_found")
    return row
