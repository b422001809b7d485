"""Bulk storage of OHLCV bars in ``market_data``.

PostgreSQL ingests with binary COPY, encoded with numpy (NUMERIC fields holding what
``float8::numeric`` would give): straight into the table when the batch's range holds no rows,
else into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT``. SQLite ingests with
one ``executemany``. Reads return the standard bar frame (UTC ``time`` index, float64
:data:`~quantumtrade.domain.market.BAR_COLUMNS`).

Coarser bars are aggregated from stored 1Min bars when no bars of the requested timeframe are
stored: in SQL on PostgreSQL (``date_bin``, or ``time_bucket`` under TimescaleDB) and with
:func:`~quantumtrade.domain.market.resample_bars` on SQLite, giving the same bars either way.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from quantumtrade.db.engine import driver_transaction
from quantumtrade.db.timeseries import Mode, ensure_partitions, timeseries_mode
from quantumtrade.domain.market import BAR_COLUMNS, Timeframe, empty_bar_frame, resample_bars

TABLE = "market_data"
_PRICES = ("open", "high", "low", "close", "volume", "vwap")
_BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # a UTC midnight: daily buckets start there
_modes: weakref.WeakKeyDictionary[Any, Mode] = weakref.WeakKeyDictionary()
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    counts = columns["trade_count"]
    counts = np.rint(counts[~np.isnan(counts)])
    if not ((counts >= -(2**31)) & (counts < 2**31)).all():
        raise ValueError("trade_count must fit a 32-bit integer")
    rows = _CopyRows(symbol, timeframe.value, source, micros, columns)
    first, last = (
        _UNIX_EPOCH + timedelta(microseconds=int(t)) for t in (micros.min(), micros.max())
    )
    async with driver_transaction(engine) as driver:  # one transaction for the whole batch
        await _copy_in_transaction(driver, symbol, timeframe, rows, first, last)
    return len(micros)


_COLUMNS = [
    "symbol",
    "timeframe",
    "time",
    *_PRICES,
    "trade_count",
    "source",
]
# Rows whose every value is unchanged are left alone: rewriting them would only add dead tuples.
_MERGE = (
    f"INSERT INTO market_data ({', '.join(_COLUMNS)})"  # noqa: S608
    f" SELECT {', '.join(_COLUMNS)} FROM _bars_stage"
    " ON CONFLICT (symbol, timeframe, time) DO UPDATE SET open = EXCLUDED.open,"
    " high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,"
    " volume = EXCLUDED.volume, vwap = EXCLUDED.vwap,"
    " trade_count = EXCLUDED.trade_count, source = EXCLUDED.source"
    " WHERE (market_data.open, market_data.high, market_data.low, market_data.close,"
    " market_data.volume, market_data.vwap, market_data.trade_count, market_data.source)"
    " IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,"
    " EXCLUDED.volume, EXCLUDED.vwap, EXCLUDED.trade_count, EXCLUDED.source)"
)


async def _copy_in_transaction(
    driver: Any,
    symbol: str,
    timeframe: Timeframe,
    rows: _CopyRows,
    first: datetime,
    last: datetime,
) -> None:
    # A new range (the usual backfill) is copied straight into the table: no staging, no
    # speculative insertion. The check runs in this transaction, under a lock on the symbol's
    # stream of writes, so a concurrent writer cannot slip rows in between.
    await driver.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"bars:{symbol}:{timeframe}")
    overlap = await driver.fetchval(
        "SELECT EXISTS (SELECT 1 FROM market_data WHERE symbol = $1 AND timeframe = $2"
        " AND time BETWEEN $3 AND $4)",
        symbol,
        timeframe.value,
        first,
        last,
    )
    if not overlap:
        await driver.copy_to_table(TABLE, source=rows.stream(), columns=_COLUMNS, format="binary")
        return
    await driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _bars_stage (LIKE market_data) ON COMMIT DELETE ROWS"
    )
    await driver.copy_to_table(
        "_bars_stage", source=rows.stream(), columns=_COLUMNS, format="binary"
    )
    await driver.execute(_MERGE)


# -- binary COPY input ---------------------------------------------------------------------------
#
# The rows are encoded for PostgreSQL's binary COPY with numpy, one column at a time. Prices go
# in as NUMERIC: each float becomes the decimal that ``float8::numeric`` gives (its 15 significant
# digits, rounded half to even), and the server rounds that to the column's scale as before.

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_MICROS = 946_684_800_000_000  # 2000-01-01, PostgreSQL's epoch, in Unix microseconds
_DIGITS = 5  # base-10000 digits per value: 15 significant decimals shifted by up to 3 places
_NUMERIC = np.dtype((">i2", (6 + _DIGITS,)))  # int32 length, ndigits, weight, sign, dscale, digits
_NULL = np.dtype(">i4")
_CHUNK_ROWS = 16_384
_NUMERIC_NEG = 0x4000
_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles
_POW10_EXT = np.cumprod(np.r_[1, np.full(27, 10)].astype(np.longdouble))  # exact to 10**27
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
_ZERO_BELOW, _OVERFLOW_FROM = 1e-12, 1e18  # rounds to 0 at scale 10; overflows NUMERIC(28, 10)


class _CopyRows:
    """Binary COPY data for :data:`_COLUMNS`, encoded in chunks.

    :meth:`stream` encodes the next chunk in a worker thread while the server takes the current
    one. Within a chunk, rows are grouped by which of their values are NULL.
    """

    def __init__(
        self,
        symbol: str,
        timeframe: str,
        source: str,
        micros: np.ndarray,
        columns: dict[str, np.ndarray],
    ) -> None:
        self._texts = {
            "symbol": symbol.encode(),
            "timeframe": timeframe.encode(),
            "source": source.encode(),
        }
        self._micros = micros
        self._columns = columns

    async def stream(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        total = len(self._micros)
        starts = range(0, total, _CHUNK_ROWS)
        pending = loop.run_in_executor(None, self.encode, 0, min(_CHUNK_ROWS, total))
        yield _COPY_HEADER
        for start in starts:
            parts = await pending
            following = start + _CHUNK_ROWS
            if following < total:
                stop = min(following + _CHUNK_ROWS, total)
                pending = loop.run_in_executor(None, self.encode, following, stop)
            for part in parts:
                yield part
        yield _COPY_TRAILER

    def encode(self, start: int, stop: int) -> list[bytes]:
        """Return the COPY tuples of rows ``start`` to ``stop``."""
        micros = self._micros[start:stop]
        columns = {name: values[start:stop] for name, values in self._columns.items()}
        has_vwap = ~np.isnan(columns["vwap"])
        has_count = ~np.isnan(columns["trade_count"])
        parts = []
        for vwap in (True, False):
            for count in (True, False):
                rows = np.flatnonzero((has_vwap == vwap) & (has_count == count))
                if len(rows) == len(micros):
                    parts.append(self._tuples(micros, columns, vwap=vwap, count=count))
                elif len(rows):
                    subset = {name: values[rows] for name, values in columns.items()}
                    parts.append(self._tuples(micros[rows], subset, vwap=vwap, count=count))
        return parts

    def _tuples(
        self, micros: np.ndarray, columns: dict[str, np.ndarray], *, vwap: bool, count: bool
    ) -> bytes:
        texts = self._texts
        fields: list[tuple[str, Any]] = [("n", ">i2")]
        for name in ("symbol", "timeframe"):
            fields += [(f"{name}_len", ">i4"), (name, f"S{len(texts[name])}")]
        fields += [("time_len", ">i4"), ("time", ">i8")]
        fields += [(name, _NUMERIC if name != "vwap" or vwap else _NULL) for name in _PRICES]
        fields += [("count_len", ">i4")] + ([("count", ">i4")] if count else [])
        fields += [("source_len", ">i4"), ("source", f"S{len(texts['source'])}")]
        out = np.empty(len(micros), dtype=np.dtype(fields))
        out["n"] = len(_COLUMNS)
        for name, text in texts.items():
            out[f"{name}_len"] = len(text)
            out[name] = text
        out["time_len"] = 8
        out["time"] = micros - _PG_EPOCH_MICROS
        for name in _PRICES:
            if name != "vwap" or vwap:
                _numeric(columns[name], out[name])
            else:
                out[name] = -1
        if count:
            out["count_len"] = 4
            out["count"] = np.rint(columns["trade_count"])
        else:
            out["count_len"] = -1
        return out.tobytes()


def _numeric(values: np.ndarray, out: np.ndarray) -> None:
    """Write ``values`` as NUMERIC fields into ``out`` (rows of big-endian int16)."""
    m, e = _decimals(values)
    low = np.floor_divide(e, 4)
    shifted = m * (10 ** (e - low * 4))  # < 10**19: fits int64
    out[:, 0] = 0
    out[:, 1] = 8 + 2 * _DIGITS
    out[:, 2] = _DIGITS
    out[:, 3] = low + _DIGITS - 1
    out[:, 4] = np.where((values < 0) & (m != 0), _NUMERIC_NEG, 0)
    out[:, 5] = np.maximum(-e, 0)
    for column in range(5 + _DIGITS, 5, -1):
        shifted, digit = np.divmod(shifted, 10_000)
        out[:, column] = digit


def _decimals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(m, e)`` with ``|value| == m * 10**e`` to 15 significant digits, as ``%.15g``.

    Magnitudes below 1e-12 give 0 and from 1e18 give 10**18 (out of the column's range); both
    are what the server makes of them at scale 10.
    """
    a = np.abs(values)
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(a))
    exponent = np.clip(exponent, -8, 17).astype(np.int64)
    shift = 14 - exponent
    scaled = a * _POW10[np.maximum(shift, 0)]
    down = shift < 0
    if down.any():
        scaled[down] = a[down] / _POW10[-shift[down]]
    rounded = np.rint(scaled)
    m, e = rounded.astype(np.int64), exponent - 14
    # The float product is within 0.0625 of the exact one below 2**50. Values near a rounding
    # tie, with a mistaken exponent or tiny go the exact way.
    hard = np.flatnonzero(
        (np.abs(scaled - rounded) > 0.43) | (scaled < 1e14) | (rounded > 1e15) | (a < 1e-8)
    )
    if len(hard):
        m[hard], e[hard] = _exact_decimals(a[hard])
    return m, e


def _exact_decimals(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, e = np.zeros(len(a), dtype=np.int64), np.zeros(len(a), dtype=np.int64)
    over = a >= _OVERFLOW_FROM
    m[over], e[over] = 10**15, 3
    todo = np.flatnonzero((a >= _ZERO_BELOW) & ~over)
    if _EXTENDED and len(todo):
        # 64-bit significands: the product is within 4e-5 of the exact one; ties fall through.
        part = a[todo].astype(np.longdouble)
        exponent = np.clip(np.floor(np.log10(a[todo])).astype(np.int64), -12, 17)
        for _ in range(3):
            shift = 14 - exponent
            scaled = np.where(
                shift >= 0,
                part * _POW10_EXT[np.maximum(shift, 0)],
                part / _POW10_EXT[np.maximum(-shift, 0)],
            )
            exponent = np.clip(exponent + (scaled >= 1e15) - (scaled < 1e14), -12, 17)
        shift = 14 - exponent
        scaled = np.where(
            shift >= 0,
            part * _POW10_EXT[np.maximum(shift, 0)],
            part / _POW10_EXT[np.maximum(-shift, 0)],
        )
        m[todo], e[todo] = np.rint(scaled).astype(np.int64), exponent - 14
        todo = todo[np.abs(scaled - np.floor(scaled) - 0.5) <= 1e-4]
    for i in todo.tolist():
        decimal = Decimal(format(float(a[i]), ".15g")).as_tuple()
        m[i] = int("".join(map(str, decimal.digits)))
        e[i] = int(decimal.exponent)
    return m, e


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
