"""How paper orders execute: the configured slippage, commission and partial-fill models.

The same domain models serve the backtester. Market orders fill at the quote's touch (a buy at
the ask, a sell at the bid) plus slippage; limit orders at the better of their limit and the
touch. A participation cap limits each order to a share of the last 1-minute bar's volume,
and Alpaca's random partial-fill rule can be switched on (seeded, so runs replay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from quantumtrade.core.settings import Settings
from quantumtrade.domain.execution import (
    CommissionModel,
    FeeBreakdown,
    FixedBps,
    NoSlippage,
    Percentage,
    PerShare,
    RandomPartialFills,
    RegulatoryFees,
    Side,
    SlippageModel,
    SpreadSlippage,
    SquareRootImpact,
    ZeroCommission,
    limit_fillable,
    market_fill_price,
    max_fill_qty,
)
from quantumtrade.domain.market import Quote

ZERO = Decimal(0)
QTY_STEP = Decimal("0.000000001")


def _slippage(settings: Settings) -> SlippageModel:
    if settings.paper_slippage == "fixed_bps":
        return FixedBps(settings.paper_slippage_bps)
    if settings.paper_slippage == "spread":
        return SpreadSlippage(settings.paper_slippage_spread_fraction)
    if settings.paper_slippage == "sqrt_impact":
        return SquareRootImpact(
            settings.paper_impact_coefficient, settings.paper_impact_daily_volatility
        )
    return NoSlippage()


def _commission(settings: Settings) -> CommissionModel:
    regulatory = RegulatoryFees() if settings.paper_regulatory_fees else None
    low, high = settings.paper_commission_min, settings.paper_commission_max
    if settings.paper_commission == "per_share":
        return PerShare(settings.paper_commission_rate, low, high, regulatory)
    if settings.paper_commission == "percentage":
        return Percentage(settings.paper_commission_rate, low, high, regulatory)
    return ZeroCommission(regulatory)


@dataclass
class Execution:
    """The execution models in force, and the seeded generator of random partial fills."""

    slippage: SlippageModel
    commission: CommissionModel
    participation: Decimal | None = None
    partial_fills: RandomPartialFills | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    @classmethod
    def from_settings(cls, settings: Settings) -> Execution:
        return cls(
            slippage=_slippage(settings),
            commission=_commission(settings),
            participation=settings.paper_participation,
            partial_fills=RandomPartialFills() if settings.paper_random_partial_fills else None,
            rng=np.random.default_rng(settings.paper_seed),
        )

    def fill_qty(
        self, remaining: Decimal, bar_volume: float | None, filled_this_bar: Decimal = ZERO
    ) -> Decimal:
        """Return how much of ``remaining`` may fill now under the caps in force.

        The participation cap is a budget per bar: what the order already filled since the
        last 1-minute bar comes off it.
        """
        qty = remaining
        if self.participation is not None and bar_volume is not None:
            budget = max_fill_qty(Decimal(repr(bar_volume)), bar_volume, self.participation)
            qty = max(min(qty, budget - filled_this_bar), ZERO)
        if self.partial_fills is not None and qty > ZERO:
            qty = self.partial_fills.fill_qty(qty, self.rng)
        return qty

    def price(
        self,
        side: Side,
        quote: Quote,
        qty: Decimal,
        *,
        limit: Decimal | None = None,
        bar_volume: float | None = None,
    ) -> tuple[Decimal, Decimal] | None:
        """Return ``(fill price, slippage per share)`` against ``quote``, or None if no fill.

        A limit order fills at the better of its limit and the touch (no slippage: it rests
        on the book); a market order at the touch moved adversely by the slippage model.
        """
        if limit is not None:
            price = limit_fillable(side, limit, quote)
            return None if price is None else (price, ZERO)
        raw = quote.ask_price if side is Side.BUY else quote.bid_price
        if raw <= 0:
            return None
        price = market_fill_price(side, quote, self.slippage, qty, bar_volume)
        touch = Decimal(repr(raw))
        return price, abs(price - touch)

    def fees(self, side: Side, qty: Decimal, price: Decimal) -> FeeBreakdown:
        return self.commission.fees(side, qty, price)


def qty_for_notional(notional: Decimal, price: Decimal) -> Decimal:
    """Return the fractional quantity ``notional`` dollars buy at ``price`` (truncated)."""
    return (notional / price).quantize(QTY_STEP, rounding=ROUND_FLOOR)
