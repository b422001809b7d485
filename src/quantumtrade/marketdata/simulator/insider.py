"""Simulated insider filings (SEC Form 4), with the planted events' leak as hidden ground truth.

Every stock (no ETF, no crypto) gets a deterministic roster (:func:`insider_roster`): a CEO, a
CFO, two to four other officers, five to eight directors and, for :data:`FUND_SHARE` of stocks,
a fund owning more than 10 % that files jointly with its general partner. Names are invented.

Routine activity, per stock and year unless said otherwise (Poisson counts):

- :data:`PLAN_SALES_PER_YEAR` sales (S) per officer with a Rule 10b5-1 plan
  (:data:`PLAN_SHARE` of officers), each 1-4 % of the holding, footnoted with the plan;
- :data:`DISCRETIONARY_SALES_PER_YEAR` discretionary sales of 5-20 % of a holding;
- :data:`BASE_BUYS_PER_YEAR` open-market buys (P) with no link to any event;
- :data:`EXERCISES_PER_YEAR` option exercises (M) with a same-day sale of the shares;
- :data:`GIFTS_PER_YEAR` gifts (G) at price zero; :data:`FUND_SALES_PER_YEAR` fund sales;
- once a year, awards (A): RSUs and options to officers, stock to directors; each quarter the
  RSUs vest (M), and shares are withheld for tax (F), :data:`TAX_RATE` of them on average.

The planted effect, on stocks that are not control symbols (:func:`.events.is_control`):

- before a positive event, with :data:`LEAK_PROBABILITY`, one insider buys (P)
  :data:`LEAD_SESSIONS` sessions before the session of the announcement;
- before a large positive event (impact at least :data:`LARGE_EVENT` daily standard deviations,
  a third of positive events), with :data:`CLUSTER_PROBABILITY` instead a *cluster*: 3 to 5
  insiders buy within :data:`CLUSTER_SPAN` sessions, inside the same lead window;
- before a negative event, with :data:`NEGATIVE_SALE_PROBABILITY`, one insider makes a
  discretionary sale in the lead window.

Control stocks get the same buys and sales at the same average rates, placed at random
sessions, so their filings look alike but say nothing about their jumps.

Each trade is filed :data:`FILING_LAG_P` = P(0, 1, 2) business days after it (the SEC's
two-business-day rule; NYSE sessions stand in for business days), 5 to 175 minutes after that
session's close. Prices come from the stock's daily bars (between the day's low and high).
Activity is drawn per model block (and per event) with :func:`.events.event_rng`, and holdings
are carried forward from the first simulated day, so any range gives the same filings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from quantumtrade.marketdata.sec.form4 import (
    Amounts,
    Coding,
    DerivativeTransaction,
    Footnote,
    Form4,
    Issuer,
    NonDerivativeHolding,
    NonDerivativeTransaction,
    Ownership,
    ReportingOwner,
    Signature,
    Value,
    write_form4,
)
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
    PlantedEvent,
    event_rng,
    is_control,
    planted_events,
)
from quantumtrade.marketdata.simulator.model import BLOCK_DAYS, EARNINGS_PER_YEAR, stable_key
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import EQUITY

ROSTER_TAG = 0x5EED_4A01
ROUTINE_TAG = 0x5EED_4A02
LEAK_TAG = 0x5EED_4A03

PLAN_SHARE = 0.5
PLAN_SALES_PER_YEAR = 6.0
DISCRETIONARY_SALES_PER_YEAR = 1.5
BASE_BUYS_PER_YEAR = 0.8
EXERCISES_PER_YEAR = 1.0
GIFTS_PER_YEAR = 0.4
FUND_SHARE = 0.3
FUND_SALES_PER_YEAR = 0.5
TAX_RATE = 0.40

LEAK_PROBABILITY = 0.25
LARGE_EVENT = 3.0
CLUSTER_PROBABILITY = 0.35
CLUSTER_SPAN = 4
LEAD_SESSIONS = (2, 15)
NEGATIVE_SALE_PROBABILITY = 0.15
FILING_LAG_P = (0.35, 0.45, 0.20)

# Jumps are drawn with three daily standard deviations, so "large" is a one-sigma jump.
_P_LARGE = math.erfc(LARGE_EVENT / 3.0 / math.sqrt(2.0))  # P(large | positive)
_POSITIVE_PER_YEAR = EARNINGS_PER_YEAR / 2.0
_DECOY_CLUSTERS = _POSITIVE_PER_YEAR * _P_LARGE * CLUSTER_PROBABILITY
_DECOY_SINGLES = _POSITIVE_PER_YEAR * (1.0 - _P_LARGE * CLUSTER_PROBABILITY) * LEAK_PROBABILITY
_DECOY_SALES = _POSITIVE_PER_YEAR * NEGATIVE_SALE_PROBABILITY
_YEARS = BLOCK_DAYS / 365.25
_X0508_FROM = date(2023, 4, 1)  # the Rule 10b5-1 check box (aff10b5One) became mandatory

# fmt: off
_FIRST = ("Adrian", "Alma", "Bertrand", "Camille", "Dara", "Elena", "Farid", "Greta", "Hollis",
          "Ines", "Jonah", "Kiran", "Leona", "Mateo", "Nadia", "Orrin", "Priya", "Quentin",
          "Rosalind", "Soren", "Tamsin", "Ulric", "Vera", "Wendell", "Yara", "Zane")
_LAST = ("Abernathy", "Brightwater", "Castellan", "Delacroix", "Ellison", "Fairweather",
         "Galloway", "Hargrove", "Iverson", "Jankowski", "Kessler", "Lindqvist", "Marchetti",
         "Northcott", "Okonkwo", "Pemberton", "Quarles", "Rasmussen", "Sandoval", "Thackeray",
         "Umberger", "Valdivia", "Whitcombe", "Yarborough", "Zellner")
# fmt: on
_TITLES = (
    "Chief Operating Officer",
    "Chief Technology Officer",
    "General Counsel",
    "Chief Accounting Officer",
    "EVP, Sales",
    "SVP, Operations",
)
_FUND_WORDS = ("Granite Peak", "Blue Heron", "Ironbridge", "Meridian Oak", "Saltmarsh")


@dataclass(frozen=True, slots=True)
class Insider:
    """One reporting person of a stock; ``partner`` files jointly (a fund's general partner)."""

    owner: ReportingOwner
    shares: int  # direct holding on the first simulated day
    trust_shares: int  # an indirect holding ("By Trust") shown on every filing; 0 if none
    plan: bool  # sells under a Rule 10b5-1 plan
    partner: ReportingOwner | None = None

    @property
    def is_fund(self) -> bool:
        return self.partner is not None


@dataclass(frozen=True, slots=True)
class Roster:
    issuer: Issuer
    attorney: str  # signs the filings as attorney-in-fact
    insiders: tuple[Insider, ...]


@dataclass(frozen=True, slots=True)
class InsiderFiling:
    """One simulated Form 4 as EDGAR would list it, with hidden ground truth.

    ``event_impact`` and ``event_announced_ns`` name the planted event an informed trade leaks
    (None for routine trades); ``motive`` is "routine", "informed" or "decoy" (a control
    stock's stand-in for an informed trade). A model must never read these three fields.
    """

    accession_number: str
    symbol: str
    filed_ns: int
    form: Form4
    motive: str
    event_impact: float | None = None
    event_announced_ns: int | None = None

    @property
    def filed(self) -> datetime:
        return from_ns(self.filed_ns)

    @property
    def xml(self) -> str:
        """Return the filing's ``ownershipDocument`` XML."""
        return write_form4(self.form)


def insider_roster(source: SimulatedMarket | Engine, symbol: str) -> Roster:
    """Return the deterministic insiders of a stock (raise ValueError for an ETF or crypto)."""
    engine = _engine(source)
    spec = engine.universe.spec(symbol)
    if spec.is_etf or spec.is_crypto:
        raise ValueError(f"{spec.symbol} has no insiders: only stocks file Form 4")
    rng = event_rng(engine.seed, ROSTER_TAG, spec.symbol, 0)
    issuer = Issuer(
        f"{stable_key('cik:' + spec.symbol) % 1_800_000 + 100_000:010d}", spec.name, spec.symbol
    )
    used: set[str] = set()

    def person(title: str | None, director: bool, median: float) -> Insider:
        while (
            name := f"{rng.choice(_LAST)} {rng.choice(_FIRST)} {chr(65 + rng.integers(26))}"
        ) in used:
            pass
        used.add(name)
        owner = ReportingOwner(
            _cik(rng), name, is_director=director, is_officer=title is not None, officer_title=title
        )
        trust = int(rng.lognormal(math.log(20_000), 0.6)) if rng.random() < 0.3 else 0
        plan = title is not None and rng.random() < PLAN_SHARE
        return Insider(owner, _shares(rng, median), trust, plan)

    people = [
        person("Chief Executive Officer", rng.random() < 0.7, 400_000),
        person("Chief Financial Officer", False, 80_000),
    ]
    titles = rng.choice(len(_TITLES), int(rng.integers(2, 5)), replace=False)
    people += [person(_TITLES[t], False, 40_000) for t in sorted(titles.tolist())]
    people += [person(None, True, 20_000) for _ in range(int(rng.integers(5, 9)))]
    if rng.random() < FUND_SHARE:
        word = _FUND_WORDS[int(rng.integers(len(_FUND_WORDS)))]
        fund = ReportingOwner(
            _cik(rng), f"{word} Capital Partners, L.P.", is_ten_percent_owner=True
        )
        partner = ReportingOwner(
            _cik(rng),
            f"{word} Capital GP, LLC",
            is_ten_percent_owner=True,
            is_other=True,
            other_text="General partner of a 10% owner",
        )
        people.append(Insider(fund, _shares(rng, 15_000_000), 0, False, partner))
    attorney = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    return Roster(issuer, attorney, tuple(people))


def insider_filings(
    source: SimulatedMarket | Engine, symbol: str, start: datetime, end: datetime
) -> list[InsiderFiling]:
    """Return the Form 4 filings of ``symbol`` filed in ``[start, end)``, oldest first.

    The seed is the market's. ETFs and crypto have none. Nothing here looks at a clock: a
    caller serving "now" cuts ``end`` at it.
    """
    engine = _engine(source)
    spec = engine.universe.spec(symbol)
    lo_ns, hi_ns = to_ns(start), to_ns(end)
    if spec.is_etf or spec.is_crypto or hi_ns <= max(lo_ns, ORIGIN_NS):
        return []
    last = ordinal_of(hi_ns)
    world = _World(engine, spec.symbol, last)
    drafts = world.walk(last)
    out: list[InsiderFiling] = []
    per_day: dict[int, int] = {}
    for draft in sorted(drafts, key=lambda d: (d.filed_ns, d.order)):
        day = ordinal_of(draft.filed_ns)
        seq = per_day[day] = per_day.get(day, 0) + 1
        if lo_ns <= draft.filed_ns < hi_ns:
            out.append(world.filing(draft, day, seq))
    return out


# -- internals --------------------------------------------------------------------------------


def _engine(source: SimulatedMarket | Engine) -> Engine:
    return source.engine if isinstance(source, SimulatedMarket) else source


def _cik(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(1_100_000, 2_000_000)):010d}"


def _shares(rng: np.random.Generator, median: float) -> int:
    return int(round(rng.lognormal(math.log(median), 0.5), -2))


def _day(ordinal: int) -> date:
    return ORIGIN + timedelta(days=ordinal)


def _money(price: float, places: int = 2) -> Decimal:
    # Sub-dollar stocks quote in hundredths of a cent, like the bars.
    return Decimal(f"{price:.{max(places, 4) if price < 1.0 else places}f}")


@dataclass(frozen=True, slots=True)
class _Intent:
    """A trade decided before its size is known (sizes depend on the holding at the time)."""

    session: int  # index into the session table
    who: int
    kind: str
    size: float  # dollars (buys, awards), a fraction of a holding, or the tax rate of a vest
    u_price: float
    lag: int
    minutes: float
    motive: str = "routine"
    event: PlantedEvent | None = None

    @property
    def key(self) -> tuple[int, int, int, float]:
        return self.session, _KINDS.index(self.kind), self.who, self.u_price


_KINDS = (
    "vest",
    "grant",
    "director_grant",
    "exercise",
    "plan_sale",
    "sale",
    "fund_sale",
    "gift",
    "buy",
)


@dataclass(frozen=True, slots=True)
class _Draft:
    """A trade sized against the holdings: what its Form 4 needs, without building it yet."""

    intent: _Intent
    order: int
    filed_ns: int
    rows: tuple[tuple[str, int, Decimal, int], ...]  # code, shares, price, holding after
    units: int = 0  # RSUs or options in the derivative row
    left: int = 0  # RSUs unvested, or options of the lot left, after the trade
    option: tuple[Decimal, int, int] | None = None  # strike, options granted, expiry ordinal
    held: int = 0  # the direct holding after the trade


class _World:
    """One stock's roster, sessions, prices and events, for the model blocks up to ``last``."""

    def __init__(self, engine: Engine, symbol: str, last: int) -> None:
        self.engine, self.symbol = engine, symbol
        self.i = engine.universe.index(symbol)
        self.volatility = engine.universe.specs[self.i].volatility
        self.roster = insider_roster(engine, symbol)
        self.control = is_control(engine.seed, symbol)
        # Whole blocks, so that a block's draws never depend on how far the caller asked; an
        # event up to a month after ``last`` may leak into it.
        self.blocks = min((last + 40) // BLOCK_DAYS + 1, (N_DAYS - 1) // BLOCK_DAYS + 1)
        self.sessions = engine.calendar.session_ordinals(EQUITY, 0, self.blocks * BLOCK_DAYS + 9)
        self.closes_ns = engine.calendar.windows(EQUITY, self.sessions)[1]
        insiders = self.roster.insiders
        self.people = [n for n, x in enumerate(insiders) if not x.is_fund]
        self.officers = [n for n, x in enumerate(insiders) if x.owner.is_officer]
        self.directors = [n for n in self.people if n not in self.officers]
        self.fund = next((n for n, x in enumerate(insiders) if x.is_fund), None)

    def bar(self, s: int) -> tuple[float, float, float]:
        """Return (low, high, close) of session index ``s``."""
        ordinal = int(self.sessions[s])
        book = self.engine.book(self.i, ordinal // BLOCK_DAYS)
        at = ordinal % BLOCK_DAYS
        return float(book.low[at]), float(book.high[at]), float(book.close[at])

    # -- what happens, before sizes ------------------------------------------------------------

    def intents(self) -> list[_Intent]:
        out: list[_Intent] = []
        for k in range(self.blocks):
            out += self._routine(k)
        if not self.control:
            end = from_ns(ORIGIN_NS + self.blocks * BLOCK_DAYS * DAY_NS)
            # An event on the first simulated session has no previous close to be announced
            # after (and nothing before it to leak into), so the search starts a day later.
            begin = from_ns(ORIGIN_NS + 2 * DAY_NS)
            events = planted_events(
                self.engine.model, self.engine.calendar, self.symbol, begin, end
            )
            for event in events:
                if event.session // BLOCK_DAYS < self.blocks:
                    out += self._leak(event)
        out.sort(key=lambda x: x.key)
        return out

    def _make(
        self,
        rng: np.random.Generator,
        s: int,
        who: int,
        kind: str,
        size: float,
        motive: str = "routine",
        event: PlantedEvent | None = None,
    ) -> _Intent:
        lag = int(rng.choice(3, p=FILING_LAG_P))
        return _Intent(
            s, who, kind, size, float(rng.random()), lag, float(rng.uniform(5, 175)), motive, event
        )

    def _routine(self, k: int) -> list[_Intent]:
        rng = event_rng(self.engine.seed, ROUTINE_TAG, self.symbol, k * BLOCK_DAYS)
        lo, hi = np.searchsorted(self.sessions, [k * BLOCK_DAYS, (k + 1) * BLOCK_DAYS]).tolist()
        if hi <= lo:
            return []
        out: list[_Intent] = []

        def draw(rate: float, who: list[int], kind: str, low: float, high: float) -> None:
            for _ in range(int(rng.poisson(rate * _YEARS)) if who else 0):
                s, n = int(rng.integers(lo, hi)), who[int(rng.integers(len(who)))]
                out.append(self._make(rng, s, n, kind, float(rng.uniform(low, high))))

        for n in self.officers:
            if self.roster.insiders[n].plan:
                draw(PLAN_SALES_PER_YEAR, [n], "plan_sale", 0.01, 0.04)
        draw(DISCRETIONARY_SALES_PER_YEAR, self.people, "sale", 0.05, 0.20)
        draw(EXERCISES_PER_YEAR, self.officers, "exercise", 0.5, 1.0)
        draw(GIFTS_PER_YEAR, self.people, "gift", 0.005, 0.03)
        draw(FUND_SALES_PER_YEAR, [] if self.fund is None else [self.fund], "fund_sale", 0.02, 0.06)
        for _ in range(int(rng.poisson(BASE_BUYS_PER_YEAR * _YEARS))):
            s, n = int(rng.integers(lo, hi)), self.people[int(rng.integers(len(self.people)))]
            out.append(self._make(rng, s, n, "buy", _buy_dollars(rng)))
        grant_day, meeting_day = int(rng.integers(40, 70)), int(rng.integers(130, 160))
        for day, kind, who in (
            (grant_day, "grant", self.officers),
            (meeting_day, "director_grant", self.directors),
        ):
            s = int(np.searchsorted(self.sessions, k * BLOCK_DAYS + day))
            for n in who:
                base = (6e6 if n == 0 else 2.5e6 if n == 1 else 1.2e6) if kind == "grant" else 2e5
                dollars = base * float(rng.lognormal(0, 0.2))
                if s < hi:
                    out.append(self._make(rng, s, n, kind, dollars))
        for quarter in range(4):
            s = int(np.searchsorted(self.sessions, k * BLOCK_DAYS + grant_day + 91 * quarter))
            for n in self.officers:
                rate = TAX_RATE + float(rng.uniform(-0.05, 0.05))
                if s < hi:
                    out.append(self._make(rng, s, n, "vest", rate))
        if self.control:
            for kind, rate in (
                ("single", _DECOY_SINGLES),
                ("cluster", _DECOY_CLUSTERS),
                ("sale", _DECOY_SALES),
            ):
                for _ in range(int(rng.poisson(rate * _YEARS))):
                    out += self._episode(rng, int(rng.integers(lo, hi)), kind, "decoy", None)
        return out

    def _leak(self, event: PlantedEvent) -> list[_Intent]:
        rng = event_rng(self.engine.seed, LEAK_TAG, self.symbol, event.session)
        u_cluster, u_single = rng.random(), rng.random()
        # A gap event is announced after the previous session's close.
        announce = int(np.searchsorted(self.sessions, event.session)) - int(event.in_gap)
        large = event.impact >= LARGE_EVENT * self.volatility / math.sqrt(252.0)
        if event.positive and large and u_cluster < CLUSTER_PROBABILITY:
            return self._episode(rng, announce, "cluster", "informed", event)
        if event.positive and u_single < LEAK_PROBABILITY:
            return self._episode(rng, announce, "single", "informed", event)
        if not event.positive and u_single < NEGATIVE_SALE_PROBABILITY:
            return self._episode(rng, announce, "sale", "informed", event)
        return []

    def _episode(
        self,
        rng: np.random.Generator,
        announce: int,
        kind: str,
        motive: str,
        event: PlantedEvent | None,
    ) -> list[_Intent]:
        first, last = LEAD_SESSIONS
        if kind == "cluster":
            size = min(int(rng.integers(3, 6)), len(self.people))
            lead = int(rng.integers(first + CLUSTER_SPAN, last + 1))
            who = rng.choice(self.people, size, replace=False).tolist()
            leads = [lead - int(rng.integers(0, CLUSTER_SPAN + 1)) for _ in who]
        else:
            who = [self.people[int(rng.integers(len(self.people)))]]
            leads = [int(rng.integers(first, last + 1))]
        out = []
        for n, lead in zip(who, leads, strict=True):
            sized = _buy_dollars(rng) if kind != "sale" else float(rng.uniform(0.05, 0.2))
            intent = self._make(
                rng,
                announce - lead,
                int(n),
                "sale" if kind == "sale" else "buy",
                sized,
                motive,
                event,
            )
            if intent.session >= 0:
                out.append(intent)
        return out

    # -- sizes, holdings and the filings -------------------------------------------------------

    def walk(self, last: int) -> list[_Draft]:
        """Size every trade up to day ``last`` against the holdings carried from day one."""
        insiders = self.roster.insiders
        held = [x.shares for x in insiders]
        tranches: list[list[list[int]]] = [[] for _ in insiders]  # [units per quarter, left]
        lots: list[list[list[int]]] = [
            [] for _ in insiders
        ]  # [strike cents, granted, left, expiry]
        out: list[_Draft] = []
        for order, x in enumerate(self.intents()):
            ordinal = int(self.sessions[x.session])
            if ordinal > last:
                break
            low, high, close = self.bar(x.session)
            price = low + x.u_price * (high - low)
            n, rows = x.who, tuple[tuple[str, int, Decimal, int], ...]()
            units = left = 0
            option = None
            if x.kind == "buy":
                shares = max(10, round(x.size / price / 10) * 10)
                held[n] += shares
                rows = (("P", shares, _money(price), held[n]),)
            elif x.kind in ("sale", "plan_sale", "fund_sale", "gift"):
                shares = int(held[n] * x.size)
                if shares < 10:
                    continue
                held[n] -= shares
                code, paid = ("G", Decimal(0)) if x.kind == "gift" else ("S", _money(price, 4))
                rows = ((code, shares, paid, held[n]),)
            elif x.kind == "director_grant":
                shares = max(1, round(x.size / close))
                held[n] += shares
                rows = (("A", shares, Decimal(0), held[n]),)
            elif x.kind == "grant":
                units = max(1, round(x.size / 2 / close / 12)) * 12
                tranches[n].append([units // 12, 12])
                left = sum(per * k for per, k in tranches[n])
                strike = round(close * 100)
                options = max(1, round(x.size / 2 / (0.3 * close)))
                lots[n].append([strike, options, options, ordinal + 3652])
                option = (Decimal(strike) / 100, options, ordinal + 3652)
            elif x.kind == "vest":
                units = sum(per for per, k in tranches[n] if k > 0)
                if units == 0:
                    continue
                for tranche in tranches[n]:
                    tranche[1] -= tranche[1] > 0
                left = sum(per * k for per, k in tranches[n])
                withheld = round(units * x.size)
                held[n] += units
                rows = (("M", units, Decimal(0), held[n]),)
                held[n] -= withheld
                rows += (("F", withheld, _money(close), held[n]),)
            else:  # an option exercise and the same-day sale of its shares
                lots[n] = [lot for lot in lots[n] if lot[3] > ordinal and lot[2] > 0]
                lot = next((lot for lot in lots[n] if lot[0] < low * 100), None)
                if lot is None:
                    continue
                units = max(1, int(lot[2] * x.size))
                lot[2] -= units
                left, paid = lot[2], Decimal(lot[0]) / 100
                option = (paid, lot[1], lot[3])
                rows = (
                    ("M", units, paid, held[n] + units),
                    ("S", units, _money(price, 4), held[n]),
                )
            end = x.session + x.lag
            if end >= len(self.closes_ns):  # filed after the last simulated day
                continue
            filed = int(self.closes_ns[end]) + int(x.minutes * MINUTE_NS)
            out.append(_Draft(x, order, filed, rows, units, left, option, held[n]))
        return out

    def filing(self, draft: _Draft, day: int, seq: int) -> InsiderFiling:
        """Build the Form 4 of a draft filed on day ``day`` as the issuer's ``seq``-th that day."""
        x, roster = draft.intent, self.roster
        insider = roster.insiders[x.who]
        when = _day(int(self.sessions[x.session]))
        filed = _day(day)
        notes: list[Footnote] = []

        def note(text: str) -> tuple[str, ...]:
            for known in notes:
                if known.text == text:
                    return (known.id,)
            notes.append(Footnote(f"F{len(notes) + 1}", text))
            return (notes[-1].id,)

        modern = when >= _X0508_FROM
        direct = Ownership(Value("D"))
        if insider.is_fund:
            direct = Ownership(Value("I"), Value("See footnote", note(_FUND_NOTE)))
        table: list[NonDerivativeTransaction] = []
        low, high, _ = self.bar(x.session)
        for code, shares, price, after in draft.rows:
            price_notes: tuple[str, ...] = ()
            coding_notes: tuple[str, ...] = ()
            if code == "S":
                price_notes = note(_weighted(float(price), low, high))
                if x.kind == "plan_sale":
                    coding_notes = note(_PLAN_NOTE.format(_adopted(when, x.who)))
            elif code == "G":
                coding_notes = note("Bona fide gift to a charitable organization.")
            elif code == "A":
                coding_notes = note(_DIRECTOR_NOTE)
            elif code == "F":
                coding_notes = note(_TAX_NOTE)
            table.append(
                NonDerivativeTransaction(
                    Value("Common Stock"),
                    Value(when),
                    Coding(code, footnotes=coding_notes),
                    Amounts(
                        Value(Decimal(shares)),
                        Value(price, price_notes),
                        Value("D" if code in "SGF" else "A"),
                    ),
                    Value(Decimal(after)),
                    direct,
                )
            )
        holdings = []
        if x.kind == "grant":
            holdings.append(
                NonDerivativeHolding(Value("Common Stock"), Value(Decimal(draft.held)), direct)
            )
        if insider.trust_shares:
            trust = Ownership(Value("I"), Value("By Trust"))
            holdings.append(
                NonDerivativeHolding(
                    Value("Common Stock"), Value(Decimal(insider.trust_shares)), trust
                )
            )
        owners = (insider.owner,) if insider.partner is None else (insider.owner, insider.partner)
        form = Form4(
            schema_version="X0508" if modern else "X0306",
            document_type="4",
            period_of_report=when,
            issuer=roster.issuer,
            reporting_owners=owners,
            non_derivative_transactions=tuple(table),
            non_derivative_holdings=tuple(holdings),
            derivative_transactions=self._derivatives(draft, when, note),
            footnotes=tuple(notes),
            signatures=tuple(
                Signature(f"/s/ {roster.attorney}, Attorney-in-Fact for {o.name}", filed)
                for o in owners
            ),
            not_subject_to_section16=False,
            aff10b5_one=(x.kind == "plan_sale") if modern else None,
        )
        event = x.event
        return InsiderFiling(
            accession_number=f"{roster.issuer.cik}-{filed.year % 100:02d}-"
            f"{filed.timetuple().tm_yday * 1000 + seq:06d}",
            symbol=self.symbol,
            filed_ns=draft.filed_ns,
            form=form,
            motive=x.motive,
            event_impact=None if event is None else event.impact,
            event_announced_ns=None if event is None else event.announced_ns,
        )

    def _derivatives(
        self, draft: _Draft, when: date, note: Callable[[str], tuple[str, ...]]
    ) -> tuple[DerivativeTransaction, ...]:
        kind, out = draft.intent.kind, []
        if kind in ("grant", "vest"):
            code, ad = ("A", "A") if kind == "grant" else ("M", "D")
            out.append(
                _derivative(
                    "Restricted Stock Units",
                    Value(None, note(_RSU_NOTE)),
                    when,
                    code,
                    ad,
                    draft.units,
                    Value(None, note(_RSU_VEST_NOTE)),
                    Value(None, note(_RSU_VEST_NOTE)),
                    draft.left,
                )
            )
        if draft.option is not None:
            strike, granted, expiry = draft.option
            code, ad, units, left = (
                ("A", "A", granted, granted)
                if kind == "grant"
                else ("M", "D", draft.units, draft.left)
            )
            out.append(
                _derivative(
                    "Employee Stock Option (right to buy)",
                    Value(strike),
                    when,
                    code,
                    ad,
                    units,
                    Value(None, note(_OPTION_VEST_NOTE)),
                    Value(_day(expiry)),
                    left,
                )
            )
        return tuple(out)


def _derivative(
    title: str,
    price: Value[Decimal],
    when: date,
    code: str,
    ad: str,
    units: int,
    exercisable: Value[date],
    expires: Value[date],
    left: int,
) -> DerivativeTransaction:
    return DerivativeTransaction(
        security_title=Value(title),
        exercise_price=price,
        transaction_date=Value(when),
        coding=Coding(code),
        amounts=Amounts(Value(Decimal(units)), Value(Decimal(0)), Value(ad)),
        exercise_date=exercisable,
        expiration_date=expires,
        underlying_title=Value("Common Stock"),
        underlying_shares=Value(Decimal(units)),
        shares_after=Value(Decimal(left)),
        ownership=Ownership(Value("D")),
    )


def _buy_dollars(rng: np.random.Generator) -> float:
    return float(rng.lognormal(math.log(250_000), 0.8))


def _weighted(price: float, low: float, high: float) -> str:
    spread = max(price * 0.003, 0.01)
    lo = max(low, math.floor((price - spread) * 100) / 100)
    hi = min(high, math.ceil((price + spread) * 100) / 100)
    return (
        "The price reported is a weighted average price. These shares were sold in multiple "
        f"transactions at prices ranging from ${lo:.2f} to ${hi:.2f}, inclusive. The reporting "
        "person undertakes to provide full information regarding the number of shares sold at "
        "each separate price upon request."
    )


def _adopted(when: date, who: int) -> str:
    # Plans are adopted in the open windows after the fourth- and second-quarter results.
    adopted = date(when.year - 1, 11, 10 + who) if when.month < 7 else date(when.year, 5, 10 + who)
    return f"{_MONTHS[adopted.month - 1]} {adopted.day}, {adopted.year}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_PLAN_NOTE = (
    "The sales reported in this Form 4 were effected pursuant to a Rule 10b5-1 trading plan "
    "adopted by the reporting person on {}."
)
_TAX_NOTE = (
    "Shares withheld by the issuer to satisfy tax withholding obligations upon the vesting of "
    "restricted stock units."
)
_DIRECTOR_NOTE = "Annual stock award to non-employee directors, fully vested on the grant date."
_RSU_NOTE = "Each restricted stock unit represents a contingent right to receive one share."
_RSU_VEST_NOTE = "The restricted stock units vest in twelve equal quarterly installments."
_OPTION_VEST_NOTE = (
    "The option vests in three equal annual installments beginning on the first anniversary "
    "of the grant date."
)
_FUND_NOTE = (
    "The shares are held directly by the fund. Its general partner may be deemed to share "
    "beneficial ownership of them and disclaims it except to the extent of its pecuniary interest."
)
