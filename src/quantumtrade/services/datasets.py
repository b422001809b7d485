"""Users' own bar files to backtest on: upload, validate, store, list, load and delete.

An upload is a CSV or Parquet file in the format ``quantumtrade data import`` reads
(``timestamp, open, high, low, close, volume``, optionally ``vwap`` and ``trade_count``). It is
validated whole before anything is stored: a bad file answers 422 with every problem by line
number (the first ``MAX_REPORTED`` of them) and leaves nothing behind. A good one is stored, in
the database so every API replica sees it, as Parquet (zstd) with its row count, time span, the
bar length inferred from the median spacing of its timestamps (``1Min``, ``1Hour`` or ``1Day``,
else none) and the SHA-256 of the uploaded bytes.

The symbol is a label the user picks (the file's name without its suffix, upper-cased, by
default). A label with a ``/`` (``BTC/USD``) is a crypto pair and the rest US equities; the
asset class only sets the default number of periods per year of a backtest's metrics.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import tempfile
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from quantumtrade.db.models.analytics import BacktestDataset
from quantumtrade.domain.errors import Conflict, NotFound, Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.csv import ImportValidationError, read_bar_file

MAX_BARS = 2_000_000
MAX_DATASETS_PER_USER = 100
MAX_REPORTED = 100
SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq")
_PARQUET_MAGIC = b"PAR1"
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,19}$")
_SPACINGS = {
    timedelta(minutes=1): Timeframe.MIN_1,
    timedelta(hours=1): Timeframe.HOUR_1,
    timedelta(days=1): Timeframe.DAY_1,
}


def _label(symbol: str | None, filename: str) -> str:
    if symbol is None:
        label = re.sub(r"[^A-Z0-9.\-]", "", Path(filename).stem.upper()).lstrip(".-")[:20]
        label = label or "DATA"
    else:
        label = symbol.strip().upper()
    if not _SYMBOL.match(label):
        raise Unprocessable(
            f"symbol {label[:30]!r} is not a valid label: 1 to 20 letters, digits, '.', '-' "
            "or '/', starting with a letter or digit.",
            code="invalid_symbol",
        )
    return label


def infer_timeframe(index: pd.DatetimeIndex) -> Timeframe | None:
    """Return the bar length the median spacing of ``index`` matches, if one does.

    Daily bars skip weekends and holidays, so a median spacing of one day counts; hourly and
    minute bars with session gaps still have a median of one hour or one minute.
    """
    if len(index) < 2:
        return None
    spacing = pd.Series(index).diff().dropna().median()
    return _SPACINGS.get(pd.Timedelta(spacing).to_pytimedelta())


def _suffix(filename: str, content: bytes) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in SUFFIXES:
        return suffix
    if suffix:
        raise Unprocessable(
            f"Unsupported file type {suffix!r}: upload a .csv or .parquet file.",
            code="unsupported_file_type",
        )
    return ".parquet" if content[:4] == _PARQUET_MAGIC else ".csv"


def parse_upload(filename: str, content: bytes) -> pd.DataFrame:
    """Validate an uploaded bar file's bytes; raise 422 listing its problems by line."""
    if not content:
        raise Unprocessable("The uploaded file is empty.", code="invalid_bar_file")
    with tempfile.TemporaryDirectory(prefix="qt-upload-") as folder:
        path = Path(folder) / f"upload{_suffix(filename, content)}"
        path.write_bytes(content)
        try:
            bars = read_bar_file(path)
        except ImportValidationError as exc:
            problems = [
                {"line": e.line, "column": e.column or None, "message": e.message}
                for e in exc.errors[:MAX_REPORTED]
            ]
            raise Unprocessable(
                f"The file was not stored: {exc}",
                code="invalid_bar_file",
                details={"errors": problems, "error_count": len(exc.errors)},
            ) from exc
    if len(bars) < 2:
        raise Unprocessable("The file needs at least two bars.", code="invalid_bar_file")
    if len(bars) > MAX_BARS:
        raise Unprocessable(
            f"The file has {len(bars):,} bars; the limit is {MAX_BARS:,}.",
            code="invalid_bar_file",
        )
    return bars


def _to_parquet(bars: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    bars.to_parquet(buffer, compression="zstd")
    return buffer.getvalue()


async def store_dataset(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    filename: str,
    content: bytes,
    name: str | None = None,
    symbol: str | None = None,
) -> BacktestDataset:
    """Validate and store an uploaded bar file as one of ``user_id``'s datasets."""
    label = _label(symbol, filename)
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(BacktestDataset)
        .where(BacktestDataset.user_id == user_id)
    )
    if int(count or 0) >= MAX_DATASETS_PER_USER:
        raise Conflict(
            f"You have {MAX_DATASETS_PER_USER} datasets, the most allowed; delete one first.",
            code="dataset_limit",
        )
    bars = await asyncio.to_thread(parse_upload, filename, content)
    stored = await asyncio.to_thread(_to_parquet, bars)
    index = pd.DatetimeIndex(bars.index)
    timeframe = infer_timeframe(index)
    row = BacktestDataset(
        id=uuid.uuid4(),
        user_id=user_id,
        name=(name or Path(filename).name or label)[:200],
        symbol=label,
        asset_class="crypto" if "/" in label else "us_equity",
        timeframe=timeframe.value if timeframe is not None else None,
        filename=Path(filename).name[:255] or "upload",
        rows=len(bars),
        first_time=index[0].to_pydatetime(),
        last_time=index[-1].to_pydatetime(),
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=stored,
    )
    db.add(row)
    await db.commit()
    return row


async def list_datasets(
    db: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> tuple[Sequence[BacktestDataset], int]:
    """Return a page of ``user_id``'s datasets, newest first, without their content."""
    where = BacktestDataset.user_id == user_id
    total = await db.scalar(sa.select(sa.func.count()).select_from(BacktestDataset).where(where))
    rows = await db.scalars(
        sa.select(BacktestDataset)
        .options(defer(BacktestDataset.content))
        .where(where)
        .order_by(BacktestDataset.created_at.desc(), BacktestDataset.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), int(total or 0)


async def get_dataset(
    db: AsyncSession, *, user_id: uuid.UUID, dataset_id: uuid.UUID, with_content: bool = False
) -> BacktestDataset:
    """Return one of ``user_id``'s datasets or raise 404 (also for someone else's)."""
    query = sa.select(BacktestDataset).where(
        BacktestDataset.id == dataset_id, BacktestDataset.user_id == user_id
    )
    if not with_content:
        query = query.options(defer(BacktestDataset.content))
    row = (await db.scalars(query)).one_or_none()
    if row is None:
        raise NotFound("Dataset not found.", code="dataset_not_found")
    return row


async def delete_dataset(db: AsyncSession, *, user_id: uuid.UUID, dataset_id: uuid.UUID) -> None:
    """Delete one of ``user_id``'s datasets; backtests already run on it keep their results."""
    row = await get_dataset(db, user_id=user_id, dataset_id=dataset_id)
    await db.delete(row)
    await db.commit()


def load_bars(content: bytes) -> pd.DataFrame:
    """Return the bars of a stored dataset's content (a UTC-indexed OHLCV frame)."""
    return pd.read_parquet(io.BytesIO(content))
