"""Daily reports: one stored report per portfolio and trading day, and one per day for admins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import Base, utcnow, uuid_pk
from quantumtrade.db.types import JSONType, UTCDateTime

SYSTEM_SUBJECT = "system"


class DailyReport(Base):
    """A report as built at a session's close; ``subject`` is the portfolio id or "system".

    ``(subject, day)`` is unique, so building the same day twice (two replicas, a retry) keeps
    one row; regenerating replaces its content in place.
    """

    __tablename__ = "daily_reports"

    id: Mapped[uuid.UUID] = uuid_pk()
    subject: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    portfolio_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("portfolios.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(sa.Date, nullable=False)
    session_close: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    content_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("subject", "day"),
        sa.Index("ix_daily_reports_portfolio_day", "portfolio_id", "day"),
        sa.Index("ix_daily_reports_user_day", "user_id", "day"),
        sa.CheckConstraint("kind IN ('portfolio', 'system')", name="kind"),
    )
