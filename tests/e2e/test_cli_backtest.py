"""``quantumtrade backtest`` as a user runs it: the simulated market or a bar file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from rich.progress import Progress

from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.cli_backtest import load_market_bars
from quantumtrade.domain.clock import SystemClock
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.csv import read_bar_file
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from support import run_cli


@pytest.mark.parametrize(
    ("flags", "options"),
    [
        ([], {}),
        (
            ["--sizing", "all_in", "--fractional", "--tick", "us", "--slippage-bps", "3"],
            {"sizing": "all_in", "fractional": True, "tick_size": "us", "slippage_bps": 3.0},
        ),
    ],
    ids=["defaults", "all_in_fractional_us_ticks"],
)
def test_json_output_matches_the_engine_on_the_same_file(
    env: dict[str, str], tmp_path: Path, flags: list[str], options: dict[str, Any]
) -> None:
    closes = [  # quoted to $0.0001, so tick rounding shows
        100.0123 + 10 * ((i // 15) % 2) + (i % 15) * (1 if (i // 15) % 2 == 0 else -1)
        for i in range(120)
    ]
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d"),
            "open": closes,
            "high": [c + 1 for c in closes],
            "low": [c - 1 for c in closes],
            "close": closes,
            "volume": [1000] * 120,
        }
    )
    path = tmp_path / "bars.csv"
    frame.to_csv(path, index=False)
    result = run_cli(
        "backtest",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "ACME",
        "--start",
        "2024-01-01",
        "--end",
        "2024-06-01",
        "--data",
        str(path),
        "--param",
        "fast=3",
        "--param",
        "slow=8",
        "--format",
        "json",
        *flags,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    expected = run_strategy(
        read_bar_file(path), "sma_crossover", {"fast": 3, "slow": 8}, BacktestConfig(**options)
    )
    assert body["metrics"]["final_equity"] == float(expected.equity.iloc[-1])
    assert len(body["trades"]) == len(expected.trades) > 0
    entries = [trade["entry_price"] for trade in body["trades"]]
    assert entries == expected.trades["entry_price"].tolist()
    assert body["params"]["fast"] == 3


def test_simulated_market_table_and_chart(env: dict[str, str], tmp_path: Path) -> None:
    chart = tmp_path / "equity.html"
    result = run_cli(
        "backtest",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "AAPL",
        "--start",
        "2024-01-01",
        "--end",
        "2024-12-31",
        "--plot",
        str(chart),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "final_equity" in result.stdout and "sharpe" in result.stdout
    page = chart.read_text()
    assert page.count("<polyline") == 2 and "Drawdown" in page


def test_bad_parameters_are_refused_with_a_clear_message(env: dict[str, str]) -> None:
    result = run_cli(
        "backtest",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "AAPL",
        "--start",
        "2024-01-01",
        "--end",
        "2024-06-01",
        "--param",
        "fast=50",
        "--param",
        "slow=10",
        env=env,
    )
    assert result.returncode == 2
    assert "error" in result.stderr.lower()
    bad_tick = run_cli(
        "backtest", "--strategy", "sma_crossover", "--symbol", "AAPL",
        "--start", "2024-01-01", "--end", "2024-06-01", "--tick", "cents",
        env=env,
    )  # fmt: skip
    assert bad_tick.returncode == 2
    assert "--tick is off, us or a tick size" in bad_tick.stderr
    unknown = run_cli(
        "backtest",
        "--strategy",
        "no_such",
        "--symbol",
        "AAPL",
        "--start",
        "2024-01-01",
        "--end",
        "2024-06-01",
        env=env,
    )
    assert unknown.returncode == 2 and "no_such" in unknown.stderr


def test_png_chart_of_a_minute_run_loaded_in_pieces(env: dict[str, str], tmp_path: Path) -> None:
    chart = tmp_path / "equity.png"
    result = run_cli(
        "backtest",
        "--strategy",
        "momentum",
        "--symbol",
        "MSFT",
        "--timeframe",
        "1Min",
        "--start",
        "2024-01-01",
        "--end",
        "2024-05-01",  # about 170k calendar minutes: loaded in pieces
        "--plot",
        str(chart),
        "--format",
        "json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)  # the progress bar stays off stdout
    assert body["metrics"]["bars"] > 30_000
    image = Image.open(chart)
    assert image.format == "PNG" and image.size[0] > 500 and image.size[1] > 300
    extension = run_cli(
        "backtest",
        "--strategy",
        "rsi",
        "--symbol",
        "AAPL",
        "--start",
        "2024-01-01",
        "--end",
        "2024-03-01",
        "--plot",
        str(tmp_path / "equity.svg"),
        env=env,
    )
    assert extension.returncode == 2 and ".png or .html" in extension.stderr


async def test_loading_in_pieces_gives_the_bars_of_one_load() -> None:
    market = SimulatedMarket(seed=11, clock=SystemClock())
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    whole = await market.get_bars("AAPL", Timeframe.MIN_1, start, end)
    with Progress(disable=True) as progress:
        pieces = await asyncio.to_thread(
            load_market_bars, market, "AAPL", Timeframe.MIN_1, start, end, progress
        )
        tasks = list(progress.tasks)
    assert tasks[0].total == tasks[0].completed > 1
    pd.testing.assert_frame_equal(pieces, whole)


def test_a_bar_file_is_not_held_to_the_range_limit(env: dict[str, str], tmp_path: Path) -> None:
    # Ten years of minutes would be about 5.3 million bars from the market, over the limit of a
    # run; from a file, the bars are the file's, whatever range the command names.
    times = pd.date_range("2024-03-01 14:30", periods=200, freq="min", tz="UTC")
    closes = [50.0 + (i % 40) * 0.25 for i in range(200)]
    frame = pd.DataFrame(
        {
            "timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": closes,
            "high": [c + 0.1 for c in closes],
            "low": [c - 0.1 for c in closes],
            "close": closes,
            "volume": 100,
        }
    )
    path = tmp_path / "minutes.csv"
    frame.to_csv(path, index=False)
    args = ["backtest", "--strategy", "sma_crossover", "--symbol", "ACME", "--timeframe", "1Min"]
    wide = ["--start", "2015-01-01", "--end", "2025-01-01", "--format", "json"]
    result = run_cli(*args, *wide, "--data", str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["bars"] == 200
    market = run_cli(*args[:4], "AAPL", *args[5:], *wide, env=env)
    assert market.returncode == 2
    assert "2,000,000 bars a run" in market.stderr and "--data" in market.stderr
