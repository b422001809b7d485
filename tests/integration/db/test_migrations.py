"""The packaged migrations: up, down and up again, schema parity with the models, partitions."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import quantumtrade
from quantumtrade.db.engine import create_engine
from quantumtrade.db.migrate import current_revision, downgrade, upgrade, upgrade_url
from quantumtrade.db.models import Base, SystemLog, Trade, timeseries_tables
from quantumtrade.db.timeseries import (
    ensure_partitions,
    is_partition_name,
    maintain_partitions,
    months_between,
    partition_name,
    timeseries_mode,
)

MODEL_TABLES = set(Base.metadata.tables)
HEAD = "0009"


def _month(moment: datetime, ahead: int) -> datetime:
    """Return the middle of the month ``ahead`` months after ``moment``'s."""
    index = moment.year * 12 + moment.month - 1 + ahead
    return datetime(index // 12, index % 12 + 1, 15, 12, tzinfo=UTC)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # Monthly partitions are created from the calendar, not declared by the models.
    return not (type_ == "table" and name is not None and is_partition_name(name))


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    def compare(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "include_name": _include_name}
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def assert_round_trip(engine: AsyncEngine) -> None:
    assert await table_names(engine) == set()
    assert await current_revision(engine) is None

    await upgrade(engine)
    assert {t for t in await table_names(engine) if not is_partition_name(t)} == MODEL_TABLES | {
        "alembic_version"
    }
    assert await current_revision(engine) == HEAD
    assert await schema_diff(engine) == []

    await downgrade(engine)
    assert await table_names(engine) == {"alembic_version"}
    assert await current_revision(engine) is None

    await upgrade(engine)
    assert await current_revision(engine) == HEAD
    assert await schema_diff(engine) == []


async def test_sqlite_up_down_up_matches_models(sqlite_engine: AsyncEngine) -> None:
    await assert_round_trip(sqlite_engine)


async def test_postgres_up_down_up_matches_models(pg_engine: AsyncEngine) -> None:
    await assert_round_trip(pg_engine)


async def test_mode_follows_the_database(
    migrated_sqlite: AsyncEngine, migrated_pg: AsyncEngine
) -> None:
    async with migrated_sqlite.connect() as conn:
        assert await conn.run_sync(timeseries_mode) == "sqlite"
    async with migrated_pg.connect() as conn:
        # TimescaleDB is not installed on the test server, so native partitioning is used.
        assert await conn.run_sync(timeseries_mode) == "native"


async def test_sqlite_maintenance_is_a_no_op(migrated_sqlite: AsyncEngine) -> None:
    now = datetime.now(UTC)
    assert await maintain_partitions(migrated_sqlite, now=now) == []
    assert await ensure_partitions(migrated_sqlite, "trades", now - timedelta(days=800), now) == []


async def test_postgres_timeseries_tables_are_range_partitioned(
    migrated_pg: AsyncEngine,
) -> None:
    now = datetime.now(UTC)
    async with migrated_pg.connect() as conn:
        keys = (
            await conn.execute(
                sa.text(
                    "SELECT c.relname, p.partstrat::text, p.partnatts, a.attname"
                    " FROM pg_partitioned_table p"
                    " JOIN pg_class c ON c.oid = p.partrelid"
                    " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
                )
            )
        ).all()
        children = (
            await conn.execute(
                sa.text(
                    "SELECT parent.relname, child.relname FROM pg_inherits i"
                    " JOIN pg_class parent ON parent.oid = i.inhparent"
                    " JOIN pg_class child ON child.oid = i.inhrelid"
                    " WHERE child.relkind = 'r'"
                )
            )
        ).all()

    assert {name: (strategy, count, column) for name, strategy, count, column in keys} == {
        name: ("r", 1, column) for name, column in timeseries_tables().items()
    }
    assert len(timeseries_tables()) == 6
    expected = {
        (table, partition_name(table, month))
        for table in timeseries_tables()
        for month in months_between(now, _month(now, 3))
    }
    assert set(children) == expected


def _rows(when: datetime) -> list[tuple[sa.Table, dict[str, Any]]]:
    trade = {
        "id": uuid.uuid4(),
        "executed_at": when,
        "portfolio_id": uuid.uuid4(),
        "symbol": "AAPL",
        "side": "buy",
        "qty": Decimal(1),
        "price": Decimal("190.25"),
    }
    log = {"id": uuid.uuid4(), "time": when, "level": "ERROR", "logger": "t", "message": "m"}
    return [(Trade.__table__, trade), (SystemLog.__table__, log)]


async def insert(engine: AsyncEngine, when: datetime) -> None:
    """Insert one trade and one log line timed ``when``, in one transaction."""
    async with engine.begin() as conn:
        for table, values in _rows(when):
            await conn.execute(sa.insert(table).values(**values))


async def count(engine: AsyncEngine, table: sa.Table, column: str, when: datetime) -> int:
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(table.c[column] == when)
        return int((await conn.execute(query)).scalar_one())


async def test_postgres_accepts_next_month_and_maintains_ahead(migrated_pg: AsyncEngine) -> None:
    now = datetime.now(UTC)
    await insert(migrated_pg, _month(now, 1))
    assert await count(migrated_pg, Trade.__table__, "executed_at", _month(now, 1)) == 1
    assert await count(migrated_pg, SystemLog.__table__, "time", _month(now, 1)) == 1

    # The migration already covered this window, so there is nothing to add.
    assert await maintain_partitions(migrated_pg, now=now) == []

    later = _month(now, 3)
    three_ahead = _month(later, 3)
    with pytest.raises(sa.exc.IntegrityError, match="no partition"):
        await insert(migrated_pg, three_ahead)

    created = await maintain_partitions(migrated_pg, now=later)
    assert sorted(created) == sorted(
        partition_name(table, month)
        for table in timeseries_tables()
        for month in months_between(_month(later, 1), three_ahead)
    )
    await insert(migrated_pg, three_ahead)
    assert await count(migrated_pg, Trade.__table__, "executed_at", three_ahead) == 1

    assert await maintain_partitions(migrated_pg, now=later) == []


async def test_postgres_concurrent_maintenance_creates_each_partition_once(
    migrated_pg: AsyncEngine, fresh_pg_url: str
) -> None:
    later = _month(datetime.now(UTC), 12)
    other = create_engine(fresh_pg_url, pool_size=1, max_overflow=0)
    try:
        first, second = await asyncio.gather(
            maintain_partitions(migrated_pg, now=later),
            maintain_partitions(other, now=later),
        )
    finally:
        await other.dispose()
    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == 4 * len(timeseries_tables())


async def test_postgres_ensure_partitions_opens_history(migrated_pg: AsyncEngine) -> None:
    two_years_ago = datetime.now(UTC) - timedelta(days=730)
    with pytest.raises(sa.exc.IntegrityError, match="no partition"):
        await insert(migrated_pg, two_years_ago)

    created = await ensure_partitions(migrated_pg, "trades", two_years_ago, two_years_ago)
    assert created == [partition_name("trades", two_years_ago)]
    async with migrated_pg.begin() as conn:
        # On a caller's connection the partition and the rows commit together.
        assert await ensure_partitions(conn, "system_logs", two_years_ago, two_years_ago) == [
            partition_name("system_logs", two_years_ago)
        ]
    await insert(migrated_pg, two_years_ago)
    assert await count(migrated_pg, Trade.__table__, "executed_at", two_years_ago) == 1

    assert await ensure_partitions(migrated_pg, "trades", two_years_ago, two_years_ago) == []


async def test_ensure_partitions_refuses_bad_arguments(sqlite_engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    for table in ("users", 'trades"; DROP TABLE users; --', "Trades"):
        with pytest.raises(ValueError, match="not a time-series table"):
            await ensure_partitions(sqlite_engine, table, now, now)
    with pytest.raises(ValueError, match="naive"):
        await ensure_partitions(sqlite_engine, "trades", now.replace(tzinfo=None), now)
    with pytest.raises(ValueError, match="ends before"):
        await ensure_partitions(sqlite_engine, "trades", now, now - timedelta(days=62))


async def test_postgres_concurrent_in_process_upgrades_take_turns(
    pg_engine: AsyncEngine, fresh_pg_url: str
) -> None:
    engines = [create_engine(fresh_pg_url, pool_size=1, max_overflow=0) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert await current_revision(pg_engine) == HEAD
    assert await schema_diff(pg_engine) == []


async def test_postgres_replicas_starting_together_migrate_once(
    pg_engine: AsyncEngine, fresh_pg_url: str
) -> None:
    # Separate processes share nothing but the database: only the advisory lock orders them.
    script = "import sys; from quantumtrade.db.migrate import upgrade_url; upgrade_url(sys.argv[1])"
    source_root = str(Path(quantumtrade.__file__).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")])),
    }
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, fresh_pg_url, stderr=asyncio.subprocess.PIPE, env=env
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*(replica.communicate() for replica in replicas))
    errors = [
        stderr.decode()
        for replica, (_, stderr) in zip(replicas, results, strict=True)
        if replica.returncode != 0
    ]
    assert errors == []
    assert await current_revision(pg_engine) == HEAD
    assert await schema_diff(pg_engine) == []


async def assert_standalone_upgrade(url: str) -> None:
    # upgrade_url runs its own event loop, as the CLI does, so it needs a thread without one.
    await asyncio.to_thread(upgrade_url, url)
    engine = create_engine(url)
    try:
        assert await current_revision(engine) == HEAD
        assert await schema_diff(engine) == []
    finally:
        await engine.dispose()


async def test_sqlite_upgrade_url_runs_standalone(fresh_sqlite_url: str) -> None:
    await assert_standalone_upgrade(fresh_sqlite_url)


async def test_postgres_upgrade_url_runs_standalone(fresh_pg_url: str) -> None:
    await assert_standalone_upgrade(fresh_pg_url)
