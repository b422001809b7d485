"""Daily reports: one per portfolio and trading day, plus the system's report for admins.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")  # spelled out, as in 0001


def upgrade() -> None:
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("portfolio_id", sa.Uuid()),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_close", TIMESTAMP, nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("generated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_daily_reports"),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name="fk_daily_reports_portfolio_id_portfolios",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_daily_reports_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("subject", "day", name="uq_daily_reports_subject_day"),
        sa.CheckConstraint("kind IN ('portfolio', 'system')", name="ck_daily_reports_kind"),
    )
    op.create_index("ix_daily_reports_portfolio_day", "daily_reports", ["portfolio_id", "day"])
    op.create_index("ix_daily_reports_user_day", "daily_reports", ["user_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_daily_reports_user_day", "daily_reports")
    op.drop_index("ix_daily_reports_portfolio_day", "daily_reports")
    op.drop_table("daily_reports")
