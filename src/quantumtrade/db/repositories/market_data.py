"""Bulk storage of OHLCV bars in ``market_data``.

PostgreSQL ingests with binary COPY into a temporary table and one ``INSERT ... SELECT ... ON
CONFLICT`` (exact NUMERIC in the table; the float64 inputs are cast in SQL); SQLite with one
``executemany``. Reads return the standard bar frame (UTC ``time`` index, float64
:data:`~quantumtrade.domain.market.BAR_COLUMNS`).

Coarser bars are aggregated from stored 1Min bars when no bars of the requested timeframe are
stored: in SQL on PostgreSQL (``date_bin``, or ``time_bucket`` under TimescaleDB) and with
:func:`~quantumtrade.domain.market.resample_bars` on SQLite, giving the same bars either way.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quantumtrade.db.timeseries import Mode, ensure_partitions, timeseries_mode
from quantumtrade.domain.market import BAR_COLUMNS, Timeframe, empty_bar_frame, resample_bars

TABLE = "market_data"
_PRICES = ("open", "high", "low", "close", "volume", "vwap")
_BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # a UTC midnight: daily buckets start there
_modes: weakref.WeakKeyDictionary[Any, Mode] = weakref.WeakKeyDictionary()


async def upsert_bars(
    engine: AsyncEngine, symbol: str, timeframe: Timeframe, frame: pd.DataFrame, *, source: str
) -> int:
    """Insert or replace ``frame``'s bars of ``symbol`` and ``timeframe``; return the row count."""
    if frame.empty:
        return 0
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        raise ValueError("bar times must be timezone-aware")
    if index.has_duplicates:
        raise ValueError("bar times must be unique")
    micros = index.tz_convert("UTC").as_unit("us").asi8
    columns = {
        name: (
            frame[name].to_numpy(dtype="float64", na_value=np.nan)
            if name in frame.columns
            else np.full(len(frame), np.nan)
        )
        for name in BAR_COLUMNS
    }
    for name in ("open", "high", "low", "close", "volume"):
        if not np.isfinite(columns[name]).all():
            raise ValueError(f"{name} must be finite in every bar")
    if engine.dialect.name == "postgresql":
        first, last = index.min().to_pydatetime(), index.max().to_pydatetime()
        await ensure_partitions(engine, TABLE, first, last)
        return await _copy_upsert(engine, symbol, timeframe, micros, columns, source)
    return await _sqlite_upsert(engine, symbol, timeframe, micros, columns, source)


async def load_bars(
    engine: AsyncEngine,
    symbol: str,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
) -> pd.DataFrame:
    """Return the first ``limit`` bars with ``start <= time < end``, stored or aggregated."""
    if limit is not None and limit < 1:
        raise ValueError("limit must be positive")
    start, end = _aware(start), _aware(end)
    async with engine.connect() as conn:
        frame = await _select(conn, symbol, timeframe.value, start, end, limit)
        if not frame.empty or timeframe is Timeframe.MIN_1:
            return frame
        step = timeframe.delta
        # Only buckets starting in [start, end), each with all of its minutes.
        lo, hi = _ceil(start, step), _ceil(end, step)
        if hi <= lo:
            return empty_bar_frame()
        if conn.dialect.name != "postgresql":
            minutes = await _select(conn, symbol, Timeframe.MIN_1.value, lo, hi, None)
            out = resample_bars(minutes, timeframe)
            return out.iloc[:limit] if limit is not None else out
        mode = await _mode(conn)
        return await _aggregate_pg(
            conn, symbol, step, lo, hi, limit, timescale=mode == "timescaledb"
        )


async def latest_bar(engine: AsyncEngine, symbol: str) -> tuple[Timeframe, pd.Series] | None:
    """Return the most recent stored bar of ``symbol`` (1Min preferred) and its timeframe."""
    query = sa.text(
        "SELECT timeframe, time FROM market_data WHERE symbol = :symbol"
        " ORDER BY (timeframe = '1Min') DESC, time DESC LIMIT 1"
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query, {"symbol": symbol})).first()
        if row is None:
            return None
        timeframe = Timeframe(row[0])
        stamp = pd.Timestamp(row[1])
        moment = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()
        frame = await _select(
            conn, symbol, timeframe.value, moment, moment + timedelta(seconds=1), 1
        )
    return timeframe, frame.iloc[-1]


async def stored_symbols(engine: AsyncEngine) -> list[str]:
    """Return the symbols that have stored bars."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT DISTINCT symbol FROM market_data ORDER BY 1"))
        return [str(row[0]) for row in rows]


# -- writing ------------------------------------------------------------------------------------


async def _copy_upsert(
    engine: AsyncEngine,
    symbol: str,
    timeframe: Timeframe,
    micros: np.ndarray,
    columns: dict[str, np.ndarray],
    source: str,
) -> int:
    records = list(
        zip(micros.tolist(), *(columns[name].tolist() for name in BAR_COLUMNS), strict=True)
    )
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        # One asyncpg transaction for the whole batch: SQLAlchemy's would only begin lazily.
        async with driver.transaction():
            status = await _copy_in_transaction(driver, symbol, timeframe, records, source)
    return int(str(status).rsplit(" ", 1)[-1])


# float8 -> numeric keeps 15 significant digits: the decimal the float was parsed from.
_INSERT_NEW = (
    "INSERT INTO market_data (symbol, timeframe, time, open, high, low, close, volume,"
    " vwap, trade_count, source)"
    " SELECT $1, $2, timestamptz 'epoch' + t * interval '1 microsecond',"
    " open::numeric, high::numeric, low::numeric,"
    " close::numeric, volume::numeric,"
    " NULLIF(vwap, 'NaN')::numeric, NULLIF(trade_count, 'NaN')::integer, $3"
    " FROM _bars_in"
)
_ON_CONFLICT = (
    " ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = EXCLUDED.open,"
    " high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,"
    " volume = EXCLUDED.volume, vwap = EXCLUDED.vwap,"
    " trade_count = EXCLUDED.trade_count, source = EXCLUDED.source"
)
_INSERT_UPSERT = _INSERT_NEW + _ON_CONFLICT


async def _copy_in_transaction(
    driver: Any, symbol: str, timeframe: Timeframe, records: list[tuple[Any, ...]], source: str
) -> str:
    await driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _bars_in (t int8, open float8, high float8,"
        " low float8, close float8, volume float8, vwap float8, trade_count float8)"
        " ON COMMIT DELETE ROWS"
    )
    await driver.copy_records_to_table("_bars_in", records=records, columns=["t", *BAR_COLUMNS])
    # A new range (the usual backfill) needs no ON CONFLICT: speculative insertion costs a
    # good part of the load. The check runs in this transaction, under a lock on the symbol's
    # stream of writes, so a concurrent writer cannot slip rows in between.
    await driver.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"bars:{symbol}:{timeframe}")
    overlap = await driver.fetchval(
        "SELECT EXISTS (SELECT 1 FROM market_data WHERE symbol = $1 AND timeframe = $2"
        " AND time BETWEEN timestamptz 'epoch' + (SELECT min(t) FROM _bars_in)"
        " * interval '1 microsecond'"
        " AND timestamptz 'epoch' + (SELECT max(t) FROM _bars_in) * interval '1 microsecond')",
        symbol,
        timeframe.value,
    )
    status: str = await driver.execute(
        _INSERT_UPSERT if overlap else _INSERT_NEW,
        symbol,
        timeframe.value,
        source,
    )
    return status


async def _sqlite_upsert(
    engine: AsyncEngine,
    symbol: str,
    timeframe: Timeframe,
    micros: np.ndarray,
    columns: dict[str, np.ndarray],
    source: str,
) -> int:
    # The text forms match what the ORM types write: naive UTC "YYYY-MM-DD HH:MM:SS.ffffff" and
    # plain decimal text, so rows written here and through the ORM compare alike.
    stamps = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    times = np.char.replace(stamps, "T", " ").tolist()
    texts = [[_decimal_text(v) for v in columns[name].tolist()] for name in _PRICES]
    counts = [None if c != c else int(c) for c in columns["trade_count"].tolist()]
    rows = [
        (symbol, timeframe.value, t, *prices, count, source)
        for t, *prices, count in zip(times, *texts, counts, strict=True)
    ]
    statement = (
        "INSERT INTO market_data (symbol, timeframe, time, open, high, low, close, volume, vwap,"
        " trade_count, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = excluded.open,"
        " high = excluded.high, low = excluded.low, close = excluded.close,"
        " volume = excluded.volume, vwap = excluded.vwap, trade_count = excluded.trade_count,"
        " source = excluded.source"
    )
    async with engine.begin() as conn:
        await conn.exec_driver_sql(statement, rows)
    return len(rows)


def _decimal_text(value: float) -> str | None:
    if value != value:  # NaN: no value
        return None
    text = repr(value)
    if "e" in text or "E" in text:
        return str(np.format_float_positional(value, trim="-"))
    return text[:-2] if text.endswith(".0") else text


# -- reading ------------------------------------------------------------------------------------


async def _select(
    conn: AsyncConnection,
    symbol: str,
    timeframe: str,
    start: datetime,
    end: datetime,
    limit: int | None,
) -> pd.DataFrame:
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        # Casts in SQL: float8 and epoch microseconds convert far faster than Decimal/datetime.
        columns = (
            "(EXTRACT(EPOCH FROM time) * 1000000)::int8, open::float8, high::float8,"
            " low::float8, close::float8, volume::float8, vwap::float8, trade_count"
        )
        params: dict[str, Any] = {"lo": start, "hi": end}
    else:
        columns = "time, open, high, low, close, volume, vwap, trade_count"
        params = {"lo": _sqlite_time(start), "hi": _sqlite_time(end)}
    # Only fixed column lists are interpolated; every value is a bind parameter.
    query = (
        f"SELECT {columns} FROM market_data"  # noqa: S608
        " WHERE symbol = :symbol AND timeframe = :timeframe"
        " AND time >= :lo AND time < :hi ORDER BY time"
    )
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    result = await conn.execute(
        sa.text(query), {"symbol": symbol, "timeframe": timeframe, **params}
    )
    return _frame(result.all(), postgres=postgres)


async def _aggregate_pg(
    conn: AsyncConnection,
    symbol: str,
    step: timedelta,
    lo: datetime,
    hi: datetime,
    limit: int | None,
    *,
    timescale: bool,
) -> pd.DataFrame:
    bucket = "time_bucket(:step, time)" if timescale else "date_bin(:step, time, :origin)"
    # trade_count sums to 0 over NULLs and vwap falls back to close, as resample_bars does.
    query = (
        "SELECT (EXTRACT(EPOCH FROM bucket) * 1000000)::int8,"  # noqa: S608
        " ((array_agg(open ORDER BY time))[1])::float8, max(high)::float8, min(low)::float8,"
        " ((array_agg(close ORDER BY time DESC))[1])::float8, sum(volume)::float8,"
        " (sum(coalesce(vwap, close) * volume) / NULLIF(sum(volume), 0))::float8,"
        " coalesce(sum(trade_count), 0)"
        f" FROM (SELECT {bucket} AS bucket, * FROM market_data WHERE symbol = :symbol"
        " AND timeframe = '1Min' AND time >= :lo AND time < :hi) AS minutes"
        " GROUP BY bucket ORDER BY bucket"
    )
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    params: dict[str, Any] = {"symbol": symbol, "step": step, "lo": lo, "hi": hi}
    if not timescale:
        params["origin"] = _BUCKET_ORIGIN
    result = await conn.execute(sa.text(query), params)
    return _frame(result.all(), postgres=True)


def _frame(rows: Sequence[Any], *, postgres: bool) -> pd.DataFrame:
    if not rows:
        return empty_bar_frame()
    cols = list(zip(*rows, strict=True))
    if postgres:
        index = pd.DatetimeIndex(
            pd.to_datetime(np.asarray(cols[0], dtype=np.int64), unit="us", utc=True)
        )
        values = {
            name: np.asarray(col, dtype="float64")
            for name, col in zip(BAR_COLUMNS, cols[1:], strict=True)
        }
    else:
        index = pd.DatetimeIndex(
            pd.to_datetime(pd.Series(cols[0], dtype="str"), utc=True, format="ISO8601")
        )
        values = {
            name: pd.to_numeric(pd.Series(col, dtype="object"), errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            for name, col in zip(BAR_COLUMNS, cols[1:], strict=True)
        }
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(index, name="time").as_unit("ns"))
    return frame


async def _mode(conn: AsyncConnection) -> Mode:
    key = conn.engine.sync_engine
    cached = _modes.get(key)
    if cached is None:

        def installed(sync_conn: Connection) -> Mode:
            # Available is not enough for time_bucket: the extension must be installed here.
            if timeseries_mode(sync_conn) != "timescaledb":
                return "native"
            found = sync_conn.execute(
                sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
            ).first()
            return "timescaledb" if found else "native"

        cached = _modes[key] = await conn.run_sync(installed)
    return cached


def _ceil(moment: datetime, step: timedelta) -> datetime:
    offset = (_aware(moment) - _BUCKET_ORIGIN) % step
    return moment if not offset else moment + (step - offset)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _sqlite_time(moment: datetime) -> str:
    return _aware(moment).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
