"""``quantumtrade optimize``: a parameter sweep, plain or walk-forward, with a progress bar."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from quantumtrade.backtest import runs
from quantumtrade.backtest.compute import backend_from_address
from quantumtrade.backtest.optimize import (
    GridSearchReport,
    WalkForwardReport,
    grid_search,
    walk_forward,
)
from quantumtrade.cli_backtest import (
    CashOption,
    FillOption,
    FractionalOption,
    PercentageOption,
    PerShareOption,
    SizingOption,
    SlippageOption,
    TickOption,
    engine_options,
    load_bars,
    parse_date,
    parse_params,
    parse_value,
)
from quantumtrade.core.settings import load_settings
from quantumtrade.domain.clock import SystemClock
from quantumtrade.domain.errors import AppError
from quantumtrade.marketdata.csv import ImportValidationError
from quantumtrade.marketdata.simulator.source import SimulatedMarket

console = Console()
errors = Console(stderr=True)


def _range(name: str, text: str) -> list[Any]:
    parts = [parse_value(p) for p in text.split(":")]
    if len(parts) != 3 or not all(isinstance(p, int | float) for p in parts):
        raise typer.BadParameter(f"--grid {name}=START:STOP:STEP needs three numbers")
    start, stop, step = parts
    if not step > 0 or stop < start:
        raise typer.BadParameter(f"--grid {name}: need STEP > 0 and STOP >= START")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if all(isinstance(p, int) for p in parts):
        return [start + i * step for i in range(count)]
    return [round(start + i * step, 12) for i in range(count)]


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """Turn ``["fast=5,10", "slow=30:50:10"]`` into ``{"fast": [5, 10], "slow": [30, 40, 50]}``.

    ``START:STOP:STEP`` includes ``STOP`` when the steps land on it.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise typer.BadParameter(
                f"--grid takes NAME=V1,V2,... or NAME=START:STOP:STEP: {item!r}"
            )
        if ":" in raw:
            grid[name] = _range(name, raw)
        else:
            grid[name] = [parse_value(v) for v in raw.split(",") if v.strip()]
    return grid


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.4f}" if isinstance(value, float) else str(value)


def _count(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def _span(first: str, last: str) -> str:
    width = 10 if first[11:19] == last[11:19] == "00:00:00" else 16
    return f"{first[:width]} to {last[:width]}".replace("T", " ")


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _print_grid(body: dict[str, Any], top: int) -> None:
    shown = min(top, body["combinations"])
    table = Table(
        title=f"{body['strategy']}: top {shown} of {body['combinations']} by {body['objective']}"
    )
    for column in ("rank", "params", "score", "total_return", "max_drawdown", "n_trades"):
        table.add_column(column, justify="left" if column == "params" else "right")
    for row in body["ranking"][:shown]:
        metrics = row["metrics"]
        table.add_row(
            str(row["rank"]),
            _params(row["params"]),
            _number(row["score"]),
            _number(metrics.get("total_return")),
            _number(metrics.get("max_drawdown")),
            _count(metrics.get("n_trades")),
        )
    console.print(table)
    console.print(f"{body['combinations']} combinations scored, {body['skipped']} invalid skipped")


def _print_walk_forward(body: dict[str, Any]) -> None:
    table = Table(title=f"{body['strategy']}: walk-forward by {body['objective']}")
    for column in ("fold", "in-sample", "out-of-sample", "params", "IS score", "OOS score"):
        table.add_column(column, justify="left" if column == "params" else "right")
    for fold in body["folds"]:
        table.add_row(
            str(fold["index"]),
            _span(fold["is_first_time"], fold["is_last_time"]),
            _span(fold["oos_first_time"], fold["oos_last_time"]),
            _params(fold["params"]),
            _number(fold["is_score"]),
            _number(fold["oos_score"]),
        )
    console.print(table)
    console.print(
        f"out-of-sample return {_number(body['oos_total_return'])}; mean score in-sample "
        f"{_number(body['mean_is_score'])}, out-of-sample {_number(body['mean_oos_score'])} "
        f"(gap {_number(body['overfitting_gap'])})"
    )


def optimize(
    strategy: Annotated[str, typer.Option(help="sma_crossover, rsi, macd, mean_reversion, ...")],
    symbol: Annotated[str, typer.Option(help="Symbol, e.g. AAPL (a label with --data).")],
    start: Annotated[str, typer.Option(help="First day, ISO (2024-01-01).")],
    end: Annotated[str, typer.Option(help="End (exclusive), ISO.")],
    grid: Annotated[
        list[str], typer.Option(help="NAME=V1,V2,... or NAME=START:STOP:STEP (repeat).")
    ],
    param: Annotated[list[str] | None, typer.Option(help="Fixed parameter NAME=VALUE.")] = None,
    timeframe: Annotated[str, typer.Option(help="1Day, 1Hour or 1Min.")] = "1Day",
    data: Annotated[
        Path | None, typer.Option(help="CSV or Parquet bars instead of the market.")
    ] = None,
    objective: Annotated[str, typer.Option(help="Metric to rank by, e.g. sharpe.")] = "sharpe",
    walk: Annotated[
        bool, typer.Option("--walk-forward", help="Walk-forward instead of one sweep.")
    ] = False,
    in_sample: Annotated[int | None, typer.Option(help="In-sample bars per fold.")] = None,
    out_of_sample: Annotated[int | None, typer.Option(help="Out-of-sample bars per fold.")] = None,
    folds: Annotated[int | None, typer.Option(help="Number of folds (default: all).")] = None,
    anchored: Annotated[bool, typer.Option(help="In-sample windows start at bar 0.")] = False,
    warmup: Annotated[
        int | None, typer.Option(help="History bars before a window for indicators (all).")
    ] = None,
    fill: FillOption = "next_open",
    sizing: SizingOption = "fixed_fraction",
    initial_cash: CashOption = 100_000.0,
    slippage_bps: SlippageOption = 0.0,
    per_share: PerShareOption = 0.0,
    percentage: PercentageOption = 0.0,
    fractional: FractionalOption = False,
    tick: TickOption = "off",
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: CPUs).", min=1)
    ] = None,
    dask: Annotated[
        str | None, typer.Option(help="Dask scheduler address (env DASK_SCHEDULER_ADDRESS).")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of the ranking in the table.", min=1)] = 10,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Sweep a parameter grid; with --walk-forward, score each choice out of sample only."""
    if output not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    if walk and (in_sample is None or out_of_sample is None):
        raise typer.BadParameter("--walk-forward needs --in-sample and --out-of-sample")
    settings = load_settings()
    candidates = parse_grid(grid)
    fixed = parse_params(param or [])
    config = engine_options(
        fill, sizing, initial_cash, slippage_bps, per_share, percentage,
        fractional=fractional, tick=tick,
    )  # fmt: skip
    market = SimulatedMarket(seed=settings.market_seed, clock=SystemClock())
    known = {info.symbol: info.asset_class for info in market.symbols()}
    if data is not None:
        known = {symbol.strip().upper(): "crypto" if "/" in symbol else "us_equity"}
    address = dask or settings.dask_scheduler_address
    report: GridSearchReport | WalkForwardReport
    try:
        spec = runs.prepare_backtest(
            strategy=strategy,
            params=fixed,
            symbol=symbol,
            known_symbols=known,
            timeframe=timeframe,
            start=parse_date(start),
            end=parse_date(end),
            config=config,
            bars_given=data is not None,
        )
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with (
            backend_from_address(address, max_workers=workers) as backend,
            Progress(*columns, console=errors, transient=True) as bar,
        ):
            bars = load_bars(spec, data, market, bar)
            if len(bars) < 2:
                raise typer.BadParameter("fewer than two bars in the range")
            job = bar.add_task(f"{spec.strategy} on {len(bars):,} bars", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(job, completed=done, total=total)

            common: dict[str, Any] = {
                "objective": objective,
                "config": spec.config,
                "fixed": fixed,
                "backend": backend,
                "progress": advance,
            }
            if walk:
                assert in_sample is not None and out_of_sample is not None
                report = walk_forward(
                    bars,
                    spec.strategy,
                    candidates,
                    in_sample=in_sample,
                    out_of_sample=out_of_sample,
                    folds=folds,
                    anchored=anchored,
                    warmup=warmup,
                    **common,
                )
            else:
                report = grid_search(bars, spec.strategy, candidates, **common)
    except AppError as exc:
        errors.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(code=2) from exc
    except (ImportValidationError, ValueError) as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    body = {"symbol": spec.symbol, "timeframe": spec.timeframe.value} | report.to_dict()
    if output == "json":
        typer.echo(json.dumps(body, allow_nan=False))
    elif walk:
        _print_walk_forward(body)
    else:
        _print_grid(body, top)
