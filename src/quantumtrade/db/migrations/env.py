"""Alembic environment for QuantumTrade.

Runs in one of two ways:

* in-process: ``config.attributes["connection"]`` holds a sync connection that the caller opened
  inside ``AsyncConnection.run_sync``; the migrations join the caller's transaction;
* standalone: an async engine is built from ``sqlalchemy.url`` and driven with ``asyncio.run``.

On PostgreSQL the upgrade holds a transaction-level advisory lock, so replicas that start together
migrate one after the other and the later ones find the schema already at head.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import quantumtrade.db.models  # noqa: F401  (registers every table on Base.metadata)
from quantumtrade.db.engine import create_engine
from quantumtrade.db.models import Base
from quantumtrade.db.timeseries import is_partition_name, lock_schema

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave monthly partitions out of autogenerate: they are data-driven, not model tables."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on ``connection`` under the schema lock."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    with context.begin_transaction():
        lock_schema(connection)
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    """Open an engine for ``url``, migrate, and dispose of it."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate on the caller's connection if given one, else on a connection of our own."""
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    asyncio.run(run_async_migrations(url))


if context.is_offline_mode():
    # Time-series DDL depends on what the live server offers (TimescaleDB or not).
    raise RuntimeError("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
