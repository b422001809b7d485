"""The trade journal: one entry per round trip, with what the trader adds, and its build state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")  # spelled out, as in 0001
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")  # as in 0001


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(5), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP),
        sa.Column("entry_qty", MONEY, nullable=False),
        sa.Column("exit_qty", MONEY, nullable=False),
        sa.Column("max_qty", MONEY, nullable=False),
        sa.Column("entry_price", MONEY, nullable=False),
        sa.Column("exit_price", MONEY),
        sa.Column("gross_pl", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("net_pl", MONEY, nullable=False),
        sa.Column("return_pct", sa.Float(), nullable=False),
        sa.Column("holding_seconds", sa.Float()),
        sa.Column("stop_price", MONEY),
        sa.Column("stop_source", sa.String(10)),
        sa.Column("r_multiple", sa.Float()),
        sa.Column("mae", MONEY),
        sa.Column("mfe", MONEY),
        sa.Column("mae_pct", sa.Float()),
        sa.Column("mfe_pct", sa.Float()),
        sa.Column("strategy", sa.String(100)),
        sa.Column("order_id", sa.Uuid()),
        sa.Column("ai_decision_id", sa.Uuid()),
        sa.Column("regime", sa.String(10)),
        sa.Column("fills", JSON, nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("setup", sa.String(100)),
        sa.Column("emotion_before", sa.String(20)),
        sa.Column("emotion_before_intensity", sa.SmallInteger()),
        sa.Column("emotion_after", sa.String(20)),
        sa.Column("emotion_after_intensity", sa.SmallInteger()),
        sa.Column("rating", sa.SmallInteger()),
        sa.Column("planned_stop", MONEY),
        sa.Column("planned_target", MONEY),
        sa.Column("built_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_entries"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_journal_entries_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("portfolio_id", "key", name="uq_journal_entries_portfolio_id_key"),
    )
    op.create_index(
        "ix_journal_entries_portfolio_opened", "journal_entries", ["portfolio_id", "opened_at"]
    )
    op.create_table(
        "journal_state",
        sa.Column("portfolio_id", sa.Uuid(), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=False),
        sa.Column("built_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("portfolio_id", name="pk_journal_state"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_journal_state_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("journal_state")
    op.drop_index("ix_journal_entries_portfolio_opened", "journal_entries")
    op.drop_table("journal_entries")
