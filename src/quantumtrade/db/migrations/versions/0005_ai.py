"""AI decisions: the model registry, training and evaluation jobs, and decision outcomes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")  # spelled out, as in 0001
MONEY = sa.Numeric(28, 10).with_variant(sa.String(48), "sqlite")  # as in 0001

DECISION_COLUMNS = (
    ("horizon", sa.Integer()),
    ("probability_up", sa.Float()),
    ("expected_return", sa.Float()),
    ("size_fraction", sa.Float()),
    ("stop_price", MONEY),
    ("target_price", MONEY),
    ("bar_time", TIMESTAMP),
    ("expires_at", TIMESTAMP),
    ("portfolio_id", sa.Uuid()),
    ("executed_at", TIMESTAMP),
    ("outcome_return", sa.Float()),
    ("outcome_at", TIMESTAMP),
)


def upgrade() -> None:
    op.create_table(
        "ai_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("feature_version", sa.String(32), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("window_end", TIMESTAMP, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("artefact", sa.LargeBinary(), nullable=False),
        sa.Column("train_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ai_models"),
        sa.UniqueConstraint("symbol", "horizon", "name", "version", name="uq_ai_models_version"),
    )
    op.create_table(
        "ai_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("result", JSON),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_ai_jobs"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_ai_jobs_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_ai_jobs_user_id", "ai_jobs", ["user_id"])
    with op.batch_alter_table("ai_decisions") as batch:
        for name, kind in DECISION_COLUMNS:
            batch.add_column(sa.Column(name, kind))
    op.create_index("ix_ai_decisions_open_outcomes", "ai_decisions", ["outcome_at", "bar_time"])


def downgrade() -> None:
    op.drop_index("ix_ai_decisions_open_outcomes", "ai_decisions")
    with op.batch_alter_table("ai_decisions") as batch:
        for name, _ in reversed(DECISION_COLUMNS):
            batch.drop_column(name)
    op.drop_index("ix_ai_jobs_user_id", "ai_jobs")
    op.drop_table("ai_jobs")
    op.drop_table("ai_models")
