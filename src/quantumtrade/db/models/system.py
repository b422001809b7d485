"""Application log records worth keeping in the database."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from quantumtrade.db.models.base import TIMESERIES_KEY, Base
from quantumtrade.db.types import JSONType, UTCDateTime


class SystemLog(Base):
    """An error or critical log line. Partitioned by ``time``."""

    __tablename__ = "system_logs"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    logger: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        sa.Index("ix_system_logs_level_time", "level", "time"),
        {"info": {TIMESERIES_KEY: "time"}},
    )
