"""Slippage models: how far a fill lands beyond its reference price.

Every model moves the price against the trader (a buy up, a sell down) and never in the
trader's favour. Models return the full-precision price; callers put it on the tick grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution._money import ZERO, Side, to_decimal
from quantumtrade.domain.market import Quote

BPS = Decimal("0.0001")


class SlippageModel(Protocol):
    def price(
        self,
        side: Side,
        reference_price: Decimal,
        qty: Decimal,
        *,
        quote: Quote | None,
        bar_volume: float | None,
    ) -> Decimal:
        """Return ``reference_price`` moved adversely for an order of ``qty``."""
        ...


def _adverse(side: Side, reference_price: Decimal, adjustment: Decimal) -> Decimal:
    return reference_price + adjustment if side is Side.BUY else reference_price - adjustment


def _non_negative(name: str, value: Decimal) -> None:
    if value < ZERO:
        raise InvalidInput(f"{name} must not be negative, got {value}", code="invalid_slippage")


@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fill exactly at the reference price."""

    def price(
        self,
        side: Side,
        reference_price: Decimal,
        qty: Decimal,
        *,
        quote: Quote | None = None,
        bar_volume: float | None = None,
    ) -> Decimal:
        return reference_price


@dataclass(frozen=True, slots=True)
class FixedBps:
    """Move the price by a fixed number of basis points of the reference price."""

    bps: Decimal

    def __post_init__(self) -> None:
        _non_negative("bps", self.bps)

    def price(
        self,
        side: Side,
        reference_price: Decimal,
        qty: Decimal,
        *,
        quote: Quote | None = None,
        bar_volume: float | None = None,
    ) -> Decimal:
        return _adverse(side, reference_price, reference_price * self.bps * BPS)


@dataclass(frozen=True, slots=True)
class SpreadSlippage:
    """Move the price by a fraction of the quoted spread beyond the reference price.

    The reference for a market order is already the touch (ask for a buy, bid for a sell), so
    ``fraction_of_spread=0.5`` fills half a spread beyond the touch, and ``0`` at the touch.
    A quote is required.
    """

    fraction_of_spread: Decimal

    def __post_init__(self) -> None:
        _non_negative("fraction_of_spread", self.fraction_of_spread)

    def price(
        self,
        side: Side,
        reference_price: Decimal,
        qty: Decimal,
        *,
        quote: Quote | None = None,
        bar_volume: float | None = None,
    ) -> Decimal:
        if quote is None:
            raise InvalidInput("spread slippage needs a quote", code="quote_required")
        # A crossed or locked book has no spread to pay; never turn it into price improvement.
        spread = max(to_decimal(quote.ask_price) - to_decimal(quote.bid_price), ZERO)
        return _adverse(side, reference_price, spread * self.fraction_of_spread)


@dataclass(frozen=True, slots=True)
class SquareRootImpact:
    """Square-root market impact (Grinold & Kahn 2000; Almgren et al. 2005).

    ``impact = coefficient * daily_volatility * sqrt(qty / volume)`` as a fraction of the
    reference price, where ``volume`` is ``average_daily_volume`` when given, else the bar's
    volume. ``daily_volatility`` is the daily standard deviation of returns (0.02 = 2 %).
    ``max_impact`` caps the fraction so a tiny-volume bar cannot produce an absurd price.
    """

    coefficient: Decimal
    daily_volatility: Decimal
    average_daily_volume: Decimal | None = None
    max_impact: Decimal = Decimal("0.1")

    def __post_init__(self) -> None:
        _non_negative("coefficient", self.coefficient)
        _non_negative("daily_volatility", self.daily_volatility)
        _non_negative("max_impact", self.max_impact)

    def impact(self, qty: Decimal, bar_volume: float | None) -> Decimal:
        """Return the impact as a fraction of price for ``qty`` against the volume in use."""
        volume = self.average_daily_volume
        if volume is None and bar_volume is not None:
            volume = to_decimal(bar_volume)
        if volume is None or volume <= ZERO:
            raise InvalidInput("square-root impact needs a positive volume", code="volume_required")
        fraction = self.coefficient * self.daily_volatility * (abs(qty) / volume).sqrt()
        return min(fraction, self.max_impact)

    def price(
        self,
        side: Side,
        reference_price: Decimal,
        qty: Decimal,
        *,
        quote: Quote | None = None,
        bar_volume: float | None = None,
    ) -> Decimal:
        return _adverse(side, reference_price, reference_price * self.impact(qty, bar_volume))
