"""``/api/journal``: every round trip as a journal entry, and the trader's notes on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from quantumtrade.api.deps import CurrentPrincipal, DeskDep, OffsetQuery, SessionDep
from quantumtrade.api.schemas.common import CSV_EXPORT, ERROR_RESPONSES, IsoDateTime, Uuid
from quantumtrade.api.schemas.journal import (
    AnalysisOut,
    JournalEntryOut,
    JournalEntryPatch,
    JournalPage,
    JournalRebuildOut,
    MistakesOut,
    RecommendationsOut,
)
from quantumtrade.db.models import Portfolio
from quantumtrade.domain.journal_review import DIMENSIONS, MistakeRules
from quantumtrade.services import journal, journal_review
from quantumtrade.services.trading import portfolios

router = APIRouter(prefix="/api/journal", tags=["journal"], responses=ERROR_RESPONSES)

PortfolioQuery = Annotated[
    Uuid | None, Query(description="The portfolio; your first one when omitted.")
]
Since = Annotated[
    IsoDateTime | None, Query(alias="from", description="Opened at or after; naive is UTC.")
]
Until = Annotated[IsoDateTime | None, Query(alias="to", description="Opened before; naive is UTC.")]
MinSample = Annotated[
    int,
    Query(ge=2, le=10_000, description="The fewest trips a group needs to be conclusive."),
]
Confidence = Annotated[
    float, Query(ge=0.5, le=0.999, description="The confidence of the intervals (0.95: 95 %).")
]
_DEFAULT = MistakeRules()


def mistake_rules(
    stop_move_tolerance: Annotated[
        float,
        Query(ge=0, le=0.5, description="Stop moved away: by more than this fraction of entry."),
    ] = _DEFAULT.stop_move_tolerance,
    oversize_fraction: Annotated[
        float,
        Query(
            gt=0,
            le=10,
            description="Oversized: entry value over equity above this, when the portfolio has "
            "no max_position_pct limit.",
        ),
    ] = _DEFAULT.oversize_fraction,
    revenge_window_minutes: Annotated[
        float, Query(gt=0, le=1440, description="Revenge trade: opened this soon after a loss.")
    ] = _DEFAULT.revenge_window.total_seconds() / 60,
    revenge_size_ratio: Annotated[
        float, Query(ge=1, le=100, description="…at least this many times the loser's size.")
    ] = _DEFAULT.revenge_size_ratio,
    overtrading_factor: Annotated[
        float, Query(ge=1, le=100, description="Overtrading: a day's trips over the median day.")
    ] = _DEFAULT.overtrading_factor,
    overtrading_min_days: Annotated[
        int, Query(ge=1, le=3650, description="…with at least this many days of history.")
    ] = _DEFAULT.overtrading_min_days,
    overtrading_min_trades: Annotated[
        int, Query(ge=1, le=10_000, description="…and at least this many trips that day.")
    ] = _DEFAULT.overtrading_min_trades,
    chase_atr: Annotated[
        float,
        Query(ge=0, le=100, description="Chasing: a run-up before entry of this many ATR(14)."),
    ] = _DEFAULT.chase_atr,
    payoff_floor: Annotated[
        float,
        Query(gt=0, le=100, description="Cutting winners: average win / average loss below."),
    ] = _DEFAULT.payoff_floor,
    hold_asymmetry: Annotated[
        float,
        Query(ge=1, le=100, description="…and losers held this many times longer than winners."),
    ] = _DEFAULT.hold_asymmetry,
    min_wins_losses: Annotated[
        int, Query(ge=2, le=10_000, description="…measured on at least this many of each.")
    ] = _DEFAULT.min_sample,
    critical_loss_share: Annotated[
        float,
        Query(gt=0, le=1, description="Critical: the trips lost this share of all gross losses."),
    ] = _DEFAULT.critical_loss_share,
) -> MistakeRules:
    """The mistake rules, each threshold settable per request (defaults documented)."""
    return MistakeRules(
        stop_move_tolerance=stop_move_tolerance,
        oversize_fraction=oversize_fraction,
        revenge_window=timedelta(minutes=revenge_window_minutes),
        revenge_size_ratio=revenge_size_ratio,
        overtrading_factor=overtrading_factor,
        overtrading_min_days=overtrading_min_days,
        overtrading_min_trades=overtrading_min_trades,
        chase_atr=chase_atr,
        payoff_floor=payoff_floor,
        hold_asymmetry=hold_asymmetry,
        min_sample=min_wins_losses,
        critical_loss_share=critical_loss_share,
    )


RulesDep = Annotated[MistakeRules, Depends(mistake_rules)]


async def _portfolio(
    db: SessionDep, principal: CurrentPrincipal, desk: DeskDep, portfolio_id: Uuid | None
) -> Portfolio:
    if portfolio_id is None:
        return await portfolios.default_portfolio(db, desk=desk, user_id=principal.user.id)
    return await portfolios.get_portfolio(db, user_id=principal.user.id, portfolio_id=portfolio_id)


@router.get(
    "/entries",
    response_model=JournalPage,
    responses=CSV_EXPORT,
    summary="Journal entries (round trips), newest first, filtered; JSON or CSV",
)
async def list_entries(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
    symbol: Annotated[str | None, Query(max_length=20)] = None,
    status: Literal["open", "closed", "reset"] | None = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    setup: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    since: Annotated[
        IsoDateTime | None, Query(alias="from", description="Opened at or after; naive is UTC.")
    ] = None,
    until: Annotated[
        IsoDateTime | None, Query(alias="to", description="Opened before; naive is UTC.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=journal.MAX_PAGE)] = 50,
    offset: OffsetQuery = 0,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:
    """Every round trip of the portfolio, built from its ledger as fills arrive (scale-ins,
    partial exits and flips included), with P&L net of fees, R-multiple, MAE/MFE, the strategy
    or AI decision that opened it, the regime at entry, and your notes. ``tag`` and ``setup``
    match without regard to letter case."""
    portfolio = await _portfolio(db, principal, desk, portfolio_id)
    if symbol is not None:
        symbol = desk.symbol_info(symbol).symbol
    rows, total = await journal.list_entries(
        db,
        container=desk.container,
        portfolio=portfolio,
        symbol=symbol,
        status=status,
        tag=tag,
        setup=setup,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    if fmt == "csv":
        return Response(
            journal.to_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="journal-{portfolio.id}.csv"'},
        )
    return {
        "items": [journal.view(row) for row in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/entries/{entry_id}", response_model=JournalEntryOut, summary="One journal entry")
async def get_entry(
    entry_id: Uuid, db: SessionDep, principal: CurrentPrincipal, desk: DeskDep
) -> dict[str, Any]:
    row = await journal.get_entry(
        db, container=desk.container, user_id=principal.user.id, entry_id=entry_id
    )
    return journal.view(row)


@router.patch(
    "/entries/{entry_id}",
    response_model=JournalEntryOut,
    summary="Add your notes, tags, setup, emotions, rating and plan to an entry",
)
async def patch_entry(
    entry_id: Uuid,
    body: JournalEntryPatch,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
) -> dict[str, Any]:
    row = await journal.annotate(
        db,
        container=desk.container,
        user_id=principal.user.id,
        entry_id=entry_id,
        values=body.model_dump(exclude_unset=True),
    )
    return journal.view(row)


@router.post(
    "/rebuild",
    response_model=JournalRebuildOut,
    summary="Replay the portfolio's ledger into its journal, keeping your notes",
)
async def rebuild(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
) -> dict[str, Any]:
    portfolio = await _portfolio(db, principal, desk, portfolio_id)
    count = await journal.sync(db, container=desk.container, portfolio=portfolio, force=True)
    return {"entries": count, "ledger_seq": portfolio.ledger_seq}


@router.get(
    "/mistakes",
    response_model=MistakesOut,
    summary="Mistakes in your trades, each with the trades and figures behind it",
)
async def get_mistakes(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    rules: RulesDep,
    portfolio_id: PortfolioQuery = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """No stop, stop moved away, oversized against the portfolio's ``max_position_pct`` (or
    ``oversize_fraction``), revenge trades, overtrading days, chasing an extended move, cutting
    winners while letting losers run, trading against the regime, and trading against the AI's
    decision. Every threshold is a query parameter."""
    portfolio = await _portfolio(db, principal, desk, portfolio_id)
    return await journal_review.mistakes(
        db, container=desk.container, portfolio=portfolio, rules=rules, since=since, until=until
    )


@router.get(
    "/analysis",
    response_model=AnalysisOut,
    summary="Performance by tag, setup, strategy, symbol, time, holding, regime and emotion",
)
async def get_analysis(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
    group_by: Annotated[
        list[Literal[DIMENSIONS]] | None,  # type: ignore[valid-type]
        Query(description="Only these groupings (repeat the parameter); all when omitted."),
    ] = None,
    min_sample: MinSample = 10,
    confidence: Confidence = 0.95,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """Win rate, expectancy, profit factor and average R per group, with the sample size and
    intervals; ``conclusive`` only when the group is large enough and its interval, adjusted for
    the number of groups compared, excludes zero. Also which emotions come before losses and
    how trades fare after wins and losses."""
    portfolio = await _portfolio(db, principal, desk, portfolio_id)
    return await journal_review.analysis(
        db,
        container=desk.container,
        portfolio=portfolio,
        dimensions=tuple(dict.fromkeys(group_by)) if group_by else DIMENSIONS,
        min_sample=min_sample,
        confidence=confidence,
        since=since,
        until=until,
    )


@router.get(
    "/recommendations",
    response_model=RecommendationsOut,
    summary="Advice from your own measured figures, each with its evidence",
)
async def get_recommendations(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    rules: RulesDep,
    portfolio_id: PortfolioQuery = None,
    min_sample: MinSample = 10,
    confidence: Confidence = 0.95,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """Only conclusive findings become advice: groups, emotions and streaks whose interval
    excludes the reference, and mistakes that cost money. Ranked by the dollars at stake."""
    portfolio = await _portfolio(db, principal, desk, portfolio_id)
    return await journal_review.recommendations(
        db,
        container=desk.container,
        portfolio=portfolio,
        rules=rules,
        min_sample=min_sample,
        confidence=confidence,
        limit=limit,
        since=since,
        until=until,
    )
