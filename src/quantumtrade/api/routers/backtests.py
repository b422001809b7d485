"""``/api/backtest``: run strategy backtests in the background, read and export their results."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal, OffsetQuery, SessionDep
from quantumtrade.api.schemas.backtests import (
    BacktestAccepted,
    BacktestCreate,
    BacktestOut,
    BacktestPage,
    BacktestSummary,
    MonteCarloOut,
    MonteCarloRequest,
    OptimizationCreate,
)
from quantumtrade.api.schemas.common import CSV_EXPORT, ERROR_RESPONSES, Uuid
from quantumtrade.backtest import runs
from quantumtrade.db.models.analytics import BacktestResult
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.services import backtests, datasets, optimizations

router = APIRouter(prefix="/api", tags=["backtests"], responses=ERROR_RESPONSES)

Format = Annotated[Literal["json", "csv"], Query(alias="format")]


def get_runner(request: Request) -> backtests.BacktestRunner:
    # The app factory may create it (and stop it at shutdown); otherwise the first use does.
    runner: backtests.BacktestRunner | None = getattr(request.app.state, "backtests", None)
    if runner is None:
        runner = backtests.BacktestRunner()
        request.app.state.backtests = runner
    return runner


RunnerDep = Annotated[backtests.BacktestRunner, Depends(get_runner)]


def _summary(row: BacktestResult) -> dict[str, Any]:
    stored = row.params or {}
    return {
        "id": row.id,
        "kind": row.kind,
        "dataset_id": row.dataset_id,
        "name": row.name,
        "strategy": row.strategy,
        "symbols": row.symbols,
        "timeframe": stored.get("timeframe", "1Day"),
        "grid": stored.get("grid"),
        "objective": stored.get("objective"),
        "walk_forward": stored.get("walk_forward"),
        "params": stored.get("strategy", {}),
        "config": stored.get("config", {}),
        "start": row.start,
        "end": row.end,
        "status": row.status,
        "progress": row.progress,
        "error": row.error,
        "metrics": row.metrics,
        "created_at": row.created_at,
        "completed_at": row.completed_at,
    }


def _export(records: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, name: str) -> Any:
    if fmt == "csv":
        return Response(
            backtests.to_csv(records, columns),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return records


async def _spec(
    body: BacktestCreate, db: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> runs.BacktestSpec:
    """Validate a backtest request against the market, or against the user's dataset."""
    symbol, known = body.the_symbol, backtests.known_symbols(container)
    start, end = body.start, body.end
    timeframe: str = body.timeframe or "1Day"
    if body.dataset_id is not None:
        dataset = await datasets.get_dataset(
            db, user_id=principal.user.id, dataset_id=body.dataset_id
        )
        if symbol is not None and symbol.strip().upper() != dataset.symbol:
            raise Unprocessable(
                f"The dataset holds {dataset.symbol!r}, not {symbol.strip()[:30]!r}; leave "
                "symbol out or give the dataset's.",
                code="dataset_symbol_mismatch",
            )
        symbol, known = dataset.symbol, {dataset.symbol: dataset.asset_class}
        start = start or dataset.first_time
        end = end or dataset.last_time + timedelta(microseconds=1)
        timeframe = body.timeframe or dataset.timeframe or "1Day"
    assert symbol is not None and start is not None and end is not None  # the body validated
    return runs.prepare_backtest(
        strategy=body.strategy,
        params=body.params,
        symbol=symbol,
        known_symbols=known,
        timeframe=timeframe,
        start=start,
        end=end,
        config=body.config_options(),
        name=body.name,
        dataset_id=body.dataset_id,
    )


@router.post(
    "/backtest", status_code=status.HTTP_202_ACCEPTED, summary="Start a backtest (poll for it)"
)
async def create_backtest(
    body: BacktestCreate,
    db: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    runner: RunnerDep,
) -> BacktestAccepted:
    spec = await _spec(body, db, principal, container)
    row = await backtests.submit_backtest(
        db, container=container, runner=runner, user_id=principal.user.id, spec=spec
    )
    return BacktestAccepted(id=row.id, status="queued")


@router.post(
    "/backtest/optimize",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a parameter grid search or walk-forward optimisation (poll for it)",
)
async def create_optimization(
    body: OptimizationCreate,
    db: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    runner: RunnerDep,
) -> BacktestAccepted:
    base = await _spec(body, db, principal, container)
    windows = (
        optimizations.WalkForwardWindows(**body.walk_forward.model_dump())
        if body.walk_forward is not None
        else None
    )
    spec = optimizations.prepare_optimization(
        base, grid=body.grid, objective=body.objective, walk_forward=windows
    )
    row = await optimizations.submit_optimization(
        db, container=container, runner=runner, user_id=principal.user.id, spec=spec
    )
    return BacktestAccepted(id=row.id, status="queued")


@router.get("/backtests", summary="List your backtests, newest first")
async def list_backtests(
    db: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: OffsetQuery = 0,
) -> BacktestPage:
    rows, total = await backtests.list_backtests(
        db, user_id=principal.user.id, limit=limit, offset=offset
    )
    items = [BacktestSummary.model_validate(_summary(row)) for row in rows]
    return BacktestPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/backtest/{backtest_id}", summary="Get a backtest with its equity and trades")
async def get_backtest(
    backtest_id: Uuid, db: SessionDep, principal: CurrentPrincipal
) -> BacktestOut:
    row = await backtests.get_backtest(db, user_id=principal.user.id, backtest_id=backtest_id)
    out = BacktestOut.model_validate(_summary(row))
    if row.status == "completed" and row.kind == "optimization":
        out.report = row.result
    elif row.status == "completed":
        out.equity, out.trades = backtests.equity(row), backtests.trades(row)
    return out


@router.get(
    "/backtest/{backtest_id}/trades",
    response_model=None,
    responses=CSV_EXPORT,
    summary="A completed backtest's trades as JSON or CSV",
)
async def get_trades(
    backtest_id: Uuid, db: SessionDep, principal: CurrentPrincipal, fmt: Format = "json"
) -> Any:
    row = await backtests.get_backtest(db, user_id=principal.user.id, backtest_id=backtest_id)
    return _export(backtests.trades(row), runs.TRADE_COLUMNS, fmt, f"backtest-{backtest_id}-trades")


@router.get(
    "/backtest/{backtest_id}/equity",
    response_model=None,
    responses=CSV_EXPORT,
    summary="A completed backtest's equity curve (with drawdown) as JSON or CSV",
)
async def get_equity(
    backtest_id: Uuid, db: SessionDep, principal: CurrentPrincipal, fmt: Format = "json"
) -> Any:
    row = await backtests.get_backtest(db, user_id=principal.user.id, backtest_id=backtest_id)
    return _export(
        backtests.equity(row), runs.EQUITY_COLUMNS, fmt, f"backtest-{backtest_id}-equity"
    )


@router.post("/backtest/{backtest_id}/monte-carlo", summary="Monte Carlo a completed backtest")
async def monte_carlo(
    backtest_id: Uuid, body: MonteCarloRequest, db: SessionDep, principal: CurrentPrincipal
) -> MonteCarloOut:
    row = await backtests.get_backtest(db, user_id=principal.user.id, backtest_id=backtest_id)
    figures = await backtests.monte_carlo(
        row,
        method=body.method,
        simulations=body.simulations,
        seed=body.seed,
        block_size=body.block_size,
        ruin_threshold=body.ruin_threshold,
    )
    return MonteCarloOut.model_validate(figures)
