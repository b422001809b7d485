"""Insider trades: the open-market purchases and sales that insiders report (SEC Form 4).

Only these two kinds carry an opinion about the stock; awards, exercises, tax withholding and
gifts are compensation or housekeeping, and the adapters leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Role = Literal["officer", "director", "10% owner", "other"]
ROLES: tuple[Role, ...] = ("officer", "director", "10% owner", "other")


@dataclass(frozen=True, slots=True)
class InsiderTrade:
    """One open-market purchase (``P``) or sale (``S``) read from a filing."""

    filed_at: datetime
    traded_on: date
    insider: str
    role: Role
    title: str | None
    code: Literal["P", "S"]
    shares: float
    price: float
    planned: bool  # a sale under a Rule 10b5-1 plan, scheduled months ahead

    @property
    def value(self) -> float:
        return self.shares * self.price
