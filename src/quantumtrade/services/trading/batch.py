"""Group commit for the orders that settle at once: many orders, one transaction.

A simple market or limit order is queued here instead of taking a transaction of its own. A
writer takes everything queued (up to ``max_batch``) and, in one transaction, checks the
callers' sessions, locks every portfolio involved (in id order, so two writers never
deadlock), reads their positions, open orders and client_order_ids once, then runs each order
in arrival order through the same rules as :func:`orders.submit_order` (``pretrade``, the risk
limits, ``plan_fill``, ``affordable``, ``post_fill``) on that in-memory state, as plain
records, and writes all the rows at once. The SQL lives in :mod:`.batch_store` (asyncpg on
PostgreSQL, SQLAlchemy Core elsewhere). Nobody is answered before the commit.

What does not fit is placed on its own, in its own transaction, after the batch: an order
whose portfolio has limits that read history (orders per minute, daily loss, drawdown) or
automatic stops, or whose market is closed. If the batch fails as a whole (a lost connection,
a constraint), nothing of it was written, and each of its orders is placed on its own, so each
caller gets the answer the one-by-one path gives.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, cast

import structlog

from quantumtrade.core.security import AccessClaims
from quantumtrade.db.engine import driver_transaction
from quantumtrade.db.models import (
    Order,
    Portfolio,
    Position,
)
from quantumtrade.domain.errors import AppError, NotFound
from quantumtrade.domain.market import Quote
from quantumtrade.domain.risk.limits import RiskLimits
from quantumtrade.domain.trading.orders import (
    OrderClass,
    OrderSpec,
    OrderStatus,
    OrderType,
    TimeInForce,
    validate_order,
)
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services import auth
from quantumtrade.services.auth.login import SESSION_TOUCH_INTERVAL
from quantumtrade.services.risk.limits import check_limits, limits_of, needs_history
from quantumtrade.services.trading import execute, orders
from quantumtrade.services.trading.batch_store import (
    BatchStore,
    Changes,
    CoreStore,
    PgStore,
    table_of,
)
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.ledger import (
    PositionChange,
    post_fill,
    record_event,
    set_status,
)
from quantumtrade.services.trading.portfolios import reservation_prices, reserved_for
from quantumtrade.services.trading.views import order_view

log = structlog.get_logger(__name__)

_M = TypeVar("_M")
Update = tuple[str, Order, execute.Booked | None]
_SETTLE_NOW = (OrderType.MARKET, OrderType.LIMIT)
_TIME_IN_FORCE = (TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK)
_RESTING = tuple(s for s in orders.OPEN_VALUES if s != OrderStatus.HELD.value)


@dataclass(eq=False)
class _Ticket:
    """One queued order and the caller waiting for it."""

    access_token: str
    claims: AccessClaims
    portfolio_id: uuid.UUID | None  # None: the caller's first portfolio
    spec: OrderSpec  # validated, with its symbol resolved and its client_order_id set
    info: SymbolInfo
    source: str
    future: asyncio.Future[dict[str, Any]]  # the order's view


class Record:
    """A row as plain attributes, with no ORM state: cheap to build, read and change.

    The batch reads, decides on and writes these in place of ORM instances; the shared rules
    only read and set column attributes, so they take either.
    """

    model: ClassVar[type[Any]]

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


_RECORDS: dict[type[Any], tuple[type[Record], dict[str, None]]] = {}


def record(model: type[_M], values: Mapping[str, Any]) -> _M:
    """A :class:`Record` of ``model`` with ``values`` (unset columns None, as on a new ORM row)."""
    kind = _RECORDS.get(model)
    if kind is None:
        blank = dict.fromkeys(column.key for column in table_of(model).columns)
        subclass = type(f"{model.__name__}Record", (Record,), {"model": model})
        kind = _RECORDS[model] = (subclass, blank)
    row: Any = kind[0]({**kind[1], **values})
    return cast(_M, row)


@dataclass
class _Rows:
    """What a batch writes: the rows it adds, and the positions it changes or closes."""

    added: dict[type, list[Any]] = field(default_factory=dict)
    changed: dict[uuid.UUID, Position] = field(default_factory=dict)
    closed: list[Position] = field(default_factory=list)

    def make_row(self, model: type[_M], values: Mapping[str, Any]) -> _M:
        return record(model, values)

    def add(self, instance: Any, /) -> None:
        self.added.setdefault(instance.model, []).append(instance)

    def of(self, kind: type) -> list[Any]:
        return self.added.get(kind, [])


@dataclass
class _Account:
    """A locked portfolio as the batch sees it: its row, limits, positions and open orders."""

    portfolio: Portfolio
    limits: RiskLimits
    positions: dict[str, Position]
    open_orders: list[Order]
    before: tuple[Decimal, Decimal, int]  # cash, realised P&L, ledger_seq as read


class OrderBatcher:
    """Places orders through the group commit, or one by one where they do not fit it."""

    def __init__(self, desk: TradingDesk, *, max_batch: int = 100, writers: int = 2) -> None:
        self.desk = desk
        self.max_batch = max_batch
        self.writers = writers
        self.enabled = desk.container.settings.paper_order_batching
        self._queue: list[_Ticket] = []
        self._drainers: set[asyncio.Task[None]] = set()
        self._active = 0
        self._aside: set[asyncio.Task[None]] = set()
        self.failed_batches = 0  # batches that failed as a whole (their orders went one by one)

    @staticmethod
    def fits(spec: OrderSpec) -> bool:
        """Return whether an order can go through the group commit, judged by its fields."""
        return (
            spec.order_class is OrderClass.SIMPLE
            and spec.type in _SETTLE_NOW
            and spec.time_in_force in _TIME_IN_FORCE
            and not spec.extended_hours
        )

    async def place(
        self,
        *,
        access_token: str,
        portfolio_id: uuid.UUID | None,
        spec: OrderSpec,
        source: str = "api",
    ) -> dict[str, Any]:
        """Authenticate the caller, place the order and return its view (raises to refuse)."""
        container = self.desk.container
        claims = auth.read_access_token(container.settings, access_token, container.clock.now())
        if self.enabled and self.fits(spec):
            try:
                info = self.desk.symbol_info(spec.symbol)
                spec = validate_order(
                    replace(
                        spec,
                        symbol=info.symbol,
                        client_order_id=spec.client_order_id or str(uuid.uuid4()),
                    ),
                    fractionable=info.fractionable,
                )
            except AppError:
                pass  # refused on its own path, after the session is checked, as always
            else:
                ticket = _Ticket(
                    access_token=access_token,
                    claims=claims,
                    portfolio_id=portfolio_id,
                    spec=spec,
                    info=info,
                    source=source,
                    future=asyncio.get_running_loop().create_future(),
                )
                self._queue.append(ticket)
                self._wake()
                return await ticket.future
        return await self._alone(access_token, portfolio_id, spec, source)

    async def _alone(
        self, access_token: str, portfolio_id: uuid.UUID | None, spec: OrderSpec, source: str
    ) -> dict[str, Any]:
        """Place one order in a transaction of its own (``orders.submit_order``)."""
        container = self.desk.container
        async with container.session_factory() as db:
            principal = await auth.authenticate(
                db,
                settings=container.settings,
                access_token=access_token,
                now=container.clock.now(),
            )
            order = await orders.submit_order(
                db,
                desk=self.desk,
                user_id=principal.user.id,
                portfolio_id=portfolio_id,
                spec=spec,
                source=source,
            )
            if order.order_class == OrderClass.SIMPLE.value:
                return order_view(order)
            legs = await orders.legs_of(db, [order])
            return order_view(order, legs.get(order.id) or None)

    def _wake(self) -> None:
        if self._active < self.writers:
            # Counted until the loop below sees the queue empty, with no await in between: a
            # ticket queued after that check always finds a writer to start.
            self._active += 1
            task = asyncio.create_task(self._drain(), name="order batch")
            self._drainers.add(task)
            task.add_done_callback(self._drainers.discard)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                try:
                    await self._run(batch)
                except BaseException as exc:  # never leave a caller waiting
                    for ticket in batch:
                        if not ticket.future.done():
                            ticket.future.set_exception(exc)
                    raise
        finally:
            self._active -= 1

    def _set_aside(self, tickets: Iterable[_Ticket]) -> None:
        """Place these orders one by one, each answering its own caller."""
        for ticket in tickets:
            task = asyncio.create_task(self._settle_alone(ticket), name="order alone")
            self._aside.add(task)
            task.add_done_callback(self._aside.discard)

    async def _settle_alone(self, ticket: _Ticket) -> None:
        try:
            view = await self._alone(
                ticket.access_token, ticket.portfolio_id, ticket.spec, ticket.source
            )
        except Exception as exc:
            if not ticket.future.done():
                ticket.future.set_exception(exc)
            return
        if not ticket.future.done():
            ticket.future.set_result(view)

    async def _run(self, batch: list[_Ticket]) -> None:
        booked = _Batch(self.desk, batch)
        engine = self.desk.container.engine
        try:
            if engine.dialect.name == "postgresql":
                async with driver_transaction(engine) as driver:
                    await booked.run(PgStore(driver))
            else:
                async with engine.begin() as connection:
                    await booked.run(CoreStore(connection))
        except Exception:
            self.failed_batches += 1
            log.warning("order batch failed; placing its orders one by one", exc_info=True)
            self._set_aside(batch)
            return
        self._set_aside(booked.aside)
        for ticket, error in booked.refused:
            if not ticket.future.done():
                ticket.future.set_exception(error)
        for ticket, order, user_id, updates in booked.placed:
            await self.desk.publish(user_id, updates)
            if order.status in orders.OPEN_VALUES:
                await self.desk.notify_engine([order])
            if not ticket.future.done():
                ticket.future.set_result(order_view(order))


class _Batch:
    """One transaction's worth of orders: read once, decided in memory, written at once."""

    def __init__(self, desk: TradingDesk, tickets: list[_Ticket]) -> None:
        self.desk = desk
        self.tickets = tickets
        self.rows = _Rows()
        self.placed: list[tuple[_Ticket, Order, uuid.UUID, list[Update]]] = []
        self.refused: list[tuple[_Ticket, AppError]] = []
        self.aside: list[_Ticket] = []

    async def run(self, store: BatchStore) -> None:
        """Decide every ticket and write the rows (the caller commits)."""
        tickets = await self._default_portfolios(store, self.tickets)
        if not tickets:
            return
        wanted = sorted({(t.portfolio_id, t.claims.user_id) for t in tickets if t.portfolio_id})
        sessions, locked = await store.open({t.claims.session_id for t in tickets}, wanted)
        live, touch = self._check_sessions(tickets, sessions)
        accounts, taken = await self._accounts(store, locked, live)
        for ticket in live:
            assert ticket.portfolio_id is not None  # named by the caller or by default
            account = accounts.get(ticket.portfolio_id)
            try:
                if account is None or account.portfolio.user_id != ticket.claims.user_id:
                    raise NotFound("Portfolio not found.", code="portfolio_not_found")
                assert ticket.spec.client_order_id is not None  # set when queued
                key = (ticket.portfolio_id, ticket.spec.client_order_id)
                if key in taken:
                    raise orders.client_order_id_taken(ticket.spec.client_order_id, taken[key])
                order = await self._place(ticket, account)
            except AppError as exc:
                self.refused.append((ticket, exc))
                continue
            if order is None:
                self.aside.append(ticket)
                continue
            taken[key] = order.id
        await self._write(store, accounts, touch)

    def _check_sessions(
        self, tickets: list[_Ticket], sessions: Mapping[uuid.UUID, Mapping[str, Any]]
    ) -> tuple[list[_Ticket], set[uuid.UUID]]:
        """Check each caller's session as ``auth.authenticate`` does; return who may go on."""
        live: list[_Ticket] = []
        touch: set[uuid.UUID] = set()
        now = self.desk.container.clock.now()
        for ticket in tickets:
            row = sessions.get(ticket.claims.session_id)
            try:
                auth.check_session(
                    ticket.claims,
                    user_id=row["user_id"] if row else None,
                    user_active=bool(row and row["is_active"]),
                    revoked_at=row["revoked_at"] if row else None,
                    expires_at=row["expires_at"] if row else None,
                    now=now,
                )
            except AppError as exc:
                self.refused.append((ticket, exc))
                continue
            assert row is not None
            if now - row["last_used_at"] > SESSION_TOUCH_INTERVAL:
                touch.add(row["id"])
            live.append(ticket)
        return live, touch

    async def _default_portfolios(self, store: BatchStore, tickets: list[_Ticket]) -> list[_Ticket]:
        """Name each order without a portfolio its caller's first one (as ``default_portfolio``).

        A caller with no portfolio yet is set aside: placed on its own, which creates it.
        """
        users = {t.claims.user_id for t in tickets if t.portfolio_id is None}
        if not users:
            return tickets
        first = await store.first_portfolios(users)
        ready: list[_Ticket] = []
        for ticket in tickets:
            if ticket.portfolio_id is None:
                ticket.portfolio_id = first.get(ticket.claims.user_id)
                if ticket.portfolio_id is None:
                    self.aside.append(ticket)
                    continue
            ready.append(ticket)
        return ready

    async def _accounts(
        self, store: BatchStore, locked: list[Mapping[str, Any]], tickets: list[_Ticket]
    ) -> tuple[dict[uuid.UUID, _Account], dict[tuple[uuid.UUID, str], uuid.UUID]]:
        """The locked portfolios with their positions and open orders, and the client ids of
        these tickets already taken."""
        accounts: dict[uuid.UUID, _Account] = {}
        for row in locked:
            portfolio: Portfolio = record(Portfolio, row)
            before = (portfolio.cash, portfolio.realized_pl, portfolio.ledger_seq)
            accounts[portfolio.id] = _Account(portfolio, limits_of(portfolio), {}, [], before)
        if not accounts:
            return accounts, {}
        pairs = {
            (t.portfolio_id, t.spec.client_order_id)
            for t in tickets
            if t.portfolio_id in accounts and t.spec.client_order_id
        }
        positions, open_orders, taken = await store.state(list(accounts), _RESTING, pairs)
        for row in positions:
            position: Position = record(Position, row)
            accounts[position.portfolio_id].positions[position.symbol] = position
        for row in open_orders:
            order: Order = record(Order, row)
            accounts[order.portfolio_id].open_orders.append(order)
        return accounts, taken

    @staticmethod
    def _new_order(**values: Any) -> Order:
        return record(Order, values)

    async def _place(self, ticket: _Ticket, account: _Account) -> Order | None:
        """Run one order on the locked account; None when it must be placed on its own."""
        desk = self.desk
        portfolio, positions = account.portfolio, account.positions
        spec, info = ticket.spec, ticket.info
        limits = account.limits
        if (
            needs_history(limits)
            or limits.auto_stop_pct is not None
            or limits.auto_stop_atr_multiple is not None
            or not desk.market_open(info.asset_class)
        ):
            return None
        now = desk.container.clock.now()
        quote = await desk.quote(info.symbol)
        last = await desk.last_price(info.symbol)
        prices = {symbol: await desk.last_price(symbol) for symbol in positions}
        known = await reservation_prices(account.open_orders, prices, desk.last_price)
        qty, ref, figures = orders.pretrade(
            desk=desk,
            portfolio=portfolio,
            spec=spec,
            info=info,
            quote=quote,
            last=last,
            positions=positions,
            prices=prices,
            reserved=reserved_for(account.open_orders, positions, known),
        )
        check_limits(
            limits,
            sectors=desk.sectors(),
            symbol=info.symbol,
            side=spec.side,
            qty=qty,
            price=ref,
            positions=positions,
            prices=prices,
            account=figures,
        )
        order = orders.new_order(
            spec, portfolio, info.asset_class, now, ticket.source, make=self._new_order
        )
        self.rows.add(order)
        record_event(self.rows, order, order.status, now)
        updates: list[Update] = [(order.status, order, None)]
        updates += self._execute(account, order, quote, prices, now)
        if order.status in orders.OPEN_VALUES:
            account.open_orders.append(order)
        self.placed.append((ticket, order, portfolio.user_id, updates))
        return order

    def _execute(
        self,
        account: _Account,
        order: Order,
        quote: Quote,
        prices: dict[str, Decimal],
        now: datetime,
    ) -> list[Update]:
        """Fill what the new order fills now, as ``execute.execute_now`` does for one order."""
        portfolio, positions = account.portfolio, account.positions
        plan = execute.plan_fill(self.desk, order, quote, as_market=False)
        if plan.reject is not None:
            set_status(self.rows, order, OrderStatus.REJECTED, now, reason=plan.reject)
            return [("rejected", order, None)]
        if (
            plan.cancel is None
            and plan.fees is not None
            and not execute.affordable(
                portfolio, positions, prices, order, plan.qty, plan.price, plan.fees.total
            )
        ):
            plan = replace(plan, cancel=execute.UNAFFORDABLE)
        if plan.cancel is not None:
            set_status(self.rows, order, OrderStatus.CANCELED, now, reason=plan.cancel)
            return [("canceled", order, None)]
        if plan.fees is None:
            return []  # it rests on the book
        held = positions.get(order.symbol)
        booked, change = post_fill(
            self.rows,
            portfolio,
            order,
            held,
            qty=plan.qty,
            price=plan.price,
            fees=plan.fees,
            at=now,
            slippage=plan.slippage,
        )
        if change is not None:
            self._track(account, change)
        execute.count_fill(self.desk, order, plan.qty)
        updates: list[Update] = [(booked.event, order, booked)]
        if order.status in orders.OPEN_VALUES and order.time_in_force == TimeInForce.IOC.value:
            set_status(self.rows, order, OrderStatus.CANCELED, now, reason=execute.IOC_REMAINDER)
            updates.append(("canceled", order, None))
        return updates

    def _track(self, account: _Account, change: PositionChange) -> None:
        position = change.position
        opened_here = any(p is position for p in self.rows.of(Position))
        if change.closed:
            account.positions.pop(position.symbol, None)
            self.rows.changed.pop(position.id, None)
            if opened_here:
                self.rows.added[Position].remove(position)
            else:
                self.rows.closed.append(position)
        elif change.opened:
            account.positions[position.symbol] = position
        elif not opened_here:
            self.rows.changed[position.id] = position

    async def _write(
        self, store: BatchStore, accounts: dict[uuid.UUID, _Account], touch: set[uuid.UUID]
    ) -> None:
        """Write the batch: new rows, changed and closed positions, moved portfolios."""
        moved = [
            account.portfolio
            for account in accounts.values()
            if account.before
            != (account.portfolio.cash, account.portfolio.realized_pl, account.portfolio.ledger_seq)
        ]
        await store.write(
            Changes(
                added=self.rows.added,
                changed=list(self.rows.changed.values()),
                closed=self.rows.closed,
                portfolios=moved,
                touched_sessions=touch,
                now=self.desk.container.clock.now(),
            )
        )
