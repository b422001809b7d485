"""Execution models: slippage, commissions and regulatory fees, and fill rules.

Money and quantities are ``Decimal``. Fill prices sit on the US equity tick grid (a cent at
or above $1, $0.0001 below) and are rounded against the trader; quantities are truncated
to 1e-9.
"""

from quantumtrade.domain.execution._money import (
    Side,
    quantize_price,
    quantize_qty,
    tick_size,
    to_decimal,
)
from quantumtrade.domain.execution.commission import (
    NO_FEES,
    CommissionModel,
    FeeBreakdown,
    Percentage,
    PerShare,
    RegulatoryFees,
    ZeroCommission,
)
from quantumtrade.domain.execution.fills import (
    RandomPartialFills,
    limit_fillable,
    market_fill_price,
    max_fill_qty,
    stop_triggered,
    touch,
    trailing_stop_update,
)
from quantumtrade.domain.execution.slippage import (
    FixedBps,
    NoSlippage,
    SlippageModel,
    SpreadSlippage,
    SquareRootImpact,
)

__all__ = [
    "NO_FEES",
    "CommissionModel",
    "FeeBreakdown",
    "FixedBps",
    "NoSlippage",
    "PerShare",
    "Percentage",
    "RandomPartialFills",
    "RegulatoryFees",
    "Side",
    "SlippageModel",
    "SpreadSlippage",
    "SquareRootImpact",
    "ZeroCommission",
    "limit_fillable",
    "market_fill_price",
    "max_fill_qty",
    "quantize_price",
    "quantize_qty",
    "stop_triggered",
    "tick_size",
    "to_decimal",
    "touch",
    "trailing_stop_update",
]
