"""Trading days of the exchange (America/New_York): a day's session and the close before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from quantumtrade.domain.errors import NotFound, Unprocessable
from quantumtrade.marketdata.simulator.calendar import OutOfSimulationRange, TradingCalendar
from quantumtrade.services.container import Container

NEW_YORK = ZoneInfo("America/New_York")
ASSET_CLASS = "us_equity"


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One session: its date, open and close, and the previous session's close (UTC)."""

    day: date
    open: datetime
    close: datetime
    previous_close: datetime

    def view(self) -> dict[str, str]:
        return {
            "open": self.open.isoformat(),
            "close": self.close.isoformat(),
            "previous_close": self.previous_close.isoformat(),
        }


def calendar_of(container: Container) -> TradingCalendar:
    """Return the market's session calendar (the simulator's NYSE calendar by default)."""
    found = getattr(container.market, "calendar", None)
    if isinstance(found, TradingCalendar):
        return found
    return TradingCalendar(always_open=container.settings.market_always_open)


def _sessions(container: Container, start: date, end: date) -> pd.DataFrame:
    return calendar_of(container).sessions(ASSET_CLASS, start, end)


def today(container: Container) -> date:
    """Return the exchange's date now."""
    return container.clock.now().astimezone(NEW_YORK).date()


def trading_day(container: Container, day: date) -> TradingDay:
    """Return the session of ``day``; 422 ``not_a_trading_day`` for a weekend or holiday."""
    try:
        frame = _sessions(container, day - timedelta(days=10), day)
    except (OutOfSimulationRange, OverflowError) as exc:
        raise Unprocessable(
            f"{day.isoformat()} is outside the market calendar: {exc}",
            code="not_a_trading_day",
            details={"date": day.isoformat()},
        ) from None
    dates = [stamp.date() for stamp in pd.DatetimeIndex(frame.index)]
    if not dates or dates[-1] != day:
        raise Unprocessable(
            f"{day.isoformat()} is not a trading day of the exchange (a weekend or a holiday).",
            code="not_a_trading_day",
            details={"date": day.isoformat()},
        )
    closes = [stamp.to_pydatetime() for stamp in frame["close"]]
    opens = [stamp.to_pydatetime() for stamp in frame["open"]]
    previous = closes[-2] if len(closes) > 1 else opens[-1]
    return TradingDay(day=day, open=opens[-1], close=closes[-1], previous_close=previous)


def closed_day(container: Container, day: date) -> TradingDay:
    """Return the session of ``day`` if it has closed; 404 ``report_not_found`` if not yet."""
    if day > today(container):
        raise _not_yet(day)
    session = trading_day(container, day)
    if session.close > container.clock.now():
        raise _not_yet(day)
    return session


def _not_yet(day: date) -> NotFound:
    return NotFound(
        f"No report for {day.isoformat()}: its session has not closed yet.",
        code="report_not_found",
        details={"date": day.isoformat()},
    )


def last_closed_day(container: Container) -> TradingDay | None:
    """Return the latest session that has closed by now (None outside the calendar)."""
    now = container.clock.now()
    end = today(container)
    try:
        frame = _sessions(container, end - timedelta(days=10), end)
    except (OutOfSimulationRange, OverflowError):
        return None
    for stamp, close in zip(
        reversed(pd.DatetimeIndex(frame.index)), reversed(list(frame["close"])), strict=True
    ):
        if close.to_pydatetime() <= now:
            return trading_day(container, stamp.date())
    return None
