"""Watchlists: named, ordered lists of symbols of one portfolio.

Names are unique within a portfolio; a symbol appears once in a list, in the order it was
added. Every change takes the watchlist's row first (an ``UPDATE`` of ``updated_at``: a row
lock on PostgreSQL, the write lock on SQLite), so two concurrent additions both land.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Watchlist
from quantumtrade.domain.errors import AppError, NotFound, Unprocessable

MAX_SYMBOLS = 1000  # per list; far above any screen, bounded so a row stays small

Resolve = Callable[[str], str]
"""Turns what a caller wrote into the market's symbol, or raises 422 for an unknown one."""


def _not_found() -> NotFound:
    return NotFound("watchlist not found", code="watchlist_not_found")


def _name_taken(name: str) -> Unprocessable:
    return Unprocessable(
        f"a watchlist named {name!r} already exists",
        code="watchlist_name_taken",
        details={"name": name},
    )


def _symbols(resolve: Resolve, wanted: Sequence[str]) -> list[str]:
    """Resolve each symbol and refuse repeats or an oversized list."""
    symbols: list[str] = []
    for text in wanted:
        symbol = resolve(text)
        if symbol in symbols:
            raise Unprocessable(
                f"{symbol} is already in the watchlist",
                code="duplicate_symbol",
                details={"symbol": symbol},
            )
        symbols.append(symbol)
    if len(symbols) > MAX_SYMBOLS:
        raise Unprocessable(
            f"a watchlist holds at most {MAX_SYMBOLS} symbols",
            code="too_many_symbols",
            details={"limit": MAX_SYMBOLS},
        )
    return symbols


async def _commit(db: AsyncSession, name: str) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:  # the name is taken, maybe by a concurrent request
        await db.rollback()
        raise _name_taken(name) from exc


async def list_watchlists(db: AsyncSession, *, portfolio_id: uuid.UUID) -> list[Watchlist]:
    """Return the portfolio's watchlists, oldest first."""
    rows = await db.scalars(
        sa.select(Watchlist)
        .where(Watchlist.portfolio_id == portfolio_id)
        .order_by(Watchlist.created_at, Watchlist.id)
    )
    return list(rows)


async def get_watchlist(
    db: AsyncSession, *, portfolio_id: uuid.UUID, watchlist_id: uuid.UUID
) -> Watchlist:
    """Return one watchlist of the portfolio; another portfolio's answers 404."""
    row = await db.scalar(
        sa.select(Watchlist).where(
            Watchlist.id == watchlist_id, Watchlist.portfolio_id == portfolio_id
        )
    )
    if row is None:
        raise _not_found()
    return row


async def create_watchlist(
    db: AsyncSession,
    *,
    portfolio_id: uuid.UUID,
    name: str,
    symbols: Sequence[str],
    resolve: Resolve,
    now: datetime,
) -> Watchlist:
    """Create a watchlist; a name the portfolio already uses answers 422."""
    row = Watchlist(
        id=uuid.uuid4(),
        portfolio_id=portfolio_id,
        name=name,
        symbols=_symbols(resolve, symbols),
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    await _commit(db, name)
    return row


async def _locked(
    db: AsyncSession, portfolio_id: uuid.UUID, watchlist_id: uuid.UUID, now: datetime
) -> Watchlist:
    """Take the watchlist's row for this transaction and return it, current."""
    touched = await db.execute(
        sa.update(Watchlist)
        .where(Watchlist.id == watchlist_id, Watchlist.portfolio_id == portfolio_id)
        .values(updated_at=now)
    )
    if touched.rowcount == 0:  # type: ignore[attr-defined]
        await db.rollback()
        raise _not_found()
    return (
        await db.scalars(
            sa.select(Watchlist)
            .where(Watchlist.id == watchlist_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def change_watchlist(
    db: AsyncSession,
    *,
    portfolio_id: uuid.UUID,
    watchlist_id: uuid.UUID,
    resolve: Resolve,
    now: datetime,
    name: str | None = None,
    symbols: Sequence[str] | None = None,
    add: str | None = None,
    remove: str | None = None,
) -> Watchlist:
    """Rename, replace the symbols, append one or remove one (what is ``None`` stays).

    Appending a symbol already listed answers 422; removing one the list does not hold, 404.
    """
    wanted = None if symbols is None else _symbols(resolve, symbols)
    added = None if add is None else resolve(add)
    removed = None if remove is None else resolve(remove)
    row = await _locked(db, portfolio_id, watchlist_id, now)
    current = row.symbols if wanted is None else wanted
    try:
        if removed is not None and removed not in current:
            raise NotFound(
                f"{removed} is not in this watchlist",
                code="symbol_not_in_watchlist",
                details={"symbol": removed},
            )
        if added is not None:
            current = _symbols(lambda s: s, [*current, added])
    except AppError:
        await db.rollback()  # the row's lock, and nothing else, is let go
        raise
    row.symbols = [s for s in current if s != removed]
    if name is not None:
        row.name = name
    await _commit(db, row.name)
    return row


async def delete_watchlist(
    db: AsyncSession, *, portfolio_id: uuid.UUID, watchlist_id: uuid.UUID
) -> None:
    """Delete a watchlist of the portfolio (another's answers 404)."""
    deleted = await db.execute(
        sa.delete(Watchlist).where(
            Watchlist.id == watchlist_id, Watchlist.portfolio_id == portfolio_id
        )
    )
    if deleted.rowcount == 0:  # type: ignore[attr-defined]
        await db.rollback()
        raise _not_found()
    await db.commit()
