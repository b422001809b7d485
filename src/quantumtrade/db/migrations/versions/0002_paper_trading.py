"""Paper trading: the ledger journal, order events and the columns orders and portfolios need.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

PORTFOLIO_COLUMNS = ("realized_pl", "version", "ledger_seq", "reset_at", "risk_limits")
ORDER_COLUMNS = ("asset_class", "leg_role", "status_reason", "triggered_at", "replaced_at")


def upgrade() -> None:
    op.add_column("portfolios", sa.Column("realized_pl", MONEY, nullable=False, server_default="0"))
    op.add_column(
        "portfolios", sa.Column("version", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column(
        "portfolios", sa.Column("ledger_seq", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column("portfolios", sa.Column("reset_at", TIMESTAMP))
    op.add_column("portfolios", sa.Column("risk_limits", JSON))
    op.add_column(
        "orders",
        sa.Column("asset_class", sa.String(20), nullable=False, server_default="us_equity"),
    )
    op.add_column("orders", sa.Column("leg_role", sa.String(12)))
    op.add_column("orders", sa.Column("status_reason", sa.String(200)))
    op.add_column("orders", sa.Column("triggered_at", TIMESTAMP))
    op.add_column("orders", sa.Column("replaced_at", TIMESTAMP))
    op.create_index("ix_orders_status_symbol", "orders", ["status", "symbol"])
    op.create_table(
        "order_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("qty", MONEY),
        sa.Column("price", MONEY),
        sa.Column("reason", sa.String(200)),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name="fk_order_events_order_id_orders",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_order_events_order_at", "order_events", ["order_id", "at"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("trade_id", sa.Uuid()),
        sa.Column("symbol", sa.String(20)),
        sa.Column("side", sa.String(4)),
        sa.Column("qty", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("cash_delta", MONEY, nullable=False),
        sa.Column("realized_pl", MONEY, nullable=False),
        sa.Column("cash_after", MONEY, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_ledger_entries_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("portfolio_id", "seq", name="uq_ledger_entries_portfolio_id_seq"),
        sa.CheckConstraint("kind IN ('deposit', 'fill', 'reset')", name="ck_ledger_entries_kind"),
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_index("ix_order_events_order_at", table_name="order_events")
    op.drop_table("order_events")
    op.drop_index("ix_orders_status_symbol", table_name="orders")
    # SQLite (3.35+) and PostgreSQL both drop columns in place; no table rebuild, so no
    # foreign-key cascade can fire on the rows that stay.
    for column in ORDER_COLUMNS:
        op.drop_column("orders", column)
    for column in PORTFOLIO_COLUMNS:
        op.drop_column("portfolios", column)
