"""Read bar files and validate every row before anything is stored.

Files carry ``timestamp, open, high, low, close, volume`` and optionally ``vwap`` and
``trade_count`` (header names are case-insensitive; ``time`` is accepted for ``timestamp``).
Timestamps are ISO 8601 or anything pandas parses; a timestamp without an offset is taken as UTC.
Every bad row is reported, with its line number as an editor shows it (the header is line 1), in
one :class:`ImportValidationError`, so a file is imported whole or not at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from quantumtrade.domain.market import BAR_COLUMNS

REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
OPTIONAL = ("vwap", "trade_count")
_ALIASES = {"time": "timestamp", "date": "timestamp", "datetime": "timestamp"}
MAX_REPORTED_ERRORS = 1000


class RowError(NamedTuple):
    """One problem: the file line (0 for the file as a whole), the column and what is wrong."""

    line: int
    column: str
    message: str


class ImportValidationError(ValueError):
    """The file has problems; ``errors`` lists each one (capped at MAX_REPORTED_ERRORS)."""

    def __init__(self, errors: Iterable[RowError | tuple[int, str, str]]) -> None:
        self.errors = [RowError(*error) for error in errors]
        first = self.errors[0] if self.errors else RowError(0, "", "no details")
        super().__init__(
            f"{len(self.errors)} problem(s) in the file; first: line {first.line}, "
            f"{first.column or 'file'}: {first.message}"
        )


def read_bar_file(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet`` bar file into a validated, time-sorted bar frame."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_bars_parquet(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_bars_csv(path)
    raise ImportValidationError(
        [(0, "", f"unsupported file type {suffix!r}; use .csv or .parquet")]
    )


def read_bars_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate a CSV bar file; see the module docstring for the format.

    A well-formed file goes through pyarrow's multithreaded reader with the column types
    known (about 20x faster than the ``csv`` module on a million rows). A file it cannot take
    whole (a ragged row, a value that is not a number, a timestamp not in ISO 8601) or that
    fails a check goes through the line-by-line reader below, which names every bad line as an
    editor numbers it.
    """
    fast = _read_csv_arrow(path)
    if fast is not None:
        return fast
    return _read_csv_lines(path)


def _read_csv_arrow(path: str | Path) -> pd.DataFrame | None:
    """Return the validated bars, or None when the careful reader must look at the file."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pa_csv
    except ImportError:  # pragma: no cover - pyarrow comes with the project
        return None
    try:
        with Path(path).open(encoding="utf-8-sig") as handle:
            header = next(csv.reader([handle.readline()]), [])
        names = {name: _ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header}
        if len(set(names.values())) != len(names) or not set(REQUIRED) <= set(names.values()):
            return None
        types = {
            name: pa.string() if canonical == "timestamp" else pa.float64()
            for name, canonical in names.items()
            if canonical in REQUIRED or canonical in OPTIONAL
        }
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding="utf-8"),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=types, include_columns=list(types), strings_can_be_null=False
            ),
        )
        stamp = next(name for name, canonical in names.items() if canonical == "timestamp")
        text = pc.utf8_trim_whitespace(table[stamp])
        try:
            times = pc.cast(text, pa.timestamp("ns", tz="UTC"))
        except pa.ArrowInvalid:  # no offset: the module's rule takes such times as UTC
            times = pc.assume_timezone(pc.cast(text, pa.timestamp("ns")), timezone="UTC")
        raw = pd.DataFrame(
            {names[name]: table[name].to_numpy() for name in types if name != stamp}
            | {"timestamp": times.to_pandas()},
        )
    except (OSError, UnicodeDecodeError, pa.ArrowException, ValueError):
        return None
    try:
        return _validate(raw, np.arange(2, len(raw) + 2, dtype=np.int64), [])
    except ImportValidationError:
        return None  # the careful reader reports each problem on its true line


def _read_csv_lines(path: str | Path) -> pd.DataFrame:
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None:
                raise ImportValidationError([(0, "", "the file is empty")])
            records: list[list[str]] = []
            lines: list[int] = []
            errors: list[RowError] = []
            width = len(header)
            for record in rows:
                # The reader's line_num counts physical lines, so quoted newlines stay honest.
                if not record or all(not cell.strip() for cell in record):
                    continue
                if len(record) != width:
                    errors.append(
                        RowError(rows.line_num, "", f"expected {width} fields, got {len(record)}")
                    )
                    continue
                records.append(record)
                lines.append(rows.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportValidationError([(0, "", f"cannot read the file: {exc}")]) from exc
    raw = pd.DataFrame(records, columns=[name.strip() for name in header], dtype="str")
    return _validate(raw, np.asarray(lines, dtype=np.int64), errors)


def read_bars_parquet(path: str | Path) -> pd.DataFrame:
    """Read and validate a Parquet bar file; rows are numbered from 1 (line = row + 1)."""
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many unrelated types for a bad file
        raise ImportValidationError([(0, "", f"cannot read the file: {exc}")]) from exc
    if isinstance(raw.index, pd.DatetimeIndex) and "timestamp" not in raw.columns:
        raw = raw.reset_index(names="timestamp")
    # Line numbers as if the table were written as CSV with a header, for uniform messages.
    lines = np.arange(2, len(raw) + 2, dtype=np.int64)
    return _validate(raw.reset_index(drop=True), lines, [])


def _validate(raw: pd.DataFrame, lines: np.ndarray, errors: list[RowError]) -> pd.DataFrame:
    raw = raw.rename(columns=lambda name: _ALIASES.get(str(name).lower(), str(name).lower()))
    missing = [name for name in REQUIRED if name not in raw.columns]
    if missing:
        raise ImportValidationError([(1, name, "required column is missing") for name in missing])
    if raw.columns.duplicated().any():
        raise ImportValidationError([(1, "", "a column name appears twice")])

    bad = np.zeros(len(raw), dtype=bool)

    def flag(mask: np.ndarray, column: str, message: str) -> None:
        nonlocal bad
        for line in lines[mask & ~bad]:
            errors.append(RowError(int(line), column, message))
        bad |= mask

    times = _parse_times(raw["timestamp"])
    flag(np.asarray(times.isna()), "timestamp", "not a valid timestamp")

    values: dict[str, np.ndarray] = {}
    for name in ("open", "high", "low", "close", "volume", *OPTIONAL):
        if name not in raw.columns:
            continue
        column = raw[name]
        if pd.api.types.is_float_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype):
            numbers = column.to_numpy(dtype="float64", na_value=np.nan)
            blank = np.isnan(numbers)
        else:
            blank = column.isna().to_numpy() | (column.astype("str").str.strip() == "").to_numpy()
            numbers = pd.to_numeric(column, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        optional = name in OPTIONAL
        flag(~blank & ~np.isfinite(numbers), name, "not a finite number")
        if not optional:
            flag(blank, name, "value is missing")
        values[name] = numbers

    with np.errstate(invalid="ignore"):
        for name in ("open", "high", "low", "close"):
            flag(values[name] <= 0, name, "price must be positive")
        o, h, low, c = (values[n] for n in ("open", "high", "low", "close"))
        flag(h < np.maximum(o, c), "high", "high is below open or close")
        flag(low > np.minimum(o, c), "low", "low is above open or close")
        flag(h < low, "high", "high is below low")
        flag(values["volume"] < 0, "volume", "volume must not be negative")
        if "vwap" in values:
            flag(values["vwap"] <= 0, "vwap", "vwap must be positive")
        if "trade_count" in values:
            counts = values["trade_count"]
            wrong = (counts < 0) | (np.isfinite(counts) & (counts != np.floor(counts)))
            flag(wrong, "trade_count", "trade_count must be a whole number >= 0")

    duplicated = np.asarray(times.duplicated(keep="first")) & ~np.asarray(times.isna())
    flag(duplicated, "timestamp", "duplicate timestamp")

    if errors:
        errors.sort(key=lambda error: error.line)
        raise ImportValidationError(errors[:MAX_REPORTED_ERRORS])
    if not len(raw):
        raise ImportValidationError([(0, "", "the file has no rows")])

    frame = pd.DataFrame(
        {name: values.get(name, np.full(len(raw), np.nan)) for name in BAR_COLUMNS},
        index=pd.DatetimeIndex(times, name="time"),
    )
    return frame.sort_index(kind="stable")


def _parse_times(column: pd.Series) -> pd.DatetimeIndex:
    """Parse each timestamp on its own terms (mixed offsets allowed); naive ones are UTC."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(column).tz_convert("UTC").as_unit("ns")
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return pd.DatetimeIndex(column).tz_localize("UTC").as_unit("ns")
    text = column.astype("str").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    retry = parsed.isna() & (text != "")
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    return pd.DatetimeIndex(parsed).as_unit("ns")
