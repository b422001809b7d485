"""The trading desk: what order handling shares within one server process.

It holds the execution models (with the seeded partial-fill generator), the freshest market
state the matching engine has seen, symbol lookups, and the publishing of private events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from quantumtrade.db.models import Order
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.execution import to_decimal
from quantumtrade.domain.market import Quote
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services.alerts import user_channel
from quantumtrade.services.container import Container
from quantumtrade.services.market import resolve_symbol
from quantumtrade.services.trading.execution import Execution
from quantumtrade.services.trading.ledger import Booked
from quantumtrade.services.trading.pretrade import PreTradeCheck
from quantumtrade.services.trading.views import order_view, text

ORDERS_CHANNEL = "trading.orders"  # notices to the matching engine: an order to (re)load
_FRESH_SECONDS = 5.0


def quote_from_message(message: dict[str, Any]) -> Quote:
    """Rebuild a quote from its bus message."""
    return Quote(
        symbol=str(message["symbol"]),
        time=datetime.fromisoformat(str(message["timestamp"])),
        bid_price=float(message["bid"]),
        bid_size=float(message.get("bid_size") or 0.0),
        ask_price=float(message["ask"]),
        ask_size=float(message.get("ask_size") or 0.0),
    )


def _side(qty: Decimal) -> str:
    return "long" if qty > 0 else "short" if qty < 0 else "flat"


def portfolio_updates(fills: Sequence[Booked]) -> list[dict[str, Any]]:
    """Return one ``portfolio_update`` per portfolio the fills changed, in ledger order.

    It carries the account after the last fill (cash, realised P&L, the ledger sequence
    number) and each position the fills touched (a closed one with qty 0), so a client can
    apply it without refetching; ``ledger_seq`` orders updates that arrive out of order.
    """
    last: dict[uuid.UUID, Booked] = {}
    positions: dict[uuid.UUID, dict[str, Booked]] = {}
    for booked in sorted(fills, key=lambda b: b.ledger_seq):
        portfolio_id = booked.order.portfolio_id
        last[portfolio_id] = booked
        positions.setdefault(portfolio_id, {})[booked.order.symbol] = booked
    messages = []
    for portfolio_id in sorted(last, key=str):
        booked = last[portfolio_id]
        messages.append(
            {
                "channel": "portfolio",
                "type": "portfolio_update",
                "portfolio_id": str(portfolio_id),
                "timestamp": booked.at.isoformat(),
                "ledger_seq": booked.ledger_seq,
                "cash": text(booked.cash),
                "realized_pl": text(booked.portfolio_realized_pl),
                "positions": [
                    {
                        "symbol": symbol,
                        "qty": text(fill.position_qty),
                        "side": _side(fill.position_qty),
                        "avg_entry_price": text(fill.avg_entry_price),
                    }
                    for symbol, fill in sorted(positions[portfolio_id].items())
                ],
            }
        )
    return messages


@dataclass
class TradingDesk:
    container: Container
    execution: Execution
    extra_checks: list[PreTradeCheck] = field(default_factory=list)
    quotes: dict[str, tuple[float, Quote]] = field(default_factory=dict)
    trades: dict[str, tuple[float, float]] = field(default_factory=dict)
    bar_volumes: dict[str, float] = field(default_factory=dict)
    # Per symbol, what each order filled since the symbol's last 1-minute bar.
    bar_fills: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    _infos: dict[str, SymbolInfo] = field(default_factory=dict)
    _sectors: dict[str, str | None] = field(default_factory=dict)
    _infos_at: float = float("-inf")

    @classmethod
    def create(cls, container: Container) -> TradingDesk:
        return cls(container, Execution.from_settings(container.settings))

    def _directory(self) -> dict[str, SymbolInfo]:
        now = time.monotonic()
        if now - self._infos_at > _FRESH_SECONDS:
            # Listing the market's symbols costs ~1 ms; an order should not pay it each time.
            self._infos = {info.symbol: info for info in self.container.market.symbols()}
            self._sectors = {symbol: info.sector for symbol, info in self._infos.items()}
            self._infos_at = now
        return self._infos

    def sectors(self) -> dict[str, str | None]:
        """Return each symbol's sector (None where the source gives none)."""
        self._directory()
        return self._sectors

    def symbol_info(self, text: str) -> SymbolInfo:
        """Return the symbol's description, or refuse an unknown symbol (422)."""
        infos = self._directory()
        info = infos.get(resolve_symbol(self.container, text, infos))
        if info is not None:
            return info
        raise Unprocessable(
            f"Unknown symbol {text.strip()[:30]!r}.",
            code="unknown_symbol",
            details={"symbol": text[:30]},
        )

    def market_open(self, asset_class: str) -> bool:
        calendar = getattr(self.container.market, "calendar", None)
        if calendar is None:
            return True
        return bool(calendar.is_open(asset_class, self.container.clock.now()))

    async def quote(self, symbol: str) -> Quote:
        """Return the freshest quote: the live feed's, else the source's latest."""
        seen = self.quotes.get(symbol)
        if seen is not None and time.monotonic() - seen[0] < _FRESH_SECONDS:
            return seen[1]
        return await self.container.market.latest_quote(symbol)

    async def last_price(self, symbol: str) -> Decimal:
        seen = self.trades.get(symbol)
        if seen is not None and time.monotonic() - seen[0] < _FRESH_SECONDS:
            return to_decimal(seen[1])
        trade = await self.container.market.latest_trade(symbol)
        return to_decimal(trade.price)

    def observe(self, message: dict[str, Any]) -> None:
        """Remember a market message (as the feed publishes it)."""
        symbol = message.get("symbol")
        if not isinstance(symbol, str):
            return
        now = time.monotonic()
        kind = message.get("type")
        if kind == "quote":
            self.quotes[symbol] = (now, quote_from_message(message))
        elif kind == "price":
            self.trades[symbol] = (now, float(message["price"]))
        elif kind == "bar" and message.get("timeframe", "1Min") == "1Min":
            self.bar_volumes[symbol] = float(message["volume"])
            self.bar_fills.pop(symbol, None)

    async def publish(
        self, user_id: uuid.UUID, updates: Sequence[tuple[str, Order, Booked | None]]
    ) -> None:
        """Send each order event to its owner's private channels (after the commit)."""
        bus = self.container.bus
        channel = user_channel(user_id)
        if not bus.may_deliver(channel):
            return  # nobody (on this single process) listens: skip building the messages
        views: dict[int, dict[str, Any]] = {}  # each order's view once: it is read after commit
        for event, order, booked in updates:
            view = views.get(id(order))
            if view is None:
                view = views[id(order)] = order_view(order)
            data: dict[str, Any] = {
                "event": event,
                "timestamp": (booked.at if booked else order.updated_at).isoformat(),
                "order": view,
            }
            if booked is not None:
                data.update(
                    execution_id=str(booked.trade_id),
                    price=text(booked.price),
                    qty=text(booked.qty),
                    position_qty=text(booked.position_qty),
                )
            message = {"channel": "orders", "type": "trade_update", "data": data}
            await bus.publish(channel, message)
            if booked is not None:
                await bus.publish(channel, {**message, "channel": "fills"})
        for message in portfolio_updates([b for _e, _o, b in updates if b is not None]):
            await bus.publish(channel, message)

    async def notify_engine(self, orders: Sequence[Order]) -> None:
        """Tell the matching engine (on whichever replica) to (re)load these orders."""
        if orders:
            await self.container.bus.publish(
                ORDERS_CHANNEL, {"orders": [str(order.id) for order in orders]}
            )
