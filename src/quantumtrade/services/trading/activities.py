"""Account activities, Alpaca-style: fills and cash movements read from the ledger.

Each journal line is one activity: a fill (``FILL``), the deposit that funds a portfolio
(``CSD``), or the cash a reset restores (``JNLC``). Newest first by default; paged by the id
of the last activity seen, as Alpaca's ``page_token`` is.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, Order
from quantumtrade.domain.errors import Unprocessable

KIND_BY_TYPE = {"FILL": "fill", "CSD": "deposit", "JNLC": "reset"}
TYPE_BY_KIND = {kind: name for name, kind in KIND_BY_TYPE.items()}


@dataclass(frozen=True, slots=True)
class Activity:
    """One ledger line and, for a fill, its order as it stands now."""

    entry: LedgerEntry
    order: Order | None

    @property
    def type(self) -> str:
        return TYPE_BY_KIND[self.entry.kind]

    @property
    def id(self) -> str:
        return activity_id(self.entry)


def activity_id(entry: LedgerEntry) -> str:
    """Alpaca's activity id: a sortable time, then the line's own id."""
    return f"{entry.at:%Y%m%d%H%M%S%f}000::{entry.id}"


def _entry_id(page_token: str) -> uuid.UUID:
    _head, _, tail = page_token.partition("::")
    try:
        return uuid.UUID(tail)
    except ValueError as exc:
        raise Unprocessable("page_token is not an activity id.", code="invalid_page_token") from exc


async def activities(
    db: AsyncSession,
    *,
    portfolio_id: uuid.UUID,
    types: Collection[str],
    after: datetime | None = None,
    until: datetime | None = None,
    direction: str = "desc",
    page_size: int = 100,
    page_token: str | None = None,
) -> list[Activity]:
    """Return one page of the portfolio's activities of ``types`` (Alpaca's names)."""
    kinds = [KIND_BY_TYPE[name] for name in types if name in KIND_BY_TYPE]
    if not kinds:
        return []
    query = sa.select(LedgerEntry).where(
        LedgerEntry.portfolio_id == portfolio_id, LedgerEntry.kind.in_(kinds)
    )
    if after is not None:
        query = query.where(LedgerEntry.at > after)
    if until is not None:
        query = query.where(LedgerEntry.at < until)
    if page_token is not None:
        seen = await db.scalar(
            sa.select(LedgerEntry.seq).where(
                LedgerEntry.portfolio_id == portfolio_id,
                LedgerEntry.id == _entry_id(page_token),
            )
        )
        if seen is None:
            raise Unprocessable("page_token is not an activity id.", code="invalid_page_token")
        query = query.where(
            LedgerEntry.seq < seen if direction == "desc" else LedgerEntry.seq > seen
        )
    order_by = LedgerEntry.seq.desc() if direction == "desc" else LedgerEntry.seq.asc()
    entries = list(await db.scalars(query.order_by(order_by).limit(page_size)))
    ids = {e.order_id for e in entries if e.order_id is not None}
    orders: dict[uuid.UUID, Order] = {}
    if ids:
        orders = {o.id: o for o in await db.scalars(sa.select(Order).where(Order.id.in_(ids)))}
    return [Activity(e, orders.get(e.order_id) if e.order_id else None) for e in entries]
