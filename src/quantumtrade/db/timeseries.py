"""Time-series tables: TimescaleDB hypertables, native monthly partitions, or plain SQLite tables.

The mode is chosen once, when a migration creates a table. Afterwards the catalog is the truth:
partition maintenance acts on the tables PostgreSQL reports as range-partitioned, so a server that
gains TimescaleDB later keeps maintaining the tables that were created natively.

Identifiers interpolated into DDL are either taken from the model metadata or checked against
``_IDENTIFIER``; partition bounds are rendered from ``datetime`` values, never from text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quantumtrade.db.models import timeseries_tables

if TYPE_CHECKING:
    from alembic.operations import Operations

Mode = Literal["sqlite", "timescaledb", "native"]

SCHEMA_LOCK_KEY = 0x5154_5F53_4348_454D
"""Key of the transaction-level advisory lock held while the schema or its partitions change."""

DEFAULT_MONTHS_AHEAD = 3
_MAX_MONTHS = 1200  # a century of monthly partitions; more is surely a mistaken range
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Fixed-length units only: TimescaleDB sizes chunks in microseconds, so months are not accepted.
_INTERVAL = re.compile(r"[1-9][0-9]{0,3} (minute|hour|day|week)s?")
_PARTITION_SUFFIX = re.compile(
    r"(?P<table>[a-z_][a-z0-9_]*)_p(?P<year>[0-9]{4})(?P<month>[0-9]{2})"
)


def timeseries_mode(sync_conn: Connection) -> Mode:
    """Return how this connection's database stores time series."""
    dialect = sync_conn.dialect.name
    if dialect == "sqlite":
        return "sqlite"
    if dialect != "postgresql":
        raise NotImplementedError(f"time-series tables are not supported on {dialect}")
    available = sync_conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = :name"),
        {"name": "timescaledb"},
    ).first()
    return "timescaledb" if available else "native"


def lock_schema(sync_conn: Connection) -> None:
    """Wait for, then hold until commit, the schema advisory lock (no-op outside PostgreSQL)."""
    if sync_conn.dialect.name == "postgresql":
        sync_conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def is_partition_name(name: str) -> bool:
    """Tell whether ``name`` is a monthly partition of a known time-series table."""
    match = _PARTITION_SUFFIX.fullmatch(name)
    return bool(match and match["table"] in timeseries_tables() and 1 <= int(match["month"]) <= 12)


def partition_name(table: str, month: datetime) -> str:
    """Return the name of ``table``'s partition holding ``month``."""
    name = f"{table}_p{_month_start(month):%Y%m}"
    return _identifier(name)


def months_between(start: datetime, end: datetime) -> list[datetime]:
    """Return the UTC month starts whose months overlap ``[start, end]``."""
    first, last = _month_start(start), _month_start(end)
    if last < first:
        raise ValueError(f"range ends before it starts: {start} > {end}")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > _MAX_MONTHS:
        raise ValueError(f"refusing to create {count} monthly partitions in one call")
    return [_add_months(first, offset) for offset in range(count)]


def create_timeseries_table(
    op: Operations,
    name: str,
    *columns: sa.schema.SchemaItem,
    time_column: str,
    months_ahead: int = DEFAULT_MONTHS_AHEAD,
    chunk_time_interval: str = "7 days",
    now: datetime | None = None,
    **kw: Any,
) -> sa.Table:
    """Create a time-series table in the form the connected database supports best.

    SQLite gets a plain table; PostgreSQL with TimescaleDB a hypertable; PostgreSQL without it a
    table partitioned by range on ``time_column`` with monthly partitions from the current month
    through ``months_ahead`` months ahead.
    """
    _identifier(name)
    _identifier(time_column)
    if not _INTERVAL.fullmatch(chunk_time_interval):
        raise ValueError(f"unsupported chunk interval: {chunk_time_interval!r}")
    bind = op.get_bind()
    mode = timeseries_mode(bind)
    if mode != "native":
        table = op.create_table(name, *columns, **kw)
        if mode == "timescaledb":
            _make_hypertable(bind, name, time_column, chunk_time_interval)
        return table
    table = op.create_table(
        name, *columns, postgresql_partition_by=f'RANGE ("{time_column}")', **kw
    )
    start = now or datetime.now(UTC)
    lock_schema(bind)
    _create_partitions(bind, name, months_between(start, _add_months(start, months_ahead)))
    return table


async def maintain_partitions(
    engine: AsyncEngine, *, now: datetime, months_ahead: int = DEFAULT_MONTHS_AHEAD
) -> list[str]:
    """Create the missing monthly partitions from ``now``'s month through ``months_ahead`` ahead.

    Return the names created. Safe to repeat and to run from several replicas at once; a no-op on
    SQLite and for hypertables.
    """
    if months_ahead < 0:
        raise ValueError("months_ahead must not be negative")
    months = months_between(now, _add_months(_month_start(now), months_ahead))

    def run(sync_conn: Connection) -> list[str]:
        if sync_conn.dialect.name != "postgresql":
            return []
        lock_schema(sync_conn)
        created: list[str] = []
        for table in partitioned_tables(sync_conn):
            created += _create_partitions(sync_conn, table, months)
        return created

    async with engine.begin() as conn:
        return await conn.run_sync(run)


async def ensure_partitions(
    engine_or_conn: AsyncEngine | AsyncConnection, table: str, start: datetime, end: datetime
) -> list[str]:
    """Create the monthly partitions ``table`` needs to accept rows timed in ``[start, end]``.

    Call before writing a historical range. Given a connection, the work joins its transaction
    (and holds the schema lock until it ends); given an engine, it commits on its own. Return the
    names created; a no-op where ``table`` is not natively partitioned.
    """
    if table not in timeseries_tables():
        raise ValueError(f"not a time-series table: {table!r}")
    months = months_between(start, end)

    def run(sync_conn: Connection) -> list[str]:
        if sync_conn.dialect.name != "postgresql":
            return []
        lock_schema(sync_conn)
        if table not in partitioned_tables(sync_conn):
            return []
        return _create_partitions(sync_conn, table, months)

    if isinstance(engine_or_conn, AsyncConnection):
        return await engine_or_conn.run_sync(run)
    async with engine_or_conn.begin() as conn:
        return await conn.run_sync(run)


def partitioned_tables(sync_conn: Connection) -> list[str]:
    """Return the model time-series tables that are range-partitioned in the current schema."""
    rows = sync_conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_partitioned_table p"
            " JOIN pg_class c ON c.oid = p.partrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND p.partstrat = 'r'"
        )
    ).scalars()
    known = timeseries_tables()
    return sorted(name for name in rows if name in known)


def existing_partitions(sync_conn: Connection, table: str) -> set[str]:
    """Return the names of ``table``'s partitions."""
    rows = sync_conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": _quoted(table)},
    ).scalars()
    return set(rows)


def _create_partitions(sync_conn: Connection, table: str, months: Sequence[datetime]) -> list[str]:
    # Callers hold the schema lock, so the existence check below cannot go stale before the
    # CREATE; IF NOT EXISTS still guards against a peer that creates partitions without it.
    existing = existing_partitions(sync_conn, table)
    created: list[str] = []
    for month in months:
        name = partition_name(table, month)
        if name in existing:
            continue
        # DDL takes no bind parameters: bounds are rendered from datetimes, never from text.
        sync_conn.execute(
            sa.text(
                f"CREATE TABLE IF NOT EXISTS {_quoted(name)} PARTITION OF {_quoted(table)}"
                f" FOR VALUES FROM ({_bound(month)}) TO ({_bound(_add_months(month, 1))})"
            )
        )
        created.append(name)
    return created


def _make_hypertable(sync_conn: Connection, table: str, time_column: str, interval: str) -> None:
    sync_conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    _create_hypertable(sync_conn, table, time_column, interval)


def _create_hypertable(sync_conn: Connection, table: str, time_column: str, interval: str) -> None:
    # Parameters go in as text and are cast in SQL, since asyncpg would want a timedelta for an
    # interval. TimescaleDB's default (time DESC) index is skipped: the models do not declare it.
    sync_conn.execute(
        sa.text(
            "SELECT create_hypertable(CAST(CAST(:table AS text) AS regclass),"
            " CAST(CAST(:column AS text) AS name),"
            " chunk_time_interval => CAST(CAST(:interval AS text) AS interval),"
            " create_default_indexes => FALSE, if_not_exists => TRUE, migrate_data => TRUE)"
        ),
        {"table": _quoted(table), "column": time_column, "interval": interval},
    )


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return name


def _quoted(name: str) -> str:
    # The regex admits no quote characters, so wrapping is enough; quoting keeps words like
    # "time" or "end" from being read as keywords.
    return f'"{_identifier(name)}"'


def _bound(month: datetime) -> str:
    return f"'{month:%Y-%m-%d %H:%M:%S}+00'"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
    return moment.astimezone(UTC)


def _month_start(moment: datetime) -> datetime:
    moment = _utc(moment)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    start = _month_start(moment)
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
