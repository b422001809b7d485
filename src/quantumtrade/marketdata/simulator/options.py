"""Simulated listed options: chains priced on a volatility surface, a tape, and planted sweeps.

**What is listed.** Stocks and ETFs are optionable, crypto is not. On each session the listed
expiries are the next :data:`WEEKLY_EXPIRIES` Fridays (today's included while it trades) and
every month's third Friday up to :data:`MONTHLY_HORIZON_DAYS` calendar days ahead; a Friday
that is no session expires on the session before it. Options expire at that session's close.
Strikes come from a fixed ladder (:data:`STRIKE_LADDER`: steps of 0.5 below 10, 1 below 50, 2.5
below 200, 5 below 500, then 10) within ``±f`` of the previous session's close, with
``f = STRIKE_RANGE * sqrt(T / STRIKE_RANGE_T)`` clipped to
[:data:`STRIKE_RANGE_MIN`, :data:`STRIKE_RANGE_MAX`] and at least :data:`MIN_STRIKES_EACH_SIDE`
steps each side. The grid of a day is fixed by that close, so a day's contracts do not depend
on the hour asked.

**Volatility surface.** With ``T`` in years (calendar time) and ``x = ln(K / F) / sqrt(T)``::

    sigma0    = (1 + VARIANCE_RISK_PREMIUM) * sqrt(RV_WEIGHT * rv20^2 + (1 - RV_WEIGHT) * vm^2)
    sigma_lr  = (1 + VARIANCE_RISK_PREMIUM) * long-run volatility of the symbol
    base(T)^2 = sigma_lr^2 + (sigma0^2 - sigma_lr^2) * (1 - exp(-TERM_KAPPA T)) / (TERM_KAPPA T)
    atm(T)^2  = base(T)^2 + (sum of event variances before expiry) / T
    iv(K, T)  = max(atm(T) + slope * x + SMILE_CURVATURE * x^2, VOL_FLOOR)

``rv20`` is the realised volatility of the last :data:`RV_WINDOW` daily close-to-close returns
before the session, ``vm`` the model's own (jump-free) volatility state that day, so the term
structure mean-reverts from today's level to the long-run level at rate :data:`TERM_KAPPA`.
``slope`` is :data:`SKEW_SLOPE` for stocks and :data:`ETF_SKEW_SLOPE` for ETFs (puts richer than
calls); ``x`` is clipped to ``±MONEYNESS_CLIP``. Prices use the flat :data:`RATE` and no
dividends (:data:`DIVIDEND_YIELD`: the simulated prices drop no dividends).

**Events.** A stock that is not a control symbol (:func:`.events.is_control`) carries, from
:data:`EVENT_NOTICE_DAYS` before each planted event's announcement until it, an event variance
``(EVENT_MOVE_SD * volatility / sqrt(252))^2`` (the jump's own size) in every expiry that closes
after the announcement: the pre-earnings IV ramp, which vanishes at the announcement. Control
stocks get the same ramps and sweeps before *decoy* events instead: about
:data:`~.model.EARNINGS_PER_YEAR` a year at random sessions with random signs, unrelated to their
jumps. ETFs have neither.

**Routine flow.** A session trades ``CONTRACTS_PER_SHARE * underlying volume`` contracts in
expectation, split between puts (share ``PUT_SHARE - FEAR_SLOPE * z``, clipped to
:data:`PUT_SHARE_RANGE`, where ``z`` is the last :data:`FEAR_WINDOW` sessions' return in
standard deviations: a falling stock draws more puts) and calls; across expiries by
``exp(-T / EXPIRY_DECAY_YEARS) + LONG_DATED_WEIGHT`` (normalised over the listed expiries);
across strikes by a normal density of ``z = ln(K / S) / (sigma0 sqrt(T))`` with width
:data:`MONEYNESS_WIDTH` (one strike takes at most :data:`MAX_STRIKE_SHARE` of an expiry's flow).
Each contract-day's volume has lognormal noise (:data:`VOLUME_NOISE`),
is cut into trades of about :data:`TRADE_SIZE` contracts at U-shaped times through the session,
and trades at the ask (buys) or the bid (sells) with equal odds. Quotes are the model price
``mark`` widened by a spread ``(SPREAD_BASE + SPREAD_SHARE * mark)`` times the regime's spread
multiplier, rounded outward to cents, so ``bid <= mark <= ask``.

**Open interest** of a contract on a morning is ``sum_j (1 - CLOSE_RATE)^(n_j) * opened_j`` over
the earlier sessions ``j`` (``n_j`` the sessions between), where a session opens
:data:`OPEN_SHARE` of its routine volume and all of its sweep volume: what one day adds shows
the next morning, and it runs down as positions close.

**Planted sweeps.** Before each event (planted for non-control stocks, decoy for control ones),
with :data:`SWEEP_PROBABILITY`, someone sweeps: on a session 1 to :data:`LEAD_SESSIONS` sessions
before the announcement, 2 to 5 (:data:`SWEEP_LEGS`) aggressive buy orders, each routed across
3 to 8 exchanges (:data:`SWEEP_EXCHANGES`, ``sweep=True``), seconds apart, on one contract:
calls before a positive event, puts before a negative one, on the first expiry that closes
after the announcement and lists a strike out of the money when the sweep starts (a later one
only if a big move outran the nearest grid), at the out-of-the-money strike nearest to a
:data:`SWEEP_DELTA` delta. Together the orders trade :data:`SWEEP_OI_MULTIPLE` times the
contract's routine open interest that morning (at least :data:`SWEEP_MIN_CONTRACTS`), so its
volume exceeds its open interest. Routine trades are never sweeps.

Everything is a pure function of the seed: per-(contract, day) volumes come from a
counter-based hash of (seed, symbol, contract, day), a day's trades from
:func:`.events.event_rng` of (symbol, day), so any range or subset of contracts gives the same
numbers, and nothing reads a clock: callers cut ``end`` at their now.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtri

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.options import (
    OptionKind,
    bs_price_array,
    greeks_array,
    occ_symbol,
    strike_for_delta,
)
from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    MINUTE_NS,
    ORIGIN,
    ORIGIN_NS,
    TradingCalendar,
    from_ns,
    ordinal_of,
    to_ns,
)
from quantumtrade.marketdata.simulator.engine import Engine
from quantumtrade.marketdata.simulator.events import (
    AFTER_CLOSE,
    AFTER_OPEN,
    PlantedEvent,
    event_rng,
    is_control,
    planted_events,
)
from quantumtrade.marketdata.simulator.model import (
    BLOCK_DAYS,
    EARNINGS_PER_YEAR,
    EQUITY_WEEKDAY_TAU,
    SPREAD_MULT,
    stable_key,
)
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import EQUITY, SymbolSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

VOLUME_TAG = 0x5EED_0A01
TAPE_TAG = 0x5EED_0A02
SWEEP_TAG = 0x5EED_0A03
DECOY_TAG = 0x5EED_0A04

# Listing.
WEEKLY_EXPIRIES = 4
MONTHLY_HORIZON_DAYS = 190
STRIKE_LADDER = ((10.0, 0.5), (50.0, 1.0), (200.0, 2.5), (500.0, 5.0), (math.inf, 10.0))
STRIKE_RANGE = 0.30
STRIKE_RANGE_T = 0.5
STRIKE_RANGE_MIN = 0.06
STRIKE_RANGE_MAX = 0.40
MIN_STRIKES_EACH_SIDE = 2

# Pricing and the volatility surface.
RATE = 0.04
DIVIDEND_YIELD = 0.0
VARIANCE_RISK_PREMIUM = 0.10
RV_WINDOW = 20
RV_WEIGHT = 0.5
TERM_KAPPA = 3.0
SKEW_SLOPE = -0.12
ETF_SKEW_SLOPE = -0.22
SMILE_CURVATURE = 0.20
MONEYNESS_CLIP = 1.0
VOL_FLOOR = 0.03
MIN_T = 1.0 / (365.0 * 24.0)  # an hour: the shortest time the surface is evaluated at
CONSTANT_MATURITY_DAYS = 30
EVENT_MOVE_SD = 3.0  # daily standard deviations: the size the model draws its jumps with
EVENT_NOTICE_DAYS = 14
SPREAD_BASE = 0.02
SPREAD_SHARE = 0.015

# Routine flow and open interest.
CONTRACTS_PER_SHARE = 0.002
PUT_SHARE = 0.42
FEAR_SLOPE = 0.06
FEAR_WINDOW = 5
PUT_SHARE_RANGE = (0.25, 0.70)
EXPIRY_DECAY_YEARS = 0.08
LONG_DATED_WEIGHT = 0.10
MONEYNESS_WIDTH = 1.0
MAX_STRIKE_SHARE = 0.5
VOLUME_NOISE = 0.7
TRADE_SIZE = 20.0
OPEN_SHARE = 0.6
CLOSE_RATE = 0.04
OI_HISTORY_DAYS = MONTHLY_HORIZON_DAYS + 7

# Planted sweeps.
SWEEP_PROBABILITY = 0.35
LEAD_SESSIONS = 3
SWEEP_DELTA = 0.30
SWEEP_LEGS = (2, 5)
SWEEP_EXCHANGES = (3, 8)
SWEEP_OI_MULTIPLE = (1.5, 4.0)
SWEEP_MIN_CONTRACTS = 200

_YEAR_NS = 365.0 * DAY_NS
_TAPE_CACHE = 64


class NotOptionable(InvalidInput):
    """The symbol has no listed options (crypto)."""

    default_code = "not_optionable"


class ExpiryNotListed(InvalidInput, ValueError):
    """No contracts of the symbol expire on the date asked (an invalid expiry)."""

    default_code = "expiry_not_listed"


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One contract of a chain: its quote, model values and the day's activity.

    ``mark`` is the model price at ``iv`` (what ``bs_price`` gives with the chain's spot,
    ``t_years``, rate and dividend yield); greeks are per 1.00 of spot and vol, theta per year.
    ``volume`` is the contracts traded so far that session, ``open_interest`` as of its morning.
    """

    symbol: str
    underlying: str
    expiry: date
    kind: OptionKind
    strike: float
    bid: float
    ask: float
    mark: float
    iv: float
    delta: float
    gamma: float
    vega: float
    theta: float
    volume: int
    open_interest: int
    t_years: float


@dataclass(frozen=True, slots=True)
class OptionChain:
    """The listed contracts of one underlying at one moment, by expiry, strike, call first."""

    underlying: str
    spot: float
    at: datetime
    rate: float
    dividend_yield: float
    expiries: tuple[date, ...]
    contracts: list[OptionQuote]


@dataclass(frozen=True, slots=True)
class OptionTrade:
    """One print on the option tape.

    ``side`` is "buy" (at the ask) or "sell" (at the bid); a ``sweep`` is an aggressive order
    routed across ``exchange_count`` exchanges at once. ``motive`` ("routine", "informed" or
    "decoy") and the event fields are hidden ground truth: a model must never read them.
    """

    id: str
    symbol: str
    underlying: str
    time: datetime
    price: float
    size: int
    side: str
    sweep: bool
    exchange_count: int
    underlying_price: float
    iv: float
    motive: str = "routine"
    event_impact: float | None = None
    event_announced_ns: int | None = None


# -- public API -------------------------------------------------------------------------------


def option_chain(
    source: SimulatedMarket | Engine, symbol: str, at: datetime, expiry: date | None = None
) -> OptionChain:
    """Return the chain of ``symbol`` at ``at``: one expiry, or every listed one when None.

    The session is the one trading at ``at`` or, outside hours, the last one that traded (so
    before the open the chain still shows the previous session's volume and open interest);
    spot is the last complete minute's close (the session's close after hours). Expiries that
    closed before ``at`` are gone. Raises
    :class:`NotOptionable` for crypto and :class:`ExpiryNotListed` for an expiry not listed.
    """
    world = _World.of(source, symbol)
    at_ns = to_ns(at)
    d, open_ns, close_ns, in_session = world.session_of(at_ns)
    spot = world.spot_at(d, open_ns, at_ns if in_session else close_ns)
    day = world.days(d, d + 1)
    table = world.contracts(day, 0)
    live = table.exp_close > at_ns
    listed = sorted({_date(int(e)) for e in table.exp_ord[live].tolist()})
    if expiry is not None:
        if expiry not in listed:
            shown = ", ".join(x.isoformat() for x in listed)
            raise ExpiryNotListed(
                f"{world.spec.symbol} has no options expiring {expiry.isoformat()}; listed: {shown}"
            )
        live &= table.exp_ord == (expiry - ORIGIN).days
    tape = world.tape(d)
    traded = tape.time_ns < at_ns
    volume = np.bincount(tape.contract[traded], tape.size[traded], minlength=len(table))
    chosen = table.select(live)
    oi = world.open_interest(d, chosen)
    t = (chosen.exp_close - at_ns) / _YEAR_NS
    iv = world.surface(day, 0, spot, chosen, t, np.full(len(chosen), at_ns))
    marks = bs_price_array(chosen.is_call, spot, chosen.strike, t, RATE, iv, DIVIDEND_YIELD)
    bid, ask = _quote(marks, int(day.regime[0]))
    g = greeks_array(chosen.is_call, spot, chosen.strike, t, RATE, iv, DIVIDEND_YIELD)
    name = world.spec.symbol
    vol_live = volume[live]
    quotes = [
        OptionQuote(
            symbol=chosen.occ(name, n),
            underlying=name,
            expiry=_date(int(chosen.exp_ord[n])),
            kind="call" if chosen.is_call[n] else "put",
            strike=float(chosen.strike[n]),
            bid=float(bid[n]),
            ask=float(ask[n]),
            mark=float(marks[n]),
            iv=float(iv[n]),
            delta=float(g["delta"][n]),
            gamma=float(g["gamma"][n]),
            vega=float(g["vega"][n]),
            theta=float(g["theta"][n]),
            volume=int(vol_live[n]),
            open_interest=int(oi[n]),
            t_years=float(t[n]),
        )
        for n in range(len(chosen))
    ]
    expiries = tuple(listed) if expiry is None else (expiry,)
    return OptionChain(name, spot, at, RATE, DIVIDEND_YIELD, expiries, quotes)


def option_trades(
    source: SimulatedMarket | Engine, symbol: str, start: datetime, end: datetime
) -> list[OptionTrade]:
    """Return the option trades on ``symbol``'s contracts in ``[start, end)``, oldest first."""
    world = _World.of(source, symbol)
    lo_ns, hi_ns = max(to_ns(start), ORIGIN_NS), to_ns(end)
    if hi_ns <= lo_ns:
        return []
    sessions = world.calendar.session_ordinals(EQUITY, ordinal_of(lo_ns), ordinal_of(hi_ns) + 1)
    out: list[OptionTrade] = []
    for d in sessions.tolist():
        out += world.tape(int(d)).trades(world, lo_ns, hi_ns)
    return out


def option_sweeps(
    source: SimulatedMarket | Engine, symbol: str, start: datetime, end: datetime
) -> list[OptionTrade]:
    """Return only the sweep prints of :func:`option_trades` in ``[start, end)``, oldest first.

    The same records, found without building the tape of sessions that had no sweep.
    """
    world = _World.of(source, symbol)
    lo_ns, hi_ns = max(to_ns(start), ORIGIN_NS), to_ns(end)
    if hi_ns <= lo_ns:
        return []
    days = sorted({s.session for s in world.sweeps(ordinal_of(lo_ns), ordinal_of(hi_ns) + 1)})
    out: list[OptionTrade] = []
    for d in days:
        tape = world.tape(d)
        a, b = np.searchsorted(tape.time_ns, [lo_ns, hi_ns]).tolist()
        out += tape.records(world, (k for k in range(a, b) if tape.sweep[k]))
    return out


def atm_iv_history(
    source: SimulatedMarket | Engine, symbol: str, start: date, end: date
) -> pd.Series:
    """Return the 30-day constant-maturity ATM implied volatility at each session's close.

    Sessions dated ``start <= day < end``; the index is the session date, named "session".
    """
    world = _World.of(source, symbol)
    lo, hi = max((start - ORIGIN).days, 0), (end - ORIGIN).days
    days = world.days(lo, max(hi, lo))
    t = CONSTANT_MATURITY_DAYS / 365.0
    bump = world.event_variance(days.close_ns, days.close_ns + int(t * _YEAR_NS))
    values = np.sqrt(_base_variance(days.sigma0, world.sigma_lr, t) + bump / t)
    index = pd.DatetimeIndex(
        np.datetime64(ORIGIN, "D") + days.ordinal.astype("timedelta64[D]"), name="session"
    )
    return pd.Series(values, index=index, name="atm_iv_30d")


# -- days -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Days:
    """Per-session state of one symbol over consecutive sessions (arrays by session)."""

    ordinal: IntArray
    open_ns: IntArray
    close_ns: IntArray
    ref: FloatArray  # the previous session's close: the strike grid's centre
    close: FloatArray
    sigma0: FloatArray  # today's short-dated ATM volatility, with the risk premium
    put_share: FloatArray
    volume: FloatArray  # the underlying's volume that session
    regime: IntArray

    def __len__(self) -> int:
        return len(self.ordinal)

    def slice(self, lo: int, hi: int) -> _Days:
        return _Days(*(getattr(self, f)[lo:hi] for f in _Days.__slots__))


def _concat(parts: list[_Days]) -> _Days:
    return _Days(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Days.__slots__))


# -- contracts --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Contracts:
    exp_ord: IntArray  # the expiry session's ordinal
    exp_close: IntArray
    nominal: IntArray  # the Friday the expiry is named for
    monthly: BoolArray
    is_call: BoolArray
    strike: FloatArray

    def __len__(self) -> int:
        return len(self.exp_ord)

    def select(self, mask: BoolArray | IntArray) -> _Contracts:
        return _Contracts(*(getattr(self, f)[mask] for f in _Contracts.__slots__))

    @property
    def milli(self) -> IntArray:
        return np.round(self.strike * 1000).astype(np.int64)

    def key(self, n: int) -> tuple[int, bool, float]:
        return int(self.exp_ord[n]), bool(self.is_call[n]), float(self.strike[n])

    def occ(self, underlying: str, n: int) -> str:
        kind: OptionKind = "call" if self.is_call[n] else "put"
        return occ_symbol(underlying, _date(int(self.exp_ord[n])), kind, float(self.strike[n]))


@functools.lru_cache(maxsize=4096)
def _expiries(always_open: bool, d: int) -> tuple[tuple[int, int, int, bool], ...]:
    """Return (expiry ordinal, nominal Friday, close ns, monthly) listed on session ``d``."""
    calendar = TradingCalendar(always_open=always_open)
    weekday = (d + ORIGIN.weekday()) % 7
    first = d + (4 - weekday) % 7
    fridays = {first + 7 * w: False for w in range(WEEKLY_EXPIRIES)}
    today = _date(d)
    year, month = today.year, today.month
    while True:
        third = _third_friday(year, month)
        ordinal = (third - ORIGIN).days
        if ordinal - d > MONTHLY_HORIZON_DAYS:
            break
        if ordinal >= d:
            fridays[ordinal] = True
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for nominal in fridays:
        fridays[nominal] = fridays[nominal] or 15 <= _date(nominal).day <= 21
    out = []
    for nominal, monthly in sorted(fridays.items()):
        sessions = calendar.session_ordinals(EQUITY, nominal - 6, nominal + 1)
        if len(sessions) == 0 or int(sessions[-1]) < d:
            continue
        expiry = int(sessions[-1])
        close = int(calendar.windows(EQUITY, sessions[-1:])[1][0])
        out.append((expiry, nominal, close, monthly))
    return tuple(out)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _date(ordinal: int) -> date:
    return ORIGIN + timedelta(days=ordinal)


def _increment(price: FloatArray) -> FloatArray:
    steps = np.array([s for _, s in STRIKE_LADDER])
    edges = np.array([e for e, _ in STRIKE_LADDER])
    out: FloatArray = steps[np.minimum(np.searchsorted(edges, price, side="right"), len(steps) - 1)]
    return out


def _half_width(ref: FloatArray, t: FloatArray) -> FloatArray:
    scaled = STRIKE_RANGE * np.sqrt(np.maximum(t, 0.0) / STRIKE_RANGE_T)
    f = np.clip(scaled, STRIKE_RANGE_MIN, STRIKE_RANGE_MAX)
    out: FloatArray = np.maximum(f * ref, MIN_STRIKES_EACH_SIDE * _increment(ref))
    return out


def _ladder(lo: float, hi: float) -> FloatArray:
    """Return the ladder's strikes in ``[lo, hi]``."""
    parts, floor = [], 0.0
    for edge, step in STRIKE_LADDER:
        a, b = max(lo, floor), min(hi, edge)
        if b >= a:
            first, last = math.ceil(a / step - 1e-9), math.floor(b / step + 1e-9)
            ks = np.arange(first, last + 1) * step
            parts.append(ks[(ks >= floor) & (ks < edge) & (ks > 0)])
        floor = edge
    return np.concatenate(parts) if parts else np.empty(0)


# -- hashing: per-(contract, day) noise for any subset ------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijection of 64-bit words that scatters every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    out: npt.NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return out


def _uniform(base: int, *keys: IntArray) -> FloatArray:
    """Return uniforms in (0, 1), a pure function of ``base`` and the broadcast ``keys``."""
    arrays = np.broadcast_arrays(*keys)
    h = np.full(arrays[0].shape, np.uint64(base))
    with np.errstate(over="ignore"):
        for key in arrays:
            h = _mix(h + _GOLDEN + key.astype(np.uint64))
    out: FloatArray = ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    return out


# -- one symbol's option world ----------------------------------------------------------------


class _Cache:
    def __init__(self) -> None:
        self.blocks: dict[tuple[int, int], _Days] = {}
        self.tapes: OrderedDict[tuple[int, int], _Tape] = OrderedDict()


_CACHES: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class _Sweep:
    session: int
    contract: tuple[int, bool, float]  # expiry ordinal, is call, strike
    times: tuple[int, ...]
    sizes: tuple[int, ...]
    exchanges: tuple[int, ...]
    motive: str
    event: PlantedEvent


class _World:
    """One optionable symbol's listing, surface, flow and events under an engine."""

    def __init__(self, engine: Engine, spec: SymbolSpec) -> None:
        self.engine, self.spec = engine, spec
        self.i = engine.universe.index(spec.symbol)
        self.calendar = engine.calendar
        self.cache = _CACHES.setdefault(engine, _Cache())
        self.sigma_lr = (1.0 + VARIANCE_RISK_PREMIUM) * spec.volatility
        self.slope = ETF_SKEW_SLOPE if spec.is_etf else SKEW_SLOPE
        self.event_var = (EVENT_MOVE_SD * spec.volatility / math.sqrt(252.0)) ** 2
        self.base = stable_key(f"{engine.seed}:{VOLUME_TAG}:{spec.symbol}")
        self.control = is_control(engine.seed, spec.symbol)

    @classmethod
    def of(cls, source: SimulatedMarket | Engine, symbol: str) -> _World:
        engine = source.engine if isinstance(source, SimulatedMarket) else source
        spec = engine.universe.spec(symbol)
        if spec.is_crypto:
            raise NotOptionable(f"{spec.symbol} has no listed options: crypto is not optionable")
        return cls(engine, spec)

    # -- sessions and state ---------------------------------------------------------------------

    def session_of(self, at_ns: int) -> tuple[int, int, int, bool]:
        """Return (ordinal, open, close, trading now) of the session trading at or before."""
        found = self.calendar.session_at(EQUITY, at_ns)
        if found is not None:
            return found[0], found[1], found[2], True
        close = self.calendar.previous_close_ns(EQUITY, at_ns)
        last = ordinal_of(close - 1)
        sessions = self.calendar.session_ordinals(EQUITY, last - 1, last + 1)
        d = int(sessions[-1])
        opens, closes = self.calendar.windows(EQUITY, sessions[-1:])
        return d, int(opens[0]), int(closes[0]), False

    def spot_at(self, d: int, open_ns: int, at_ns: int) -> float:
        return float(self.spots(d, open_ns, np.array([at_ns]))[0])

    def spots(self, d: int, open_ns: int, at_ns: IntArray) -> FloatArray:
        """Return the underlying at each moment of session ``d``: the last whole minute's close."""
        minutes = self.engine.minute_day(self.i, d)
        assert minutes is not None
        m = np.clip((at_ns - open_ns) // MINUTE_NS, 0, len(minutes.close))
        out: FloatArray = np.where(m >= 1, minutes.close[np.maximum(m - 1, 0)], minutes.open[0])
        return out

    def days(self, lo: int, hi: int) -> _Days:
        """Return the state of the sessions with ordinals in ``[lo, hi)``."""
        lo = max(lo, 0)
        parts = [self._block(k) for k in range(lo // BLOCK_DAYS, max(hi - 1, lo) // BLOCK_DAYS + 1)]
        days = _concat(parts)
        a, b = np.searchsorted(days.ordinal, [lo, hi]).tolist()
        return days.slice(a, b)

    def _block(self, k: int) -> _Days:
        key = (self.i, k)
        found = self.cache.blocks.get(key)
        if found is not None:
            return found
        engine, i = self.engine, self.i
        lo, hi = k * BLOCK_DAYS, (k + 1) * BLOCK_DAYS
        bars, closes_ns = engine.daily(i, lo - 3 * RV_WINDOW, hi)
        ordinal = (bars.time_ns - ORIGIN_NS) // DAY_NS
        p = np.flatnonzero(ordinal >= lo)
        logc = np.log(bars.close)
        r2 = np.concatenate([[0.0], np.cumsum(np.diff(logc) ** 2)])  # r2[n]: returns 1..n
        prev = np.maximum(p - 1, 0)
        first = np.maximum(prev - RV_WINDOW, 0)
        count = prev - first
        rv2 = np.where(count >= 2, 252.0 * (r2[prev] - r2[first]) / np.maximum(count, 1), np.nan)
        block = engine.model.block(k)
        at = ordinal[p] - lo
        sd2 = block.sd_gap[at, i] ** 2 + block.sd_intra[at, i] ** 2
        vm2 = sd2 / (block.weight[at, i] * EQUITY_WEEKDAY_TAU)
        mixed = np.where(np.isnan(rv2), vm2, RV_WEIGHT * np.nan_to_num(rv2) + (1 - RV_WEIGHT) * vm2)
        sigma0 = (1.0 + VARIANCE_RISK_PREMIUM) * np.sqrt(mixed)
        back = np.maximum(prev - FEAR_WINDOW, 0)
        move = np.where(p >= 1, logc[prev] - logc[back], 0.0)
        z = move / (self.spec.volatility * math.sqrt(FEAR_WINDOW / 252.0))
        put_share = np.clip(PUT_SHARE - FEAR_SLOPE * z, *PUT_SHARE_RANGE)
        opens, _ = self.calendar.windows(EQUITY, ordinal[p])
        ref = np.where(p >= 1, bars.close[prev], bars.open[p])
        days = _Days(
            ordinal[p].astype(np.int64),
            opens.astype(np.int64),
            closes_ns[p].astype(np.int64),
            ref,
            bars.close[p],
            sigma0,
            put_share,
            bars.volume[p],
            block.regime[at].astype(np.int64),
        )
        self.cache.blocks[key] = days
        return days

    # -- listing --------------------------------------------------------------------------------

    def contracts(self, days: _Days, n: int) -> _Contracts:
        """Return the contracts listed on the ``n``-th session of ``days``."""
        d, open_ns, ref = int(days.ordinal[n]), int(days.open_ns[n]), float(days.ref[n])
        cols: list[list[float]] = [[], [], [], [], [], []]
        for expiry, nominal, close, monthly in _expiries(self.calendar.always_open, d):
            t = (close - open_ns) / _YEAR_NS
            half = float(_half_width(np.array([ref]), np.array([t]))[0])
            strikes = _ladder(ref - half, ref + half)
            for strike in strikes.tolist():
                for call in (True, False):
                    for col, value in zip(
                        cols, (expiry, close, nominal, monthly, call, strike), strict=True
                    ):
                        col.append(value)
        return _Contracts(
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.int64),
            np.array(cols[3], bool),
            np.array(cols[4], bool),
            np.array(cols[5], np.float64),
        )

    # -- the surface ----------------------------------------------------------------------------

    def event_variance(self, at_ns: IntArray, until_ns: IntArray) -> FloatArray:
        """Return the event variance known at each ``at`` and announced before its ``until``."""
        out = np.zeros(np.broadcast(at_ns, until_ns).shape)
        if not len(out):
            return out
        lo, hi = int(np.min(at_ns)), int(np.max(at_ns)) + EVENT_NOTICE_DAYS * DAY_NS + 1
        for event in self.events(lo, hi):
            a = event.announced_ns
            known = (at_ns < a) & (at_ns >= a - EVENT_NOTICE_DAYS * DAY_NS) & (until_ns > a)
            out = out + np.where(known, self.event_var, 0.0)
        return out

    def surface(
        self,
        days: _Days,
        n: int,
        spot: float | FloatArray,
        table: _Contracts,
        t: FloatArray,
        at_ns: IntArray,
    ) -> FloatArray:
        """Return the implied volatility of each contract at time to expiry ``t``."""
        tt = np.maximum(t, MIN_T)
        base = _base_variance(days.sigma0[n], self.sigma_lr, tt)
        bump = self.event_variance(at_ns, table.exp_close)
        atm = np.sqrt(base + bump / tt)
        forward = spot * np.exp((RATE - DIVIDEND_YIELD) * t)
        x = np.clip(np.log(table.strike / forward) / np.sqrt(tt), -MONEYNESS_CLIP, MONEYNESS_CLIP)
        out: FloatArray = np.maximum(atm + self.slope * x + SMILE_CURVATURE * x * x, VOL_FLOOR)
        return out

    # -- events ---------------------------------------------------------------------------------

    def events(self, lo_ns: int, hi_ns: int) -> list[PlantedEvent]:
        """Return the events the option market knows of, announced in ``[lo_ns, hi_ns)``."""
        lo_ns = max(lo_ns, ORIGIN_NS + 2 * DAY_NS)
        if self.spec.is_etf or hi_ns <= lo_ns:
            return []
        if not self.control:
            model = self.engine.model
            return planted_events(
                model, self.calendar, self.spec.symbol, from_ns(lo_ns), from_ns(hi_ns)
            )
        out: list[PlantedEvent] = []
        for k in range(ordinal_of(lo_ns) // BLOCK_DAYS, ordinal_of(hi_ns) // BLOCK_DAYS + 1):
            out += [e for e in self._decoys(k) if lo_ns <= e.announced_ns < hi_ns]
        out.sort(key=lambda e: e.announced_ns)
        return out

    def _decoys(self, k: int) -> list[PlantedEvent]:
        """A control stock's stand-in events in block ``k``: random sessions, random signs."""
        rng = event_rng(self.engine.seed, DECOY_TAG, self.spec.symbol, k * BLOCK_DAYS)
        sessions = self.calendar.session_ordinals(EQUITY, k * BLOCK_DAYS, (k + 1) * BLOCK_DAYS)
        count = int(rng.poisson(EARNINGS_PER_YEAR * BLOCK_DAYS / 365.25))
        out = []
        size = EVENT_MOVE_SD * self.spec.volatility / math.sqrt(252.0)
        for _ in range(count):
            s = int(rng.integers(len(sessions)))
            in_gap = bool(rng.random() < 0.8)
            impact = float(rng.choice([-1.0, 1.0]) * abs(rng.standard_normal()) * size)
            session = sessions[s : s + 1]
            opens, closes = self.calendar.windows(EQUITY, session)
            open_ns, close_ns = int(opens[0]), int(closes[0])
            if int(session[0]) < 3:
                continue
            if in_gap:
                announced = self.calendar.previous_close_ns(EQUITY, open_ns) + AFTER_CLOSE
            else:
                announced = open_ns + AFTER_OPEN
            out.append(
                PlantedEvent(
                    self.spec.symbol, int(session[0]), impact, in_gap, announced, open_ns, close_ns
                )
            )
        return out

    # -- flow -----------------------------------------------------------------------------------

    def routine_volume(self, days: _Days, table: _Contracts) -> IntArray:
        """Return each session's routine volume of each contract, (sessions, contracts)."""
        d = days.ordinal[:, None]
        weekday = (days.ordinal + ORIGIN.weekday()) % 7
        weekly_until = days.ordinal + (4 - weekday) % 7 + 7 * (WEEKLY_EXPIRIES - 1)
        horizon = np.where(table.monthly[None, :], d + MONTHLY_HORIZON_DAYS, weekly_until[:, None])
        listed = (table.exp_ord[None, :] >= d) & (table.nominal[None, :] <= horizon)
        t = (table.exp_close[None, :] - days.open_ns[:, None]) / _YEAR_NS
        ref = days.ref[:, None]
        inside = np.abs(table.strike[None, :] - ref) <= _half_width(ref, t) + 1e-9
        tt = np.maximum(t, MIN_T)
        sd = days.sigma0[:, None] * np.sqrt(tt)
        z = np.log(table.strike[None, :] / ref) / sd / MONEYNESS_WIDTH
        dz = _increment(table.strike)[None, :] / table.strike[None, :] / sd / MONEYNESS_WIDTH
        density = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        strike_share = np.minimum(density * dz, MAX_STRIKE_SHARE)
        total = np.array([self._expiry_weight_sum(days, j) for j in range(len(days))])
        expiry_share = _expiry_weight(tt) / total[:, None]
        put = days.put_share[:, None]
        kind_share = np.where(table.is_call[None, :], 1.0 - put, put)
        expected = (
            CONTRACTS_PER_SHARE * days.volume[:, None] * kind_share * expiry_share * strike_share
        )
        expected = np.where(listed & inside, expected, 0.0)
        calls = table.is_call.astype(np.int64)
        keys = (table.exp_ord[None, :], table.milli[None, :], calls[None, :], d)
        u_noise = _uniform(self.base, *keys, np.zeros(1, np.int64))
        u_round = _uniform(self.base, *keys, np.ones(1, np.int64))
        noise = np.exp(VOLUME_NOISE * ndtri(u_noise) - 0.5 * VOLUME_NOISE**2)
        out: IntArray = np.floor(expected * noise + u_round).astype(np.int64)
        return np.where(expected > 0, out, 0)

    def _expiry_weight_sum(self, days: _Days, j: int) -> float:
        open_ns = int(days.open_ns[j])
        closes = [c for _, _, c, _ in _expiries(self.calendar.always_open, int(days.ordinal[j]))]
        t = np.maximum((np.array(closes, np.float64) - open_ns) / _YEAR_NS, MIN_T)
        return float(_expiry_weight(t).sum())

    def open_interest(self, d: int, table: _Contracts, *, sweeps: bool = True) -> IntArray:
        """Return each contract's open interest on the morning of session ``d``."""
        if not len(table):
            return np.zeros(0, np.int64)
        past = self.days(d - OI_HISTORY_DAYS, d)
        if not len(past):
            return np.zeros(len(table), np.int64)
        opened = OPEN_SHARE * self.routine_volume(past, table).astype(np.float64)
        if sweeps:
            column = {table.key(n): n for n in range(len(table))}
            row = {int(o): j for j, o in enumerate(past.ordinal.tolist())}
            for sweep in self.sweeps(int(past.ordinal[0]), d):
                c = column.get(sweep.contract)
                if c is not None:
                    opened[row[sweep.session], c] += sum(sweep.sizes)
        age = len(past) - 1 - np.arange(len(past))
        decay = (1.0 - CLOSE_RATE) ** age
        out: IntArray = np.round(decay @ opened).astype(np.int64)
        return out

    # -- planted sweeps -------------------------------------------------------------------------

    def sweeps(self, lo: int, hi: int) -> list[_Sweep]:
        """Return the sweeps on sessions with ordinals in ``[lo, hi)``."""
        lo_ns = ORIGIN_NS + lo * DAY_NS
        hi_ns = ORIGIN_NS + (hi + 3 * LEAD_SESSIONS + 7) * DAY_NS
        out = []
        for event in self.events(lo_ns, hi_ns):
            sweep = self._sweep(event)
            if sweep is not None and lo <= sweep.session < hi:
                out.append(sweep)
        return out

    def _sweep(self, event: PlantedEvent) -> _Sweep | None:
        rng = event_rng(self.engine.seed, SWEEP_TAG, self.spec.symbol, event.session)
        if rng.random() >= SWEEP_PROBABILITY:
            return None
        lead = int(rng.integers(1, LEAD_SESSIONS + 1))
        a = ordinal_of(event.announced_ns)
        before = self.days(a - 3 * LEAD_SESSIONS - 7, a + 1)
        done = np.flatnonzero(before.close_ns < event.announced_ns)
        if len(done) < lead:
            return None
        n = int(done[-lead])
        day = before.slice(n, n + 1)
        d = int(day.ordinal[0])
        table = self.contracts(day, 0)
        call = event.positive
        spans = table.exp_close > event.announced_ns
        if not spans.any():
            return None
        open_ns, close_ns = int(day.open_ns[0]), int(day.close_ns[0])
        begin = open_ns + 10 * MINUTE_NS
        start = begin + float(rng.random()) * (close_ns - 40 * MINUTE_NS - begin)
        legs = int(rng.integers(SWEEP_LEGS[0], SWEEP_LEGS[1] + 1))
        gaps = np.cumsum(rng.uniform(2.0, 90.0, legs)) * 1e9
        times = tuple(int(start + g) // 1000 * 1000 for g in gaps.tolist())
        # Out of the money where the stock trades when the sweep starts: the first expiry
        # after the announcement that lists such a strike (a big move can outrun a short grid).
        spot = self.spot_at(d, open_ns, times[0])
        kind: OptionKind = "call" if call else "put"
        delta = SWEEP_DELTA if call else -SWEEP_DELTA
        c = -1
        for expiry in np.unique(table.exp_ord[spans]).tolist():
            mine = np.flatnonzero((table.exp_ord == expiry) & (table.is_call == call))
            strikes = table.strike[mine]
            pool = mine[strikes > spot] if call else mine[strikes < spot]
            if len(pool):
                t = max((int(table.exp_close[mine[0]]) - times[0]) / _YEAR_NS, MIN_T)
                vol = float(_base_variance(float(day.sigma0[0]), self.sigma_lr, t)) ** 0.5
                target = strike_for_delta(kind, delta, spot, t, RATE, vol, DIVIDEND_YIELD)
                c = int(pool[np.argmin(np.abs(table.strike[pool] - target))])
                break
        if c < 0:
            return None
        contract = table.select(np.array([c]))
        oi = int(self.open_interest(d, contract, sweeps=False)[0])
        total = max(SWEEP_MIN_CONTRACTS, math.ceil(float(rng.uniform(*SWEEP_OI_MULTIPLE)) * oi))
        weights = rng.uniform(0.5, 1.5, legs)
        sizes = np.floor(total * weights / weights.sum()).astype(np.int64)
        sizes[0] += total - int(sizes.sum())
        exchanges = tuple(
            int(x) for x in rng.integers(SWEEP_EXCHANGES[0], SWEEP_EXCHANGES[1] + 1, legs)
        )
        return _Sweep(
            d,
            contract.key(0),
            times,
            tuple(int(s) for s in sizes.tolist()),
            exchanges,
            "decoy" if self.control else "informed",
            event,
        )

    # -- the tape -------------------------------------------------------------------------------

    def tape(self, d: int) -> _Tape:
        key = (self.i, d)
        found = self.cache.tapes.get(key)
        if found is not None:
            self.cache.tapes.move_to_end(key)
            return found
        tape = self._build_tape(d)
        self.cache.tapes[key] = tape
        if len(self.cache.tapes) > _TAPE_CACHE:
            self.cache.tapes.popitem(last=False)
        return tape

    def _build_tape(self, d: int) -> _Tape:
        day = self.days(d, d + 1)
        table = self.contracts(day, 0)
        volume = self.routine_volume(day, table)[0]
        rng = event_rng(self.engine.seed, TAPE_TAG, self.spec.symbol, d)
        count = np.where(volume > 0, np.clip(np.round(volume / TRADE_SIZE), 1, volume), 0)
        count = count.astype(np.int64)
        contract = np.repeat(np.arange(len(table)), count)
        weights = rng.exponential(size=len(contract))
        sums = np.bincount(contract, weights, minlength=len(table))
        extra = (volume - count)[contract] * weights / np.where(sums > 0, sums, 1.0)[contract]
        size = 1 + np.floor(extra).astype(np.int64)
        left = volume - np.bincount(contract, size, minlength=len(table)).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(count)[:-1]])
        size[starts[count > 0]] += left[count > 0]
        open_ns, close_ns = int(day.open_ns[0]), int(day.close_ns[0])
        when = open_ns + rng.beta(0.6, 0.6, len(contract)) * (close_ns - open_ns - 1000)
        time_ns = (when.astype(np.int64) // 1000) * 1000
        buy = rng.random(len(contract)) < 0.5
        sweep = np.zeros(len(contract), bool)
        exchanges = np.ones(len(contract), np.int64)
        legs = self.sweeps(d, d + 1)
        column = {table.key(n): n for n in range(len(table))}
        event_of: list[_Sweep | None] = [None] * len(contract)
        for s in legs:
            c = column[s.contract]
            contract = np.concatenate([contract, np.full(len(s.sizes), c)])
            time_ns = np.concatenate([time_ns, np.array(s.times, np.int64)])
            size = np.concatenate([size, np.array(s.sizes, np.int64)])
            buy = np.concatenate([buy, np.ones(len(s.sizes), bool)])
            sweep = np.concatenate([sweep, np.ones(len(s.sizes), bool)])
            exchanges = np.concatenate([exchanges, np.array(s.exchanges, np.int64)])
            event_of += [s] * len(s.sizes)
        order = np.lexsort((contract, time_ns))
        contract, time_ns, size = contract[order], time_ns[order], size[order]
        buy, sweep, exchanges = buy[order], sweep[order], exchanges[order]
        sweeps_at = [event_of[k] for k in order.tolist()]
        spot = self.spots(d, open_ns, time_ns)
        chosen = table.select(contract)
        t = (chosen.exp_close - time_ns) / _YEAR_NS
        iv = self.surface(day, 0, spot, chosen, t, time_ns)
        marks = bs_price_array(chosen.is_call, spot, chosen.strike, t, RATE, iv, DIVIDEND_YIELD)
        bid, ask = _quote(marks, int(day.regime[0]))
        buy = buy | (bid <= 0)  # nobody sells at a zero bid
        price = np.where(buy, ask, bid)
        columns = (contract, time_ns, size, buy, sweep, exchanges, spot, iv, price)
        return _Tape(d, table, *columns, sweeps_at)


@dataclass(frozen=True, slots=True)
class _Tape:
    """One session's option trades as columns, sorted by time."""

    ordinal: int
    table: _Contracts
    contract: IntArray
    time_ns: IntArray
    size: IntArray
    buy: BoolArray
    sweep: BoolArray
    exchanges: IntArray
    spot: FloatArray
    iv: FloatArray
    price: FloatArray
    sweeps: list[_Sweep | None]

    def trades(self, world: _World, lo_ns: int, hi_ns: int) -> list[OptionTrade]:
        a, b = np.searchsorted(self.time_ns, [lo_ns, hi_ns]).tolist()
        return self.records(world, range(a, b))

    def records(self, world: _World, rows: Iterable[int]) -> list[OptionTrade]:
        name = world.spec.symbol
        stamp = _date(self.ordinal).strftime("%Y%m%d")
        symbols: dict[int, str] = {}
        out = []
        for k in rows:
            c = int(self.contract[k])
            occ = symbols.get(c)
            if occ is None:
                occ = symbols[c] = self.table.occ(name, c)
            sweep = self.sweeps[k]
            out.append(
                OptionTrade(
                    id=f"{name}-{stamp}-{k:06d}",
                    symbol=occ,
                    underlying=name,
                    time=from_ns(int(self.time_ns[k])),
                    price=float(self.price[k]),
                    size=int(self.size[k]),
                    side="buy" if self.buy[k] else "sell",
                    sweep=bool(self.sweep[k]),
                    exchange_count=int(self.exchanges[k]),
                    underlying_price=float(self.spot[k]),
                    iv=float(self.iv[k]),
                    motive="routine" if sweep is None else sweep.motive,
                    event_impact=None if sweep is None else sweep.event.impact,
                    event_announced_ns=None if sweep is None else sweep.event.announced_ns,
                )
            )
        return out


# -- small pieces -----------------------------------------------------------------------------


def _base_variance(
    sigma0: float | FloatArray, sigma_lr: float, t: float | FloatArray
) -> FloatArray:
    """The mean-reverting ATM variance term structure (without events)."""
    kt = TERM_KAPPA * np.asarray(t, np.float64)
    frac = np.where(kt > 1e-12, -np.expm1(-kt) / np.where(kt > 1e-12, kt, 1.0), 1.0)
    out: FloatArray = sigma_lr**2 + (np.asarray(sigma0) ** 2 - sigma_lr**2) * frac
    return out


def _expiry_weight(t: FloatArray) -> FloatArray:
    out: FloatArray = np.exp(-t / EXPIRY_DECAY_YEARS) + LONG_DATED_WEIGHT
    return out


def _quote(marks: FloatArray, regime: int) -> tuple[FloatArray, FloatArray]:
    """Return (bid, ask) around the model prices, in cents, with ``bid <= mark <= ask``."""
    half = 0.5 * (SPREAD_BASE + SPREAD_SHARE * marks) * float(SPREAD_MULT[regime])
    bid = np.maximum(np.floor((marks - half) * 100.0 + 1e-9) / 100.0, 0.0)
    ask = np.maximum(np.ceil((marks + half) * 100.0 - 1e-9) / 100.0, 0.01)
    return bid, ask
