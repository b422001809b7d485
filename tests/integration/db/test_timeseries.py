"""Partition naming and bounds, identifier checks, and the TimescaleDB call's parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db import timeseries
from quantumtrade.db.timeseries import (
    create_timeseries_table,
    is_partition_name,
    months_between,
    partition_name,
)


def test_months_cover_the_range_in_utc() -> None:
    # 23:30 on Jan 31st at -05:00 is already February in UTC.
    start = datetime(2024, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    end = datetime(2024, 4, 1, tzinfo=UTC)
    assert months_between(start, end) == [
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
        datetime(2024, 4, 1, tzinfo=UTC),
    ]
    december = datetime(2024, 12, 5, tzinfo=UTC)
    assert months_between(december, december + timedelta(days=40))[-1] == datetime(
        2025, 1, 1, tzinfo=UTC
    )


def test_months_refuse_bad_ranges() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        months_between(now.replace(tzinfo=None), now)
    with pytest.raises(ValueError, match="ends before"):
        months_between(now, now - timedelta(days=40))
    with pytest.raises(ValueError, match="refusing"):
        months_between(now.replace(year=1900), now)


def test_partition_names() -> None:
    assert partition_name("trades", datetime(2025, 3, 1, tzinfo=UTC)) == "trades_p202503"
    assert is_partition_name("system_logs_p202512")
    assert not is_partition_name("system_logs_p202513")
    assert not is_partition_name("users_p202501")
    assert not is_partition_name("trades")
    with pytest.raises(ValueError, match="unsafe"):
        partition_name('trades"; --', datetime(2025, 3, 1, tzinfo=UTC))


class _NoOp:
    def get_bind(self) -> Any:
        raise AssertionError("validation must happen before touching the database")


@pytest.mark.parametrize(
    ("name", "time_column", "interval"),
    [
        ("Trades", "time", "7 days"),
        ("trades; drop table users", "time", "7 days"),
        ("trades", 'time") --', "7 days"),
        ("trades", "time", "1 month"),
        ("trades", "time", "7 days'); DROP TABLE users; --"),
    ],
)
def test_create_timeseries_table_checks_identifiers(
    name: str, time_column: str, interval: str
) -> None:
    with pytest.raises(ValueError, match=r"unsafe|unsupported"):
        create_timeseries_table(
            _NoOp(),  # type: ignore[arg-type]  # only the checks before get_bind run
            name,
            time_column=time_column,
            chunk_time_interval=interval,
        )


async def test_hypertable_call_binds_its_arguments(pg_engine: AsyncEngine) -> None:
    # TimescaleDB cannot be installed here: a stand-in with the same named parameters records
    # what the migration would pass, which proves the call parses and its parameters bind.
    async with pg_engine.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TABLE hypertable_calls (relation regclass, time_column name,"
                " chunk interval, default_indexes boolean, if_not_exists boolean,"
                " migrate_data boolean)"
            )
        )
        await conn.execute(
            sa.text(
                "CREATE FUNCTION create_hypertable(relation regclass, time_column_name name,"
                " chunk_time_interval anyelement DEFAULT NULL::bigint,"
                " create_default_indexes boolean DEFAULT true,"
                " if_not_exists boolean DEFAULT false, migrate_data boolean DEFAULT false)"
                " RETURNS void LANGUAGE sql AS $$ INSERT INTO hypertable_calls VALUES"
                " (relation, time_column_name, chunk_time_interval, create_default_indexes,"
                " if_not_exists, migrate_data) $$"
            )
        )
        await conn.execute(sa.text('CREATE TABLE "trades" (executed_at timestamptz NOT NULL)'))
        await conn.run_sync(timeseries._create_hypertable, "trades", "executed_at", "7 days")
        call = (await conn.execute(sa.text("SELECT * FROM hypertable_calls"))).one()
    assert tuple(call) == ("trades", "executed_at", timedelta(days=7), False, True, True)
