"""``/api/regime``: market regimes (bull, bear, sideways), volatility, trend and strategy advice."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal, SessionDep
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime
from quantumtrade.api.schemas.regime import (
    Classification,
    ClassifyRequest,
    MarketRegime,
    RegimeHistory,
    RegimeNow,
)
from quantumtrade.services import datasets, regime

router = APIRouter(prefix="/api/regime", tags=["regime"], responses=ERROR_RESPONSES)

Timeframe = Annotated[
    Literal["1Min", "5Min", "15Min", "1Hour", "1Day"], Query(description="Bar timeframe.")
]


@router.get("/market", response_model=MarketRegime, summary="The market's regime and breadth")
async def get_market(container: ContainerDep) -> dict[str, Any]:
    """SPY's regime, and the share of the universe in each regime (daily bars)."""
    return await regime.market_view(container)


@router.post(
    "/classify",
    response_model=Classification,
    summary="Label your bars: one regime, with probabilities, per bar",
)
async def classify(
    body: ClassifyRequest, db: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Classify up to 100,000 bars sent in the body, or one of your datasets.

    ``filtered`` labels each bar from the bars up to it (what trading sees); ``smoothed`` uses
    the whole series (for looking back). Bad rows answer 422 with each offending row.
    """
    if body.dataset_id is not None:
        row = await datasets.get_dataset(
            db, user_id=principal.user.id, dataset_id=body.dataset_id, with_content=True
        )
        return await regime.classify_frame(datasets.load_bars(row.content), body.mode)
    assert body.bars is not None
    rows = [bar.model_dump() for bar in body.bars]
    return await regime.classify_rows(rows, body.mode)


@router.get(
    "/{symbol:path}/history",
    response_model=RegimeHistory,
    summary="A symbol's regime segments",
)
async def get_history(
    symbol: str,
    container: ContainerDep,
    timeframe: Timeframe = "1Day",
    start: IsoDateTime | None = None,
    end: IsoDateTime | None = None,
    mode: Literal["filtered", "smoothed"] = "smoothed",
) -> dict[str, Any]:
    """The regime segments between ``start`` and ``end`` (smoothed labels by default)."""
    return await regime.history(
        container,
        symbol,
        regime.parse_timeframe(timeframe),
        start=start,
        end=end,
        mode=mode,
    )


@router.get("/{symbol:path}", response_model=RegimeNow, summary="A symbol's regime now")
async def get_regime(
    symbol: str, container: ContainerDep, timeframe: Timeframe = "1Day"
) -> dict[str, Any]:
    """The current label and its probabilities, since when it has held, volatility, trend,
    and the strategies that did best in this regime, with their evidence."""
    return await regime.current(container, symbol, regime.parse_timeframe(timeframe))
