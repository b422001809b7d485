"""The cash and position ledger: what one fill does to an account, and the account's figures.

Every amount is a ``Decimal``. A fill's cash amount is rounded to the cent (half to even), as
a brokerage statement books it; average entry prices and realised P&L keep 10 decimals, the
scale of the database columns, so replaying the fills reproduces the stored state exactly.

Buying power follows Alpaca's rules, which reduce to one formula for every multiplier ``m``:
``buying_power = max(0, m * equity - (long_market_value + |short_market_value|))``. With
``m = 1`` (a cash account, no shorts) that is the cash; with ``m = 2`` it is twice the
equity above the 50 % Reg T initial margin; with ``m = 4``, four times the equity above the
25 % intraday margin. Open orders reserve what they would spend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side

ZERO = Decimal(0)
CENT = Decimal("0.01")
SCALE = Decimal("1e-10")
LONG_MAINTENANCE = Decimal("0.25")
SHORT_MAINTENANCE = Decimal("0.30")
MULTIPLIERS = (1, 2, 4)


def cents(amount: Decimal) -> Decimal:
    """Round an amount of money to the cent, half to even."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _scaled(amount: Decimal) -> Decimal:
    return amount.quantize(SCALE, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Holding:
    """A position: signed quantity (negative = short) and average entry price."""

    qty: Decimal = ZERO
    avg_entry_price: Decimal = ZERO

    @property
    def side(self) -> str:
        return "short" if self.qty < ZERO else "long"

    @property
    def cost_basis(self) -> Decimal:
        return _scaled(abs(self.qty) * self.avg_entry_price)


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What a fill does: the holding after it, the realised P&L and the change in cash."""

    holding: Holding
    realized_pl: Decimal
    cash_delta: Decimal
    gross: Decimal  # qty * price, to the cent


def apply_fill(
    holding: Holding, side: Side, qty: Decimal, price: Decimal, fees: Decimal
) -> FillEffect:
    """Return the effect of filling ``qty`` at ``price`` on ``holding``.

    A buy covers a short first and goes long with the rest; a sell closes a long first and
    goes short with the rest. Closing realises ``(exit - entry) * qty`` for a long and the
    mirror for a short; fees are not part of realised P&L, they reduce cash.
    """
    finite = all(amount.is_finite() for amount in (qty, price, fees))
    if not finite or qty <= ZERO or price <= ZERO or fees < ZERO:
        raise InvalidInput("a fill needs qty > 0, price > 0 and fees >= 0", code="invalid_fill")
    signed = qty if side is Side.BUY else -qty
    old = holding.qty
    gross = cents(qty * price)
    cash_delta = -gross - fees if side is Side.BUY else gross - fees
    closing = ZERO
    if old != ZERO and (old > ZERO) != (signed > ZERO):
        closing = min(abs(old), qty)
    realized = ZERO
    if closing:
        per_share = (
            price - holding.avg_entry_price if old > ZERO else holding.avg_entry_price - price
        )
        realized = _scaled(per_share * closing)
    new_qty = old + signed
    if new_qty == ZERO:
        avg = ZERO
    elif closing and abs(signed) <= abs(old):
        avg = holding.avg_entry_price  # reduced, same direction: the entry price stands
    elif closing:
        avg = price  # flipped: the remainder opened at this price
    else:
        avg = _scaled((abs(old) * holding.avg_entry_price + qty * price) / abs(new_qty))
    return FillEffect(Holding(new_qty, avg), realized, cash_delta, gross)


def exposure_increase(holding_qty: Decimal, side: Side, qty: Decimal) -> Decimal:
    """Return how much of an order opens or adds to a position (the rest closes one)."""
    if side is Side.BUY:
        return max(qty - max(-holding_qty, ZERO), ZERO)
    return max(qty - max(holding_qty, ZERO), ZERO)


@dataclass(frozen=True, slots=True)
class AccountFigures:
    """An account's figures with Alpaca's names."""

    cash: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    equity: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    buying_power: Decimal
    reserved: Decimal
    multiplier: int


def account_figures(
    cash: Decimal,
    positions: Iterable[tuple[Decimal, Decimal]],
    *,
    multiplier: int,
    reserved: Decimal = ZERO,
) -> AccountFigures:
    """Return the figures of an account holding ``(qty, price)`` positions and ``cash``.

    ``reserved`` is what open orders would spend; it comes off the buying power.
    """
    if multiplier not in MULTIPLIERS:
        raise InvalidInput("margin multiplier must be 1, 2 or 4", code="invalid_multiplier")
    long_value = short_value = ZERO
    for qty, price in positions:
        value = qty * price
        if value >= ZERO:
            long_value += value
        else:
            short_value += value
    long_value, short_value = cents(long_value), cents(short_value)
    equity = cash + long_value + short_value
    gross = long_value - short_value
    margin = multiplier > 1
    initial = cents(gross / multiplier) if margin else ZERO
    maintenance = (
        cents(long_value * LONG_MAINTENANCE - short_value * SHORT_MAINTENANCE) if margin else ZERO
    )
    power = max(equity * multiplier - gross - reserved, ZERO)
    if not margin:
        power = max(min(power, cash - reserved), ZERO)
    return AccountFigures(
        cash=cash,
        long_market_value=long_value,
        short_market_value=short_value,
        equity=equity,
        initial_margin=initial,
        maintenance_margin=maintenance,
        buying_power=cents(power),
        reserved=reserved,
        multiplier=multiplier,
    )


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One journal line as stored: a cash movement, with a fill's details when it is one."""

    cash_delta: Decimal
    symbol: str | None = None
    side: Side | None = None
    qty: Decimal = ZERO
    price: Decimal = ZERO
    fees: Decimal = ZERO
    realized_pl: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class LedgerState:
    cash: Decimal
    holdings: dict[str, Holding]
    realized_pl: Decimal


def replay(lines: Iterable[LedgerLine]) -> LedgerState:
    """Rebuild cash, holdings and realised P&L from the journal, checking each fill line.

    A fill line whose stored cash or P&L differs from what :func:`apply_fill` gives means the
    journal and the rules disagree; that raises instead of being silently re-derived.
    """
    cash = ZERO
    realized = ZERO
    holdings: dict[str, Holding] = {}
    for line in lines:
        if line.symbol is not None and line.side is not None:
            effect = apply_fill(
                holdings.get(line.symbol, Holding()), line.side, line.qty, line.price, line.fees
            )
            if (effect.cash_delta, effect.realized_pl) != (line.cash_delta, line.realized_pl):
                raise InvalidInput(
                    f"ledger line for {line.symbol} does not follow the fill rules",
                    code="ledger_mismatch",
                )
            holdings[line.symbol] = effect.holding
            realized += effect.realized_pl
        cash += line.cash_delta
    return LedgerState(cash, {s: h for s, h in holdings.items() if h.qty != ZERO}, realized)
