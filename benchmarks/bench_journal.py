"""Trade journal: round trips, the review's analyses, and the journal service on SQLite.

Three parts, all from a fixed seed:

1. ``round_trips`` over 20,000 fills of 10 symbols (random sides and sizes: scale-ins,
   partial exits, full exits and flips through zero), best of 3.
2. The pure review over 2,000 random ``ReviewTrip`` records (tags, setups, emotions, regimes,
   stops, R-multiples): ``find_mistakes``, ``analyse_all`` (every dimension),
   ``emotion_patterns``, ``streaks`` and ``recommend``, best of 3 each.
3. The service on the embedded default (a SQLite file in a temp dir), through the app's
   container after its lifespan ran the migrations (clock fixed at a session in progress,
   market feed, paper matching and the watches off). For N = 1,000 and 5,000 ledger ``fill``
   rows written straight into the ledger of a new portfolio (10 simulator symbols, market
   hours over the past 8 weeks, prices inside the simulator's 15-minute bars), it times the
   first ``journal.sync`` (round trips plus every trip's MAE/MFE bars), a second sync with
   nothing new, the first page of ``list_entries``, a ``force=True`` rebuild, one appended fill
   then sync, a read 61 s later (open trips due for a refresh), ``journal_review.recommendations``,
   and ``recommendations`` again after adding AI decisions (every 15 minutes per symbol).
   Each step runs in a new session, as a request would; the time inside bar fetches
   (``services.market.history``), ``excursion``, the regime query (one per build), the ledger read
   with ``round_trips``, and the review's helpers is reported beside it (wrappers patched
   into the modules in this process only).

    .venv/bin/python benchmarks/bench_journal.py
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from bench_regime import cpu_model, cpu_reference

from quantumtrade.api.app import create_app
from quantumtrade.core.settings import load_settings
from quantumtrade.db.models import AIDecision, LedgerEntry, Portfolio, User
from quantumtrade.domain import journal_review as review
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.execution import Side
from quantumtrade.domain.journal import JournalFill, round_trips
from quantumtrade.domain.trading.ledger import Holding, apply_fill, cents
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.services import journal, journal_review, market
from quantumtrade.services.trading.portfolios import create_portfolio

SEED = 42
NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York
WEEKS = 8
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "XOM", "KO")
NEW_YORK = "America/New_York"
TAGS = ("breakout", "fomo", "news", "earnings", "gap", "trend", "scalp", "swing")
SETUPS = ("breakout", "pullback", "reversal", "range", "momentum")
EMOTIONS = ("calm", "confident", "anxious", "fearful", "greedy", "bored", "frustrated")
REGIMES = ("bull", "bear", "sideways", None)


# --------------------------------------------------------------------------- generated data


def fill_plan(rng: random.Random, n: int, symbols: tuple[str, ...]) -> list[tuple[str, Side, int]]:
    """Return ``n`` (symbol, side, qty): opens, scale-ins, partial and full exits, flips."""
    position: dict[str, int] = defaultdict(int)
    plan = []
    for _ in range(n):
        symbol = rng.choice(symbols)
        held = position[symbol]
        if held == 0:
            side = rng.choice((Side.BUY, Side.SELL))
            qty = rng.randint(10, 200)
        else:
            along = Side.BUY if held > 0 else Side.SELL
            against = Side.SELL if held > 0 else Side.BUY
            r = rng.random()
            if r < 0.35:  # scale in
                side, qty = along, rng.randint(1, 100)
            elif r < 0.65 and abs(held) > 1:  # partial exit
                side, qty = against, rng.randint(1, abs(held) - 1)
            elif r < 0.85:  # full exit
                side, qty = against, abs(held)
            else:  # flip through zero
                side, qty = against, abs(held) + rng.randint(1, 100)
        position[symbol] += qty if side is Side.BUY else -qty
        plan.append((symbol, side, qty))
    return plan


def _fees(qty: int) -> Decimal:
    return max(Decimal("1.00"), cents(Decimal("0.005") * qty))


def pure_fills(n: int) -> list[JournalFill]:
    rng = random.Random(SEED)
    price = dict.fromkeys(SYMBOLS, 100.0)
    start = NOW - timedelta(days=120)
    fills = []
    for i, (symbol, side, qty) in enumerate(fill_plan(rng, n, SYMBOLS)):
        price[symbol] = max(1.0, price[symbol] * (1 + rng.gauss(0, 0.004)))
        fills.append(
            JournalFill(
                fill_id=f"f{i:06d}",
                symbol=symbol,
                side=side,
                qty=Decimal(qty),
                price=cents(Decimal(str(price[symbol]))),
                fees=_fees(qty),
                at=start + timedelta(seconds=37 * i),
                seq=i + 1,
            )
        )
    return fills


def review_trips(n: int) -> list[review.ReviewTrip]:
    rng = random.Random(SEED)
    session_open = datetime(2026, 6, 1, 13, 30, tzinfo=UTC)  # 09:30 in New York (summer time)
    trips = []
    for i in range(n):
        day = rng.randrange(120)
        if (session_open + timedelta(days=day)).weekday() >= 5:
            day -= 2
        opened = session_open + timedelta(days=day, minutes=rng.randrange(390))
        held = rng.choice((rng.uniform(30, 3_600), rng.uniform(3_600, 86_400 * 4)))
        status = "open" if rng.random() < 0.03 else "closed"
        direction = "long" if rng.random() < 0.6 else "short"
        entry = Decimal(str(round(rng.uniform(20, 500), 2)))
        qty = Decimal(rng.randint(1, 500))
        sign = 1 if direction == "long" else -1
        stop = None
        moves: tuple[Decimal, ...] = ()
        if rng.random() < 0.8:
            stop = entry - sign * cents(entry * Decimal(str(rng.uniform(0.005, 0.03))))
            moves = (stop,)
            if rng.random() < 0.2:
                moves = (stop, stop - sign * cents(entry * Decimal("0.01")))
        r = rng.gauss(0.05, 1.4) if stop is not None else None
        risk = abs(entry - stop) * qty if stop is not None else entry * qty * Decimal("0.01")
        net = cents(risk * Decimal(str(r if r is not None else rng.gauss(0, 1.2))))
        emotion = rng.choice((*EMOTIONS, None))
        trips.append(
            review.ReviewTrip(
                id=f"t{i:05d}",
                symbol=rng.choice(SYMBOLS),
                direction=direction,
                status=status,
                opened_at=opened,
                closed_at=opened + timedelta(seconds=held) if status == "closed" else None,
                entry_price=entry,
                max_qty=qty,
                net_pl=net if status == "closed" else Decimal(0),
                return_pct=float(net / (entry * qty)),
                holding_seconds=held if status == "closed" else None,
                r_multiple=r if status == "closed" else None,
                stop_price=stop,
                stop_source="order" if stop is not None else None,
                stop_moves=moves,
                tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
                setup=rng.choice((*SETUPS, None)),
                strategy=rng.choice(("manual", "ai", None)),
                regime=rng.choice(REGIMES),
                emotion_before=emotion,
                emotion_before_intensity=rng.randint(1, 5) if emotion else None,
                emotion_after=rng.choice((*EMOTIONS, None)),
                equity_at_entry=Decimal(100_000),
                max_position_pct=0.25,
                run_up_atr=rng.uniform(-3, 3),
                ai_action=rng.choice(("buy", "sell", "hold", None)),
                ai_decision_id=None,
            )
        )
    return trips


def ledger_fills(n: int) -> list[tuple[str, Side, int, Decimal, datetime]]:
    """(symbol, side, qty, price, at): market hours of the past weeks, prices inside the
    simulator's 15-minute bars of that time (the app's simulator has the same seed)."""
    rng = random.Random(SEED + n)
    sim = SimulatedMarket(seed=SEED, clock=FixedClock(NOW))
    start = NOW - timedelta(weeks=WEEKS)
    bars = {s: sim.bars(s, "15Min", start, NOW - timedelta(minutes=30)) for s in SYMBOLS}
    local = pd.DatetimeIndex(bars[SYMBOLS[0]].index).tz_convert(NEW_YORK)
    minutes = local.hour * 60 + local.minute
    stamps = list(bars[SYMBOLS[0]].index[(minutes >= 570) & (minutes < 945)])  # 09:30-15:45
    picked = sorted(rng.choice(stamps) for _ in range(n))
    out = []
    for (symbol, side, qty), stamp in zip(fill_plan(rng, n, SYMBOLS), picked, strict=True):
        bar = bars[symbol].loc[stamp]
        price = cents(Decimal(str(rng.uniform(float(bar["low"]), float(bar["high"])))))
        at = pd.Timestamp(stamp).to_pydatetime() + timedelta(seconds=rng.randrange(900))
        out.append((symbol, side, qty, price, at))
    out.sort(key=lambda row: row[4])
    return out


# --------------------------------------------------------------------------- timing


def best_of(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


class Meter:
    """Time spent inside some of the service's helpers, by name (patched in this process)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        @functools.wraps(original)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        setattr(owner, attribute, timed if asyncio.iscoroutinefunction(original) else timed_sync)

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def summary(self) -> str:
        return "; ".join(
            f"{name} {self.seconds[name] * 1e3:,.0f} ms / {self.calls[name]:,}"
            for name in sorted(self.seconds, key=lambda k: -self.seconds[k])
        )


def install_meter() -> Meter:
    meter = Meter()
    meter.wrap(market, "history", "bars")  # excursions (journal) and run-ups (review)
    meter.wrap(journal, "_regimes", "regime query")
    meter.wrap(journal, "excursion", "excursion")
    meter.wrap(journal, "_trips", "ledger + round_trips")
    meter.wrap(journal_review, "_ai_in_force", "AI in force")
    meter.wrap(journal_review, "_equity_at", "equity at entry")
    meter.wrap(journal_review, "_run_ups", "run-ups")
    meter.wrap(journal_review.review, "recommend", "recommend")
    return meter


# --------------------------------------------------------------------------- the parts


def bench_round_trips(n: int) -> list[tuple[str, str]]:
    fills = pure_fills(n)
    seconds, trips = best_of(3, lambda: round_trips(fills))
    closed = sum(t.status == "closed" for t in trips)
    return [
        (
            f"round_trips, {n:,} fills, {len(SYMBOLS)} symbols ({len(trips):,} trips, "
            f"{closed:,} closed)",
            f"{seconds:.3f} s ({n / seconds:,.0f} fills/s)",
        )
    ]


def bench_review(n: int) -> list[tuple[str, str]]:
    trips = review_trips(n)
    rules = review.MistakeRules()
    rows = []
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("find_mistakes", lambda: review.find_mistakes(trips, rules)),
        ("analyse_all (10 dimensions)", lambda: review.analyse_all(trips)),
        ("emotion_patterns", lambda: review.emotion_patterns(trips)),
        ("streaks", lambda: review.streaks(trips)),
        ("recommend", lambda: review.recommend(trips, rules=rules)),
    ]
    for name, call in calls:
        seconds, result = best_of(3, call)
        extra = f"; {len(result)} results" if isinstance(result, list) else ""
        rows.append((f"{name}, {n:,} trips", f"{seconds * 1e3:,.1f} ms{extra}"))
    return rows


async def _portfolio(app: Any, n: int) -> uuid.UUID:
    """A new user and portfolio with ``n`` fills written straight into its ledger."""
    container = app.state.container
    fills = ledger_fills(n)
    async with container.session_factory() as db:
        user = User(
            id=uuid.uuid4(),
            email=f"bench-{n}-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="x",  # noqa: S106 - never logs in
            created_at=NOW,
            updated_at=NOW,
            password_changed_at=NOW,
        )
        db.add(user)
        await db.flush()
        portfolio = await create_portfolio(
            db,
            user_id=user.id,
            name=f"bench {n}",
            starting_cash=Decimal(1_000_000),
            margin_multiplier=4,
            shorting_enabled=True,
            now=NOW - timedelta(weeks=WEEKS + 1),
        )
        seq, cash = portfolio.ledger_seq, portfolio.cash
        holdings: dict[str, Holding] = defaultdict(Holding)
        rows = []
        for symbol, side, qty, price, at in fills:
            fees = _fees(qty)
            effect = apply_fill(holdings[symbol], side, Decimal(qty), price, fees)
            holdings[symbol] = effect.holding
            seq += 1
            cash += effect.cash_delta
            rows.append(
                LedgerEntry(
                    id=uuid.uuid4(),
                    portfolio_id=portfolio.id,
                    seq=seq,
                    kind="fill",
                    order_id=None,
                    trade_id=uuid.uuid4(),
                    symbol=symbol,
                    side=side.value,
                    qty=Decimal(qty),
                    price=price,
                    fees=fees,
                    cash_delta=effect.cash_delta,
                    realized_pl=effect.realized_pl,
                    cash_after=cash,
                    at=at,
                )
            )
        db.add_all(rows)
        portfolio.ledger_seq, portfolio.cash = seq, cash
        await db.commit()
        return portfolio.id


async def _append_fill(app: Any, portfolio_id: uuid.UUID) -> None:
    container = app.state.container
    async with container.session_factory() as db:
        portfolio = await db.get(Portfolio, portfolio_id)
        assert portfolio is not None
        price = Decimal(str(round(float(market_price(container, "AAPL")), 2)))
        portfolio.ledger_seq += 1
        portfolio.cash -= price * 5 + Decimal(1)
        db.add(
            LedgerEntry(
                id=uuid.uuid4(),
                portfolio_id=portfolio_id,
                seq=portfolio.ledger_seq,
                kind="fill",
                trade_id=uuid.uuid4(),
                symbol="AAPL",
                side="buy",
                qty=Decimal(5),
                price=price,
                fees=Decimal(1),
                cash_delta=-(price * 5) - Decimal(1),
                cash_after=portfolio.cash,
                at=container.clock.now() - timedelta(seconds=30),
            )
        )
        await db.commit()


def market_price(container: Any, symbol: str) -> float:
    now = container.clock.now()
    bars = SimulatedMarket(seed=SEED, clock=FixedClock(now)).bars(
        symbol, "1Min", now - timedelta(minutes=10), now
    )
    return float(bars["close"].iloc[-1])


async def _add_decisions(app: Any, portfolio_id: uuid.UUID) -> int:
    """One AI decision every 15 minutes of the sessions per symbol, valid for a day."""
    container = app.state.container
    rng = random.Random(SEED)
    async with container.session_factory() as db:
        portfolio = await db.get(Portfolio, portfolio_id)
        assert portfolio is not None
        stamps = pd.date_range(NOW - timedelta(weeks=WEEKS), NOW, freq="15min")
        local = stamps.tz_convert(NEW_YORK)
        minutes = local.hour * 60 + local.minute
        stamps = stamps[(local.day_of_week < 5) & (minutes >= 570) & (minutes < 960)]
        rows = [
            AIDecision(
                id=uuid.uuid4(),
                user_id=portfolio.user_id,
                symbol=symbol,
                action=rng.choice(("buy", "sell", "hold")),
                confidence=0.6,
                created_at=stamp.to_pydatetime(),
                expires_at=stamp.to_pydatetime() + timedelta(days=1),
            )
            for symbol in SYMBOLS
            for stamp in stamps
        ]
        db.add_all(rows)
        await db.commit()
        return len(rows)


async def bench_size(settings: Any, meter: Meter, n: int) -> list[tuple[str, str, str]]:
    """The service steps for one portfolio of ``n`` fills, in a new app (a cold simulator)."""
    rules = review.MistakeRules()
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock)
    container = app.state.container
    rows: list[tuple[str, str, str]] = []

    async def sync(db: Any, p: Portfolio, force: bool = False) -> str:
        count = await journal.sync(db, container=container, portfolio=p, force=force)
        return f"{count:,} entries"

    async def page(db: Any, p: Portfolio) -> str:
        items, total = await journal.list_entries(db, container=container, portfolio=p, limit=50)
        return f"{len(items)} of {total:,}"

    async def advice(db: Any, p: Portfolio) -> str:
        out = await journal_review.recommendations(
            db, container=container, portfolio=p, rules=rules
        )
        return f"{out['trips']:,} trips, {len(out['recommendations'])} recommendations"

    async def step(name: str, call: Callable[[Any, Portfolio], Any]) -> None:
        async with container.session_factory() as db:
            portfolio = await db.get(Portfolio, portfolio_id)
            assert portfolio is not None
            meter.reset()
            started = time.perf_counter()
            result = await call(db, portfolio)
            seconds = time.perf_counter() - started
        rows.append((f"N={n:,}: {name}", f"{seconds * 1e3:,.0f} ms; {result}", meter.summary()))

    async with app.router.lifespan_context(app):
        portfolio_id = await _portfolio(app, n)
        await step("first sync (full build, MAE/MFE bars)", sync)
        await step("sync again, nothing new (no-op)", sync)
        await step("list_entries, first page of 50", page)
        await step("sync force=True (rebuild)", functools.partial(sync, force=True))
        await _append_fill(app, portfolio_id)
        await step("one fill appended, sync", sync)
        clock.advance(timedelta(seconds=61))
        await step("sync 61 s later (open trips refresh)", sync)
        await step("journal_review.recommendations", advice)
        decisions = await _add_decisions(app, portfolio_id)
        await step(f"recommendations with {decisions:,} AI decisions", advice)
    return rows


async def bench_service(sizes: list[int]) -> list[tuple[str, str, str]]:
    meter = install_meter()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="qt-bench-journal-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings(
            _env_file=None,
            environment="test",
            database_url=f"sqlite+aiosqlite:///{(data_dir / 'qt.db').as_posix()}",
            redis_url=None,
            data_dir=data_dir,
            bcrypt_rounds=4,
            rate_limit_max=100_000,
            auto_migrate=True,  # tests migrate once up front; here the lifespan does it
            gc_tuning=False,
            regime_watch_enabled=False,
            sentiment_watch_enabled=False,
            ai_watch_enabled=False,
            reports_enabled=False,
            market_feed_enabled=False,
            paper_matching_enabled=False,
        )
        for n in sizes:
            rows += await bench_size(settings, meter, n)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=20_000)
    parser.add_argument("--trips", type=int, default=2_000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 5_000])
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"CPU reference loop: {cpu_reference():.3f} s (lower is faster)")
    print()
    print("| benchmark | figure |")
    print("|---|---:|")
    for name, figure in bench_round_trips(args.fills) + bench_review(args.trips):
        print(f"| {name} | {figure} |")
    print()
    print("| service step (SQLite) | figure | time inside (ms / calls) |")
    print("|---|---:|---|")
    for name, figure, inside in asyncio.run(bench_service(args.sizes)):
        print(f"| {name} | {figure} | {inside} |")
    print()
    print(f"CPU reference loop, at the end: {cpu_reference():.3f} s")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"total: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
