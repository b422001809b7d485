"""Check the bars a regime model reads, and name the offending rows when they are wrong."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain.errors import InvalidInput

OPTIONAL_COLUMNS = ("open", "high", "low", "volume")
SHOWN_ROWS = 5
DAYS_PER_YEAR = 365.25


def _rows(index: pd.Index, positions: npt.NDArray[np.intp]) -> list[str]:
    return [str(index[int(p)]) for p in positions]


def _raise_rows(problem: str, code: str, index: pd.Index, positions: npt.NDArray[np.intp]) -> None:
    rows = _rows(index, positions)
    pairs = zip(positions[:SHOWN_ROWS], rows[:SHOWN_ROWS], strict=True)
    shown = ", ".join(f"row {int(p)} ({r})" for p, r in pairs)
    more = f" and {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
    raise InvalidInput(
        f"{problem} at {len(rows)} bar(s): {shown}{more}.",
        code=code,
        details={"rows": rows, "positions": [int(p) for p in positions]},
    )


def check_bars(bars: pd.DataFrame, *, min_bars: int) -> pd.DataFrame:
    """Return the used columns as float64 on a ``DatetimeIndex``; raise InvalidInput if bad."""
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput("bars must be a pandas DataFrame.", code="invalid_bars")
    if "close" not in bars.columns:
        raise InvalidInput(
            "bars need a 'close' column.", code="missing_column", details={"column": "close"}
        )
    if len(bars) < min_bars:
        raise InvalidInput(
            f"at least {min_bars} bars are needed, got {len(bars)}.",
            code="too_few_bars",
            details={"bars": len(bars), "minimum": min_bars},
        )
    try:
        index = pd.DatetimeIndex(bars.index)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("bars must be indexed by timestamp.", code="invalid_index") from exc
    stamps = index.as_unit("ns").asi8
    bad = np.flatnonzero(np.diff(stamps) <= 0) + 1
    if len(bad):
        _raise_rows("timestamps do not increase", "unordered_bars", index, bad)
    columns = ["close", *(c for c in OPTIONAL_COLUMNS if c in bars.columns)]
    values = bars[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        problem = f"missing or infinite values in {', '.join(columns)}"
        _raise_rows(problem, "missing_values", index, bad)
    prices = values[:, : len(columns) - ("volume" in columns)]
    bad = np.flatnonzero((prices <= 0).any(axis=1))
    if len(bad):
        _raise_rows("prices are not positive", "non_positive_price", index, bad)
    if "volume" in columns:
        bad = np.flatnonzero(values[:, -1] < 0)
        if len(bad):
            _raise_rows("volume is negative", "negative_volume", index, bad)
    return pd.DataFrame(values, index=index, columns=columns)


def infer_periods_per_year(index: pd.DatetimeIndex) -> float:
    """Return how many bars a year holds, counted over the span of ``index``."""
    if len(index) < 2:
        raise InvalidInput("two bars are needed to infer the bar spacing.", code="too_few_bars")
    span_days = (index[-1] - index[0]) / pd.Timedelta(days=1)
    return float((len(index) - 1) / span_days * DAYS_PER_YEAR)
