"""``/api/journal``: every round trip as a journal entry, and the trader's notes on it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from quantumtrade.api.deps import CurrentPrincipal, DeskDep, OffsetQuery, SessionDep
from quantumtrade.api.schemas.common import CSV_EXPORT, ERROR_RESPONSES, IsoDateTime, Uuid
from quantumtrade.api.schemas.journal import (
    JournalEntryOut,
    JournalEntryPatch,
    JournalPage,
    JournalRebuildOut,
)
from quantumtrade.db.models import Portfolio
from quantumtrade.services import journal
from quantumtrade.services.trading import portfolios

router = APIRouter(prefix="/api/journal", tags=["journal"], responses=ERROR_RESPONSES)

PortfolioQuery = Annotated[
    Uuid | None, Query(description="The portfolio; your first one when omitted.")
]


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
