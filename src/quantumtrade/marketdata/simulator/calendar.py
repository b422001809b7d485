"""When the simulated market trades: NYSE sessions for US equities, UTC days for crypto.

Every day is addressed by its *ordinal*, the number of days since :data:`ORIGIN`. A 24-hour
market (crypto, or equities with ``always_open``) has one session per UTC day, from midnight to
midnight. Times cross module boundaries as int64 nanoseconds since the epoch, UTC.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import exchange_calendars as xcals
import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.marketdata.simulator.universe import ASSET_CLASSES, CRYPTO

ORIGIN = date(2000, 1, 3)
LAST_DAY = date(2050, 12, 30)
MINUTE_NS = 60 * 10**9
DAY_NS = 24 * 60 * MINUTE_NS
ORIGIN_NS = int(pd.Timestamp(ORIGIN, tz="UTC").as_unit("ns").value)
N_DAYS = (LAST_DAY - ORIGIN).days + 1
END_NS = ORIGIN_NS + N_DAYS * DAY_NS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

IntArray = npt.NDArray[np.int64]


class OutOfSimulationRange(ValueError):
    """The moment lies outside the days the simulator covers."""


def to_ns(moment: datetime | pd.Timestamp) -> int:
    """Return a timezone-aware moment as nanoseconds since the epoch."""
    if type(moment) is datetime:  # the common case, without pandas' conversion cost
        if moment.tzinfo is None:
            raise ValueError(f"{moment!r} must be timezone-aware")
        return (moment - _EPOCH) // _MICROSECOND * 1000
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError(f"{moment!r} must be timezone-aware")
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def from_ns(ns: int) -> datetime:
    """Return nanoseconds since the epoch as an aware UTC datetime (microsecond precision)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def ordinal_of(ns: int) -> int:
    """Return the ordinal of the UTC day holding ``ns``."""
    return (ns - ORIGIN_NS) // DAY_NS


def day_ns(ordinals: IntArray) -> IntArray:
    """Return the UTC midnight of each ordinal."""
    return ORIGIN_NS + ordinals.astype(np.int64) * DAY_NS


def check_ns(ns: int) -> int:
    """Raise OutOfSimulationRange unless ``ns`` falls on a simulated day."""
    if not ORIGIN_NS <= ns < END_NS:
        raise OutOfSimulationRange(
            f"{from_ns(ns).isoformat()} is outside the simulated days "
            f"{ORIGIN.isoformat()} to {LAST_DAY.isoformat()}"
        )
    return ns


@dataclass(frozen=True, slots=True)
class _Sessions:
    ordinals: IntArray
    opens: IntArray
    closes: IntArray


@functools.cache
def _nyse() -> _Sessions:
    with warnings.catch_warnings():
        # exchange_calendars 4.x still reads tz-aware Series.values, which pandas 3 deprecates.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = xcals.get_calendar("XNYS", start=ORIGIN.isoformat(), end=LAST_DAY.isoformat())
    schedule = calendar.schedule
    days = schedule.index.to_numpy().astype("datetime64[D]")
    ordinals = (days - np.datetime64(ORIGIN, "D")).astype(np.int64)
    opens = pd.DatetimeIndex(schedule["open"]).as_unit("ns").asi8.astype(np.int64)
    closes = pd.DatetimeIndex(schedule["close"]).as_unit("ns").asi8.astype(np.int64)
    return _Sessions(ordinals, opens, closes)


class TradingCalendar:
    """Sessions per asset class; ``always_open`` makes equities trade around the clock too."""

    def __init__(self, *, always_open: bool = False) -> None:
        self.always_open = always_open

    def is_24h(self, asset_class: str) -> bool:
        if asset_class not in ASSET_CLASSES:
            raise ValueError(f"unknown asset class {asset_class!r}; use one of {ASSET_CLASSES}")
        return self.always_open or asset_class == CRYPTO

    def session_ordinals(self, asset_class: str, lo: int, hi: int) -> IntArray:
        """Return the ordinals of the sessions in ``[lo, hi)``, clamped to the simulated days."""
        lo, hi = max(lo, 0), min(hi, N_DAYS)
        if hi <= lo:
            return np.empty(0, np.int64)
        if self.is_24h(asset_class):
            return np.arange(lo, hi, dtype=np.int64)
        ordinals = _nyse().ordinals
        return ordinals[np.searchsorted(ordinals, lo) : np.searchsorted(ordinals, hi)]

    def windows(self, asset_class: str, ordinals: IntArray) -> tuple[IntArray, IntArray]:
        """Return the open and close of each session ordinal (which must be a session)."""
        if self.is_24h(asset_class):
            starts = day_ns(ordinals)
            return starts, starts + DAY_NS
        nyse = _nyse()
        at = np.searchsorted(nyse.ordinals, ordinals)
        if np.any(at >= len(nyse.ordinals)) or np.any(nyse.ordinals[at] != ordinals):
            raise ValueError("not every ordinal is an NYSE session")
        return nyse.opens[at], nyse.closes[at]

    def session_at(self, asset_class: str, ns: int) -> tuple[int, int, int] | None:
        """Return (ordinal, open, close) of the session trading at ``ns``, or None."""
        check_ns(ns)
        if self.is_24h(asset_class):
            ordinal = ordinal_of(ns)
            start = ORIGIN_NS + ordinal * DAY_NS
            return ordinal, start, start + DAY_NS
        nyse = _nyse()
        i = int(np.searchsorted(nyse.opens, ns, side="right")) - 1
        if i >= 0 and ns < nyse.closes[i]:
            return int(nyse.ordinals[i]), int(nyse.opens[i]), int(nyse.closes[i])
        return None

    def next_open_ns(self, asset_class: str, ns: int) -> int:
        """Return the first session open strictly after ``ns``."""
        check_ns(ns)
        if self.is_24h(asset_class):
            found = ORIGIN_NS + (ordinal_of(ns) + 1) * DAY_NS
        else:
            opens = _nyse().opens
            i = int(np.searchsorted(opens, ns, side="right"))
            found = int(opens[i]) if i < len(opens) else END_NS
        if found >= END_NS:
            raise OutOfSimulationRange(f"no session opens after {from_ns(ns).isoformat()}")
        return found

    def next_close_ns(self, asset_class: str, ns: int) -> int:
        """Return the first session close strictly after ``ns``."""
        check_ns(ns)
        if self.is_24h(asset_class):
            return ORIGIN_NS + (ordinal_of(ns) + 1) * DAY_NS
        closes = _nyse().closes
        i = int(np.searchsorted(closes, ns, side="right"))
        if i >= len(closes):
            raise OutOfSimulationRange(f"no session closes after {from_ns(ns).isoformat()}")
        return int(closes[i])

    def previous_close_ns(self, asset_class: str, ns: int) -> int:
        """Return the last session close at or before ``ns``."""
        check_ns(ns)
        if self.is_24h(asset_class):
            found = ORIGIN_NS + ordinal_of(ns) * DAY_NS
        else:
            closes = _nyse().closes
            i = int(np.searchsorted(closes, ns, side="right")) - 1
            found = int(closes[i]) if i >= 0 else ORIGIN_NS
        if found <= ORIGIN_NS:
            raise OutOfSimulationRange(f"no session closed before {from_ns(ns).isoformat()}")
        return found

    def is_open(self, asset_class: str, moment: datetime) -> bool:
        return self.session_at(asset_class, to_ns(moment)) is not None

    def next_open(self, asset_class: str, moment: datetime) -> datetime:
        return from_ns(self.next_open_ns(asset_class, to_ns(moment)))

    def next_close(self, asset_class: str, moment: datetime) -> datetime:
        return from_ns(self.next_close_ns(asset_class, to_ns(moment)))

    def previous_close(self, asset_class: str, moment: datetime) -> datetime:
        return from_ns(self.previous_close_ns(asset_class, to_ns(moment)))

    def sessions(self, asset_class: str, start: date, end: date) -> pd.DataFrame:
        """Return the sessions dated ``start <= day <= end``: UTC ``open`` and ``close``."""
        lo = (start - ORIGIN).days
        hi = (end - ORIGIN).days + 1
        if hi > lo and (lo < 0 or hi > N_DAYS):
            raise OutOfSimulationRange(
                f"sessions are simulated from {ORIGIN.isoformat()} to {LAST_DAY.isoformat()}"
            )
        ordinals = self.session_ordinals(asset_class, lo, hi)
        opens, closes = self.windows(asset_class, ordinals)
        index = pd.DatetimeIndex(
            np.datetime64(ORIGIN, "D") + ordinals.astype("timedelta64[D]"), name="session"
        )
        return pd.DataFrame(
            {
                "open": pd.to_datetime(opens, unit="ns", utc=True),
                "close": pd.to_datetime(closes, unit="ns", utc=True),
            },
            index=index,
        )
