"""Market regime changes per symbol and timeframe.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")  # spelled out, as in 0001


def upgrade() -> None:
    op.create_table(
        "regime_changes",
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("time", TIMESTAMP, nullable=False),
        sa.Column("trend_regime", sa.String(10), nullable=False),
        sa.Column("previous_regime", sa.String(10)),
        sa.Column("probabilities", JSON, nullable=False),
        sa.Column("volatility_regime", sa.String(10), nullable=False),
        sa.Column("annual_volatility", sa.Float()),
        sa.Column("detected_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe", "time", name="pk_regime_changes"),
    )


def downgrade() -> None:
    op.drop_table("regime_changes")
