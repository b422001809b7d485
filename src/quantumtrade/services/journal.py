"""The trade journal: one entry per round trip, rebuilt from the ledger, plus what the trader adds.

Entries follow the ledger. Reading a portfolio's journal first brings it up to date: when the
portfolio's ``ledger_seq`` has moved since the journal was built, the round trips are rebuilt
from the ledger's fills and resets (see :mod:`quantumtrade.domain.journal` for the rules) and
stored by their key, ``symbol:first fill id``, so the trader's notes, tags, emotions, rating and
plan survive every rebuild. A trip still open when the portfolio was reset ends there with the
status ``reset``.

Per entry the rebuild also finds:

* the stop in force: the first exit-side stop order (stop, stop-limit or trailing stop with a
  stop price) alive while the trip was open; without one, the trader's planned stop;
* the R-multiple against that stop (net P&L over the initial risk);
* MAE and MFE from the bars while the position was open, at a bar length fitting the trip's
  length (1-minute bars up to 2 days, 15-minute up to 2 weeks, hourly up to 90 days, daily
  beyond), final once the bar holding the last fill is complete; reads refresh those of open
  trips at most every ``REFRESH``;
* the strategy (the opening order's source) and the AI decision that placed the opening order;
* the market regime at entry: the daily trend regime the regime service had recorded for the
  symbol at the opening time, when it recorded one.
"""

from __future__ import annotations

import csv
import io
import uuid
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import (
    AIDecision,
    JournalEntry,
    JournalState,
    LedgerEntry,
    Order,
    Portfolio,
    RegimeChange,
    Trade,
)
from quantumtrade.domain.errors import AppError, NotFound, Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.journal import (
    LONG,
    OPEN,
    JournalFill,
    RoundTrip,
    TripFill,
    excursion,
    r_multiple,
    round_trips,
)
from quantumtrade.services import market
from quantumtrade.services.container import Container
from quantumtrade.services.trading.views import text

RESET = "reset"
STATUSES = ("open", "closed", RESET)
USER_FIELDS = (
    "notes",
    "tags",
    "setup",
    "emotion_before",
    "emotion_before_intensity",
    "emotion_after",
    "emotion_after_intensity",
    "rating",
    "planned_stop",
    "planned_target",
)
STOP_TYPES = ("stop", "stop_limit", "trailing_stop")
MAX_PAGE = 500
# How often reads refresh the excursions of open and just-closed trips without new fills.
REFRESH = timedelta(seconds=60)
CSV_COLUMNS = (
    "id",
    "symbol",
    "direction",
    "status",
    "opened_at",
    "closed_at",
    "entry_qty",
    "exit_qty",
    "entry_price",
    "exit_price",
    "gross_pl",
    "fees",
    "net_pl",
    "return_pct",
    "holding_seconds",
    "stop_price",
    "stop_source",
    "r_multiple",
    "mae",
    "mfe",
    "strategy",
    "ai_decision_id",
    "regime",
    "setup",
    "tags",
    "emotion_before",
    "emotion_after",
    "rating",
    "notes",
)
# The bar length for a trip's excursions: the finest whose bars over the trip stay few.
_EXCURSION_FRAMES = (
    (timedelta(days=2), "1Min"),
    (timedelta(days=14), "15Min"),
    (timedelta(days=90), "1Hour"),
)


@dataclass(frozen=True, slots=True)
class StopOrder:
    price: Decimal
    created_at: datetime
    ended_at: datetime | None
    symbol: str
    side: str


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --------------------------------------------------------------------------- rebuild


async def sync(
    db: AsyncSession, *, container: Container, portfolio: Portfolio, force: bool = False
) -> int:
    """Bring the portfolio's journal up to its ledger; return how many entries it has.

    With ``force`` the computed fields of every entry are rebuilt from the ledger even when
    the journal looks current (a replay). Safe to call concurrently: a losing writer retries.
    """
    for attempt in range(2):
        try:
            return await _sync(db, container, portfolio, force=force)
        except IntegrityError:
            await db.rollback()
            if attempt:
                raise
            await db.refresh(portfolio)
    raise AssertionError("unreachable")  # pragma: no cover


async def _sync(
    db: AsyncSession, container: Container, portfolio: Portfolio, *, force: bool
) -> int:
    state = await db.get(JournalState, portfolio.id)
    seq = portfolio.ledger_seq
    now = container.clock.now()
    if (
        state is not None
        and state.ledger_seq == seq
        and not force
        and not await _moving(db, portfolio.id, state, now)
    ):
        count = await db.scalar(
            sa.select(sa.func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.portfolio_id == portfolio.id)
        )
        return int(count or 0)
    trips = await _trips(db, portfolio.id, upto=seq)
    existing = {
        row.key: row
        for row in await db.scalars(
            sa.select(JournalEntry).where(JournalEntry.portfolio_id == portfolio.id)
        )
    }
    stops = await load_stops(db, portfolio.id)
    decisions = await _decisions(db, [t.first_order_id for t in trips if t.first_order_id])
    regimes = await _regimes(db, {t.symbol for t in trips}, now)
    keep: set[str] = set()
    for trip in trips:
        keep.add(trip.key)
        row = existing.get(trip.key)
        if row is None:
            row = JournalEntry(
                id=uuid.uuid4(), portfolio_id=portfolio.id, key=trip.key, tags=[], built_at=now
            )
            db.add(row)
        await _fill_row(
            db,
            container,
            row,
            trip,
            stops=stops,
            decisions=decisions,
            regimes=regimes,
            now=now,
            force=force,
        )
    for key, row in existing.items():
        if key not in keep:
            await db.delete(row)
    if state is None:
        db.add(JournalState(portfolio_id=portfolio.id, ledger_seq=seq, built_at=now))
    else:
        state.ledger_seq, state.built_at = seq, now
    await db.commit()
    return len(keep)


async def _moving(
    db: AsyncSession, portfolio_id: uuid.UUID, state: JournalState, now: datetime
) -> bool:
    """Whether excursions may have moved since the last build: an open trip, or a trip closed
    too recently for its last bar to be complete, and ``REFRESH`` gone by."""
    if now - state.built_at < REFRESH:
        return False
    found = await db.scalar(
        sa.select(JournalEntry.id)
        .where(
            JournalEntry.portfolio_id == portfolio_id,
            sa.or_(
                JournalEntry.status == OPEN,
                JournalEntry.closed_at > now - timedelta(days=2),
            ),
        )
        .limit(1)
    )
    return found is not None


async def _trips(db: AsyncSession, portfolio_id: uuid.UUID, *, upto: int) -> list[RoundTrip]:
    """The portfolio's round trips from its ledger, a reset ending the trips open at it."""
    entries = list(
        await db.scalars(
            sa.select(LedgerEntry)
            .where(
                LedgerEntry.portfolio_id == portfolio_id,
                LedgerEntry.kind.in_(("fill", RESET)),
                LedgerEntry.seq <= upto,
            )
            .order_by(LedgerEntry.seq)
        )
    )
    trade_ids = [e.trade_id for e in entries if e.trade_id is not None]
    strategies: dict[uuid.UUID, str | None] = {}
    if trade_ids:
        rows = await db.execute(
            sa.select(Trade.id, Trade.strategy).where(
                Trade.portfolio_id == portfolio_id, Trade.id.in_(trade_ids)
            )
        )
        strategies = {trade_id: strategy for trade_id, strategy in rows}
    trips: list[RoundTrip] = []
    epoch: list[JournalFill] = []
    for entry in entries:
        if entry.kind == RESET:
            trips += _ended(round_trips(epoch), entry.at)
            epoch = []
            continue
        assert entry.symbol is not None and entry.side is not None
        epoch.append(
            JournalFill(
                fill_id=str(entry.trade_id or entry.id),
                symbol=entry.symbol,
                side=Side(entry.side),
                qty=entry.qty,
                price=entry.price,
                fees=entry.fees,
                at=entry.at,
                order_id=None if entry.order_id is None else str(entry.order_id),
                strategy=strategies.get(entry.trade_id) if entry.trade_id else None,
                seq=entry.seq,
            )
        )
    trips += round_trips(epoch)
    return trips


def _ended(trips: list[RoundTrip], at: datetime) -> list[RoundTrip]:
    return [
        replace(
            trip,
            status=RESET,
            closed_at=at,
            holding_seconds=(at - trip.opened_at).total_seconds(),
        )
        if trip.status == OPEN
        else trip
        for trip in trips
    ]


async def load_stops(db: AsyncSession, portfolio_id: uuid.UUID) -> list[StopOrder]:
    rows = await db.scalars(
        sa.select(Order)
        .where(
            Order.portfolio_id == portfolio_id,
            Order.type.in_(STOP_TYPES),
            Order.stop_price.is_not(None),
        )
        .order_by(Order.created_at, Order.id)
    )
    stops = []
    for order in rows:
        ends = [
            t
            for t in (
                order.filled_at,
                order.canceled_at,
                order.expired_at,
                order.replaced_at,
                order.failed_at,
            )
            if t is not None
        ]
        assert order.stop_price is not None
        stops.append(
            StopOrder(
                order.stop_price,
                order.created_at,
                min(ends, default=None),
                order.symbol,
                order.side,
            )
        )
    return stops


def stops_alive(
    stops: list[StopOrder],
    *,
    symbol: str,
    direction: str,
    opened_at: datetime,
    closed_at: datetime | None,
    now: datetime,
) -> list[Decimal]:
    """The prices of the exit-side stop orders alive while a trip was open, oldest first.

    The first is the stop in force at the start (the initial risk); a replaced stop order
    adds its successor, so the list also shows how the stop moved.
    """
    exit_side = "sell" if direction == LONG else "buy"
    end = closed_at or now
    prices = []
    for stop in stops:
        if stop.symbol != symbol or stop.side != exit_side:
            continue
        if stop.created_at > end:
            break
        if stop.ended_at is None or stop.ended_at >= opened_at:
            prices.append(stop.price)
    return prices


def _stop_in_force(trip: RoundTrip, stops: list[StopOrder], now: datetime) -> Decimal | None:
    """The first exit-side stop order alive while the trip was open (its initial stop)."""
    alive = stops_alive(
        stops,
        symbol=trip.symbol,
        direction=trip.direction,
        opened_at=trip.opened_at,
        closed_at=trip.closed_at,
        now=now,
    )
    return alive[0] if alive else None


async def _decisions(db: AsyncSession, order_ids: list[str]) -> dict[str, uuid.UUID]:
    if not order_ids:
        return {}
    rows = await db.execute(
        sa.select(AIDecision.order_id, AIDecision.id).where(
            AIDecision.order_id.in_([uuid.UUID(o) for o in order_ids])
        )
    )
    return {str(order_id): decision_id for order_id, decision_id in rows}


@dataclass(frozen=True, slots=True)
class _Regimes:
    """The daily trend regime changes recorded per symbol, oldest first."""

    times: dict[str, list[datetime]]
    labels: dict[str, list[str]]

    def at(self, symbol: str, moment: datetime) -> str | None:
        """The regime recorded for ``symbol`` at ``moment`` (the last change at or before it)."""
        index = bisect_right(self.times.get(symbol, []), moment)
        return self.labels[symbol][index - 1] if index else None


async def _regimes(db: AsyncSession, symbols: set[str], until: datetime) -> _Regimes:
    times: dict[str, list[datetime]] = defaultdict(list)
    labels: dict[str, list[str]] = defaultdict(list)
    if symbols:
        rows = await db.execute(
            sa.select(RegimeChange.symbol, RegimeChange.time, RegimeChange.trend_regime)
            .where(
                RegimeChange.symbol.in_(sorted(symbols)),
                RegimeChange.timeframe == "1Day",
                RegimeChange.time <= until,
            )
            .order_by(RegimeChange.symbol, RegimeChange.time)
        )
        for symbol, time, label in rows:
            times[symbol].append(time)
            labels[symbol].append(label)
    return _Regimes(dict(times), dict(labels))


def _frame_for(trip: RoundTrip, end: datetime) -> tuple[str, timedelta]:
    """The bar length for the trip's excursions, and its duration."""
    span = end - trip.opened_at
    timeframe = next((tf for limit, tf in _EXCURSION_FRAMES if span <= limit), "1Day")
    return timeframe, market.parse_timeframe(timeframe).delta


async def _bars(container: Container, trip: RoundTrip, end: datetime) -> pd.DataFrame:
    """The bars from the one holding the first fill to the last starting before ``end``."""
    timeframe, step = _frame_for(trip, end)
    try:
        page = await market.history(
            container,
            symbol=trip.symbol,
            timeframe=timeframe,
            start=trip.opened_at - step,
            end=end,
            limit=market.MAX_LIMIT,
        )
    except AppError:
        # No bars for the span (a symbol the market no longer knows, or outside its coverage):
        # the trip's own fills still bound its excursions.
        return pd.DataFrame(columns=["high", "low"], index=pd.DatetimeIndex([], tz="UTC"))
    return page.bars


async def _fill_row(
    db: AsyncSession,
    container: Container,
    row: JournalEntry,
    trip: RoundTrip,
    *,
    stops: list[StopOrder],
    decisions: dict[str, uuid.UUID],
    regimes: _Regimes,
    now: datetime,
    force: bool,
) -> None:
    # A closed trip's excursions are final once the bar holding its last fill was complete
    # when they were computed; until then they are computed again.
    settled = (
        row.mae is not None
        and trip.closed_at is not None
        and row.closed_at == trip.closed_at
        and len(row.fills or []) == len(trip.fills)
        and row.built_at >= trip.closed_at + _frame_for(trip, trip.closed_at)[1]
    )
    row.symbol, row.direction, row.status = trip.symbol, trip.direction, trip.status
    row.opened_at, row.closed_at = trip.opened_at, trip.closed_at
    row.entry_qty, row.exit_qty, row.max_qty = trip.entry_qty, trip.exit_qty, trip.max_qty
    row.entry_price, row.exit_price = trip.entry_price, trip.exit_price
    row.gross_pl, row.fees, row.net_pl = trip.gross_pl, trip.fees, trip.net_pl
    row.return_pct, row.holding_seconds = trip.return_pct, trip.holding_seconds
    row.strategy = trip.strategy
    row.order_id = None if trip.first_order_id is None else uuid.UUID(trip.first_order_id)
    row.ai_decision_id = decisions.get(trip.first_order_id or "")
    row.fills = [
        {
            "fill_id": part.fill_id,
            "role": part.role,
            "qty": text(part.qty),
            "price": text(part.price),
            "fees": text(part.fees),
            "at": part.at.isoformat(),
        }
        for part in trip.fills
    ]
    order_stop = _stop_in_force(trip, stops, now)
    _set_stop(row, trip, order_stop)
    if force or not settled:
        row.regime = regimes.at(trip.symbol, trip.opened_at)
        end = trip.closed_at or now
        found = excursion(trip, await _bars(container, trip, end), now=end)
        row.built_at = now
        if found is not None:
            row.mae, row.mfe = found.mae, found.mfe
            row.mae_pct, row.mfe_pct = found.mae_pct, found.mfe_pct


def _set_stop(row: JournalEntry, trip: RoundTrip, order_stop: Decimal | None) -> None:
    if order_stop is not None:
        row.stop_price, row.stop_source = order_stop, "order"
    elif row.planned_stop is not None:
        row.stop_price, row.stop_source = row.planned_stop, "planned"
    else:
        row.stop_price, row.stop_source = None, None
    row.r_multiple = r_multiple(trip, row.stop_price)


# --------------------------------------------------------------------------- reading


def _filters(
    portfolio_id: uuid.UUID,
    *,
    symbol: str | None,
    status: str | None,
    setup: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    where: list[Any] = [JournalEntry.portfolio_id == portfolio_id]
    if symbol is not None:
        where.append(JournalEntry.symbol == symbol)
    if status is not None:
        where.append(JournalEntry.status == status)
    if setup is not None:
        where.append(sa.func.lower(JournalEntry.setup) == setup.lower())
    if since is not None:
        where.append(JournalEntry.opened_at >= since)
    if until is not None:
        where.append(JournalEntry.opened_at < until)
    return where


async def list_entries(
    db: AsyncSession,
    *,
    container: Container,
    portfolio: Portfolio,
    symbol: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    setup: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[JournalEntry], int]:
    """Return one page of the portfolio's entries, newest opened first, and the total count."""
    await sync(db, container=container, portfolio=portfolio)
    where = _filters(
        portfolio.id, symbol=symbol, status=status, setup=setup, since=since, until=until
    )
    order = (JournalEntry.opened_at.desc(), JournalEntry.key)
    if tag is None:
        total = await db.scalar(sa.select(sa.func.count()).select_from(JournalEntry).where(*where))
        rows = await db.scalars(
            sa.select(JournalEntry).where(*where).order_by(*order).limit(limit).offset(offset)
        )
        return list(rows), int(total or 0)
    # Tags live in a JSON list: filter them here, the same on every database.
    wanted = tag.strip().lower()
    tagged = [
        row
        for row in await db.scalars(sa.select(JournalEntry).where(*where).order_by(*order))
        if wanted in (t.lower() for t in row.tags or [])
    ]
    return tagged[offset : offset + limit], len(tagged)


async def get_entry(
    db: AsyncSession, *, container: Container, user_id: uuid.UUID, entry_id: uuid.UUID
) -> JournalEntry:
    """Return one of the user's entries, brought up to date; another user's answers 404."""
    portfolio = await db.scalar(
        sa.select(Portfolio)
        .join(JournalEntry, JournalEntry.portfolio_id == Portfolio.id)
        .where(JournalEntry.id == entry_id, Portfolio.user_id == user_id)
    )
    if portfolio is None:
        raise NotFound("Journal entry not found.", code="journal_entry_not_found")
    await sync(db, container=container, portfolio=portfolio)
    row = await db.get(JournalEntry, entry_id, populate_existing=True)
    if row is None:
        raise NotFound("Journal entry not found.", code="journal_entry_not_found")
    return row


# --------------------------------------------------------------------------- what the trader adds


def _first_entry_price(row: JournalEntry) -> Decimal:
    first = next(part for part in row.fills if part["role"] == "entry")
    return Decimal(first["price"])


def _check_plan(row: JournalEntry, stop: Decimal | None, target: Decimal | None) -> None:
    entry = _first_entry_price(row)
    long = row.direction == LONG
    if stop is not None and (stop >= entry if long else stop <= entry):
        raise Unprocessable(
            f"A {row.direction}'s planned stop must be {'below' if long else 'above'} its first "
            f"entry price ({text(entry)}).",
            code="stop_on_wrong_side",
            details={"planned_stop": text(stop), "entry_price": text(entry)},
        )
    if target is not None and (target <= entry if long else target >= entry):
        raise Unprocessable(
            f"A {row.direction}'s planned target must be {'above' if long else 'below'} its "
            f"first entry price ({text(entry)}).",
            code="target_on_wrong_side",
            details={"planned_target": text(target), "entry_price": text(entry)},
        )


def _check_emotions(values: dict[str, Any], row: JournalEntry) -> None:
    for moment in ("before", "after"):
        emotion = values.get(f"emotion_{moment}", getattr(row, f"emotion_{moment}"))
        intensity = values.get(
            f"emotion_{moment}_intensity", getattr(row, f"emotion_{moment}_intensity")
        )
        if intensity is not None and emotion is None:
            raise Unprocessable(
                f"emotion_{moment}_intensity needs an emotion_{moment}.",
                code="intensity_without_emotion",
            )


async def annotate(
    db: AsyncSession,
    *,
    container: Container,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    values: dict[str, Any],
) -> JournalEntry:
    """Set the trader's fields given in ``values`` (None clears one); return the entry.

    The planned stop and target must sit on the loss and profit side of the first entry price;
    a planned stop becomes the entry's stop for its R-multiple when no stop order was in force.
    """
    row = await get_entry(db, container=container, user_id=user_id, entry_id=entry_id)
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise Unprocessable(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    _check_emotions(values, row)
    _check_plan(
        row,
        values.get("planned_stop", row.planned_stop),
        values.get("planned_target", row.planned_target),
    )
    if "tags" in values:
        values = {**values, "tags": _clean_tags(values["tags"] or [])}
    for name, value in values.items():
        setattr(row, name, value)
    if row.stop_source != "order":
        trip = _trip_of(row)
        _set_stop(row, trip, None)
    row.updated_at = container.clock.now()
    await db.commit()
    return row


def _clean_tags(tags: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in tags:
        tag = tag.strip()
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


def _trip_of(row: JournalEntry) -> RoundTrip:
    """The stored entry as a round trip, for the R-multiple (its fills and net P&L suffice)."""
    fills = tuple(
        TripFill(
            fill_id=part["fill_id"],
            role=part["role"],
            qty=Decimal(part["qty"]),
            price=Decimal(part["price"]),
            fees=Decimal(part["fees"]),
            at=datetime.fromisoformat(part["at"]),
        )
        for part in row.fills
    )
    return RoundTrip(
        symbol=row.symbol,
        direction=row.direction,
        status=row.status,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        entry_qty=row.entry_qty,
        exit_qty=row.exit_qty,
        max_qty=row.max_qty,
        entry_price=row.entry_price,
        exit_price=row.exit_price,
        gross_pl=row.gross_pl,
        fees=row.fees,
        net_pl=row.net_pl,
        return_pct=row.return_pct,
        holding_seconds=row.holding_seconds,
        fills=fills,
        first_order_id=None if row.order_id is None else str(row.order_id),
        strategy=row.strategy,
        key=row.key,
    )


# --------------------------------------------------------------------------- views


def view(row: JournalEntry) -> dict[str, Any]:
    """The entry as the API sends it: money and quantities as decimal strings."""
    return {
        "id": str(row.id),
        "portfolio_id": str(row.portfolio_id),
        "key": row.key,
        "symbol": row.symbol,
        "direction": row.direction,
        "status": row.status,
        "opened_at": _iso(row.opened_at),
        "closed_at": _iso(row.closed_at),
        "entry_qty": text(row.entry_qty),
        "exit_qty": text(row.exit_qty),
        "max_qty": text(row.max_qty),
        "entry_price": text(row.entry_price),
        "exit_price": text(row.exit_price),
        "gross_pl": text(row.gross_pl),
        "fees": text(row.fees),
        "net_pl": text(row.net_pl),
        "return_pct": row.return_pct,
        "holding_seconds": row.holding_seconds,
        "stop_price": text(row.stop_price),
        "stop_source": row.stop_source,
        "r_multiple": row.r_multiple,
        "mae": text(row.mae),
        "mfe": text(row.mfe),
        "mae_pct": row.mae_pct,
        "mfe_pct": row.mfe_pct,
        "strategy": row.strategy,
        "order_id": None if row.order_id is None else str(row.order_id),
        "ai_decision_id": None if row.ai_decision_id is None else str(row.ai_decision_id),
        "regime": row.regime,
        "fills": row.fills,
        "notes": row.notes,
        "tags": list(row.tags or []),
        "setup": row.setup,
        "emotion_before": row.emotion_before,
        "emotion_before_intensity": row.emotion_before_intensity,
        "emotion_after": row.emotion_after,
        "emotion_after_intensity": row.emotion_after_intensity,
        "rating": row.rating,
        "planned_stop": text(row.planned_stop),
        "planned_target": text(row.planned_target),
        "updated_at": _iso(row.updated_at),
    }


def to_csv(rows: list[JournalEntry]) -> str:
    """The entries as CSV, one row each, tags joined by ``;``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        record = view(row)
        record["tags"] = ";".join(record["tags"])
        writer.writerow({name: record[name] for name in CSV_COLUMNS})
    return out.getvalue()
