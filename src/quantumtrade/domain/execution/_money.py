"""Order side and the price/quantity grids fills are booked on.

US equities quote in whole cents at or above $1 and in 1/100 of a cent below it (Reg NMS
Rule 612), so fill prices live on that grid. Quantities may be fractional down to 1e-9.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from quantumtrade.domain.errors import InvalidInput

CENT = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
QTY_STEP = Decimal("0.000000001")
ONE = Decimal(1)
ZERO = Decimal(0)


class Side(StrEnum):
    """Order side, spelled as Alpaca spells it."""

    BUY = "buy"
    SELL = "sell"


def to_decimal(value: Decimal | float | int | str) -> Decimal:
    """Convert a number to ``Decimal`` through its shortest repr, so 10.01 stays 10.01."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def tick_size(price: Decimal) -> Decimal:
    """Return the minimum price increment for ``price``."""
    return CENT if price >= ONE else SUB_PENNY


def quantize_price(price: Decimal, side: Side | None = None) -> Decimal:
    """Round ``price`` onto the tick grid.

    With a side, round against the trader (a buy up, a sell down) so that rounding never
    improves a simulated fill; without one, round half to even.
    """
    if price <= ZERO:
        raise InvalidInput(f"price must be positive, got {price}", code="invalid_price")
    rounding = {None: ROUND_HALF_EVEN, Side.BUY: ROUND_CEILING, Side.SELL: ROUND_FLOOR}[side]
    quantized = price.quantize(tick_size(price), rounding=rounding)
    # Rounding up across $1 from below lands on 1.0000, which is also on the cent grid;
    # normalise the exponent so equal prices print the same.
    if quantized >= ONE:
        quantized = quantized.quantize(CENT, rounding=rounding)
    if quantized <= ZERO:
        # A sell rounded below the smallest tick still trades at that tick.
        quantized = SUB_PENNY
    return quantized


def quantize_qty(qty: Decimal) -> Decimal:
    """Truncate a quantity to 1e-9 (never round a fill up beyond what is available)."""
    return qty.quantize(QTY_STEP, rounding=ROUND_FLOOR)


def round_up_cent(amount: Decimal) -> Decimal:
    """Round a fee up to the next cent."""
    return amount.quantize(CENT, rounding=ROUND_CEILING)
