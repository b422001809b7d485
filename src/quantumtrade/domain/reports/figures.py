"""A portfolio's day from its ledger: holdings at a moment, equity, P&L and each trade's share.

Money stays ``Decimal`` (the ledger is exact); only the intraday curve is float64. The day runs
from the previous session's close (exclusive) to this session's close (inclusive), so the days
chain: one day's closing equity is the next day's opening equity.

The day's P&L splits exactly into what the positions held at the previous close made
(``holding_pl``) and what each fill made up to the close (its cash plus its quantity at the
closing price): ``pl = holding_pl + sum(trade_pl)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.trading.performance import LedgerEvent

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Holdings:
    """Cash and the signed quantity of each symbol held."""

    cash: Decimal
    qty: dict[str, Decimal] = field(default_factory=dict)


def holdings_at(events: Sequence[LedgerEvent], start_cash: Decimal, until: datetime) -> Holdings:
    """Return the holdings after every event at or before ``until`` (events in ledger order)."""
    cash = start_cash
    qty: dict[str, Decimal] = {}
    for event in events:
        if event.at > until:
            continue
        cash += event.cash_delta
        if event.symbol is not None and event.qty_delta != ZERO:
            qty[event.symbol] = qty.get(event.symbol, ZERO) + event.qty_delta
    return Holdings(cash, {s: q for s, q in sorted(qty.items()) if q != ZERO})


def valuation(holdings: Holdings, prices: Mapping[str, Decimal]) -> Decimal:
    """Return cash plus every position at ``prices``; a held symbol without a price raises."""
    missing = sorted(s for s in holdings.qty if s not in prices)
    if missing:
        raise InvalidInput(
            f"no price for held symbol(s) {', '.join(missing)}",
            code="unpriced_position",
            details={"symbols": missing},
        )
    return holdings.cash + sum((q * prices[s] for s, q in holdings.qty.items()), ZERO)


def average_costs(fills: Sequence[tuple[str, Decimal, Decimal]]) -> dict[str, Decimal]:
    """Return the average entry price of each open position from ``(symbol, qty_delta, price)``.

    Adding to a position averages its price in; reducing keeps it; going through zero starts
    the other side at the fill's price.
    """
    qty: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    for symbol, delta, price in fills:
        held = qty.get(symbol, ZERO)
        after = held + delta
        if held == ZERO or (held > 0) == (delta > 0):
            total = abs(held) + abs(delta)
            cost[symbol] = (cost.get(symbol, ZERO) * abs(held) + price * abs(delta)) / total
        elif after != ZERO and (after > 0) != (held > 0):
            cost[symbol] = price
        qty[symbol] = after
        if after == ZERO:
            cost.pop(symbol, None)
    return {s: c for s, c in sorted(cost.items()) if qty.get(s, ZERO) != ZERO}


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The day's equity change and its parts (all exact)."""

    equity_start: Decimal
    equity_end: Decimal
    net_flow: Decimal  # deposits during the day: money moved, not performance
    pl: Decimal
    holding_pl: Decimal
    trade_pl: tuple[Decimal, ...]  # one per fill of the day, in ledger order
    start: Holdings
    end: Holdings

    @property
    def base(self) -> Decimal:
        """The money the day's return is measured on: the opening equity plus the day's flow."""
        return self.equity_start + self.net_flow


def day_figures(
    start: Holdings,
    day_events: Sequence[LedgerEvent],
    start_prices: Mapping[str, Decimal],
    end_prices: Mapping[str, Decimal],
) -> DayFigures:
    """Return the figures of a day that opens with ``start`` and books ``day_events``."""
    cash = start.cash
    qty = dict(start.qty)
    flow = ZERO
    trade_pl: list[Decimal] = []
    for event in day_events:
        cash += event.cash_delta
        if event.symbol is None:
            flow += event.cash_delta
            continue
        qty[event.symbol] = qty.get(event.symbol, ZERO) + event.qty_delta
        if event.qty_delta != ZERO:
            price = _price(end_prices, event.symbol)
            trade_pl.append(event.cash_delta + event.qty_delta * price)
    end = Holdings(cash, {s: q for s, q in sorted(qty.items()) if q != ZERO})
    equity_start = valuation(start, start_prices)
    equity_end = valuation(end, end_prices)
    holding = sum(
        (q * (_price(end_prices, s) - _price(start_prices, s)) for s, q in start.qty.items()),
        ZERO,
    )
    return DayFigures(
        equity_start=equity_start,
        equity_end=equity_end,
        net_flow=flow,
        pl=equity_end - equity_start - flow,
        holding_pl=holding,
        trade_pl=tuple(trade_pl),
        start=start,
        end=end,
    )


def _price(prices: Mapping[str, Decimal], symbol: str) -> Decimal:
    try:
        return prices[symbol]
    except KeyError:
        raise InvalidInput(
            f"no price for {symbol}", code="unpriced_position", details={"symbols": [symbol]}
        ) from None


def equity_path(
    start: Holdings,
    day_events: Sequence[LedgerEvent],
    times: Sequence[datetime],
    prices: Mapping[str, Sequence[float]],
) -> list[float]:
    """Return the equity at each of ``times`` (ascending), with ``prices[symbol][i]`` at time i.

    A fill counts from its own time on; a symbol held without a price at a time raises.
    """
    ordered = sorted(day_events, key=lambda e: e.at)
    cash = float(start.cash)
    qty = {s: float(q) for s, q in start.qty.items()}
    out: list[float] = []
    k = 0
    for i, moment in enumerate(times):
        while k < len(ordered) and ordered[k].at <= moment:
            event = ordered[k]
            cash += float(event.cash_delta)
            if event.symbol is not None:
                qty[event.symbol] = qty.get(event.symbol, 0.0) + float(event.qty_delta)
            k += 1
        value = cash
        for symbol, held in qty.items():
            if held == 0.0:
                continue
            series = prices.get(symbol)
            if series is None:
                raise InvalidInput(
                    f"no intraday price for {symbol}",
                    code="unpriced_position",
                    details={"symbols": [symbol]},
                )
            value += held * float(series[i])
        out.append(value)
    return out
