"""Auditing a portfolio: replay its journal and compare the result with what is stored.

The journal (``ledger_entries``, ordered by ``seq``) is the record; the portfolio's cash and
realised P&L, its positions and its trades are derived from it. :func:`audit_portfolio`
replays the journal with the domain rules (:func:`~quantumtrade.domain.trading.ledger.replay`)
and lists every disagreement it finds:

- ``seq`` runs 1, 2, ... without gaps and ends at the portfolio's ``ledger_seq``;
- every line's ``cash_after`` is the running sum of the ``cash_delta`` so far, and a reset
  brings the cash back to the starting cash;
- every fill line follows the fill rules (its cash delta and realised P&L);
- every fill line has its ``trades`` row (same id, symbol, side, qty, price, fees and
  realised P&L), and every trade of the portfolio has its fill line;
- the replayed cash, realised P&L and positions (qty, average entry price, cost basis) are
  the stored ones.

A reset line ends a segment: holdings and realised P&L start again from nothing, and its
cash delta is added to the cash carried over. :func:`replay` knows no resets, so each segment
is replayed on its own, opened by one line that carries the cash in.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, Portfolio, Position, Trade
from quantumtrade.domain.errors import InvalidInput, NotFound
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.ledger import (
    Holding,
    LedgerLine,
    LedgerState,
    apply_fill,
    replay,
)

ZERO = Decimal(0)
KINDS = ("deposit", "fill", "reset")


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What the journal says the portfolio holds, and where the stored state disagrees."""

    ok: bool
    problems: list[str]
    cash: Decimal  # replayed from the journal
    positions: dict[str, Decimal]  # replayed open quantities by symbol
    entries: int  # journal lines read
    realized_pl: Decimal = ZERO  # replayed, since the last reset
    holdings: dict[str, Holding] = field(default_factory=dict)  # replayed, with avg prices


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "None"
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _line(entry: LedgerEntry, problems: list[str]) -> LedgerLine:
    """Return the domain line of a journal entry (a fill only when its fields say so)."""
    if entry.kind != "fill":
        fill_fields = (entry.qty, entry.price, entry.fees, entry.realized_pl)
        if entry.symbol is not None or entry.side is not None or any(fill_fields):
            problems.append(f"seq {entry.seq}: a {entry.kind} line carries fill details")
        return LedgerLine(entry.cash_delta)
    if entry.side not in (Side.BUY.value, Side.SELL.value):
        problems.append(f"seq {entry.seq}: fill line with side {entry.side!r}")
        return LedgerLine(entry.cash_delta)
    side = Side(entry.side)
    if entry.symbol is None:
        problems.append(f"seq {entry.seq}: fill line without a symbol")
        return LedgerLine(entry.cash_delta)
    return LedgerLine(
        cash_delta=entry.cash_delta,
        symbol=entry.symbol,
        side=side,
        qty=entry.qty,
        price=entry.price,
        fees=entry.fees,
        realized_pl=entry.realized_pl,
    )


def _diagnose(
    opening_cash: Decimal,
    entries: Sequence[LedgerEntry],
    lines: Sequence[LedgerLine],
    problems: list[str],
) -> LedgerState:
    """Name the lines :func:`replay` refused, and rebuild the state the rules give."""
    cash, realized = opening_cash, ZERO
    holdings: dict[str, Holding] = {}
    for entry, line in zip(entries, lines, strict=True):
        cash += line.cash_delta
        if line.symbol is None or line.side is None:
            continue
        before = holdings.get(line.symbol, Holding())
        try:
            effect = apply_fill(before, line.side, line.qty, line.price, line.fees)
        except InvalidInput as exc:
            problems.append(f"seq {entry.seq}: fill line refused by the fill rules: {exc}")
            continue
        if effect.cash_delta != line.cash_delta or effect.realized_pl != line.realized_pl:
            problems.append(
                f"seq {entry.seq}: {line.side.value} {_fmt(line.qty)} {line.symbol} at "
                f"{_fmt(line.price)} should book cash {_fmt(effect.cash_delta)} and realised "
                f"P&L {_fmt(effect.realized_pl)}; the line has {_fmt(line.cash_delta)} and "
                f"{_fmt(line.realized_pl)}"
            )
        holdings[line.symbol] = effect.holding
        realized += effect.realized_pl
    return LedgerState(cash, {s: h for s, h in holdings.items() if h.qty != ZERO}, realized)


def _replay_segment(
    opening_cash: Decimal, entries: Sequence[LedgerEntry], problems: list[str]
) -> LedgerState:
    """Replay the lines after a reset (or from the start) on top of ``opening_cash``."""
    lines = [_line(entry, problems) for entry in entries]
    try:
        return replay([LedgerLine(opening_cash), *lines])
    except InvalidInput:
        return _diagnose(opening_cash, entries, lines, problems)


def _check_sequence(
    portfolio: Portfolio, entries: Sequence[LedgerEntry], problems: list[str]
) -> None:
    running = ZERO
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            problems.append(f"journal seq {entry.seq} found where {expected} was expected")
            break
    for entry in entries:
        if entry.kind not in KINDS:
            problems.append(f"seq {entry.seq}: unknown kind {entry.kind!r}")
        running += entry.cash_delta
        if entry.cash_after != running:
            problems.append(
                f"seq {entry.seq}: cash_after {_fmt(entry.cash_after)} but the running cash "
                f"is {_fmt(running)}"
            )
            running = entry.cash_after  # report each break once, not every line after it
        if entry.kind == "reset" and entry.cash_after != portfolio.starting_cash:
            problems.append(
                f"seq {entry.seq}: a reset left cash at {_fmt(entry.cash_after)}, the starting "
                f"cash is {_fmt(portfolio.starting_cash)}"
            )
    last = entries[-1].seq if entries else 0
    if portfolio.ledger_seq != last:
        problems.append(f"portfolio ledger_seq is {portfolio.ledger_seq}, the last line is {last}")


async def _check_trades(
    db: AsyncSession, portfolio_id: uuid.UUID, entries: Sequence[LedgerEntry], problems: list[str]
) -> None:
    rows = await db.scalars(
        sa.select(Trade)
        .where(Trade.portfolio_id == portfolio_id)
        .execution_options(populate_existing=True)
    )
    trades = {trade.id: trade for trade in rows}
    seen: set[uuid.UUID] = set()
    for entry in entries:
        if entry.kind != "fill":
            continue
        if entry.trade_id is None:
            problems.append(f"seq {entry.seq}: fill line without a trade_id")
            continue
        trade = trades.get(entry.trade_id)
        if trade is None:
            problems.append(f"seq {entry.seq}: trade {entry.trade_id} is missing")
            continue
        seen.add(trade.id)
        stored = (trade.symbol, trade.side, trade.qty, trade.price)
        journal = (entry.symbol, entry.side, entry.qty, entry.price)
        if stored != journal:
            problems.append(
                f"seq {entry.seq}: trade {trade.id} is {trade.side} {_fmt(trade.qty)} "
                f"{trade.symbol} at {_fmt(trade.price)}; the journal has {entry.side} "
                f"{_fmt(entry.qty)} {entry.symbol} at {_fmt(entry.price)}"
            )
        if trade.commission + trade.fees != entry.fees:
            problems.append(
                f"seq {entry.seq}: trade {trade.id} charged "
                f"{_fmt(trade.commission + trade.fees)} in fees; the journal has {_fmt(entry.fees)}"
            )
        if trade.realized_pl != entry.realized_pl:
            problems.append(
                f"seq {entry.seq}: trade {trade.id} realised {_fmt(trade.realized_pl)}; "
                f"the journal has {_fmt(entry.realized_pl)}"
            )
    for trade_id in sorted(set(trades) - seen, key=str):
        problems.append(f"trade {trade_id} has no fill line in the journal")


def _check_positions(
    stored: dict[str, Position], replayed: dict[str, Holding], problems: list[str]
) -> None:
    for symbol in sorted(set(stored) | set(replayed)):
        position, holding = stored.get(symbol), replayed.get(symbol)
        if position is None:
            assert holding is not None
            problems.append(
                f"position {symbol}: the journal holds {_fmt(holding.qty)}, nothing is stored"
            )
            continue
        if holding is None:
            problems.append(
                f"position {symbol}: {_fmt(position.qty)} is stored, the journal holds nothing"
            )
            continue
        for name, have, want in (
            ("qty", position.qty, holding.qty),
            ("avg_entry_price", position.avg_entry_price, holding.avg_entry_price),
            ("cost_basis", position.cost_basis, holding.cost_basis),
        ):
            if have != want:
                problems.append(
                    f"position {symbol}: {name} is {_fmt(have)}, the journal gives {_fmt(want)}"
                )


async def audit_portfolio(db: AsyncSession, portfolio_id: uuid.UUID) -> AuditReport:
    """Replay the portfolio's journal and report where the stored state disagrees with it.

    Reads under a share lock on the portfolio row (PostgreSQL): every booking locks that row
    first, so nothing is booked between the reads. The caller ends the transaction.
    """
    portfolio = await db.scalar(
        sa.select(Portfolio)
        .where(Portfolio.id == portfolio_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if portfolio is None:
        raise NotFound("Portfolio not found.", code="portfolio_not_found")
    entries = list(
        await db.scalars(
            sa.select(LedgerEntry)
            .where(LedgerEntry.portfolio_id == portfolio_id)
            .order_by(LedgerEntry.seq)
            .execution_options(populate_existing=True)
        )
    )
    positions = {
        row.symbol: row
        for row in await db.scalars(
            sa.select(Position)
            .where(Position.portfolio_id == portfolio_id)
            .execution_options(populate_existing=True)
        )
    }
    problems: list[str] = []
    _check_sequence(portfolio, entries, problems)

    state = LedgerState(ZERO, {}, ZERO)
    segment: list[LedgerEntry] = []
    for entry in entries:
        if entry.kind == "reset":
            cash = _replay_segment(state.cash, segment, problems).cash
            state = LedgerState(cash + entry.cash_delta, {}, ZERO)
            segment = []
        else:
            segment.append(entry)
    state = _replay_segment(state.cash, segment, problems)

    await _check_trades(db, portfolio_id, entries, problems)
    if portfolio.cash != state.cash:
        problems.append(
            f"portfolio cash is {_fmt(portfolio.cash)}, the journal gives {_fmt(state.cash)}"
        )
    if portfolio.realized_pl != state.realized_pl:
        problems.append(
            f"portfolio realized_pl is {_fmt(portfolio.realized_pl)}, the journal gives "
            f"{_fmt(state.realized_pl)}"
        )
    _check_positions(positions, state.holdings, problems)
    return AuditReport(
        ok=not problems,
        problems=problems,
        cash=state.cash,
        positions={symbol: h.qty for symbol, h in sorted(state.holdings.items())},
        entries=len(entries),
        realized_pl=state.realized_pl,
        holdings=dict(sorted(state.holdings.items())),
    )
