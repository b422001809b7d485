"""The review's round trip (:class:`ReviewTrip`), its validation and the helpers shared by the
analyses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.trading.ledger import cents

ZERO = Decimal(0)
LONG, SHORT = "long", "short"
OPEN, CLOSED, RESET = "open", "closed", "reset"
NEW_YORK = "America/New_York"


@dataclass(frozen=True, slots=True)
class ReviewTrip:
    """One round trip of the journal with what the review needs to know about it."""

    id: str
    symbol: str
    direction: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    entry_price: Decimal
    max_qty: Decimal
    net_pl: Decimal
    return_pct: float
    holding_seconds: float | None
    r_multiple: float | None
    stop_price: Decimal | None
    stop_source: str | None
    stop_moves: tuple[Decimal, ...] = ()
    tags: tuple[str, ...] = ()
    setup: str | None = None
    strategy: str | None = None
    regime: str | None = None
    emotion_before: str | None = None
    emotion_before_intensity: int | None = None
    emotion_after: str | None = None
    equity_at_entry: Decimal | None = None
    max_position_pct: float | None = None
    run_up_atr: float | None = None
    ai_action: str | None = None
    ai_decision_id: str | None = None


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {tz!r}", code="invalid_timezone") from exc


def _aware(at: datetime | None) -> bool:
    return at is not None and at.tzinfo is not None and at.utcoffset() is not None


def _check_trips(trips: Sequence[ReviewTrip]) -> None:
    for trip in trips:
        if trip.direction not in (LONG, SHORT) or trip.status not in (OPEN, CLOSED, RESET):
            raise InvalidInput(
                f"trip {trip.id} needs direction long|short and status open|closed|reset",
                code="invalid_trip",
            )
        if not _aware(trip.opened_at) or (
            trip.closed_at is not None and not _aware(trip.closed_at)
        ):
            raise InvalidInput(f"trip {trip.id} needs timezone-aware times", code="invalid_trip")
        if trip.status == CLOSED and trip.closed_at is None:
            raise InvalidInput(f"closed trip {trip.id} needs closed_at", code="invalid_trip")


def _end(trip: ReviewTrip) -> datetime:
    assert trip.closed_at is not None
    return trip.closed_at


def _closed(trips: Sequence[ReviewTrip]) -> list[ReviewTrip]:
    return [t for t in trips if t.status == CLOSED and t.closed_at is not None]


def _active(trips: Sequence[ReviewTrip]) -> list[ReviewTrip]:
    return sorted((t for t in trips if t.status != RESET), key=lambda t: (t.opened_at, t.id))


def _value(trip: ReviewTrip) -> Decimal:
    """Return the trip's entry value (entry price times its largest quantity)."""
    return abs(trip.entry_price * trip.max_qty)


def _net(trips: Sequence[ReviewTrip]) -> Decimal:
    return sum((t.net_pl for t in trips), ZERO)


def _money(amount: Decimal) -> str:
    """Return money as a plain string with 2 decimals (no negative zero)."""
    rounded = cents(amount)
    return str(rounded if rounded != 0 else cents(ZERO))


def _usd(amount: Decimal | float) -> str:
    value = float(amount)
    return f"{'-' if value < -0.005 else ''}${abs(value):,.2f}"


def _trades(n: int) -> str:
    return f"{n} trade{'' if n == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 3_600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86_400:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 86_400:.1f} days"
