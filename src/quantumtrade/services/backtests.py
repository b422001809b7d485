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
import math
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from quantumtrade.backtest import montecarlo
from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.backtest.strategies import STRATEGIES, from_dict, get_spec
from quantumtrade.db.models.analytics import BacktestResult
from quantumtrade.domain.errors import AppError, Conflict, NotFound, Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.services import datasets
from quantumtrade.services.alerts import user_channel
from quantumtrade.services.container import Container

_log = logging.getLogger(__name__)

TIMEFRAMES = (Timeframe.DAY_1, Timeframe.HOUR_1, Timeframe.MIN_1)
MAX_BARS = 2_000_000
MAX_EQUITY_POINTS = 2_000
MAX_RETURN_POINTS = 10_000
MAX_SIMULATIONS = 20_000
_MC_BATCH_CELLS = 2_000_000  # simulated points per batch: bounds Monte Carlo memory
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(BacktestConfig))
TRADE_COLUMNS = (  # a stored trade's fields, as exported
    "entry_time",
    "exit_time",
    "side",
    "qty",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "exit_reason",
)
EQUITY_COLUMNS = ("time", "equity", "drawdown")  # a stored equity point's fields
_PERIODS_PER_YEAR = {
    ("us_equity", Timeframe.DAY_1): 252,
    ("us_equity", Timeframe.HOUR_1): 252 * 7,
    ("us_equity", Timeframe.MIN_1): 252 * 390,
    ("crypto", Timeframe.DAY_1): 365,
    ("crypto", Timeframe.HOUR_1): 365 * 24,
    ("crypto", Timeframe.MIN_1): 365 * 1440,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class BacktestSpec:
    """A validated backtest request."""

    name: str | None
    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe: Timeframe
    start: datetime
    end: datetime
    config: BacktestConfig
    dataset_id: uuid.UUID | None = None


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


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def prepare_backtest(
    *,
    strategy: str,
    params: dict[str, Any],
    symbol: str,
    known_symbols: dict[str, str],
    timeframe: str,
    start: datetime,
    end: datetime,
    config: dict[str, Any],
    name: str | None = None,
    dataset_id: uuid.UUID | None = None,
    bars_given: bool = False,
) -> BacktestSpec:
    """Validate a request (``known_symbols`` maps symbol to asset class) or raise 422.

    With ``dataset_id`` the bars come from that uploaded file, whose size was checked when it
    was stored, so the range is not checked against ``MAX_BARS``; nor with ``bars_given``
    (the CLI's ``--data`` file, already in memory, whose size is the file's).
    """
    if strategy not in STRATEGIES:
        try:
            get_spec(strategy)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="unknown_strategy") from exc
    try:
        full_params = dataclasses.asdict(from_dict(strategy, params))
    except (ValueError, TypeError) as exc:
        raise Unprocessable(str(exc), code="invalid_params") from exc
    try:
        frame = Timeframe.parse(timeframe)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_timeframe") from exc
    if frame not in TIMEFRAMES:
        allowed = ", ".join(t.value for t in TIMEFRAMES)
        raise Unprocessable(f"timeframe must be one of {allowed}.", code="invalid_timeframe")
    canonical = symbol.strip().upper()
    if canonical not in known_symbols:
        canonical = canonical.replace("-", "/")
    if canonical not in known_symbols:
        raise Unprocessable(f"Unknown symbol {symbol.strip()[:30]!r}.", code="unknown_symbol")
    start, end = _utc(start), _utc(end)
    if start >= end:
        raise Unprocessable("start must be before end.", code="invalid_range")
    estimated = (end - start) / frame.delta
    if dataset_id is None and not bars_given and estimated > MAX_BARS:
        raise Unprocessable(
            f"The range spans about {estimated:,.0f} {frame.value} bars; the limit is "
            f"{MAX_BARS:,} bars a run (the bars, signals, positions and equity curve are held "
            "in memory together). Shorten it, use a longer timeframe, split it into runs, or "
            "run `quantumtrade backtest --data FILE` on a bar file, which has no such limit.",
            code="range_too_large",
        )
    asset_class = known_symbols[canonical]
    options = {"periods_per_year": _PERIODS_PER_YEAR.get((asset_class, frame), 252), **config}
    if asset_class == "crypto":
        options["fractional"] = True  # crypto trades in fractions, whatever the sizing
    unknown = sorted(set(options) - set(CONFIG_FIELDS))
    if unknown:
        raise Unprocessable(f"Unknown option(s): {', '.join(unknown)}.", code="invalid_config")
    try:
        backtest_config = BacktestConfig(**options)
    except (ValueError, TypeError) as exc:
        raise Unprocessable(str(exc), code="invalid_config") from exc
    return BacktestSpec(
        name=name,
        strategy=strategy,
        params=full_params,
        symbol=canonical,
        timeframe=frame,
        start=start,
        end=end,
        config=backtest_config,
        dataset_id=dataset_id,
    )


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


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def compute(bars: pd.DataFrame, spec: BacktestSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the engine and shape its output for storage (JSON-safe, downsampled)."""
    outcome = run_strategy(bars, spec.strategy, spec.params, spec.config)
    equity = outcome.equity.to_numpy(dtype=np.float64)
    drawdown = equity / np.maximum.accumulate(equity) - 1.0
    metrics: dict[str, Any] = {k: _finite(v) for k, v in outcome.metrics.items()}
    metrics |= {
        "final_equity": float(equity[-1]),
        "initial_cash": spec.config.initial_cash,
        "bars": len(equity),
    }
    n = len(equity)
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_EQUITY_POINTS)).round().astype(np.int64))
    times = outcome.equity.index
    curve = [
        {"time": times[i].isoformat(), "equity": float(equity[i]), "drawdown": float(drawdown[i])}
        for i in keep
    ]
    frame = outcome.trades
    trades = [
        {
            "entry_time": entry.isoformat(),
            "exit_time": exit_.isoformat(),
            "side": "long" if side > 0 else "short",
            "qty": float(qty),
            "entry_price": float(entry_price),
            "exit_price": float(exit_price),
            "fees": float(fees),
            "pnl": float(pnl),
            "exit_reason": str(reason),
        }
        for entry, exit_, side, qty, entry_price, exit_price, fees, pnl, reason in zip(
            *(frame[c].tolist() for c in TRADE_COLUMNS), strict=True
        )
    ]
    # Compound consecutive bars into at most MAX_RETURN_POINTS periods for the bootstrap.
    per = max(1, -(-(n - 1) // MAX_RETURN_POINTS))
    marks = equity[::per] if (n - 1) % per == 0 else np.append(equity[::per], equity[-1])
    returns = (marks[1:] / marks[:-1] - 1.0).tolist()
    result = {
        "equity": curve,
        "trades": trades,
        "returns": returns,
        "bars_per_return": per,
    }
    return metrics, result


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
