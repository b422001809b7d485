"""Our views of orders, positions, accounts and symbols, reshaped into Alpaca's objects.

Alpaca names each asset by a UUID; ours are named by symbol, so an asset's id is a UUID5 of
its symbol: the same on every replica and after every restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from quantumtrade.db.models import Order
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services.trading.execution import QTY_STEP
from quantumtrade.services.trading.views import order_view, text

_STEP = format(QTY_STEP, "f")  # the ledger's quantity step, as Alpaca writes it
ASSET_NAMESPACE = uuid.UUID("6f1c7c52-5d0e-4a8e-9d55-2b7f3c1e9a10")
# Alpaca's exchanges (alpaca-py's AssetExchange); any other venue is sent as "".
EXCHANGES = frozenset(
    {"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC", "CRYPTO", "ASCX"}
)
# A listing exchange of ours -> Alpaca's code for it and the consolidated tape it prints on.
EXCHANGE_CODES = {
    "NASDAQ": ("Q", "C"),
    "NYSE": ("N", "A"),
    "ARCA": ("P", "B"),
    "AMEX": ("A", "B"),
    "BATS": ("Z", "B"),
    "IEX": ("V", "B"),
}
_ORDER_FIELDS = (
    "id",
    "client_order_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "filled_at",
    "expired_at",
    "canceled_at",
    "failed_at",
    "replaced_at",
    "replaced_by",
    "replaces",
    "symbol",
    "asset_class",
    "notional",
    "qty",
    "filled_qty",
    "filled_avg_price",
    "order_class",
    "order_type",
    "type",
    "side",
    "time_in_force",
    "limit_price",
    "stop_price",
    "status",
    "extended_hours",
    "trail_percent",
    "trail_price",
    "hwm",
)


def asset_id(symbol: str) -> str:
    """Return the stable UUID standing for ``symbol`` as an Alpaca asset id."""
    return str(uuid.uuid5(ASSET_NAMESPACE, symbol))


def exchange(info_exchange: str) -> str:
    return info_exchange if info_exchange in EXCHANGES else ""


def alpaca_order(view: dict[str, Any]) -> dict[str, Any]:
    """Reshape our order view (``services.trading.views.order_view``) into Alpaca's order."""
    order = {name: view.get(name) for name in _ORDER_FIELDS}
    order["asset_id"] = asset_id(str(view["symbol"]))
    order["order_class"] = view.get("order_class") or "simple"
    order["expires_at"] = None
    order["position_intent"] = None
    legs = view.get("legs")
    order["legs"] = [alpaca_order(leg) for leg in legs] if legs else None
    return order


def order_out(row: Order, legs: Sequence[Order] | None = None) -> dict[str, Any]:
    """Return an order row (with its legs when given) as Alpaca's order."""
    return alpaca_order(order_view(row, legs))


def _ratio(value: float | None) -> str | None:
    return None if value is None else repr(float(value))


def alpaca_position(view: dict[str, Any], info: SymbolInfo | None) -> dict[str, Any]:
    """Reshape our position view (``position_view``) into Alpaca's position."""
    symbol = str(view["symbol"])
    qty = str(view["qty"])
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": exchange(info.exchange) if info else "",
        "asset_class": view["asset_class"],
        "asset_marginable": view["asset_class"] == "us_equity",
        "avg_entry_price": view["avg_entry_price"],
        "qty": qty,
        "qty_available": qty,
        "side": view["side"],
        "market_value": view["market_value"],
        "cost_basis": view["cost_basis"],
        "unrealized_pl": view["unrealized_pl"],
        "unrealized_plpc": _ratio(view["unrealized_plpc"]),
        "unrealized_intraday_pl": view["unrealized_intraday_pl"],
        "unrealized_intraday_plpc": _ratio(view["unrealized_intraday_plpc"]),
        "current_price": view["current_price"],
        "lastday_price": view["lastday_price"],
        "change_today": _ratio(view["change_today"]),
    }


def account_number(portfolio_id: str) -> str:
    return "QT" + uuid.UUID(portfolio_id).hex[:10].upper()


def alpaca_account(summary: dict[str, Any]) -> dict[str, Any]:
    """Reshape a portfolio summary (``portfolios.summary``) into Alpaca's trade account."""
    equity = Decimal(summary["equity"])
    day_pl = summary.get("day_pl")
    last_equity = equity - Decimal(day_pl) if day_pl is not None else equity
    buying_power = summary["buying_power"]
    return {
        "id": summary["id"],
        "account_number": account_number(summary["id"]),
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": summary["currency"],
        "buying_power": buying_power,
        "regt_buying_power": buying_power,
        "non_marginable_buying_power": buying_power,
        "cash": summary["cash"],
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": summary["equity"],
        "equity": summary["equity"],
        "last_equity": text(last_equity),
        "long_market_value": summary["long_market_value"],
        "short_market_value": summary["short_market_value"],
        "initial_margin": summary["initial_margin"],
        "maintenance_margin": summary["maintenance_margin"],
        "last_maintenance_margin": summary["maintenance_margin"],
        "sma": "0",
        "multiplier": summary["multiplier"],
        "shorting_enabled": summary["shorting_enabled"],
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "created_at": summary["created_at"],
        "options_approved_level": 0,
        "options_trading_level": 0,
        "options_buying_power": "0",
    }


def alpaca_asset(info: SymbolInfo) -> dict[str, Any]:
    """Return a symbol of ours as Alpaca's asset."""
    crypto = info.asset_class == "crypto"
    return {
        "id": asset_id(info.symbol),
        "class": info.asset_class,
        "exchange": exchange(info.exchange),
        "symbol": info.symbol,
        "name": info.name,
        "status": "active",
        "tradable": info.tradable,
        "marginable": not crypto,
        "shortable": info.shortable,
        "easy_to_borrow": info.shortable,
        "fractionable": info.fractionable,
        "min_order_size": _STEP if crypto else None,
        "min_trade_increment": _STEP if crypto else None,
        "price_increment": "0.0001" if crypto else None,
        "maintenance_margin_requirement": None if crypto else 30,
        "attributes": ["fractional_eh_enabled"] if info.fractionable and not crypto else [],
    }
