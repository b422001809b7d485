"""The group commit's reads and writes: SQLAlchemy Core anywhere, asyncpg on PostgreSQL.

A batch (:mod:`quantumtrade.services.trading.batch`) decides its orders in memory; what it
reads first and writes last goes through one of these stores, inside the batch's transaction.
:class:`CoreStore` speaks SQLAlchemy Core and runs on every database. :class:`PgStore` sends
the same statements to asyncpg directly, with arrays for the id lists (one statement text
whatever the batch's size), and writes every new and changed row in one statement: on
PostgreSQL that is several times cheaper per statement than building, compiling and binding
them through SQLAlchemy, and a batch makes fewer round trips.
Both return plain mappings keyed by column name and take the same rows; the tests run the
batch on both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from quantumtrade.db.models import (
    AuthSession,
    LedgerEntry,
    Order,
    OrderEvent,
    Portfolio,
    Position,
    Trade,
    User,
)
from quantumtrade.db.models.base import utcnow

Row = Mapping[Any, Any]
# The rows a batch adds, table by table, in the order they are written (orders first: the
# other rows name them); an order event's id is the database's.
INSERTED: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
    (Order, ()),
    (Position, ()),
    (OrderEvent, ("id",)),
    (LedgerEntry, ()),
    (Trade, ()),
)
POSITION_FIELDS = ("qty", "avg_entry_price", "cost_basis", "realized_pl", "opened_at", "updated_at")
PORTFOLIO_FIELDS = ("cash", "realized_pl", "ledger_seq")
SESSION_FIELDS = ("id", "user_id", "revoked_at", "expires_at", "last_used_at", "is_active")


def table_of(model: type[Any]) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def column_values(instance: Any, table: sa.Table, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return an ORM instance's column values, with the column defaults the ORM would add."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.key in skip:
            continue
        value = getattr(instance, column.key)
        default = column.default
        if value is None and default is not None and not column.nullable:
            arg = getattr(default, "arg", None)
            value = arg(None) if callable(arg) else arg
        row[column.key] = value
    return row


class BatchStore(Protocol):
    """What a batch reads and writes, in the transaction it runs in."""

    async def first_portfolios(self, users: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Each user's first portfolio (the oldest; ties by id), as ``default_portfolio``."""
        ...

    async def open(
        self, session_ids: Collection[uuid.UUID], wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> tuple[dict[uuid.UUID, Row], list[Row]]:
        """Read the sessions, and lock the (portfolio id, owner id) pairs' portfolios.

        Return the sessions by id (``SESSION_FIELDS``; ``is_active`` is the user's) and the
        locked portfolios' rows. Portfolios are locked in id order, so writers never deadlock.
        """
        ...

    async def state(
        self,
        portfolio_ids: Collection[uuid.UUID],
        statuses: Sequence[str],
        pairs: Collection[tuple[uuid.UUID, str]],
    ) -> tuple[list[Row], list[Row], dict[tuple[uuid.UUID, str], uuid.UUID]]:
        """Read the locked portfolios' positions and orders in ``statuses``, and the orders
        already holding these (portfolio id, client_order_id) pairs."""
        ...

    async def write(self, changes: Changes) -> None:
        """Write everything the batch changed."""
        ...


@dataclass(frozen=True)
class Changes:
    """What a batch writes: new rows per model, positions changed or closed, portfolios moved."""

    added: Mapping[type[Any], Sequence[Any]]
    changed: Sequence[Position]
    closed: Sequence[Position]
    portfolios: Sequence[Portfolio]
    touched_sessions: Collection[uuid.UUID]
    now: datetime


class CoreStore:
    """The batch's statements through SQLAlchemy Core: any database (SQLite here)."""

    def __init__(self, db: AsyncConnection) -> None:
        self.db = db

    async def open(
        self, session_ids: Collection[uuid.UUID], wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> tuple[dict[uuid.UUID, Row], list[Row]]:
        return await self.sessions(session_ids), await self.lock(wanted) if wanted else []

    async def state(
        self,
        portfolio_ids: Collection[uuid.UUID],
        statuses: Sequence[str],
        pairs: Collection[tuple[uuid.UUID, str]],
    ) -> tuple[list[Row], list[Row], dict[tuple[uuid.UUID, str], uuid.UUID]]:
        return (
            await self.positions(portfolio_ids),
            await self.open_orders(portfolio_ids, statuses),
            await self.client_order_ids(pairs) if pairs else {},
        )

    async def sessions(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Row]:
        result = await self.db.execute(
            sa.select(
                AuthSession.id,
                AuthSession.user_id,
                AuthSession.revoked_at,
                AuthSession.expires_at,
                AuthSession.last_used_at,
                User.is_active,
            )
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id.in_(ids))
        )
        return {row.id: row._mapping for row in result}

    async def first_portfolios(self, users: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        result = await self.db.execute(
            sa.select(Portfolio.user_id, Portfolio.id)
            .where(Portfolio.user_id.in_(users))
            .order_by(Portfolio.created_at.desc(), Portfolio.id.desc())
        )
        return {row.user_id: row.id for row in result}  # the last row read is the first made

    async def lock(self, wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[Row]:
        ids = (
            sa.select(Portfolio.id)
            .where(sa.tuple_(Portfolio.id, Portfolio.user_id).in_(wanted))
            .order_by(Portfolio.id)
            .with_for_update()
        )
        # The same lock as ``lock_portfolio``: a row lock on PostgreSQL, the write lock on SQLite.
        result = await self.db.execute(
            sa.update(Portfolio)
            .where(Portfolio.id.in_(ids.scalar_subquery()))
            .values(version=Portfolio.version + 1)
            .returning(*table_of(Portfolio).columns)
        )
        return [row._mapping for row in result.all()]

    async def positions(self, portfolio_ids: Collection[uuid.UUID]) -> list[Row]:
        result = await self.db.execute(
            sa.select(*table_of(Position).columns).where(Position.portfolio_id.in_(portfolio_ids))
        )
        return [row._mapping for row in result]

    async def open_orders(
        self, portfolio_ids: Collection[uuid.UUID], statuses: Sequence[str]
    ) -> list[Row]:
        result = await self.db.execute(
            sa.select(*table_of(Order).columns).where(
                Order.portfolio_id.in_(portfolio_ids), Order.status.in_(statuses)
            )
        )
        return [row._mapping for row in result]

    async def client_order_ids(
        self, pairs: Collection[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
        result = await self.db.execute(
            sa.select(Order.portfolio_id, Order.client_order_id, Order.id).where(
                sa.tuple_(Order.portfolio_id, Order.client_order_id).in_(sorted(pairs, key=str))
            )
        )
        return {(row.portfolio_id, row.client_order_id): row.id for row in result}

    async def write(self, changes: Changes) -> None:
        db = self.db
        if changes.closed:  # first: a position closed and reopened keeps its key
            await db.execute(
                sa.delete(Position).where(Position.id.in_([p.id for p in changes.closed]))
            )
        if changes.touched_sessions:
            await db.execute(
                sa.update(AuthSession)
                .where(AuthSession.id.in_(changes.touched_sessions))
                .values(last_used_at=changes.now)
            )
        for model, skip in INSERTED:
            table = table_of(model)
            added = changes.added.get(model)
            if added:
                await db.execute(table.insert(), [column_values(i, table, skip) for i in added])
        for table, fields, items in (
            (table_of(Position), POSITION_FIELDS, changes.changed),
            (table_of(Portfolio), PORTFOLIO_FIELDS, changes.portfolios),
        ):
            if items:
                await db.execute(
                    table.update()
                    .where(table.c.id == sa.bindparam("_id"))
                    .values({name: sa.bindparam(f"_{name}") for name in fields}),
                    [
                        {"_id": item.id, **{f"_{name}": getattr(item, name) for name in fields}}
                        for item in items
                    ],
                )


def _names(table: sa.Table, skip: Collection[str] = ()) -> list[str]:
    return [column.name for column in table.columns if column.name not in skip]


def _impl(column: sa.Column[Any]) -> Any:
    """The column's SQL type, under any ``TypeDecorator`` (Money, UTCDateTime)."""
    kind: Any = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _numeric_columns(table: sa.Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(_impl(c), sa.Numeric))


def _json_columns(table: sa.Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if isinstance(c.type, sa.JSON))


def _pg_type(column: sa.Column[Any]) -> str:
    """The PostgreSQL type of an array parameter that carries this column's values."""
    kind = _impl(column)
    for sa_type, name in (
        (sa.Numeric, "numeric"),
        (sa.DateTime, "timestamptz"),
        (sa.SmallInteger, "smallint"),
        (sa.BigInteger, "bigint"),
        (sa.Integer, "integer"),
        (sa.Boolean, "boolean"),
        (sa.Uuid, "uuid"),
        (sa.String, "text"),
    ):
        if isinstance(kind, sa_type):
            return name
    raise TypeError(f"no array type for {column}")


class _Arrays:
    """Numbers the array parameters ($1, $2, ...) of one statement, column by column."""

    def __init__(self) -> None:
        self.count = 0

    def take(self, table: sa.Table, names: Sequence[str]) -> str:
        """``unnest($i::type[], ...)`` over these columns, each passed as one array."""
        arrays = []
        for name in names:
            self.count += 1
            kind = _pg_type(table.c[name])
            # Numbers travel as text: asyncpg's binary NUMERIC encoder is about four times
            # slower than Decimal's own str(); the server reads the same exact value.
            cast = "::text[]::numeric[]" if kind == "numeric" else f"::{kind}[]"
            arrays.append(f"${self.count}{cast}")
        return f"unnest({', '.join(arrays)})"


def _write_statement() -> str:
    """Every row a batch writes, in one statement: one array parameter per column.

    Inserts for each table of ``INSERTED``, then the updates of positions and portfolios, as
    data-modifying CTEs. They touch different rows, and foreign keys are checked at the end of
    the statement, when the orders the other rows name are in. Closed positions are deleted
    before it: a position closed and reopened in one batch keeps its (portfolio, symbol) key.
    """
    arrays = _Arrays()
    parts = []
    for model, skip in INSERTED:
        table = table_of(model)
        names = _names(table, skip)
        parts.append(
            f"new_{table.name} AS (INSERT INTO {table.name} ({', '.join(names)})"  # noqa: S608
            f" SELECT * FROM {arrays.take(table, names)})"
        )
    for table, fields in ((_POSITIONS, POSITION_FIELDS), (_PORTFOLIOS, PORTFOLIO_FIELDS)):
        sets = ", ".join(f"{name} = v.{name}" for name in fields)
        source = arrays.take(table, ("id", *fields))
        if table is _PORTFOLIOS:  # as the ORM's onupdate does
            sets += f", updated_at = ${arrays.count + 1}"
        parts.append(
            f"set_{table.name} AS (UPDATE {table.name} AS t SET {sets}"  # noqa: S608
            f" FROM {source} AS v(id, {', '.join(fields)}) WHERE t.id = v.id)"
        )
    return f"WITH {', '.join(parts)} SELECT 1"


_PORTFOLIOS, _POSITIONS, _ORDERS = table_of(Portfolio), table_of(Position), table_of(Order)
_SESSION_COLUMNS = [f"u.{name}" if name == "is_active" else f"s.{name}" for name in SESSION_FIELDS]
_SQL = {
    "first_portfolios": (
        "SELECT user_id, id FROM portfolios WHERE user_id = ANY($1::uuid[])"
        " ORDER BY created_at DESC, id DESC"
    ),
    # The sessions, and the same lock as ``lock_portfolio`` (with updated_at, as the ORM's
    # onupdate sets it), in one round trip. Reading the sessions in the lock's statement is
    # safe: the portfolio lock does not guard them, a later read would be no fresher.
    "open": (
        "WITH locked AS (UPDATE portfolios SET version = version + 1, updated_at = $4"  # noqa: S608
        " WHERE id IN (SELECT p.id FROM portfolios p"
        " JOIN unnest($2::uuid[], $3::uuid[]) AS w(id, user_id)"
        " ON p.id = w.id AND p.user_id = w.user_id ORDER BY p.id FOR UPDATE OF p)"
        " RETURNING portfolios)"
        " SELECT ARRAY(SELECT locked.portfolios FROM locked) AS portfolios,"
        f" ARRAY(SELECT ROW({', '.join(_SESSION_COLUMNS)})"
        " FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ANY($1::uuid[]))"
        " AS sessions"
    ),
    # After the lock, in a statement of its own: it must see what the lock waited for.
    "state": (
        "SELECT ARRAY(SELECT p FROM positions p WHERE p.portfolio_id = ANY($1::uuid[]))"
        " AS positions,"
        " ARRAY(SELECT o FROM orders o WHERE o.portfolio_id = ANY($1::uuid[])"
        " AND o.status = ANY($2::text[])) AS orders,"
        " ARRAY(SELECT ROW(o.portfolio_id, o.client_order_id, o.id) FROM orders o"
        " JOIN unnest($3::uuid[], $4::text[]) AS w(portfolio_id, client_order_id)"
        " ON o.portfolio_id = w.portfolio_id AND o.client_order_id = w.client_order_id)"
        " AS taken"
    ),
    "touch": "UPDATE auth_sessions SET last_used_at = $2 WHERE id = ANY($1::uuid[])",
    "close": "DELETE FROM positions WHERE id = ANY($1::uuid[])",
    "write": _write_statement(),
}
_INSERTED_COLUMNS = {model: _names(table_of(model), skip) for model, skip in INSERTED}
_WRITTEN: tuple[type[Any], ...] = (*(model for model, _skip in INSERTED), Portfolio)
_NUMERIC = {model: _numeric_columns(table_of(model)) for model in _WRITTEN}
_PORTFOLIO_JSON = _json_columns(_PORTFOLIOS)


def _numeric_text(value: Any) -> str | None:
    """A NUMERIC parameter as text (see ``_Arrays.take``); refuses what Money refuses."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"refusing to store a non-finite decimal: {number}")
    return str(number)


class PgStore:
    """The batch's statements straight to asyncpg, in the transaction the caller opened."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver  # an asyncpg connection

    async def first_portfolios(self, users: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        rows = await self.driver.fetch(_SQL["first_portfolios"], list(users))
        return {row["user_id"]: row["id"] for row in rows}

    async def open(
        self, session_ids: Collection[uuid.UUID], wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> tuple[dict[uuid.UUID, Row], list[Row]]:
        found = await self.driver.fetchrow(
            _SQL["open"],
            list(session_ids),
            [p for p, _u in wanted],
            [u for _p, u in wanted],
            utcnow(),
        )
        sessions: dict[uuid.UUID, Row] = {
            row[0]: dict(zip(SESSION_FIELDS, row, strict=True)) for row in found[1]
        }
        portfolios: list[Row] = []
        for row in found[0]:
            values = dict(row)
            for name in _PORTFOLIO_JSON:
                if isinstance(values[name], str):
                    values[name] = json.loads(values[name])
            portfolios.append(values)
        return sessions, portfolios

    async def state(
        self,
        portfolio_ids: Collection[uuid.UUID],
        statuses: Sequence[str],
        pairs: Collection[tuple[uuid.UUID, str]],
    ) -> tuple[list[Row], list[Row], dict[tuple[uuid.UUID, str], uuid.UUID]]:
        found = await self.driver.fetchrow(
            _SQL["state"],
            list(portfolio_ids),
            list(statuses),
            [p for p, _c in pairs],
            [c for _p, c in pairs],
        )
        taken = {(pid, cid): order_id for pid, cid, order_id in found[2]}
        return list(found[0]), list(found[1]), taken

    async def write(self, changes: Changes) -> None:
        driver = self.driver
        if changes.closed:
            await driver.execute(_SQL["close"], [p.id for p in changes.closed])
        if changes.touched_sessions:
            await driver.execute(_SQL["touch"], list(changes.touched_sessions), changes.now)
        if not (changes.changed or changes.portfolios or any(changes.added.values())):
            return
        args: list[list[Any]] = []
        for model, skip in INSERTED:
            names = _INSERTED_COLUMNS[model]
            numeric = _NUMERIC[model]
            table = table_of(model)
            rows = [column_values(item, table, skip) for item in changes.added.get(model, ())]
            for name in names:
                if name in numeric:
                    args.append([_numeric_text(row[name]) for row in rows])
                else:
                    args.append([row[name] for row in rows])
        for items, fields, numeric in (
            (changes.changed, POSITION_FIELDS, _NUMERIC[Position]),
            (changes.portfolios, PORTFOLIO_FIELDS, _NUMERIC[Portfolio]),
        ):
            args.append([item.id for item in items])
            for name in fields:
                values = [getattr(item, name) for item in items]
                args.append([_numeric_text(v) for v in values] if name in numeric else values)
        await driver.execute(_SQL["write"], *args, utcnow())
