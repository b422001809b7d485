"""Initial schema: users and auth, trading, market data, analytics and the time series.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

Column types are spelled out here instead of imported from ``quantumtrade.db.types`` so this
revision keeps creating the same schema if those types change later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from quantumtrade.db.timeseries import create_timeseries_table

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Money: exact NUMERIC on PostgreSQL, canonical decimal text on SQLite (no exact type there).
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

TIMESERIES = (
    "market_data",
    "sentiment_data",
    "trades",
    "risk_metrics",
    "performance_metrics",
    "system_logs",
)
TABLES = (
    "users",
    "auth_sessions",
    "refresh_tokens",
    "password_reset_tokens",
    "notification_outbox",
    "portfolios",
    "positions",
    "orders",
    "alerts",
    "ai_decisions",
    "backtest_results",
)


def _uuid_pk() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def _index_user_id(table: str) -> None:
    op.create_index(f"ix_{table}_user_id", table, ["user_id"])


def upgrade() -> None:
    _create_auth_tables()
    _create_trading_tables()
    _create_market_and_analytics_tables()
    _create_timeseries_tables()


def downgrade() -> None:
    # Dropping a partitioned table or a hypertable drops its partitions or chunks with it.
    for table in reversed(TIMESERIES):
        op.drop_table(table)
    for table in reversed(TABLES):
        op.drop_table(table)


def _create_auth_tables() -> None:
    op.create_table(
        "users",
        _uuid_pk(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(100), nullable=False),
        sa.Column("full_name", sa.String(200)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("password_changed_at", TIMESTAMP, nullable=False),
        sa.Column("last_login_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("role IN ('user', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "auth_sessions",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP),
        sa.Column("revoke_reason", sa.String(40)),
        sa.Column("ip_address", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
        _user_fk("auth_sessions"),
    )
    _index_user_id("auth_sessions")
    op.create_table(
        "refresh_tokens",
        _uuid_pk(),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name="fk_refresh_tokens_session_id_auth_sessions",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])
    op.create_table(
        "password_reset_tokens",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_tokens"),
        _user_fk("password_reset_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_password_reset_tokens_token_hash"),
    )
    _index_user_id("password_reset_tokens")
    op.create_table(
        "notification_outbox",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_notification_outbox"),
        _user_fk("notification_outbox"),
    )
    _index_user_id("notification_outbox")


def _create_trading_tables() -> None:
    op.create_table(
        "portfolios",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("starting_cash", MONEY, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("margin_multiplier", sa.SmallInteger(), nullable=False),
        sa.Column("shorting_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portfolios"),
        sa.UniqueConstraint("user_id", "name", name="uq_portfolios_user_id_name"),
        sa.CheckConstraint("type IN ('paper', 'live')", name="ck_portfolios_type"),
        sa.CheckConstraint(
            "margin_multiplier IN (1, 2, 4)", name="ck_portfolios_margin_multiplier"
        ),
        _user_fk("portfolios"),
    )
    _index_user_id("portfolios")
    op.create_table(
        "positions",
        _uuid_pk(),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("asset_class", sa.String(20), nullable=False),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("avg_entry_price", MONEY, nullable=False),
        sa.Column("cost_basis", MONEY, nullable=False),
        sa.Column("realized_pl", MONEY, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_positions"),
        sa.UniqueConstraint("portfolio_id", "symbol", name="uq_positions_portfolio_id_symbol"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_positions_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "orders",
        _uuid_pk(),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("time_in_force", sa.String(5), nullable=False),
        sa.Column("order_class", sa.String(10), nullable=False),
        sa.Column("qty", MONEY),
        sa.Column("notional", MONEY),
        sa.Column("filled_qty", MONEY, nullable=False),
        sa.Column("filled_avg_price", MONEY),
        sa.Column("limit_price", MONEY),
        sa.Column("stop_price", MONEY),
        sa.Column("trail_price", MONEY),
        sa.Column("trail_percent", MONEY),
        sa.Column("high_water_mark", MONEY),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parent_order_id", sa.Uuid()),
        sa.Column("replaces", sa.Uuid()),
        sa.Column("replaced_by", sa.Uuid()),
        sa.Column("extended_hours", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_at", TIMESTAMP),
        sa.Column("filled_at", TIMESTAMP),
        sa.Column("canceled_at", TIMESTAMP),
        sa.Column("expired_at", TIMESTAMP),
        sa.Column("failed_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint(
            "portfolio_id", "client_order_id", name="uq_orders_portfolio_id_client_order_id"
        ),
        sa.CheckConstraint("side IN ('buy', 'sell')", name="ck_orders_side"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_orders_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_order_id"],
            ["orders.id"],
            name="fk_orders_parent_order_id_orders",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_orders_parent_order_id", "orders", ["parent_order_id"])
    op.create_index("ix_orders_portfolio_status", "orders", ["portfolio_id", "status"])


def _create_market_and_analytics_tables() -> None:
    op.create_table(
        "alerts",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("condition", JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("triggered_at", TIMESTAMP),
        sa.Column("delivered_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        _user_fk("alerts"),
    )
    _index_user_id("alerts")
    op.create_table(
        "ai_decisions",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("price", MONEY),
        sa.Column("reasoning", JSON),
        sa.Column("model_votes", JSON),
        sa.Column("executed", sa.Boolean(), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ai_decisions"),
        _user_fk("ai_decisions"),
    )
    _index_user_id("ai_decisions")
    op.create_index("ix_ai_decisions_symbol_time", "ai_decisions", ["symbol", "created_at"])
    op.create_table(
        "backtest_results",
        _uuid_pk(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("strategy", sa.String(50), nullable=False),
        sa.Column("symbols", JSON, nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("start", TIMESTAMP),
        sa.Column("end", TIMESTAMP),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("metrics", JSON),
        sa.Column("result", JSON),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_results"),
        _user_fk("backtest_results"),
    )
    _index_user_id("backtest_results")


def _create_timeseries_tables() -> None:
    # Partition keys must be part of every unique constraint on a partitioned table, which is why
    # each primary key below includes the time column.
    create_timeseries_table(
        op,
        "market_data",
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("open", MONEY, nullable=False),
        sa.Column("high", MONEY, nullable=False),
        sa.Column("low", MONEY, nullable=False),
        sa.Column("close", MONEY, nullable=False),
        sa.Column("volume", MONEY, nullable=False),
        sa.Column("vwap", MONEY),
        sa.Column("trade_count", sa.Integer()),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe", "time", name="pk_market_data"),
        time_column="time",
        chunk_time_interval="1 day",
    )
    create_timeseries_table(
        op,
        "sentiment_data",
        _uuid_pk(),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("symbol", sa.String(20)),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("magnitude", sa.Float()),
        sa.Column("headline", sa.Text()),
        sa.Column("url", sa.Text()),
        sa.Column("payload", JSON),
        sa.PrimaryKeyConstraint("id", "time", name="pk_sentiment_data"),
        time_column="time",
    )
    op.create_index("ix_sentiment_symbol_time", "sentiment_data", ["symbol", "time"])
    create_timeseries_table(
        op,
        "trades",
        _uuid_pk(),
        sa.Column("executed_at", TIMESTAMP, nullable=False),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("commission", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("slippage", MONEY, nullable=False),
        sa.Column("realized_pl", MONEY, nullable=False),
        sa.Column("strategy", sa.String(100)),
        sa.Column("notes", sa.Text()),
        sa.PrimaryKeyConstraint("id", "executed_at", name="pk_trades"),
        time_column="executed_at",
    )
    op.create_index("ix_trades_portfolio_time", "trades", ["portfolio_id", "executed_at"])
    create_timeseries_table(
        op,
        "risk_metrics",
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("equity", MONEY),
        sa.Column("var_95", MONEY),
        sa.Column("var_99", MONEY),
        sa.Column("cvar_95", MONEY),
        sa.Column("beta", sa.Float()),
        sa.Column("volatility", sa.Float()),
        sa.Column("gross_exposure", MONEY),
        sa.Column("net_exposure", MONEY),
        sa.Column("max_drawdown", sa.Float()),
        sa.Column("details", JSON),
        sa.PrimaryKeyConstraint("portfolio_id", "time", name="pk_risk_metrics"),
        time_column="time",
    )
    create_timeseries_table(
        op,
        "performance_metrics",
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("daily_pl", MONEY, nullable=False),
        sa.Column("daily_return", sa.Float()),
        sa.Column("cumulative_return", sa.Float()),
        sa.Column("details", JSON),
        sa.PrimaryKeyConstraint("portfolio_id", "time", name="pk_performance_metrics"),
        time_column="time",
        chunk_time_interval="30 days",
    )
    create_timeseries_table(
        op,
        "system_logs",
        _uuid_pk(),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("logger", sa.String(100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("context", JSON),
        sa.PrimaryKeyConstraint("id", "time", name="pk_system_logs"),
        time_column="time",
    )
    op.create_index("ix_system_logs_level_time", "system_logs", ["level", "time"])
