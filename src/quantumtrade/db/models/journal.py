"""The trade journal: one row per round trip, rebuilt from the ledger, plus the trader's notes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import Base, utcnow, uuid_pk
from quantumtrade.db.types import JSONType, Money, UTCDateTime


class JournalEntry(Base):
    """A round trip: what the ledger says (rebuilt at will) and what the trader adds (kept)."""

    __tablename__ = "journal_entries"

    id: Mapped[uuid.UUID] = uuid_pk()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    direction: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_qty: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    exit_qty: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    max_qty: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    entry_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    exit_price: Mapped[Decimal | None] = mapped_column(Money())
    gross_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    fees: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    net_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    return_pct: Mapped[float] = mapped_column(sa.Float, nullable=False)
    holding_seconds: Mapped[float | None] = mapped_column(sa.Float)
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    stop_source: Mapped[str | None] = mapped_column(sa.String(10))
    r_multiple: Mapped[float | None] = mapped_column(sa.Float)
    mae: Mapped[Decimal | None] = mapped_column(Money())
    mfe: Mapped[Decimal | None] = mapped_column(Money())
    mae_pct: Mapped[float | None] = mapped_column(sa.Float)
    mfe_pct: Mapped[float | None] = mapped_column(sa.Float)
    strategy: Mapped[str | None] = mapped_column(sa.String(100))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    ai_decision_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    regime: Mapped[str | None] = mapped_column(sa.String(10))
    fills: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    setup: Mapped[str | None] = mapped_column(sa.String(100))
    emotion_before: Mapped[str | None] = mapped_column(sa.String(20))
    emotion_before_intensity: Mapped[int | None] = mapped_column(sa.SmallInteger)
    emotion_after: Mapped[str | None] = mapped_column(sa.String(20))
    emotion_after_intensity: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    planned_stop: Mapped[Decimal | None] = mapped_column(Money())
    planned_target: Mapped[Decimal | None] = mapped_column(Money())
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("portfolio_id", "key", name="uq_journal_entries_portfolio_id_key"),
        sa.Index("ix_journal_entries_portfolio_opened", "portfolio_id", "opened_at"),
    )


class JournalState(Base):
    """The ledger line a portfolio's journal was last built from."""

    __tablename__ = "journal_state"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    ledger_seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
