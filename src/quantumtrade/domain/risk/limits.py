"""Per-portfolio risk limits and the pure check of one order against them.

Conventions: percentages are fractions (0.25 = 25 %) of the account's equity before the
order; values are in the account currency; exposure is the absolute market value of
positions (longs plus shorts). An order that only reduces exposure is never refused, so a
trader can always get out. Every refusal names its rule, the limit, the value that broke it
and a sentence a trader understands.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from quantumtrade.domain.errors import InvalidInput

# A ticker as the market names it: AAPL, BRK.B, BTC/USD, BTC-USD.
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,19}")

_PERCENT_FIELDS = (
    "max_position_pct",
    "max_symbol_concentration_pct",
    "max_sector_concentration_pct",
    "daily_loss_limit_pct",
    "max_drawdown_pct",
    "auto_stop_pct",
)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits of one portfolio; ``None`` switches a rule off.

    The only rule on by default is at most 100 open positions; buying power already keeps
    gross exposure within the margin multiplier. Set the others to suit the strategy.
    """

    max_position_pct: float | None = None  # one symbol's exposure / equity
    max_position_value: float | None = None  # one symbol's exposure
    max_order_value: float | None = None  # qty x price of one order
    max_open_positions: int | None = 100
    max_symbol_concentration_pct: float | None = None  # one symbol / gross exposure
    max_sector_concentration_pct: float | None = None  # one sector's exposure / equity
    daily_loss_limit_pct: float | None = None  # loss since the last close / last equity
    daily_loss_limit_value: float | None = None
    max_leverage: float | None = None  # gross exposure / equity
    max_drawdown_pct: float | None = None  # kill switch: equity below its peak by this much
    allowed_symbols: tuple[str, ...] | None = None
    blocked_symbols: tuple[str, ...] = ()
    max_orders_per_minute: int | None = None
    # Protective stops placed on every new position (not limits: they never refuse an order).
    auto_stop_pct: float | None = None  # stop this fraction beyond the average entry price
    auto_stop_atr_multiple: float | None = None  # or this many ATR(14) of daily bars

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RiskLimits:
        """Build limits from JSON, refusing unknown names and out-of-range values."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        problems = [f"unknown limit {name!r}" for name in unknown]
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in known:
                continue
            if name in ("allowed_symbols", "blocked_symbols"):
                if value is None:  # off: any symbol may be traded, none is blocked
                    values[name] = None if name == "allowed_symbols" else ()
                elif isinstance(value, list) and all(
                    isinstance(v, str) and _SYMBOL.fullmatch(v.strip()) for v in value
                ):
                    values[name] = tuple(sorted({v.strip().upper() for v in value}))
                else:
                    problems.append(
                        f"{name} must be a list of symbols (letters, digits, '.', '/', '-')"
                    )
                continue
            if value is None:
                values[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{name} must be a number or null")
                continue
            if value <= 0:
                problems.append(f"{name} must be positive")
            elif name in _PERCENT_FIELDS and value > 1:
                problems.append(f"{name} is a fraction of equity: at most 1 (100 %)")
            elif name in ("max_open_positions", "max_orders_per_minute") and value != int(value):
                problems.append(f"{name} must be a whole number")
            values[name] = int(value) if name.startswith(("max_open", "max_orders")) else value
        if values.get("auto_stop_pct") and values.get("auto_stop_atr_multiple"):
            problems.append("set auto_stop_pct or auto_stop_atr_multiple, not both")
        if problems:
            raise InvalidInput(
                "Invalid risk limits: " + "; ".join(problems) + ".",
                code="invalid_risk_limits",
                details={"problems": problems},
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        for name in ("allowed_symbols", "blocked_symbols"):
            if body[name] is not None:
                body[name] = list(body[name])
        return body


@dataclass(frozen=True, slots=True)
class OrderRisk:
    """What an order would do to the account, as the limits see it."""

    symbol: str
    sector: str | None
    adds_risk: bool
    order_value: float
    equity: float
    symbol_exposure_after: float
    sector_exposure_after: float
    gross_after: float
    open_positions_after: int
    day_pl: float
    last_equity: float
    drawdown: float  # equity / peak - 1, <= 0
    orders_last_minute: int


@dataclass(frozen=True, slots=True)
class Breach:
    """One broken limit."""

    rule: str
    limit: float | str
    value: float | str
    message: str

    @property
    def code(self) -> str:
        return f"risk_{self.rule}"


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def check_order(limits: RiskLimits, risk: OrderRisk) -> list[Breach]:
    """Return every limit the order would break (empty: the order may go)."""
    breaches: list[Breach] = []
    if limits.max_orders_per_minute is not None and (
        risk.orders_last_minute + 1 > limits.max_orders_per_minute
    ):
        breaches.append(
            Breach(
                "max_orders_per_minute",
                limits.max_orders_per_minute,
                risk.orders_last_minute + 1,
                f"This would be order {risk.orders_last_minute + 1} in the last minute; the "
                f"limit is {limits.max_orders_per_minute}.",
            )
        )
    if not risk.adds_risk:
        return breaches
    symbol = risk.symbol
    if limits.allowed_symbols is not None and symbol not in limits.allowed_symbols:
        breaches.append(
            Breach(
                "allowed_symbols",
                ",".join(limits.allowed_symbols),
                symbol,
                f"{symbol} is not on this portfolio's list of allowed symbols.",
            )
        )
    if symbol in limits.blocked_symbols:
        breaches.append(
            Breach(
                "blocked_symbols",
                ",".join(limits.blocked_symbols),
                symbol,
                f"{symbol} is blocked for this portfolio.",
            )
        )
    equity = risk.equity
    if limits.max_order_value is not None and risk.order_value > limits.max_order_value:
        breaches.append(
            Breach(
                "max_order_value",
                limits.max_order_value,
                round(risk.order_value, 2),
                f"The order is worth ${risk.order_value:,.2f}; orders are limited to "
                f"${limits.max_order_value:,.2f}.",
            )
        )
    if limits.max_position_value is not None and (
        risk.symbol_exposure_after > limits.max_position_value
    ):
        breaches.append(
            Breach(
                "max_position_value",
                limits.max_position_value,
                round(risk.symbol_exposure_after, 2),
                f"The {symbol} position would be worth ${risk.symbol_exposure_after:,.2f}; "
                f"positions are limited to ${limits.max_position_value:,.2f}.",
            )
        )
    ratio = risk.symbol_exposure_after / equity if equity > 0 else float("inf")
    if limits.max_position_pct is not None and ratio > limits.max_position_pct:
        breaches.append(
            Breach(
                "max_position_pct",
                limits.max_position_pct,
                round(ratio, 6),
                f"The {symbol} position would be {_pct(ratio)} of equity; the limit is "
                f"{_pct(limits.max_position_pct)}.",
            )
        )
    share = risk.symbol_exposure_after / risk.gross_after if risk.gross_after > 0 else 0.0
    if limits.max_symbol_concentration_pct is not None and (
        share > limits.max_symbol_concentration_pct
    ):
        breaches.append(
            Breach(
                "max_symbol_concentration_pct",
                limits.max_symbol_concentration_pct,
                round(share, 6),
                f"{symbol} would be {_pct(share)} of the portfolio's exposure; the limit is "
                f"{_pct(limits.max_symbol_concentration_pct)}.",
            )
        )
    sector_ratio = risk.sector_exposure_after / equity if equity > 0 else float("inf")
    if (
        limits.max_sector_concentration_pct is not None
        and risk.sector is not None
        and sector_ratio > limits.max_sector_concentration_pct
    ):
        breaches.append(
            Breach(
                "max_sector_concentration_pct",
                limits.max_sector_concentration_pct,
                round(sector_ratio, 6),
                f"The {risk.sector} sector would be {_pct(sector_ratio)} of equity; the "
                f"limit is {_pct(limits.max_sector_concentration_pct)}.",
            )
        )
    if limits.max_open_positions is not None and (
        risk.open_positions_after > limits.max_open_positions
    ):
        breaches.append(
            Breach(
                "max_open_positions",
                limits.max_open_positions,
                risk.open_positions_after,
                f"This would be position {risk.open_positions_after}; at most "
                f"{limits.max_open_positions} may be open.",
            )
        )
    leverage = risk.gross_after / equity if equity > 0 else float("inf")
    if limits.max_leverage is not None and leverage > limits.max_leverage:
        breaches.append(
            Breach(
                "max_leverage",
                limits.max_leverage,
                round(leverage, 6),
                f"Gross exposure would be {leverage:.2f}x equity; the limit is "
                f"{limits.max_leverage:.2f}x.",
            )
        )
    loss = -risk.day_pl
    if limits.daily_loss_limit_value is not None and loss >= limits.daily_loss_limit_value:
        breaches.append(
            Breach(
                "daily_loss_limit_value",
                limits.daily_loss_limit_value,
                round(loss, 2),
                f"Today's loss of ${loss:,.2f} has reached the daily limit of "
                f"${limits.daily_loss_limit_value:,.2f}: only orders that reduce risk are "
                "taken until the next session.",
            )
        )
    loss_pct = loss / risk.last_equity if risk.last_equity > 0 else 0.0
    if limits.daily_loss_limit_pct is not None and loss_pct >= limits.daily_loss_limit_pct:
        breaches.append(
            Breach(
                "daily_loss_limit_pct",
                limits.daily_loss_limit_pct,
                round(loss_pct, 6),
                f"Today's loss of {_pct(loss_pct)} has reached the daily limit of "
                f"{_pct(limits.daily_loss_limit_pct)}: only orders that reduce risk are "
                "taken until the next session.",
            )
        )
    if limits.max_drawdown_pct is not None and -risk.drawdown >= limits.max_drawdown_pct:
        breaches.append(
            Breach(
                "max_drawdown_pct",
                limits.max_drawdown_pct,
                round(-risk.drawdown, 6),
                f"Equity is {_pct(-risk.drawdown)} below its peak, past the "
                f"{_pct(limits.max_drawdown_pct)} kill switch: only orders that reduce "
                "risk are taken until the limit is raised or the portfolio reset.",
            )
        )
    return breaches


@dataclass(frozen=True, slots=True)
class AccountRisk:
    """A portfolio's state as the limits see it, between orders."""

    equity: float
    exposures: dict[str, float]  # absolute market value per symbol
    sectors: dict[str, str | None]
    day_pl: float
    last_equity: float
    drawdown: float  # equity / peak - 1, <= 0


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of one limit is used: ``used`` 1.0 means at the limit."""

    rule: str
    limit: float
    value: float
    used: float
    subject: str | None = None  # the symbol or sector at the top of the rule


WARNING_LEVEL = 0.8


def limit_usage(limits: RiskLimits, state: AccountRisk) -> list[Usage]:
    """Return the usage of every numeric limit that is on, most used first."""
    usages: list[Usage] = []
    equity = state.equity

    def add(rule: str, limit: float | None, value: float, subject: str | None = None) -> None:
        if limit is not None and limit > 0:
            usages.append(Usage(rule, limit, value, value / limit, subject))

    top_symbol = max(state.exposures, key=lambda s: state.exposures[s], default=None)
    top_value = state.exposures.get(top_symbol, 0.0) if top_symbol else 0.0
    gross = sum(state.exposures.values())
    if equity > 0:
        add("max_position_pct", limits.max_position_pct, top_value / equity, top_symbol)
        add("max_leverage", limits.max_leverage, gross / equity)
        by_sector: dict[str, float] = {}
        for symbol, value in state.exposures.items():
            sector = state.sectors.get(symbol)
            if sector:
                by_sector[sector] = by_sector.get(sector, 0.0) + value
        if by_sector:
            sector = max(by_sector, key=lambda s: by_sector[s])
            add(
                "max_sector_concentration_pct",
                limits.max_sector_concentration_pct,
                by_sector[sector] / equity,
                sector,
            )
    add("max_position_value", limits.max_position_value, top_value, top_symbol)
    if gross > 0:
        add(
            "max_symbol_concentration_pct",
            limits.max_symbol_concentration_pct,
            top_value / gross,
            top_symbol,
        )
    open_positions = sum(1 for value in state.exposures.values() if value > 0)
    add("max_open_positions", limits.max_open_positions, float(open_positions))
    loss = max(-state.day_pl, 0.0)
    add("daily_loss_limit_value", limits.daily_loss_limit_value, loss)
    if state.last_equity > 0:
        add("daily_loss_limit_pct", limits.daily_loss_limit_pct, loss / state.last_equity)
    add("max_drawdown_pct", limits.max_drawdown_pct, max(-state.drawdown, 0.0))
    return sorted(usages, key=lambda usage: -usage.used)
