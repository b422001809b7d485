"""Parameter optimisation as a use case: a grid search or a walk-forward run in the background.

An optimisation is stored in ``backtest_results`` beside the backtests, with ``kind =
"optimization"``, and moves through the same statuses, with progress on the owner's
``backtests`` WebSocket channel. ``params`` holds ``{"strategy": <fixed params>, "grid": ...,
"objective": ..., "walk_forward": <windows or null>, "timeframe": ..., "config": ...}``;
``metrics`` a summary (the best or per-fold chosen params and the in- and out-of-sample
scores); ``result`` the report of :mod:`quantumtrade.backtest.optimize` (a grid search's ranking
is kept to its best ``MAX_STORED_RANKING`` combinations).

The sweep runs on the compute backend: a local process pool, or the Dask cluster at
``DASK_SCHEDULER_ADDRESS``, with the same results either way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.backtest import compute, optimize
from quantumtrade.backtest.runs import BacktestSpec
from quantumtrade.db.models.analytics import BacktestResult
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.services.backtests import (
    BacktestRunner,
    Progress,
    Work,
    load_bars,
    submit_run,
)
from quantumtrade.services.container import Container

MAX_API_COMBINATIONS = 5_000
MAX_STORED_RANKING = 500
_PROGRESS_SECONDS = 0.5  # at most this often a progress update goes out


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkForwardWindows:
    """Walk-forward windows in bars (see ``optimize.walk_forward``)."""

    in_sample: int
    out_of_sample: int
    folds: int | None = None
    anchored: bool = False
    warmup: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimizationSpec:
    """A validated optimisation request: the backtest it varies, the grid and the objective."""

    base: BacktestSpec
    grid: dict[str, list[Any]]
    objective: str
    walk_forward: WalkForwardWindows | None


def prepare_optimization(
    base: BacktestSpec,
    *,
    grid: dict[str, list[Any]],
    objective: str,
    walk_forward: WalkForwardWindows | None,
) -> OptimizationSpec:
    """Validate the grid and objective against ``base``'s strategy or raise 422."""
    try:
        optimize.Objective.named(objective)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_objective") from exc
    fixed = {k: v for k, v in base.params.items() if k not in grid}
    try:
        optimize.expand_grid(
            base.strategy, grid, fixed=fixed, max_combinations=MAX_API_COMBINATIONS
        )
    except (ValueError, TypeError) as exc:
        raise Unprocessable(str(exc), code="invalid_grid") from exc
    return OptimizationSpec(base=base, grid=grid, objective=objective, walk_forward=walk_forward)


async def submit_optimization(
    db: AsyncSession,
    *,
    container: Container,
    runner: BacktestRunner,
    user_id: uuid.UUID,
    spec: OptimizationSpec,
) -> BacktestResult:
    """Store a queued optimisation and start it in the background."""
    base = spec.base
    windows = spec.walk_forward
    return await submit_run(
        db,
        container=container,
        runner=runner,
        user_id=user_id,
        spec=base,
        kind="optimization",
        work=_work(container, user_id, spec),
        strategy_params={k: v for k, v in base.params.items() if k not in spec.grid},
        extra_params={
            "grid": spec.grid,
            "objective": spec.objective,
            "walk_forward": dataclasses.asdict(windows) if windows is not None else None,
        },
    )


def run(
    bars: Any,
    spec: OptimizationSpec,
    backend: compute.ComputeBackend,
    progress: compute.Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the sweep; return the summary metrics and the stored report."""
    base = spec.base
    fixed = {k: v for k, v in base.params.items() if k not in spec.grid}
    common: dict[str, Any] = {
        "objective": spec.objective,
        "config": base.config,
        "fixed": fixed,
        "backend": backend,
        "progress": progress,
        "max_combinations": MAX_API_COMBINATIONS,
    }
    if spec.walk_forward is None:
        report = optimize.grid_search(bars, base.strategy, spec.grid, **common)
        body = report.to_dict()
        body["ranking"] = body["ranking"][:MAX_STORED_RANKING]
        best = body["best"]
        summary = {
            "objective": spec.objective,
            "combinations": report.combinations,
            "skipped": report.skipped,
            "best_params": best["params"],
            "best_score": best["score"],
            "bars": report.bars,
        }
        return summary, body
    windows = spec.walk_forward
    wf = optimize.walk_forward(
        bars,
        base.strategy,
        spec.grid,
        in_sample=windows.in_sample,
        out_of_sample=windows.out_of_sample,
        folds=windows.folds,
        anchored=windows.anchored,
        warmup=windows.warmup,
        **common,
    )
    body = wf.to_dict()
    summary = {
        "objective": spec.objective,
        "combinations": body.get("combinations"),
        "folds": len(body.get("folds", [])),
        "mean_in_sample_score": body.get("mean_is_score"),
        "mean_out_of_sample_score": body.get("mean_oos_score"),
        "overfitting_gap": body.get("overfitting_gap"),
        "out_of_sample_total_return": body.get("oos_total_return"),
        "chosen_params": [fold["params"] for fold in body.get("folds", [])],
    }
    return summary, body


def _work(container: Container, user_id: uuid.UUID, spec: OptimizationSpec) -> Work:
    async def work(progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
        loop = asyncio.get_running_loop()
        bars = await load_bars(container, user_id, spec.base)
        await progress(0.1)
        last_sent = 0.0
        pending: list[concurrent.futures.Future[None]] = []

        def swept(done: int, total: int) -> None:
            # Called on the sweep's thread: hand throttled updates to the event loop.
            nonlocal last_sent
            now = time.monotonic()
            if total <= 0 or (now - last_sent < _PROGRESS_SECONDS and done < total):
                return
            last_sent = now
            share = 0.1 + 0.85 * done / total
            pending.append(asyncio.run_coroutine_threadsafe(progress(share), loop))

        backend = compute.backend_from_address(container.settings.dask_scheduler_address)
        try:
            return await asyncio.to_thread(run, bars, spec, backend, swept)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="invalid_optimization") from exc
        finally:
            await asyncio.to_thread(backend.close)
            for future in pending:  # so no late progress lands after the final status
                with contextlib.suppress(Exception):
                    await asyncio.wrap_future(future)

    return work
