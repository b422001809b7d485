"""Portfolios, positions, orders and executed trades."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import TIMESERIES_KEY, Base, created_at, utcnow, uuid_pk
from quantumtrade.db.types import JSONType, Money, UTCDateTime


class Portfolio(Base):
    __tablename__ = "portfolios"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="paper")
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="USD")
    starting_cash: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    cash: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    margin_multiplier: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=1)
    shorting_enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    realized_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    # Bumped by every change to cash, positions or orders: the UPDATE that bumps it is also
    # the lock that serialises those changes (a row lock on PostgreSQL, the write lock on SQLite).
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    ledger_seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    risk_limits: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        sa.UniqueConstraint("user_id", "name"),
        sa.CheckConstraint("type IN ('paper', 'live')", name="type"),
        sa.CheckConstraint("margin_multiplier IN (1, 2, 4)", name="margin_multiplier"),
    )


class Position(Base):
    __tablename__ = "positions"

    id: Mapped[uuid.UUID] = uuid_pk()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), nullable=False
    )
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    asset_class: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="us_equity")
    qty: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    avg_entry_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    cost_basis: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    realized_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    opened_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (sa.UniqueConstraint("portfolio_id", "symbol"),)


class Order(Base):
    """An order with Alpaca's fields; its status history lives in later tables."""

    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = uuid_pk()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), nullable=False
    )
    client_order_id: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    side: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    time_in_force: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    order_class: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="simple")
    qty: Mapped[Decimal | None] = mapped_column(Money())
    notional: Mapped[Decimal | None] = mapped_column(Money())
    filled_qty: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    filled_avg_price: Mapped[Decimal | None] = mapped_column(Money())
    limit_price: Mapped[Decimal | None] = mapped_column(Money())
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    trail_price: Mapped[Decimal | None] = mapped_column(Money())
    trail_percent: Mapped[Decimal | None] = mapped_column(Money())
    high_water_mark: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="new")
    parent_order_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    replaces: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    extended_hours: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    source: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="api")
    asset_class: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="us_equity")
    leg_role: Mapped[str | None] = mapped_column(sa.String(12))
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at()
    # Set by every change from the injected clock (no onupdate: replays keep their times).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("portfolio_id", "client_order_id"),
        sa.Index("ix_orders_portfolio_status", "portfolio_id", "status"),
        sa.Index("ix_orders_status_symbol", "status", "symbol"),
        sa.CheckConstraint("side IN ('buy', 'sell')", name="side"),
    )


class OrderEvent(Base):
    """One step of an order's life: every status change and every fill."""

    __tablename__ = "order_events"

    # An integer key: it orders the events of one moment as they happened.
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    portfolio_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    event: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    qty: Mapped[Decimal | None] = mapped_column(Money())
    price: Mapped[Decimal | None] = mapped_column(Money())
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (sa.Index("ix_order_events_order_at", "order_id", "at"),)


class LedgerEntry(Base):
    """An immutable journal line: a deposit, a fill or a reset, numbered per portfolio."""

    __tablename__ = "ledger_entries"

    id: Mapped[uuid.UUID] = uuid_pk()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    trade_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    symbol: Mapped[str | None] = mapped_column(sa.String(20))
    side: Mapped[str | None] = mapped_column(sa.String(4))
    qty: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    price: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    cash_delta: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    realized_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    cash_after: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("portfolio_id", "seq"),
        sa.CheckConstraint("kind IN ('deposit', 'fill', 'reset')", name="kind"),
    )


class Trade(Base):
    """One execution (fill). Partitioned by ``executed_at``."""

    __tablename__ = "trades"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    executed_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    portfolio_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    side: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    qty: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    commission: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    slippage: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    realized_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    strategy: Mapped[str | None] = mapped_column(sa.String(100))
    notes: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_trades_portfolio_time", "portfolio_id", "executed_at"),
        {"info": {TIMESERIES_KEY: "executed_at"}},
    )


class Watchlist(Base):
    """A named, ordered list of symbols of a portfolio (Alpaca's watchlist of an account)."""

    __tablename__ = "watchlists"

    id: Mapped[uuid.UUID] = uuid_pk()
    portfolio_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    symbols: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (sa.UniqueConstraint("portfolio_id", "name"),)
