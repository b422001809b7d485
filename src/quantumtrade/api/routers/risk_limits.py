"""``/api/risk/limits``: a portfolio's risk limits, checked inside every order's transaction."""

from __future__ import annotations

from fastapi import APIRouter

from quantumtrade.api.deps import CurrentPrincipal, SessionDep
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid
from quantumtrade.api.schemas.risk import RiskLimitsOut, RiskLimitsUpdate
from quantumtrade.services.risk import limits
from quantumtrade.services.trading import portfolios

router = APIRouter(prefix="/api/risk", tags=["risk"], responses=ERROR_RESPONSES)


@router.get("/limits/{portfolio_id}", summary="A portfolio's risk limits")
async def get_limits(
    portfolio_id: Uuid, db: SessionDep, principal: CurrentPrincipal
) -> RiskLimitsOut:
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return RiskLimitsOut(
        portfolio_id=str(portfolio.id), limits=limits.limits_of(portfolio).to_dict()
    )


@router.post("/limits/{portfolio_id}", summary="Change risk limits (others stay; null = off)")
async def set_limits(
    portfolio_id: Uuid,
    db: SessionDep,
    principal: CurrentPrincipal,
    changes: RiskLimitsUpdate,
) -> RiskLimitsOut:
    """Every ``*_pct`` is a fraction (0.05 = 5 %), of equity unless said; values are dollars.

    Rules: max_position_pct, max_position_value, max_order_value, max_open_positions,
    max_symbol_concentration_pct (of gross exposure), max_sector_concentration_pct (of equity),
    daily_loss_limit_pct / daily_loss_limit_value (risk-adding orders refused until the next
    day once reached), max_leverage (gross exposure / equity), max_drawdown_pct (kill switch),
    allowed_symbols, blocked_symbols, max_orders_per_minute. Orders that only reduce a position
    are always allowed.
    """
    updated = await limits.set_limits(
        db,
        user_id=principal.user.id,
        portfolio_id=portfolio_id,
        changes=changes.model_dump(exclude_unset=True),
    )
    return RiskLimitsOut(portfolio_id=str(portfolio_id), limits=updated.to_dict())
