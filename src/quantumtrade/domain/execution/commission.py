"""Commission models and the US regulatory fees charged on sales.

Every amount is a non-negative ``Decimal`` in dollars, rounded up to the cent: brokers pass
fees through rounded up, so a simulation that rounds down would flatter the strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution._money import ZERO, Side, round_up_cent


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """What one fill costs, by kind; ``total`` is the sum."""

    commission: Decimal
    sec_fee: Decimal
    taf_fee: Decimal
    total: Decimal

    @classmethod
    def of(cls, commission: Decimal, sec_fee: Decimal, taf_fee: Decimal) -> FeeBreakdown:
        """Build a breakdown whose total is the sum of its parts."""
        return cls(commission, sec_fee, taf_fee, commission + sec_fee + taf_fee)


NO_FEES = FeeBreakdown.of(ZERO, ZERO, ZERO)


class CommissionModel(Protocol):
    def fees(self, side: Side, qty: Decimal, price: Decimal) -> FeeBreakdown:
        """Return the fees for a fill of ``qty`` at ``price``."""
        ...


@dataclass(frozen=True, slots=True)
class RegulatoryFees:
    """SEC Section 31 fee and FINRA Trading Activity Fee, charged on sells only.

    ``sec_rate`` is dollars per dollar of sale proceeds. The default, 0.0000278 ($27.80 per
    million), is the rate the SEC set effective 22 May 2024; the SEC resets it every fiscal
    year, so pass the rate in force on the trade date. ``taf_per_share`` (default $0.000166)
    and ``taf_max`` (default $8.30 per trade) are FINRA's 2024 schedule. Each fee is rounded
    up to the cent.
    """

    sec_rate: Decimal = Decimal("0.0000278")
    taf_per_share: Decimal = Decimal("0.000166")
    taf_max: Decimal = Decimal("8.30")

    def __post_init__(self) -> None:
        for name in ("sec_rate", "taf_per_share", "taf_max"):
            if getattr(self, name) < ZERO:
                raise InvalidInput(f"{name} must not be negative", code="invalid_fee")

    def sec_fee(self, side: Side, qty: Decimal, price: Decimal) -> Decimal:
        """Return the SEC fee on the sale proceeds (zero for a buy)."""
        if side is Side.BUY:
            return ZERO
        return round_up_cent(abs(qty) * price * self.sec_rate)

    def taf_fee(self, side: Side, qty: Decimal) -> Decimal:
        """Return the FINRA TAF for the shares sold, capped per trade (zero for a buy)."""
        if side is Side.BUY:
            return ZERO
        return min(round_up_cent(abs(qty) * self.taf_per_share), self.taf_max)


def _check_bounds(minimum: Decimal, maximum: Decimal | None) -> None:
    if minimum < ZERO or (maximum is not None and maximum < minimum):
        raise InvalidInput(
            "commission bounds need 0 <= minimum <= maximum", code="invalid_commission"
        )


def _clamp(amount: Decimal, minimum: Decimal, maximum: Decimal | None) -> Decimal:
    amount = max(amount, minimum)
    return amount if maximum is None else min(amount, maximum)


def _with_regulatory(
    regulatory: RegulatoryFees | None, side: Side, qty: Decimal, price: Decimal, commission: Decimal
) -> FeeBreakdown:
    if regulatory is None:
        return FeeBreakdown.of(commission, ZERO, ZERO)
    return FeeBreakdown.of(
        commission, regulatory.sec_fee(side, qty, price), regulatory.taf_fee(side, qty)
    )


@dataclass(frozen=True, slots=True)
class ZeroCommission:
    """No commission (Alpaca's default), optionally with regulatory fees on sells."""

    regulatory: RegulatoryFees | None = None

    def fees(self, side: Side, qty: Decimal, price: Decimal) -> FeeBreakdown:
        if qty == ZERO:
            return NO_FEES
        return _with_regulatory(self.regulatory, side, qty, price, ZERO)


@dataclass(frozen=True, slots=True)
class PerShare:
    """A rate per share, clamped to ``[minimum, maximum]`` per fill (maximum optional)."""

    rate: Decimal
    minimum: Decimal = ZERO
    maximum: Decimal | None = None
    regulatory: RegulatoryFees | None = field(default=None)

    def __post_init__(self) -> None:
        if self.rate < ZERO:
            raise InvalidInput("rate must not be negative", code="invalid_commission")
        _check_bounds(self.minimum, self.maximum)

    def fees(self, side: Side, qty: Decimal, price: Decimal) -> FeeBreakdown:
        if qty == ZERO:
            return NO_FEES
        commission = _clamp(round_up_cent(abs(qty) * self.rate), self.minimum, self.maximum)
        return _with_regulatory(self.regulatory, side, qty, price, commission)


@dataclass(frozen=True, slots=True)
class Percentage:
    """A fraction of the notional (0.001 = 10 bps), clamped to ``[minimum, maximum]``."""

    rate: Decimal
    minimum: Decimal = ZERO
    maximum: Decimal | None = None
    regulatory: RegulatoryFees | None = field(default=None)

    def __post_init__(self) -> None:
        if self.rate < ZERO:
            raise InvalidInput("rate must not be negative", code="invalid_commission")
        _check_bounds(self.minimum, self.maximum)

    def fees(self, side: Side, qty: Decimal, price: Decimal) -> FeeBreakdown:
        if qty == ZERO:
            return NO_FEES
        notional = abs(qty) * price
        commission = _clamp(round_up_cent(notional * self.rate), self.minimum, self.maximum)
        return _with_regulatory(self.regulatory, side, qty, price, commission)
