"""Backtests on uploaded bar files, and parameter optimisations stored beside backtests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backtest_datasets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("asset_class", sa.String(20), nullable=False),
        sa.Column("timeframe", sa.String(10)),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_time", TIMESTAMP, nullable=False),
        sa.Column("last_time", TIMESTAMP, nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_datasets"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_backtest_datasets_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_backtest_datasets_user_id", "backtest_datasets", ["user_id"])
    op.add_column(
        "backtest_results",
        sa.Column("kind", sa.String(20), nullable=False, server_default="backtest"),
    )
    # No foreign key: a run's stored results outlive the file it was computed from.
    op.add_column("backtest_results", sa.Column("dataset_id", sa.Uuid()))


def downgrade() -> None:
    op.drop_column("backtest_results", "dataset_id")
    op.drop_column("backtest_results", "kind")
    op.drop_index("ix_backtest_datasets_user_id", table_name="backtest_datasets")
    op.drop_table("backtest_datasets")
