"""AI decisions, backtests, and the risk and performance time series."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import TIMESERIES_KEY, Base, created_at, uuid_pk
from quantumtrade.db.types import JSONType, Money, UTCDateTime


class AIDecision(Base):
    __tablename__ = "ai_decisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    action: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    confidence: Mapped[float] = mapped_column(sa.Float, nullable=False)
    price: Mapped[Decimal | None] = mapped_column(Money())
    reasoning: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    model_votes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    executed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = created_at()
    # The forecast behind the action, the bar it was made at, and until when it may be executed.
    horizon: Mapped[int | None] = mapped_column(sa.Integer)
    probability_up: Mapped[float | None] = mapped_column(sa.Float)
    expected_return: Mapped[float | None] = mapped_column(sa.Float)
    size_fraction: Mapped[float | None] = mapped_column(sa.Float)
    stop_price: Mapped[Decimal | None] = mapped_column(Money())
    target_price: Mapped[Decimal | None] = mapped_column(Money())
    bar_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    portfolio_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The realised log return over the horizon, once the horizon has passed.
    outcome_return: Mapped[float | None] = mapped_column(sa.Float)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_ai_decisions_symbol_time", "symbol", "created_at"),
        sa.Index("ix_ai_decisions_open_outcomes", "outcome_at", "bar_time"),
    )


class AIModel(Base):
    """A trained, calibrated model version of one symbol and horizon: the registry's row.

    ``artefact`` holds the fitted model (pickled); ``content_hash`` identifies its fitted state,
    so the same seed and data give the same hash on every replica.
    """

    __tablename__ = "ai_models"

    id: Mapped[uuid.UUID] = uuid_pk()
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    horizon: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    content_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    feature_version: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    features: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    artefact: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    train_seconds: Mapped[float] = mapped_column(sa.Float, nullable=False)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        sa.UniqueConstraint("symbol", "horizon", "name", "version", name="uq_ai_models_version"),
    )


class AIJob(Base):
    """A model training or evaluation run in the background, and its result."""

    __tablename__ = "ai_jobs"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BacktestResult(Base):
    __tablename__ = "backtest_results"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str | None] = mapped_column(sa.String(200))
    strategy: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    symbols: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "backtest" or "optimization"; the dataset an uploaded-file run read (no foreign key:
    # stored results outlive the file).
    kind: Mapped[str] = mapped_column(
        sa.String(20), nullable=False, default="backtest", server_default="backtest"
    )
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class BacktestDataset(Base):
    """A user's uploaded bar file, validated and stored as Parquet, to backtest on."""

    __tablename__ = "backtest_datasets"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    symbol: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    asset_class: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    timeframe: Mapped[str | None] = mapped_column(sa.String(10))
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    rows: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    first_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[datetime] = created_at()


class RiskMetric(Base):
    """A snapshot of a portfolio's risk. Partitioned by ``time``."""

    __tablename__ = "risk_metrics"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    equity: Mapped[Decimal | None] = mapped_column(Money())
    var_95: Mapped[Decimal | None] = mapped_column(Money())
    var_99: Mapped[Decimal | None] = mapped_column(Money())
    cvar_95: Mapped[Decimal | None] = mapped_column(Money())
    beta: Mapped[float | None] = mapped_column(sa.Float)
    volatility: Mapped[float | None] = mapped_column(sa.Float)
    gross_exposure: Mapped[Decimal | None] = mapped_column(Money())
    net_exposure: Mapped[Decimal | None] = mapped_column(Money())
    max_drawdown: Mapped[float | None] = mapped_column(sa.Float)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = ({"info": {TIMESERIES_KEY: "time"}},)


class PerformanceMetric(Base):
    """A portfolio's daily figures. Partitioned by ``time``."""

    __tablename__ = "performance_metrics"

    portfolio_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    equity: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    cash: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    daily_pl: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal(0))
    daily_return: Mapped[float | None] = mapped_column(sa.Float)
    cumulative_return: Mapped[float | None] = mapped_column(sa.Float)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = ({"info": {TIMESERIES_KEY: "time"}},)
