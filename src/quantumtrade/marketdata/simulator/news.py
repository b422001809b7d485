"""Simulated news: stories per symbol, sector and market, with their hidden true impact.

Stories are :class:`~quantumtrade.domain.news.NewsItem` values written from the phrase bank
(:mod:`.phrases`); what each story really means is kept apart in a :class:`NewsTruth`
(:func:`news_truth`), which a model must never read.

**Planted stories.** Every planted event (:func:`.events.planted_events`) of a stock or crypto
asset that is not a control symbol is announced by one story at exactly
``event.announced_ns``. Its kind and wording follow the sign and size of the event's impact:
with ``z = |impact| / jump_sd`` (``jump_sd`` the model's jump standard deviation, three daily
standard deviations), the true tone is ``sign(impact) * tanh(z)`` and the words come from the
mild tier below :data:`MILD_BELOW`, the strong tier from :data:`STRONG_FROM`, the solid tier
between. Kinds, by sign, with the weights of :data:`POSITIVE_KINDS` and
:data:`NEGATIVE_KINDS`: earnings beat/miss (the most common), guidance raise/cut,
upgrade/downgrade, buyback/lawsuit, contract win/regulatory probe, takeover (strong positive
only, else an earnings beat)/recall; a health-care stock's story is an FDA approval/rejection
with :data:`FDA_SHARE`. Crypto events read as exchange listings/hacks, ETF inflows/outflows,
regulation and network news. The impact lands where :mod:`.events` documents it: in the next
session's opening gap for a story after the close, between the open and the close for a story
just after the open, within the UTC day for crypto.

**Noise.** Per stock and week, :data:`ROUTINE_PER_WEEK` untoned stories (analyst notes,
conferences, filings, executive changes) and :data:`TONED_NOISE_PER_WEEK` toned stories with
no impact (upgrades, downgrades, products, opinion pieces, contracts, lawsuits, probes,
recalls), tone ``±tanh(|N(0, 1)|)`` with a fair coin for the sign; crypto assets get
:data:`CRYPTO_NOTES_PER_WEEK` untoned notes and the same toned rate. Weekend days carry
:data:`WEEKEND_SHARE` of a weekday's rate for stocks; times follow :data:`NEWS_HOURS` (UTC).

**Control symbols** (:func:`.events.is_control`) get decoys instead of planted stories: on
every day the model could plant a jump (weekdays for stocks, every day for crypto) a decoy
appears with the model's jump probability (:data:`~.model.EARNINGS_PER_YEAR` a year for
stocks, :data:`~.model.CRYPTO_JUMPS_PER_YEAR` for crypto), timed like an announcement (after
the previous close with :data:`DECOY_IN_GAP`, else just after the open), with a random sign
and size drawn like a jump's. They look like planted stories and say nothing about the price.

**ETFs** get no stories of their own: only sector stories, which list every symbol of the
sector (an ETF with a sector included), and market stories.

**Sectors**: :data:`SECTOR_PER_MONTH` stories per sector (not crypto), tone drawn like toned
noise, a third untoned.

**Macro**: :data:`MACRO_PER_WEEK` scheduled releases (Fed, CPI, jobs, GDP, oil, PMI) on
weekdays at their usual UTC hour (:data:`~.phrases.MACRO_HOURS`), tone drawn at random (noise);
and a *market wrap* after every session whose equal-weighted close-to-close equity log return
(without the stocks' own planted jumps) is at least :data:`LARGE_MARKET_MOVE` in size, published
:data:`WRAP_DELAY_MINUTES` after the close. Wraps describe a move already in the price (they lag
it); they predict nothing. Macro stories name the index funds (ETFs of no one sector: SPY).

Everything is drawn per (source, day ordinal) with :func:`.events.event_rng` and its own tag,
or per planted event, so any range returns exactly the stories of a longer range that fall in
it, and a story's id (``sim-n-`` and a hash of the seed and its key) never changes. Nothing here
reads a clock: a caller serving "now" cuts ``end`` at it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from quantumtrade.domain.news import NewsItem
from quantumtrade.marketdata.simulator import phrases as ph
from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    MINUTE_NS,
    N_DAYS,
    ORIGIN,
    ORIGIN_NS,
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
    CRYPTO_JUMPS_PER_YEAR,
    CRYPTO_TAU,
    EARNINGS_PER_YEAR,
    stable_key,
)
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import EQUITY, SymbolSpec

FloatArray = npt.NDArray[np.float64]

EVENT_TAG = 0x5EED_5001
NOISE_TAG = 0x5EED_5002
DECOY_TAG = 0x5EED_5003
SECTOR_TAG = 0x5EED_5004
MACRO_TAG = 0x5EED_5005

MILD_BELOW = 0.5
STRONG_FROM = 1.25
FDA_SHARE = 0.35
ROUTINE_PER_WEEK = 2.5
TONED_NOISE_PER_WEEK = 0.7
CRYPTO_NOTES_PER_WEEK = 3.0
WEEKEND_SHARE = 0.15
DECOY_IN_GAP = 0.8
SECTOR_PER_MONTH = 3.0
MACRO_PER_WEEK = 3.0
LARGE_MARKET_MOVE = 0.02
WRAP_DELAY_MINUTES = (20, 120)
# Relative news activity per UTC hour for stocks: quiet overnight, busy from the pre-market to
# the close (13:30-21:00 UTC in winter), a tail after hours.
NEWS_HOURS = np.array(
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 10, 8, 8, 8, 8, 8, 10, 10, 5, 2], np.float64
)
NEWS_HOURS /= NEWS_HOURS.sum()
_DAYS_PER_MONTH = 30.44
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_UNIFORMS = 64  # uniforms drawn per story for its wording: see _Writer.write

POSITIVE_KINDS = (
    ("earnings_beat", 0.55),
    ("guidance_raise", 0.12),
    ("upgrade", 0.09),
    ("buyback", 0.08),
    ("contract_win", 0.08),
    ("mna_target", 0.08),
)
NEGATIVE_KINDS = (
    ("earnings_miss", 0.55),
    ("guidance_cut", 0.12),
    ("downgrade", 0.09),
    ("lawsuit", 0.08),
    ("probe", 0.08),
    ("recall", 0.08),
)
CRYPTO_POSITIVE = ("exchange_listing", "etf_inflows", "regulatory_win", "network_upgrade")
CRYPTO_NEGATIVE = ("exchange_hack", "etf_outflows", "regulatory_crackdown", "network_outage")
ROUTINE_KINDS = ("analyst_note", "conference", "filing", "exec_change")
TONED_UP = ("upgrade", "product", "opinion_bull", "contract_win")
TONED_DOWN = ("downgrade", "opinion_bear", "lawsuit", "probe", "recall")
CRYPTO_TONED_UP = ("exchange_listing", "etf_inflows", "network_upgrade")
CRYPTO_TONED_DOWN = ("etf_outflows", "regulatory_crackdown")


@dataclass(frozen=True, slots=True)
class NewsTruth:
    """What a story really means; hidden from models.

    ``tone`` in [-1, 1] is the intended direction and strength of the story. ``event`` is the
    planted event it announces (its impact follows in the price), None otherwise. ``noise`` is
    True when the tone was drawn with no link to any price (routine and toned noise, sector
    stories, scheduled releases, control decoys); False for planted stories and for market
    wraps, which describe a move already made.
    """

    kind: str
    tone: float
    event: PlantedEvent | None
    noise: bool


@dataclass(frozen=True, slots=True)
class Story:
    item: NewsItem
    truth: NewsTruth
    created_ns: int


def news_items(
    source: SimulatedMarket | Engine,
    symbols: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> list[NewsItem]:
    """Return the stories created in ``[start, end)``, oldest first.

    ``symbols=None`` returns every story: symbol, sector and market stories. With symbols,
    only the stories that name at least one of them (market stories name the index fund).
    """
    return [s.item for s in stories(source, symbols, start, end)]


def news_truth(
    source: SimulatedMarket | Engine,
    start: datetime,
    end: datetime,
    *,
    symbols: Sequence[str] | None = None,
) -> dict[str, NewsTruth]:
    """Return the hidden truth of every story created in ``[start, end)``, keyed by item id."""
    return {s.item.id: s.truth for s in stories(source, symbols, start, end)}


def stories(
    source: SimulatedMarket | Engine,
    symbols: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> list[Story]:
    """Return the stories of :func:`news_items` with their truth, oldest first."""
    engine = _engine(source)
    lo_ns, hi_ns = max(to_ns(start), ORIGIN_NS), to_ns(end)
    if hi_ns <= lo_ns:
        return []
    universe = engine.universe
    specs = list(universe.specs) if symbols is None else [universe.spec(s) for s in symbols]
    wanted = {s.symbol for s in specs}
    out: list[Story] = []
    for spec in specs:
        if not spec.is_etf:
            out += _symbol_stories(engine, spec, lo_ns, hi_ns)
    sectors = sorted({s.sector for s in specs if s.sector is not None and not s.is_crypto})
    for sector in sectors:
        out += [
            s
            for s in _sector_stories(engine, sector, lo_ns, hi_ns)
            if wanted.intersection(s.item.symbols)
        ]
    if symbols is None:
        out += _macro_stories(engine, lo_ns, hi_ns)
    elif any(_is_index(spec) for spec in specs):  # market stories are the index fund's news
        out += [
            s for s in _macro_stories(engine, lo_ns, hi_ns) if wanted.intersection(s.item.symbols)
        ]
    out.sort(key=lambda s: (s.created_ns, s.item.id))
    return out


def story_id(seed: int, *key: object) -> str:
    """Return the stable id of the story with ``key`` under ``seed``."""
    return "sim-n-" + _digest(seed, key)


# -- per symbol --------------------------------------------------------------------------------


def jump_sd(spec: SymbolSpec) -> float:
    """Return the standard deviation of the symbol's planted jumps (see :mod:`.model`)."""
    return 3.0 * spec.volatility * math.sqrt(CRYPTO_TAU if spec.is_crypto else 1.0 / 252.0)


def tier_of(z: float) -> int:
    """Return the wording tier of an impact of ``z`` jump standard deviations."""
    return ph.MILD if z < MILD_BELOW else ph.STRONG if z >= STRONG_FROM else ph.SOLID


def _symbol_stories(engine: Engine, spec: SymbolSpec, lo_ns: int, hi_ns: int) -> list[Story]:
    seed, symbol = engine.seed, spec.symbol
    out: list[Story] = []
    lo_day, hi_day = _days(lo_ns, hi_ns)
    writer = _Writer(engine, spec)
    if not is_control(seed, symbol):
        begin, finish = from_ns(lo_ns), from_ns(hi_ns)
        for event in planted_events(engine.model, engine.calendar, symbol, begin, finish):
            rng = event_rng(seed, EVENT_TAG, symbol, event.session)
            z = abs(event.impact) / jump_sd(spec)
            sign = 1 if event.impact > 0 else -1
            out.append(
                writer.event_story(
                    rng,
                    ("event", symbol, event.session),
                    event.announced_ns,
                    sign,
                    z,
                    event.in_gap,
                    event,
                )
            )
    else:
        # A decoy's announcement can precede its day by a long weekend.
        for day in range(max(lo_day - 1, 0), min(hi_day + 6, N_DAYS)):
            decoy = writer.decoy(day)
            if decoy is not None and lo_ns <= decoy.created_ns < hi_ns:
                out.append(decoy)
    for day in range(lo_day, hi_day):
        out += [s for s in writer.noise(day) if lo_ns <= s.created_ns < hi_ns]
    return out


class _Writer:
    """Writes the stories of one symbol."""

    def __init__(self, engine: Engine, spec: SymbolSpec) -> None:
        self.engine, self.spec = engine, spec
        self.i = engine.universe.index(spec.symbol)
        self.co = ph.short_name(spec.name)
        self.sym = ph.ticker(spec.symbol)
        # A stable revenue scale per company, in billions a quarter.
        self.revenue_b = 1.0 + (stable_key("revenue:" + spec.symbol) % 600) / 10.0
        self.crypto = spec.is_crypto
        self.health = spec.sector == "Health Care"

    def price(self, day: int) -> float:
        """Return the close of the day before ``day`` (known before any story that day)."""
        day = max(day - 1, 0)
        return float(self.engine.book(self.i, day // BLOCK_DAYS).close[day % BLOCK_DAYS])

    def event_story(
        self,
        rng: np.random.Generator,
        key: tuple[object, ...],
        created_ns: int,
        sign: int,
        z: float,
        in_gap: bool,
        event: PlantedEvent | None,
    ) -> Story:
        u = rng.random(_UNIFORMS)
        tier = tier_of(z)
        if self.crypto:
            kinds = CRYPTO_POSITIVE if sign > 0 else CRYPTO_NEGATIVE
            kind = kinds[int(u[0] * len(kinds))]
        elif self.health and u[1] < FDA_SHARE:
            kind = "fda_approval" if sign > 0 else "fda_rejection"
        else:
            table = POSITIVE_KINDS if sign > 0 else NEGATIVE_KINDS
            weights = np.array([w for _, w in table])
            kind = table[int(np.searchsorted(np.cumsum(weights) / weights.sum(), u[2]))][0]
            if kind == "mna_target" and tier != ph.STRONG:
                kind = "earnings_beat"
        when = ph.SYNONYMS["when_ah" if in_gap else "when_pm"]
        if self.crypto:
            when = ("on the day", "in Asian trading", "over the past hour")
        move = z * jump_sd(self.spec) * (0.8 + 0.4 * u[3])
        tone = sign * math.tanh(z)
        truth = NewsTruth(kind, tone, event, noise=event is None)
        return self.write(
            u, key, created_ns, kind, tier, sign, move, when[int(u[4] * len(when))], truth
        )

    def decoy(self, day: int) -> Story | None:
        """Return a control symbol's decoy of day ``day``, if it has one."""
        spec, calendar = self.spec, self.engine.calendar
        weekday = day % 7 < 5  # ORIGIN is a Monday
        if not (self.crypto or weekday):
            return None
        rng = event_rng(self.engine.seed, DECOY_TAG, spec.symbol, day)
        rate = CRYPTO_JUMPS_PER_YEAR / 365.25 if self.crypto else EARNINGS_PER_YEAR / 260.9
        u = rng.random(3)
        if u[0] >= rate:
            return None
        z, sign = abs(float(rng.standard_normal())), 1 if u[1] < 0.5 else -1
        sessions = calendar.session_ordinals(spec.asset_class, day, day + 7)
        if len(sessions) == 0:
            return None
        opens, _ = calendar.windows(spec.asset_class, sessions[:1])
        open_ns = int(opens[0])
        in_gap = not calendar.is_24h(spec.asset_class) and (
            u[2] < DECOY_IN_GAP or int(sessions[0]) != day
        )
        if calendar.is_24h(spec.asset_class):
            created = open_ns
        elif in_gap:
            if int(sessions[0]) == 0:
                return None
            created = calendar.previous_close_ns(spec.asset_class, open_ns) + AFTER_CLOSE
        else:
            created = open_ns + AFTER_OPEN
        return self.event_story(rng, ("decoy", spec.symbol, day), created, sign, z, in_gap, None)

    def noise(self, day: int) -> list[Story]:
        """Return the routine and toned stories of day ``day``."""
        spec = self.spec
        weekend = day % 7 >= 5
        rng = event_rng(self.engine.seed, NOISE_TAG, spec.symbol, day)
        scale = (
            1.0 / 7.0
            if self.crypto
            else (WEEKEND_SHARE if weekend else 1.0) / (5.0 + 2.0 * WEEKEND_SHARE)
        )
        routine_rate = CRYPTO_NOTES_PER_WEEK if self.crypto else ROUTINE_PER_WEEK
        n_routine = int(rng.poisson(routine_rate * scale))
        n_toned = int(rng.poisson(TONED_NOISE_PER_WEEK * scale))
        n = n_routine + n_toned
        if n == 0:
            return []
        hours = (
            rng.random(n) * 24.0 if self.crypto else rng.choice(24, n, p=NEWS_HOURS) + rng.random(n)
        )
        created = ORIGIN_NS + day * DAY_NS + (hours * 60.0).astype(np.int64) * MINUTE_NS
        z = np.abs(rng.standard_normal(n))
        signs = np.where(rng.random(n) < 0.5, 1, -1)
        u = rng.random((n, _UNIFORMS))
        out = []
        for j in range(n):
            toned = j >= n_routine
            if not toned:
                kind = "crypto_note" if self.crypto else ROUTINE_KINDS[int(u[j, 0] * 4)]
                sign, tone = 0, 0.0
            else:
                sign = int(signs[j])
                kinds: tuple[str, ...]
                if self.crypto:
                    kinds = CRYPTO_TONED_UP if sign > 0 else CRYPTO_TONED_DOWN
                else:
                    kinds = TONED_UP if sign > 0 else TONED_DOWN
                kind = kinds[int(u[j, 0] * len(kinds))]
                tone = sign * math.tanh(float(z[j]))
            truth = NewsTruth(kind, tone, None, noise=True)
            when = ("today", "in recent trading", "this week")
            move = float(z[j]) * jump_sd(spec) * 0.5
            out.append(
                self.write(
                    u[j],
                    ("noise", spec.symbol, day, j),
                    int(created[j]),
                    kind,
                    tier_of(float(z[j])),
                    sign,
                    move,
                    when[int(u[j, 4] * 3)],
                    truth,
                )
            )
        return out

    def write(
        self,
        u: FloatArray,
        key: tuple[object, ...],
        created_ns: int,
        kind: str,
        tier: int,
        sign: int,
        move: float,
        when: str,
        truth: NewsTruth,
    ) -> Story:
        day = ordinal_of(created_ns)
        values = story_fields(
            u[8:32],
            co=self.co,
            sym=self.sym,
            sector=self.spec.sector or "",
            price=self.price(day),
            revenue_b=self.revenue_b,
            sign=sign,
            tier=tier,
            move=move,
            when=when,
            day=day,
        )
        slots = ph.Slots(values, tier, u[40:])
        headline = ph.fill(_pick(ph.HEADLINES[kind], u[5]), slots)
        sentences = [ph.fill(_pick(ph.SUMMARIES[kind], u[6]), slots)]
        if u[7] < 0.6 and (sign or not self.crypto):
            polarity = "positive" if sign > 0 else "negative" if sign < 0 else "neutral"
            sentences.append(ph.fill(_pick(ph.DETAILS[polarity], u[33]), slots))
        if sign and u[34] < 0.3:
            sentences.append(ph.fill(_pick(ph.DETAILS["context"], u[35]), slots))
        return _story(
            self.engine.seed,
            key,
            created_ns,
            headline,
            sentences,
            (self.spec.symbol,),
            truth,
            u[32],
        )


# -- sectors and the market --------------------------------------------------------------------


def _sector_stories(engine: Engine, sector: str, lo_ns: int, hi_ns: int) -> list[Story]:
    members = tuple(s.symbol for s in engine.universe.specs if s.sector == sector)
    lo_day, hi_day = _days(lo_ns, hi_ns)
    out: list[Story] = []
    for day in range(lo_day, hi_day):
        rng = event_rng(engine.seed, SECTOR_TAG, "sector:" + sector, day)
        n = int(rng.poisson(SECTOR_PER_MONTH / _DAYS_PER_MONTH))
        for j in range(n):
            u = rng.random(_UNIFORMS)
            created = (
                ORIGIN_NS
                + day * DAY_NS
                + int((float(rng.choice(24, p=NEWS_HOURS)) + u[0]) * 60) * MINUTE_NS
            )
            if not lo_ns <= created < hi_ns:
                continue
            z = abs(float(rng.standard_normal()))
            sign = 0 if u[1] < 1 / 3 else 1 if u[1] < 2 / 3 else -1
            kind = {1: "sector_up", -1: "sector_down", 0: "sector_flat"}[sign]
            tone = sign * math.tanh(z)
            values = story_fields(
                u[8:32],
                co=sector,
                sym=sector,
                sector=sector,
                price=100.0,
                revenue_b=10.0,
                sign=sign,
                tier=tier_of(z),
                move=0.01,
                when="today",
                day=day,
            )
            slots = ph.Slots(values, tier_of(z), u[40:])
            headline = ph.fill(_pick(ph.HEADLINES[kind], u[5]), slots)
            summary = [ph.fill(_pick(ph.SUMMARIES[kind], u[6]), slots)]
            truth = NewsTruth("sector", tone, None, noise=True)
            out.append(
                _story(
                    engine.seed,
                    ("sector", sector, day, j),
                    created,
                    headline,
                    summary,
                    members,
                    truth,
                    u[32],
                )
            )
    return out


def _is_index(spec: SymbolSpec) -> bool:
    """A fund of the whole market (an ETF of no one sector): market stories name it."""
    return spec.is_etf and spec.sector is None


def _macro_stories(engine: Engine, lo_ns: int, hi_ns: int) -> list[Story]:
    lo_day, hi_day = _days(lo_ns, hi_ns)
    index = tuple(s.symbol for s in engine.universe.specs if _is_index(s))
    out: list[Story] = []
    equities = [i for i, s in enumerate(engine.universe.specs) if s.asset_class == EQUITY]
    for day in range(max(lo_day - 1, 0), hi_day):
        rng = event_rng(engine.seed, MACRO_TAG, "macro", day)
        u = rng.random((8, _UNIFORMS))
        if day % 7 < 5:
            n = int(rng.poisson(MACRO_PER_WEEK / 5.0))
            for j in range(min(n, len(u) - 1)):
                sign = 0 if u[j, 1] < 1 / 3 else 1 if u[j, 1] < 2 / 3 else -1
                table = ph.MACRO[{1: "up", -1: "down", 0: "flat"}[sign]]
                kind, head, summary = table[int(u[j, 2] * len(table))]
                created = ORIGIN_NS + day * DAY_NS + int(ph.MACRO_HOURS[kind] * 60) * MINUTE_NS
                z = abs(float(rng.standard_normal()))
                values = story_fields(
                    u[j, 8:32],
                    co="",
                    sym="",
                    sector="",
                    price=100.0,
                    revenue_b=10.0,
                    sign=sign,
                    tier=tier_of(z),
                    move=0.01,
                    when="today",
                    day=day,
                )
                slots = ph.Slots(values, tier_of(z), u[j, 40:])
                truth = NewsTruth(kind, sign * math.tanh(z), None, noise=True)
                out.append(
                    _story(
                        engine.seed,
                        ("macro", day, j),
                        created,
                        ph.fill(head, slots),
                        [ph.fill(summary, slots)],
                        index,
                        truth,
                        u[j, 32],
                    )
                )
        wrap = _wrap(engine, equities, day, u[-1], index)
        if wrap is not None:
            out.append(wrap)
    return [s for s in out if lo_ns <= s.created_ns < hi_ns]


def _wrap(
    engine: Engine, equities: list[int], day: int, u: FloatArray, index: tuple[str, ...]
) -> Story | None:
    """Return the market wrap of session ``day`` if the market moved by a large amount."""
    calendar = engine.calendar
    if not equities or not len(calendar.session_ordinals(EQUITY, day, day + 1)):
        return None
    before = calendar.session_ordinals(EQUITY, day - 10, day)
    if not len(before):
        return None
    # The session's close-to-close move, from the day after the previous session; a single
    # stock's planted jump is not a market story.
    move = 0.0
    for d in range(int(before[-1]) + 1, day + 1):
        block, at = engine.model.block(d // BLOCK_DAYS), d % BLOCK_DAYS
        move += float(np.mean(block.ret[at, equities] - block.idio_jump[at, equities]))
    if abs(move) < LARGE_MARKET_MOVE:
        return None
    _, closes = calendar.windows(EQUITY, np.array([day], np.int64))
    low, high = WRAP_DELAY_MINUTES
    created = int(closes[0]) + int(low + u[0] * (high - low)) * MINUTE_NS
    sign = 1 if move > 0 else -1
    kind = "market_wrap_up" if sign > 0 else "market_wrap_down"
    strength = abs(move) / (2.0 * LARGE_MARKET_MOVE)
    tier = ph.SOLID if strength < 0.75 else ph.STRONG
    values = story_fields(
        u[8:32],
        co="",
        sym="",
        sector="",
        price=100.0,
        revenue_b=10.0,
        sign=sign,
        tier=tier,
        move=move,
        when="today",
        day=day,
    )
    slots = ph.Slots(values, tier, u[40:])
    headline = ph.fill(_pick(ph.HEADLINES[kind], u[5]), slots)
    summary = [ph.fill(_pick(ph.SUMMARIES[kind], u[6]), slots)]
    truth = NewsTruth("market_wrap", sign * min(1.0, strength), None, noise=False)
    return _story(engine.seed, ("wrap", day), created, headline, summary, index, truth, u[32])


# -- helpers -----------------------------------------------------------------------------------


def _engine(source: SimulatedMarket | Engine) -> Engine:
    return source.engine if isinstance(source, SimulatedMarket) else source


def _days(lo_ns: int, hi_ns: int) -> tuple[int, int]:
    """Return the day ordinals ``[lo, hi)`` that hold ``[lo_ns, hi_ns)``, clamped."""
    return max(ordinal_of(lo_ns), 0), min(ordinal_of(hi_ns - 1) + 1, N_DAYS)


def _digest(seed: int, key: Iterable[object]) -> str:
    text = ":".join(str(part) for part in (seed, *key))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _pick(options: Sequence[str], u: float) -> str:
    return options[int(u * len(options))]


def _story(
    seed: int,
    key: tuple[object, ...],
    created_ns: int,
    headline: str,
    sentences: list[str],
    symbols: tuple[str, ...],
    truth: NewsTruth,
    u: float,
) -> Story:
    sid = story_id(seed, *key)
    k = int(u * len(ph.FIRST_NAMES) * len(ph.LAST_NAMES))
    author = f"{ph.FIRST_NAMES[k % len(ph.FIRST_NAMES)]} {ph.LAST_NAMES[k // len(ph.FIRST_NAMES)]}"
    source = ph.NEWS_SOURCES[int(u * 7919) % len(ph.NEWS_SOURCES)]
    when = from_ns(created_ns)
    item = NewsItem(
        id=sid,
        headline=headline,
        summary=" ".join(sentences),
        content="",
        author=author,
        source=source,
        url=f"https://news.sim/{sid}",
        symbols=symbols,
        created_at=when,
        updated_at=when,
    )
    return Story(item, truth, created_ns)


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _big(billions: float) -> str:
    if billions >= 1.0:
        return f"${billions:,.1f} billion"
    return f"${billions * 1000:,.0f} million"


def story_fields(
    u: FloatArray,
    *,
    co: str,
    sym: str,
    sector: str,
    price: float,
    revenue_b: float,
    sign: int,
    tier: int,
    move: float,
    when: str,
    day: int,
) -> Mapping[str, str]:
    """Return the computed fields of a story: numbers consistent with its sign and tier."""
    v = u.tolist()
    on = ORIGIN + timedelta(days=day)
    strength = (tier + v[0]) / 3.0
    est = price * (0.006 + 0.012 * v[1])
    surprise = (0.01 + 0.12 * strength) * (sign or (1 if v[2] < 0.5 else -1))
    eps = est * (1.0 + surprise)
    if abs(eps - est) < 0.02:  # a surprise shows in cents
        eps = est + math.copysign(0.02, surprise)
    rev_est = revenue_b * (0.95 + 0.1 * v[3])
    rev = rev_est * (1.0 + sign * (0.005 + 0.04 * strength))
    target = price * (1.0 + sign * (0.08 + 0.3 * strength)) if sign else price * (0.95 + 0.2 * v[4])
    old_target = price * (1.0 + sign * 0.03 * v[5])
    premium = 0.15 + 0.35 * v[6]
    quarter = ((on.month - 1) // 3 - 1) % 4
    month = ph.MONTHS[(on.month - 2) % 12]
    person = f"{_pick(ph.FIRST_NAMES, v[7])} {_pick(ph.LAST_NAMES, v[8])}"
    cpi = 0.1 + 0.4 * v[9]
    payrolls = int(50 + 300 * v[10]) * 1000
    gdp = -0.5 + 4.0 * v[11]
    return {
        "co": co,
        "sym": sym,
        "coin": co,
        "sector": sector,
        "eps": _money(eps),
        "est": _money(est),
        "rev": _big(rev),
        "rev_hi": _big(rev * (1.02 + 0.03 * v[12])),
        "rev_est": _big(rev_est),
        "growth": f"{2 + 25 * v[13]:.0f}%",
        "q": str(quarter + 1),
        "quarter": ph.QUARTERS[quarter],
        "pct": f"{abs(move) * 100:.1f}%",
        "small_pct": f"{1 + 5 * v[14]:.0f}%",
        "price": _money(price),
        "pt": f"${target:,.0f}",
        "old_pt": f"${old_target:,.0f}",
        "upside": f"{abs(target / price - 1) * 100:.0f}%",
        "pps": _money(price * (1 + premium)),
        "premium": f"{premium * 100:.0f}%",
        "amount": _big(revenue_b * (0.05 + 1.5 * v[15])),
        "div": _money(price * (0.002 + 0.008 * v[16])),
        "firm": _pick(ph.ANALYST_FIRMS, v[17]),
        "rating_up": _pick(ph.RATINGS_UP, v[18]),
        "rating_down": _pick(ph.RATINGS_DOWN, v[18]),
        "rating_mid": _pick(ph.RATINGS_MID, v[19]),
        "drug": _pick(ph.DRUGS, v[20]).capitalize(),
        "condition": _pick(ph.CONDITIONS, v[21]),
        "conference": _pick(ph.CONFERENCES, v[20]),
        "acq": _pick(ph.ACQUIRERS, v[21]),
        "role": _pick(ph.ROLES, v[19]),
        "product": _pick(ph.PRODUCTS, v[9]),
        "filing": _pick(ph.FILINGS, v[10]),
        "person": person,
        "when": when,
        "month": month,
        "cpi": f"{cpi:.1f}%",
        "cpi_est": f"{cpi + (0.1 if v[2] < 0.5 else -0.1):.1f}%",
        "payrolls": f"{payrolls:,}",
        "payrolls_est": f"{payrolls + int(60 * v[12] - 30) * 1000:,}",
        "claims": f"{int(190 + 60 * v[13])},000",
        "unemp": f"{3.4 + 2.0 * v[14]:.1f}%",
        "gdp": f"{gdp:.1f}%",
        "gdp_est": f"{gdp + (0.3 if v[2] < 0.5 else -0.3):.1f}%",
        "pmi": f"{46 + 8 * v[15]:.1f}",
        "date": date.isoformat(on),
        "weekday": _pick(_WEEKDAYS, v[22]),
        "big_amount": _big(0.5 + 4.5 * v[22]),
        "maturity": str(on.year + 3 + int(27 * v[23])),
        "count": str(3 + int(5 * v[23])),
    }
