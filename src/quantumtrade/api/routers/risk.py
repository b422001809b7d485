"""``/api/risk``: read-only risk analytics of a portfolio: VaR/CVaR, metrics, stress, stops.

Conventions shared by every answer: positions are valued at the last price (negative = short);
history is the simple daily returns of completed sessions' closes over the last
``lookback_days`` sessions all holdings share; losses (VaR, CVaR) are positive numbers and
P&L is signed; percentages are fractions (0.0123 = 1.23 %); undefined figures are null. An
empty portfolio answers zeros and empty lists.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from quantumtrade.api.deps import CurrentPrincipal, DeskDep, SessionDep
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid
from quantumtrade.api.schemas.risk_out import RiskMetricsOut, StopsOut, VarOut
from quantumtrade.services.risk import analytics, stops
from quantumtrade.services.trading import portfolios

router = APIRouter(prefix="/api/risk", tags=["risk"], responses=ERROR_RESPONSES)

Lookback = Annotated[
    int,
    Query(ge=30, le=1000, description="Daily returns of history to use (sessions)."),
]


@router.get(
    "/var/{portfolio_id}",
    response_model=VarOut,
    summary="Value at Risk and CVaR, with component VaR",
)
async def get_var(
    portfolio_id: Uuid,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    method: Annotated[
        Literal["historical", "parametric", "monte_carlo", "all"],
        Query(description="One method, or all three side by side."),
    ] = "all",
    confidence: Annotated[float, Query(gt=0.5, lt=0.9999, description="e.g. 0.95, 0.99")] = 0.95,
    horizon_days: Annotated[int, Query(ge=1, le=30, description="Trading days.")] = 1,
    lookback_days: Lookback = 252,
    paths: Annotated[
        int,
        Query(
            ge=100,
            le=100_000,
            description="Monte Carlo paths; paths x positions may not exceed 10,000,000.",
        ),
    ] = 10_000,
    seed: Annotated[
        int, Query(ge=0, le=2**32 - 1, description="Monte Carlo seed (same seed, same figure).")
    ] = 42,
) -> dict[str, Any]:
    """Return the portfolio's VaR and CVaR at ``confidence`` over ``horizon_days``.

    - **Losses are positive**, in the portfolio currency; ``*_pct_of_equity`` and
      ``*_pct_of_gross`` divide by equity and by gross exposure (fractions).
    - **Returns**: simple daily returns of completed sessions' closes over the last
      ``lookback_days`` sessions all holdings share.
    - **Horizon**: the one-day figure times ``sqrt(horizon_days)``; zero mean.
    - **historical**: revalues today's positions under each past day; with ``n`` days and
      ``k = ceil((1 - confidence) n)``, VaR is the k-th largest loss and CVaR the mean of the
      k largest. **parametric**: normal, ``VaR = z sigma_p sqrt(h)`` from the sample
      covariance. **monte_carlo**: ``paths`` correlated normal draws from that covariance
      (seeded), quantiles as for historical.
    - **Components**: parametric Euler components sum to VaR; historical and Monte Carlo
      components are each position's mean loss in the tail and sum to CVaR
      (``component_basis``).
    """
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await analytics.value_at_risk(
        db,
        desk=desk,
        portfolio=portfolio,
        method=method,
        confidence=confidence,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        paths=paths,
        seed=seed,
    )


@router.get(
    "/metrics/{portfolio_id}",
    response_model=RiskMetricsOut,
    summary="Exposure, beta, correlation, drawdown, stress",
)
async def get_metrics(
    portfolio_id: Uuid,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    shocks: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Custom stress as SYMBOL:RETURN pairs, e.g. AAPL:-0.1,MSFT:-0.05 "
            "(fractions in [-1, 10]).",
        ),
    ] = None,
    lookback_days: Lookback = 252,
    sector_shock: Annotated[
        float, Query(ge=-1.0, le=1.0, description="Move of the largest sector (a fraction).")
    ] = -0.10,
) -> dict[str, Any]:
    """Return the portfolio's risk metrics and stress tests.

    - **Exposure**: gross ``sum |V|``, net ``sum V``, long, short (positive), and the
      beta-weighted exposure ``sum beta_i V_i``.
    - **Beta** to SPY and **annualised volatility** (252 days) of the book's daily returns on
      gross capital; per-position betas in ``positions``.
    - **Correlation** matrix of the holdings' returns; pairs with ``|rho| >= 0.8`` are warned.
    - **Concentration**: Herfindahl ``sum (|V_i| / gross)^2`` (1/N equal weights, 1 for one).
    - **Drawdown**: current and maximum, fractions below the peak of the time-weighted equity
      curve (as in ``/api/portfolios/{id}/performance``).
    - **Stress** (P&L signed, a loss is negative): market -10 % and -20 % moving each position
      by its beta times the shock; volatility x2 (the 99 % one-day parametric VaR as a loss);
      the largest sector by gross exposure moved by ``sector_shock``; and ``shocks``, applied
      to the named positions (symbols not held are listed and change nothing).
    """
    parsed = analytics.parse_shocks(shocks)
    portfolio = await portfolios.get_portfolio(
        db, user_id=principal.user.id, portfolio_id=portfolio_id
    )
    return await analytics.risk_metrics(
        db,
        desk=desk,
        portfolio=portfolio,
        shocks=parsed,
        lookback_days=lookback_days,
        sector_move=sector_shock,
    )


@router.get(
    "/stops/{symbol:path}",
    response_model=StopsOut,
    summary="Stop-loss, take-profit and position size",
)
async def get_stops(
    symbol: str,
    principal: CurrentPrincipal,
    desk: DeskDep,
    side: Annotated[Literal["long", "short"], Query(description="The position's side.")] = "long",
    entry: Annotated[float | None, Query(gt=0, description="Default: the last price.")] = None,
    equity: Annotated[float | None, Query(gt=0, description="Sizes the position.")] = None,
    risk_fraction: Annotated[
        float, Query(gt=0, le=1, description="Share of equity lost at the stop.")
    ] = 0.01,
    reward_risk: Annotated[float, Query(gt=0, le=100, description="Target / stop distance.")] = 2.0,
    stop_pct: Annotated[float, Query(gt=0, lt=1, description="Percent stop (fraction).")] = 0.05,
    atr_multiple: Annotated[float, Query(gt=0, le=20)] = 2.0,
    atr_period: Annotated[int, Query(ge=1, le=200)] = 14,
    volatility_multiple: Annotated[float, Query(gt=0, le=20)] = 2.0,
    volatility_window: Annotated[int, Query(ge=2, le=500)] = 20,
    win_rate: Annotated[float | None, Query(ge=0, le=1, description="For Kelly sizing.")] = None,
    win_loss_ratio: Annotated[
        float | None, Query(gt=0, description="Average win / average loss, for Kelly.")
    ] = None,
    kelly_cap: Annotated[float, Query(ge=0, le=1)] = 0.25,
) -> dict[str, Any]:
    """Suggest stops for a position in ``symbol`` (``BTC/USD`` may be written ``BTCUSD``).

    - **percent**: ``entry (1 -/+ stop_pct)``; **atr**: ``entry -/+ atr_multiple x ATR``, with
      Wilder's ATR over ``atr_period`` completed daily sessions; **volatility**: ``entry
      (1 -/+ volatility_multiple x sigma)``, sigma the standard deviation of the last
      ``volatility_window`` daily returns. A long stop sits below the entry, a short one above.
    - **take_profit**: ``reward_risk`` times the entry-to-stop distance past the entry.
    - With ``equity``: ``qty = equity x risk_fraction / |entry - stop|`` (unrounded;
      ``whole_qty`` rounds down), so hitting the stop loses ``risk_fraction`` of equity.
    - **kelly** (with ``win_rate`` and ``win_loss_ratio``): ``p - (1 - p) / b``, floored at 0
      and capped at ``kelly_cap``.
    """
    return await stops.stop_suggestion(
        desk,
        symbol=symbol,
        side=side,
        entry=entry,
        equity=equity,
        risk_fraction=risk_fraction,
        reward_risk=reward_risk,
        stop_pct=stop_pct,
        atr_multiple=atr_multiple,
        atr_period=atr_period,
        volatility_multiple=volatility_multiple,
        volatility_window=volatility_window,
        win_rate=win_rate,
        win_loss_ratio=win_loss_ratio,
        kelly_cap=kelly_cap,
    )
