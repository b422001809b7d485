"""Bar files: good CSV and Parquet parse; every bad row is reported with its line number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantumtrade.marketdata.csv import ImportValidationError, RowError, read_bar_file

GOOD = """timestamp,open,high,low,close,volume,vwap,trade_count
2024-01-03,101,103,100,102,2000,101.5,40
2024-01-02T00:00:00Z,100,102,99,101,1000,,
2024-01-04 00:00:00+00:00,102,104,101,103.25,1500,102.9,31
"""


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_csv_parses_sorted_with_utc_times(tmp_path: Path) -> None:
    frame = read_bar_file(write(tmp_path, GOOD))
    assert list(frame.index) == list(pd.date_range("2024-01-02", periods=3, tz="UTC"))
    assert frame["close"].iloc[2] == 103.25
    assert np.isnan(frame["vwap"].iloc[0]) and np.isnan(frame["trade_count"].iloc[0])
    assert frame["trade_count"].iloc[1] == 40
    assert (frame.dtypes == "float64").all()


def test_naive_and_offset_timestamps_are_read_as_utc(tmp_path: Path) -> None:
    text = (
        "time,open,high,low,close,volume\n"
        "2024-01-02 14:30,1,1,1,1,0\n"
        "2024-01-02T10:31-05:00,1,1,1,1,0\n"
    )
    frame = read_bar_file(write(tmp_path, text))
    assert [t.isoformat() for t in frame.index] == [
        "2024-01-02T14:30:00+00:00",
        "2024-01-02T15:31:00+00:00",
    ]


def test_good_parquet_parses(tmp_path: Path) -> None:
    source = read_bar_file(write(tmp_path, GOOD))
    path = tmp_path / "bars.parquet"
    source.reset_index().rename(columns={"time": "timestamp"}).to_parquet(path)
    pd.testing.assert_frame_equal(read_bar_file(path), source, check_freq=False)


def test_every_bad_row_is_reported_with_its_editor_line(tmp_path: Path) -> None:
    text = (
        "timestamp,open,high,low,close,volume\n"  # line 1
        "2024-01-02,100,102,99,101,1000\n"  # 2 fine
        "not-a-date,100,102,99,101,1000\n"  # 3
        "2024-01-04,100,99,98,101,1000\n"  # 4 high below close
        "2024-01-05,100,102,99,101,-5\n"  # 5
        "\n"  # 6 blank, skipped
        "2024-01-06,-1,102,99,101,1000\n"  # 7
        "2024-01-02,100,102,99,101,1000\n"  # 8 duplicate of line 2
        "2024-01-09,100,102,99,inf,1000\n"  # 9
        "2024-01-10,100,102,101,101,1000\n"  # 10 low above open
        "2024-01-11,100,102\n"  # 11 short row
    )
    with pytest.raises(ImportValidationError) as caught:
        read_bar_file(write(tmp_path, text))
    errors = caught.value.errors
    assert [e.line for e in errors] == [3, 4, 5, 7, 8, 9, 10, 11]
    assert errors[0] == RowError(3, "timestamp", "not a valid timestamp")
    assert errors[1].column == "high" and errors[2].column == "volume"
    assert errors[3].column == "open" and "positive" in errors[3].message
    assert "duplicate" in errors[4].message
    assert errors[5].column == "close" and errors[6].column == "low"


def test_missing_columns_and_unknown_types_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportValidationError) as caught:
        read_bar_file(write(tmp_path, "timestamp,open,close\n2024-01-02,1,1\n"))
    assert {e.column for e in caught.value.errors} == {"high", "low", "volume"}
    with pytest.raises(ImportValidationError):
        read_bar_file(write(tmp_path, "x", name="bars.xlsx"))
    with pytest.raises(ImportValidationError):
        read_bar_file(write(tmp_path, ""))


def quoted_minutes(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = np.round(20 * np.exp(np.cumsum(rng.normal(0, 0.001, n))), 4)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-03-01 14:30", periods=n, freq="min", tz="UTC")
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .tolist(),
            "open": close,
            "high": np.round(close * 1.001, 4),
            "low": np.round(close * 0.999, 4),
            "close": close,
            "volume": rng.integers(0, 5_000, n),
        }
    )


@pytest.mark.parametrize(
    "layout",
    ["iso_z", "naive_space", "offsets", "reordered_upper_case_with_optionals", "bom"],
)
def test_fast_and_line_readers_give_the_same_bars(tmp_path: Path, layout: str) -> None:
    from quantumtrade.marketdata.csv import reader

    frame = quoted_minutes(500)
    if layout == "naive_space":
        frame["timestamp"] = frame["timestamp"].str.replace("T", " ").str.rstrip("Z")
    if layout == "offsets":
        frame["timestamp"] = (
            pd.to_datetime(frame["timestamp"])
            .dt.tz_convert("America/New_York")
            .map(lambda t: t.isoformat())
        )
    if layout == "reordered_upper_case_with_optionals":
        frame["vwap"] = frame["close"]
        frame["trade_count"] = 7
        columns = ["close", "timestamp", "volume", "open", "low", "high", "vwap", "trade_count"]
        frame = frame[columns].rename(columns={"timestamp": "Time", "close": "CLOSE"})
    path = tmp_path / "bars.csv"
    text = frame.to_csv(index=False)
    path.write_text(("\ufeff" if layout == "bom" else "") + text, encoding="utf-8")
    fast = reader._read_csv_arrow(path)
    assert fast is not None, "a well-formed file goes through the fast reader"
    pd.testing.assert_frame_equal(fast, reader._read_csv_lines(path))
    pd.testing.assert_frame_equal(read_bar_file(path), fast)


def test_a_bad_file_is_still_reported_on_its_true_lines(tmp_path: Path) -> None:
    from quantumtrade.marketdata.csv import reader

    # A blank line (which a bulk reader skips) before a bad row: the report must still say 5.
    text = (
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T14:30:00Z,10,11,9,10,100\n"
        "\n"
        "2024-01-02T14:31:00Z,10,11,9,10,100\n"
        "2024-01-02T14:32:00Z,10,9,11,10,100\n"
    )
    path = write(tmp_path, text)
    assert reader._read_csv_arrow(path) is None
    with pytest.raises(ImportValidationError) as caught:
        read_bar_file(path)
    assert [(e.line, e.column) for e in caught.value.errors] == [(5, "high")]
