"""Market bars, user alerts and news/social sentiment."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import TIMESERIES_KEY, Base, created_at, uuid_pk
from quantumtrade.db.types import JSONType, Money, UTCDateTime


class MarketData(Base):
    """OHLCV bars per symbol and timeframe. Partitioned by ``time``."""

    __tablename__ = "market_data"

    symbol: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    timeframe: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    open: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    high: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    low: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    close: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    volume: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    vwap: Mapped[Decimal | None] = mapped_column(Money())
    trade_count: Mapped[int | None] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="simulator")

    __table_args__ = ({"info": {TIMESERIES_KEY: "time"}},)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    symbol: Mapped[str | None] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    condition: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="active")
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SentimentData(Base):
    """Scored news and social items. Partitioned by ``time``."""

    __tablename__ = "sentiment_data"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    symbol: Mapped[str | None] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    score: Mapped[float] = mapped_column(sa.Float, nullable=False)
    magnitude: Mapped[float | None] = mapped_column(sa.Float)
    headline: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        sa.Index("ix_sentiment_symbol_time", "symbol", "time"),
        {"info": {TIMESERIES_KEY: "time"}},
    )


class RegimeChange(Base):
    """A change of a symbol's market regime, as the filtered classifier saw it at ``time``.

    One row per change (a few a year per symbol), so a plain table: the segments of a history
    are the rows in time order.
    """

    __tablename__ = "regime_changes"

    symbol: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    timeframe: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    trend_regime: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    previous_regime: Mapped[str | None] = mapped_column(sa.String(10))
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    volatility_regime: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    annual_volatility: Mapped[float | None] = mapped_column(sa.Float)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
