"""Bar files (CSV, Parquet): parse and validate them into standard bar frames; no storage here."""

from quantumtrade.marketdata.csv.reader import (
    ImportValidationError,
    RowError,
    read_bar_file,
    read_bars_csv,
    read_bars_parquet,
)

__all__ = [
    "ImportValidationError",
    "RowError",
    "read_bar_file",
    "read_bars_csv",
    "read_bars_parquet",
]
