"""The matching engine: fills resting orders as the market moves, on exactly one replica.

It holds a lease (like the market feed), loads every open order into per-symbol books indexed
by price, and listens to the market on the bus. A quote fills the limit orders it makes
marketable and the market orders waiting for liquidity; a trade triggers stops and moves
trailing stops. Every fill is its own transaction that locks the portfolio and re-reads the
order, so an order fills once even if two engines ever overlap. Order changes made by any
replica reach the engine as notices on ``trading.orders``; a periodic reload heals any notice
lost on the way. A restarted engine resumes from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from quantumtrade.db.models import Order, Portfolio
from quantumtrade.domain.execution import Side, to_decimal
from quantumtrade.domain.market import Quote
from quantumtrade.domain.trading.book import BookEntry, Books
from quantumtrade.domain.trading.orders import OPEN, OrderStatus
from quantumtrade.infra.health import ComponentHealth
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.market_feed import MARKET_PREFIX, Lease, create_lease
from quantumtrade.services.trading import orders
from quantumtrade.services.trading.desk import ORDERS_CHANNEL, TradingDesk, quote_from_message

_log = logging.getLogger(__name__)

OPEN_VALUES = tuple(status.value for status in OPEN)
_BOOKED_TYPES = ("limit", "stop", "stop_limit", "trailing_stop")


@dataclass(slots=True)
class _Resting:
    symbol: str
    asset_class: str
    type: str
    time_in_force: str
    status: str
    submitted_at: datetime


class MatchingEngine:
    """Lead (match) or wait for the lease, for ever."""

    def __init__(
        self,
        desk: TradingDesk,
        *,
        lease: Lease | None = None,
        retry_seconds: float = 3.0,
        resync_seconds: float = 30.0,
        housekeeping_seconds: float = 1.0,
    ) -> None:
        self.desk = desk
        self.container = desk.container
        self.lease = lease or create_lease(self.container, "matching_engine")
        self.retry_seconds = retry_seconds
        self.resync_seconds = resync_seconds
        self.housekeeping_seconds = housekeeping_seconds
        self.books = Books()
        self.resting: dict[str, _Resting] = {}
        self.waiting: dict[str, set[str]] = {}  # symbol -> market-like orders awaiting a quote
        # symbol -> trailing stops and stop-limits: their state moves with trades and is saved
        self.watched: dict[str, set[str]] = {}
        self.asset_classes: dict[str, str] = {}
        self.leading = False
        self.fills = 0
        self.failures = 0
        self.last_error: str | None = None
        self._lock = asyncio.Lock()

    # -- the index -----------------------------------------------------------------------------

    def forget(self, order_id: str) -> None:
        self.books.remove(order_id)
        info = self.resting.pop(order_id, None)
        if info is not None:
            self.waiting.get(info.symbol, set()).discard(order_id)
            self.watched.get(info.symbol, set()).discard(order_id)

    def index(self, order: Order) -> None:
        """Put an open order where the market will find it (or drop a closed one)."""
        key = str(order.id)
        self.forget(key)
        if order.status not in OPEN_VALUES or order.status == OrderStatus.HELD.value:
            return
        self.resting[key] = _Resting(
            order.symbol,
            order.asset_class,
            order.type,
            order.time_in_force,
            order.status,
            order.submitted_at or order.created_at,
        )
        self.asset_classes[order.symbol] = order.asset_class
        if order.status == OrderStatus.ACCEPTED.value or order.type not in _BOOKED_TYPES:
            self.waiting.setdefault(order.symbol, set()).add(key)
            return
        if order.type in ("trailing_stop", "stop_limit"):
            self.watched.setdefault(order.symbol, set()).add(key)
        self.books.add(
            order.symbol,
            BookEntry(
                order_id=key,
                side=Side(order.side),
                type=order.type,
                seq=int((order.submitted_at or order.created_at).timestamp() * 1e6),
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                trail_price=order.trail_price,
                trail_percent=order.trail_percent,
                hwm=order.high_water_mark,
                triggered=order.triggered_at is not None,
            ),
        )

    async def load(self, ids: Sequence[str] | None = None) -> None:
        """Reload open orders from the database: all of them, or just ``ids``."""
        async with self.container.session_factory() as db:
            query = sa.select(Order)
            if ids is None:
                query = query.where(Order.status.in_(OPEN_VALUES))
            else:
                query = query.where(Order.id.in_([uuid.UUID(i) for i in ids]))
            rows = list(await db.scalars(query))
        async with self._lock:
            if ids is None:
                self.books = Books()
                self.resting.clear()
                self.waiting.clear()
                self.watched.clear()
            for row in rows:
                self.index(row)

    # -- the market ----------------------------------------------------------------------------

    async def on_market(self, message: dict[str, Any]) -> None:
        """Match one market message (as the feed publishes it)."""
        self.desk.observe(message)
        symbol = message.get("symbol")
        kind = message.get("type")
        if not isinstance(symbol, str):
            return
        async with self._lock:
            if kind == "quote":
                await self._on_quote(symbol, quote_from_message(message))
            elif kind == "price":
                await self._on_trade(symbol, to_decimal(float(message["price"])))

    async def _on_quote(self, symbol: str, quote: Quote) -> None:
        waiting = self.waiting.get(symbol)
        book = self.books.book(symbol)
        if not waiting and not len(book):
            return
        if not self.desk.market_open(self._asset_class(symbol)):
            return
        for order_id in sorted(waiting or ()):
            info = self.resting.get(order_id)
            if info is None or info.time_in_force == "cls":
                continue
            if info.status == OrderStatus.ACCEPTED.value:
                await self._run(orders.activate, order_id)
                info = self.resting.get(order_id)
                if info is None or info.type in _BOOKED_TYPES:
                    continue  # now in the book; the quote below may fill it
            await self._fill(order_id, quote, as_market=True)
        bid = to_decimal(quote.bid_price) if quote.bid_price > 0 else None
        ask = to_decimal(quote.ask_price) if quote.ask_price > 0 else None
        for entry in book.on_quote(bid, ask):
            await self._fill(entry.order_id, quote)

    async def _on_trade(self, symbol: str, price: Decimal) -> None:
        book = self.books.book(symbol)
        if not len(book):
            return
        # Only the watched entries change state on a trade: no scan of the whole book.
        watched = [e for oid in self.watched.get(symbol, ()) if (e := book.get(oid)) is not None]
        before = {e.order_id: (e.hwm, e.triggered) for e in watched}
        triggered = book.on_trade(price)
        for entry in watched:
            old = before[entry.order_id]
            if entry.type == "stop_limit" and entry.triggered and not old[1]:
                await self._run(orders.mark_triggered, entry.order_id, hwm=None, stop=None)
            elif entry.type == "trailing_stop" and entry.hwm != old[0]:
                await self._run(
                    orders.mark_triggered, entry.order_id, hwm=entry.hwm, stop=entry.stop_price
                )
        if not triggered:
            return
        if not self.desk.market_open(self._asset_class(symbol)):
            return
        quote = await self.desk.quote(symbol)
        for entry in triggered:
            await self._fill(entry.order_id, quote, as_market=True)

    def _asset_class(self, symbol: str) -> str:
        return self.asset_classes.get(symbol) or ("crypto" if "/" in symbol else "us_equity")

    async def _run(self, use_case: Any, order_id: str, **kwargs: Any) -> list[Any]:
        now = self.container.clock.now()
        try:
            async with self.container.session_factory() as db:
                updates: list[Any] = (
                    await use_case(db, order_id=uuid.UUID(order_id), now=now, **kwargs) or []
                )
                await db.commit()
        except Exception as exc:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            _log.exception("matching engine: %s failed for order %s", use_case.__name__, order_id)
            return []
        self.fills += sum(1 for _e, _o, booked in updates if booked is not None)
        await self._settle(updates)
        return updates

    async def _fill(self, order_id: str, quote: Quote, *, as_market: bool = False) -> None:
        await self._run(
            orders.fill_against, order_id, desk=self.desk, quote=quote, as_market=as_market
        )

    async def _settle(self, updates: Sequence[Any]) -> None:
        """Publish what changed and re-index every order it touched."""
        by_user: dict[uuid.UUID, list[Any]] = {}
        touched: dict[uuid.UUID, Order] = {}
        for update in updates:
            touched[update[1].id] = update[1]
        if not touched:
            return
        # Legs a fill activated and stops it placed are among the updates already.
        async with self.container.session_factory() as db:
            owners = dict(
                (
                    await db.execute(
                        sa.select(Portfolio.id, Portfolio.user_id).where(
                            Portfolio.id.in_({o.portfolio_id for o in touched.values()})
                        )
                    )
                ).all()
            )
        for update in updates:
            by_user.setdefault(owners[update[1].portfolio_id], []).append(update)
        for user_id, items in by_user.items():
            await self.desk.publish(user_id, items)
        for order in touched.values():
            self.index(order)

    # -- housekeeping --------------------------------------------------------------------------

    async def housekeeping(self) -> None:
        """Expire day orders after their session; fill at-the-close orders at the close."""
        calendar = getattr(self.container.market, "calendar", None)
        if calendar is None:
            return
        now = self.container.clock.now()
        for order_id, info in list(self.resting.items()):
            if info.time_in_force not in ("day", "cls"):
                continue
            try:
                close = calendar.next_close(info.asset_class, info.submitted_at)
            except Exception:  # no session close for this asset class (24/7 markets)
                _log.debug("no session close for %s", info.asset_class)
                continue
            if close is None or now < close:
                continue
            if info.time_in_force == "cls":
                async with self._lock:
                    await self._fill(order_id, await self.desk.quote(info.symbol), as_market=True)
                if order_id not in self.resting:
                    continue
            async with self._lock:
                await self._run(orders.expire, order_id, reason="end of the session")

    # -- the lifetime --------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until cancelled: take the lease when free and match while holding it."""
        try:
            while True:
                try:
                    acquired = await self.lease.try_acquire()
                except Exception as exc:
                    self.last_error = f"lease: {type(exc).__name__}: {exc}"
                    acquired = False
                if acquired:
                    try:
                        await self._lead()
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        _log.exception("matching engine failed; restarting")
                stop_if_cancelled()
                await asyncio.sleep(self.retry_seconds)
        finally:
            self.leading = False
            await self.lease.release()

    async def _lead(self) -> None:
        bus = self.container.bus
        async with (
            bus.psubscribe(MARKET_PREFIX + "*") as market,
            bus.subscribe(ORDERS_CHANNEL) as notices,
        ):
            await self.load()
            self.leading = True
            _log.info("matching engine leading with %d open orders", len(self.resting))
            tasks = [
                asyncio.create_task(self._pump_market(market)),
                asyncio.create_task(self._pump_notices(notices)),
                asyncio.create_task(self._timers()),
            ]
            try:
                while await self.lease.held():
                    stop_if_cancelled()
                    done = [t for t in tasks if t.done()]
                    if done:
                        done[0].result()  # surface the failure; the caller restarts
                    await asyncio.sleep(2.0)
            finally:
                self.leading = False
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _pump_market(self, sub: Any) -> None:
        async for message in sub:
            await self.on_market(message.data)
            stop_if_cancelled()

    async def _pump_notices(self, sub: Any) -> None:
        async for message in sub:
            ids = message.data.get("orders")
            if isinstance(ids, list) and ids:
                await self.load([str(i) for i in ids])
            stop_if_cancelled()

    async def _timers(self) -> None:
        next_sync = time.monotonic() + self.resync_seconds
        while True:
            await asyncio.sleep(self.housekeeping_seconds)
            try:
                await self.housekeeping()
                if time.monotonic() >= next_sync:
                    next_sync = time.monotonic() + self.resync_seconds
                    await self.load()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("matching engine housekeeping failed")
            stop_if_cancelled()

    async def health(self) -> ComponentHealth:
        role = "leading" if self.leading else "standing by"
        detail = (
            f"{role}; {len(self.resting)} open orders indexed, {self.fills} fills, "
            f"{self.failures} failures"
        )
        if self.last_error and self.failures:
            detail += f"; last error: {self.last_error}"
        return ComponentHealth("ok", detail=detail[:300])
