"""Backtests as a use case: validate, queue, run off the event loop, store, export, Monte Carlo.

A run moves ``queued`` -> ``running`` -> ``completed`` or ``failed`` (with the error text) and
each change goes to the owner's bus channel ``user.<user_id>`` as
``{"channel": "backtests", "type": "backtest", "id", "status", "progress", "error"}``.

Storage in ``backtest_results``: ``params`` holds ``{"strategy": <the strategy's full params>,
"timeframe": ..., "config": <BacktestConfig fields>}``; ``metrics`` the engine's
``performance_summary`` plus ``final_equity``, ``initial_cash`` and ``bars`` (NaN and
infinities stored as null); ``result`` the equity curve (downsampled to at most
``MAX_EQUITY_POINTS`` points, each with its drawdown), the closed trades, and the period returns
(compounded into at most ``MAX_RETURN_POINTS`` periods) that the block bootstrap resamples.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import io
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from quantumtrade.backtest import montecarlo
from quantumtrade.backtest.runs import (
    BacktestSpec,
    compute,
)
from quantumtrade.db.models.analytics import BacktestResult
from quantumtrade.domain.errors import AppError, Conflict, NotFound, Unprocessable
from quantumtrade.services import datasets
from quantumtrade.services.alerts import user_channel
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)

MAX_SIMULATIONS = 20_000
_MC_BATCH_CELLS = 2_000_000  # simulated points per batch: bounds Monte Carlo memory


class BacktestRunner:
    """Owns one app's background runs (at most ``max_concurrent`` at once) so none outlives it."""

    def __init__(self, max_concurrent: int = 2) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(max_concurrent)

    def spawn(self, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start ``job`` in the background and keep a reference until it ends."""
        task = asyncio.create_task(job, name="backtest")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Cancel the runs still going and wait (at most ``grace_seconds``) for them to end."""
        pending = list(self.tasks)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)


async def submit_backtest(
    db: AsyncSession,
    *,
    container: Container,
    runner: BacktestRunner,
    user_id: uuid.UUID,
    spec: BacktestSpec,
) -> BacktestResult:
    """Store a queued run of ``spec`` and start it in the background."""

    async def work(progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
        bars = await load_bars(container, user_id, spec)
        await progress(0.3)
        return await asyncio.to_thread(compute, bars, spec)

    return await submit_run(
        db,
        container=container,
        runner=runner,
        user_id=user_id,
        spec=spec,
        kind="backtest",
        work=work,
    )


async def submit_run(
    db: AsyncSession,
    *,
    container: Container,
    runner: BacktestRunner,
    user_id: uuid.UUID,
    spec: BacktestSpec,
    kind: str,
    work: Work,
    strategy_params: dict[str, Any] | None = None,
    extra_params: dict[str, Any] | None = None,
) -> BacktestResult:
    """Store a queued run (a backtest or an optimisation of ``spec``) and start ``work``.

    ``params`` stores ``strategy_params`` (default: the spec's), then ``extra_params``, the
    timeframe and the engine config.
    """
    row = BacktestResult(
        id=uuid.uuid4(),
        user_id=user_id,
        name=spec.name,
        strategy=spec.strategy,
        symbols=[spec.symbol],
        params={
            "strategy": spec.params if strategy_params is None else strategy_params,
            **(extra_params or {}),
            "timeframe": spec.timeframe.value,
            "config": dataclasses.asdict(spec.config),
        },
        start=spec.start,
        end=spec.end,
        status="queued",
        progress=0.0,
        created_at=container.clock.now(),
        kind=kind,
        dataset_id=spec.dataset_id,
    )
    db.add(row)
    await db.commit()
    runner.spawn(run_job(container, runner, row.id, user_id, kind, work))
    return row


Progress = Callable[[float], Coroutine[Any, Any, None]]
Work = Callable[[Progress], Awaitable[tuple[dict[str, Any], dict[str, Any]]]]


async def update_run(
    container: Container, row_id: uuid.UUID, user_id: uuid.UUID, kind: str, **values: Any
) -> None:
    """Store a run's new status/progress/results and tell its owner on ``backtests``."""
    async with container.session_factory() as db:
        await db.execute(
            sa.update(BacktestResult).where(BacktestResult.id == row_id).values(**values)
        )
        await db.commit()
    event = {"channel": "backtests", "type": kind, "id": str(row_id)}
    event |= {k: values[k] for k in ("status", "progress", "error") if k in values}
    await container.bus.publish(user_channel(user_id), event)


async def run_job(
    container: Container,
    runner: BacktestRunner,
    row_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    work: Work,
) -> None:
    """Run ``work`` in one of the runner's slots, storing each status change of the run.

    ``work`` gets a ``progress(share)`` coroutine and returns ``(metrics, result)``. A failure
    is stored with its message (an ``AppError``'s own, else the exception's); a shutdown marks
    the run failed as interrupted.
    """

    async def update(**values: Any) -> None:
        await update_run(container, row_id, user_id, kind, **values)

    async def progress(share: float) -> None:
        await update(status="running", progress=share)

    try:
        async with runner.slots:
            await progress(0.05)
            metrics, result = await work(progress)
            await update(
                status="completed",
                progress=1.0,
                metrics=metrics,
                result=result,
                completed_at=container.clock.now(),
            )
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await update(status="failed", error="Interrupted by shutdown.")
        raise
    except Exception as exc:
        message = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        _log.warning("%s %s failed: %s", kind, row_id, message)
        with contextlib.suppress(Exception):
            await update(status="failed", error=message[:2000], completed_at=container.clock.now())


async def load_bars(container: Container, user_id: uuid.UUID, spec: BacktestSpec) -> pd.DataFrame:
    """Return the bars of ``spec``'s range: from its uploaded dataset, or from the market.

    Raise 422 ``no_bars`` when the range holds none.
    """
    if spec.dataset_id is None:
        bars = await container.market.get_bars(spec.symbol, spec.timeframe, spec.start, spec.end)
    else:
        async with container.session_factory() as db:
            row = await datasets.get_dataset(
                db, user_id=user_id, dataset_id=spec.dataset_id, with_content=True
            )
            content = row.content
        stored = await asyncio.to_thread(datasets.load_bars, content)
        bars = stored[(stored.index >= spec.start) & (stored.index < spec.end)]
    if bars.empty:
        raise Unprocessable("No bars in the requested range.", code="no_bars")
    return bars


async def get_backtest(
    db: AsyncSession, *, user_id: uuid.UUID, backtest_id: uuid.UUID
) -> BacktestResult:
    """Return one of ``user_id``'s backtests or raise 404 (also for someone else's)."""
    row = await db.get(BacktestResult, backtest_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Backtest not found.", code="backtest_not_found")
    return row


async def list_backtests(
    db: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> tuple[Sequence[BacktestResult], int]:
    """Return a page of ``user_id``'s backtests, newest first, without the heavy result."""
    where = BacktestResult.user_id == user_id
    total = await db.scalar(sa.select(sa.func.count()).select_from(BacktestResult).where(where))
    rows = await db.scalars(
        sa.select(BacktestResult)
        .options(defer(BacktestResult.result))
        .where(where)
        .order_by(BacktestResult.created_at.desc(), BacktestResult.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), int(total or 0)


def _completed_result(row: BacktestResult) -> dict[str, Any]:
    if row.kind != "backtest":
        raise Conflict(
            "This is a parameter optimisation: its report is in GET /api/backtest/{id}.",
            code="not_a_backtest",
        )
    if row.status != "completed" or row.result is None:
        raise Conflict(
            f"The backtest is {row.status}; results exist once it has completed.",
            code="backtest_not_completed",
        )
    return row.result


def trades(row: BacktestResult) -> list[dict[str, Any]]:
    """Return the closed trades of a completed backtest."""
    found: list[dict[str, Any]] = _completed_result(row)["trades"]
    return found


def equity(row: BacktestResult) -> list[dict[str, Any]]:
    """Return the (downsampled) equity curve, with drawdown, of a completed backtest."""
    found: list[dict[str, Any]] = _completed_result(row)["equity"]
    return found


def to_csv(records: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Render ``records`` as CSV text with a header row of ``columns``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


async def monte_carlo(
    row: BacktestResult,
    *,
    method: Literal["reshuffle", "bootstrap"],
    simulations: int,
    seed: int | None,
    block_size: int,
    ruin_threshold: float,
) -> dict[str, Any]:
    """Simulate a completed backtest's robustness; the same seed gives the same figures."""
    result = _completed_result(row)
    if not 1 <= simulations <= MAX_SIMULATIONS:
        raise Unprocessable(
            f"simulations must be 1 to {MAX_SIMULATIONS}.", code="invalid_simulations"
        )
    initial_cash = float(row.params["config"]["initial_cash"])
    if method == "reshuffle":
        series = [float(t["pnl"]) for t in result["trades"]]
    else:
        series = [float(r) for r in result["returns"]]
    if not series:
        raise Unprocessable(
            "The backtest has no closed trades to reshuffle."
            if method == "reshuffle"
            else "The backtest has no returns to resample.",
            code="nothing_to_simulate",
        )
    try:
        finals, drawdowns, ruined = await asyncio.to_thread(
            _simulate, method, series, initial_cash, simulations, seed, block_size, ruin_threshold
        )
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_monte_carlo") from exc
    return {
        "method": method,
        "simulations": simulations,
        "seed": seed,
        "initial_cash": initial_cash,
        "final_equity": {f"p{p}": float(np.percentile(finals, p)) for p in montecarlo.PERCENTILES},
        "max_drawdown": {
            f"p{p}": float(np.percentile(drawdowns, p)) for p in montecarlo.PERCENTILES
        },
        "probability_of_ruin": ruined / simulations,
    }


def _simulate(
    method: str,
    series: list[float],
    initial_cash: float,
    simulations: int,
    seed: int | None,
    block_size: int,
    ruin_fraction: float,
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]], float]:
    # Batches drawn from one seeded generator: reproducible, with bounded memory.
    rng = np.random.default_rng(seed)
    batch = max(1, _MC_BATCH_CELLS // (len(series) + 1))
    finals, drawdowns, ruined, done = [], [], 0.0, 0
    while done < simulations:
        size = min(batch, simulations - done)
        if method == "reshuffle":
            out = montecarlo.reshuffle_trades(
                series, initial_cash, n_simulations=size, ruin_fraction=ruin_fraction, seed=rng
            )
        else:
            out = montecarlo.block_bootstrap(
                series,
                initial_cash,
                block_size=block_size,
                n_simulations=size,
                ruin_fraction=ruin_fraction,
                seed=rng,
            )
        finals.append(out.final_equity)
        drawdowns.append(out.max_drawdown)
        ruined += out.probability_of_ruin * size
        done += size
    return np.concatenate(finals), np.concatenate(drawdowns), round(ruined)


def known_symbols(container: Container) -> dict[str, str]:
    """Return every tradable symbol with its asset class."""
    return {info.symbol: info.asset_class for info in container.market.symbols()}
