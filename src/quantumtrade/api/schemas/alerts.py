"""Request and response bodies of ``/api/alerts``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from quantumtrade.api.schemas.common import StrictModel

AlertKind = Literal["price_above", "price_below", "percent_change", "volume_spike"]
AlertStatus = Literal["active", "triggered", "disabled"]


class AlertCreate(StrictModel):
    """A new alert. ``condition`` depends on ``kind``:

    - ``price_above`` / ``price_below``: ``{"price": 190.5}``
    - ``percent_change``: ``{"percent": 2.5, "window_minutes": 15, "direction": "up|down|either"}``
    - ``volume_spike``: ``{"multiplier": 3, "lookback_bars": 20}`` (1-minute bars)
    """

    symbol: str = Field(min_length=1, max_length=20, examples=["AAPL"])
    kind: AlertKind
    condition: dict[str, Any] = Field(examples=[{"price": 200}])
    message: str | None = Field(default=None, max_length=500)


class AlertUpdate(StrictModel):
    """Fields to change; a new condition (merged into the old) or ``status: active`` re-arms."""

    condition: dict[str, Any] | None = None
    message: str | None = Field(default=None, max_length=500)
    status: Literal["active", "disabled"] | None = None


class AlertOut(BaseModel):
    id: uuid.UUID
    symbol: str | None
    kind: str
    condition: dict[str, Any]
    status: str
    message: str | None
    created_at: datetime
    triggered_at: datetime | None
    delivered_at: datetime | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int
