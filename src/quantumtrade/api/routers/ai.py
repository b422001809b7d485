"""``/api/ai``: calibrated AI decisions, their execution, the model registry and evaluations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from quantumtrade.api.deps import (
    AccessTokenDep,
    ContainerDep,
    CurrentPrincipal,
    OffsetQuery,
    OrderBatcherDep,
    SessionDep,
)
from quantumtrade.api.routers.backtests import RunnerDep
from quantumtrade.api.schemas.ai import (
    DecisionOut,
    DecisionPage,
    EvaluateRequest,
    EvaluationOut,
    ExecuteRequest,
    ExecuteResult,
    JobOut,
    ModelDetail,
    ModelPage,
    TrainRequest,
)
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime, Uuid, refused
from quantumtrade.services import ai, datasets
from quantumtrade.services.regime import _bars

router = APIRouter(prefix="/api/ai", tags=["ai"], responses=ERROR_RESPONSES)

EVALUATE_PATH = "/api/ai/evaluate"
EVALUATE_MAX_BYTES = _bars.MAX_BARS * 200 + 1024
Horizon = Annotated[int | None, Query(ge=1, le=ai.MAX_HORIZON, description="Bars ahead (days).")]
Limit = Annotated[int, Query(ge=1, le=ai.MAX_LIST)]


@router.get(
    "/decision/{symbol:path}",
    response_model=DecisionOut,
    summary="The current decision on a symbol",
)
async def get_decision(
    symbol: str, container: ContainerDep, principal: CurrentPrincipal, horizon: Horizon = None
) -> dict[str, Any]:
    """Buy, sell or hold over ``horizon`` daily bars, with its calibrated confidence, size,
    stop and target, every model's vote and track record, the regime and the sentiment.

    Computed at most once per ``AI_DECISION_TTL_SECONDS`` and stored as yours. On a symbol's
    first request the quick models train first (seconds); ``models.pending`` names the ones
    still training, and the decision is made without them.
    """
    return await ai.decision_for(container, principal.user.id, symbol, horizon)


@router.get("/decisions", response_model=DecisionPage, summary="Your decisions, with outcomes")
async def list_decisions(
    db: SessionDep,
    principal: CurrentPrincipal,
    symbol: Annotated[str | None, Query(max_length=20)] = None,
    action: Literal["buy", "sell", "hold"] | None = None,
    since: IsoDateTime | None = None,
    limit: Limit = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """Newest first; each has its realised outcome once its horizon has passed."""
    items, total = await ai.list_decisions(
        db,
        user_id=principal.user.id,
        symbol=symbol,
        action=action,
        since=since,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/decision/execute",
    response_model=ExecuteResult,
    status_code=status.HTTP_201_CREATED,
    summary="Execute a decision through paper trading",
    responses={
        **refused("Refused by a risk limit or a trading rule"),
        409: {"description": "Executed already (its order_id is in details)"},
    },
)
async def execute_decision(
    body: ExecuteRequest,
    container: ContainerDep,
    principal: CurrentPrincipal,
    access_token: AccessTokenDep,
    batcher: OrderBatcherDep,
) -> JSONResponse:
    """Place the decision's market order, with the same checks as ``POST /api/orders``.

    A decision executes once (409 after), not after it expires (422 ``decision_stale``), and a
    hold cannot be executed (422). Another user's decision or portfolio answers 404.
    """
    result = await ai.execute(
        container,
        batcher=batcher,
        access_token=access_token,
        user_id=principal.user.id,
        decision_id=body.decision_id,
        portfolio_id=body.portfolio_id,
        qty=body.qty,
        notional=body.notional,
        use_suggested_size=body.use_suggested_size,
    )
    return JSONResponse(result, status_code=status.HTTP_201_CREATED)


@router.get("/models", response_model=ModelPage, summary="The model registry")
async def list_models(
    db: SessionDep,
    principal: CurrentPrincipal,
    symbol: Annotated[str | None, Query(max_length=20)] = None,
    horizon: Horizon = None,
    name: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """Every trained version, newest first, with its walk-forward scorecard."""
    items, total = await ai.list_models(
        db, symbol=symbol, horizon=horizon, name=name, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/models/{model_id}", response_model=ModelDetail, summary="One model version")
async def get_model(model_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Its metrics per fold, calibration table, the baselines of the same run, and its live
    record on the decisions whose outcome is known."""
    return await ai.get_model(db, model_id)


@router.post(
    "/models/train",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Train a symbol's models (a job)",
)
async def train(
    body: TrainRequest, container: ContainerDep, principal: CurrentPrincipal, runner: RunnerDep
) -> JSONResponse:
    """Train in the background; follow it at ``GET /api/ai/jobs/{id}``."""
    job = await ai.submit_training(
        container,
        runner,
        user_id=principal.user.id,
        symbol=body.symbol,
        horizon=body.horizon,
        models=list(body.models) if body.models else None,
    )
    return JSONResponse(job, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/evaluate",
    response_model=EvaluationOut,
    summary="Evaluate every model walk-forward on your bars",
    responses={202: {"model": JobOut, "description": "More than 5,000 bars: a job"}},
)
async def evaluate(
    body: EvaluateRequest,
    container: ContainerDep,
    db: SessionDep,
    principal: CurrentPrincipal,
    runner: RunnerDep,
) -> Any:
    """Directional accuracy, Brier score, log loss, calibration error and IC per model, for the
    consensus and the baselines. Up to 5,000 bars answer at once (about a minute at most);
    more start a job (202)."""
    if body.dataset_id is not None:
        row = await datasets.get_dataset(
            db, user_id=principal.user.id, dataset_id=body.dataset_id, with_content=True
        )
        bars = datasets.load_bars(row.content)
    else:
        assert body.bars is not None
        bars = _bars.frame_from_rows([bar.model_dump() for bar in body.bars])
    done, answer = await ai.evaluate(
        container, runner, user_id=principal.user.id, bars=bars, horizon=body.horizon
    )
    if done:
        return answer
    return JSONResponse(answer, status_code=status.HTTP_202_ACCEPTED)


@router.get("/jobs/{job_id}", response_model=JobOut, summary="A training or evaluation job")
async def get_job(job_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return ai.job_view(await ai.get_job(db, principal.user.id, job_id))
