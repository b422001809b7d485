"""``quantumtrade data``: import bar files into the configured database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from quantumtrade.core.settings import Settings, UnsafeConfigurationError, load_settings
from quantumtrade.db import migrate
from quantumtrade.db.engine import create_engine
from quantumtrade.db.repositories import upsert_bars
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.csv import ImportValidationError, read_bar_file

data_app = typer.Typer(help="Market data files: import bars.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
MAX_PRINTED_ERRORS = 200


@data_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv or .parquet bar file.", exists=True)],
    symbol: Annotated[str, typer.Option(help="Symbol the bars belong to, e.g. AAPL.")],
    timeframe: Annotated[str, typer.Option(help="1Min, 5Min, 15Min, 1Hour or 1Day.")] = "1Day",
    source_name: Annotated[str, typer.Option(help="Source recorded with each bar.")] = "file",
) -> None:
    """Validate every row of FILE, then insert or replace its bars (nothing on any error).

    Columns: timestamp, open, high, low, close, volume, and optionally vwap, trade_count.
    Timestamps without an offset are taken as UTC.
    """
    try:
        frame_of = Timeframe.parse(timeframe)
    except ValueError as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    name = symbol.strip().upper().replace("-", "/")
    try:
        bars = read_bar_file(file)
    except ImportValidationError as exc:
        errors.print(f"[bold red]{len(exc.errors)} problem(s) in {file}; nothing was imported[/]")
        for error in exc.errors[:MAX_PRINTED_ERRORS]:
            where = f"line {error.line}" if error.line else "file"
            column = f" [{error.column}]" if error.column else ""
            errors.print(f"  {where}{column}: {error.message}", markup=False, highlight=False)
        raise typer.Exit(code=1) from exc
    settings = _settings()
    count = asyncio.run(_store(settings, name, frame_of, bars, source_name))
    table = Table(title=f"Imported {file.name}")
    for column in ("symbol", "timeframe", "bars", "first", "last", "database"):
        table.add_column(column)
    table.add_row(
        name,
        frame_of.value,
        str(count),
        pd.Timestamp(bars.index[0]).isoformat(),
        pd.Timestamp(bars.index[-1]).isoformat(),
        settings.sqlalchemy_url.split(":", 1)[0],
    )
    console.print(table)


async def _store(
    settings: Settings, symbol: str, timeframe: Timeframe, bars: pd.DataFrame, source: str
) -> int:
    engine = create_engine(settings.sqlalchemy_url)
    try:
        if settings.should_auto_migrate:
            await migrate.upgrade(engine)
        return await upsert_bars(engine, symbol, timeframe, bars, source=source)
    finally:
        await engine.dispose()


def _settings() -> Settings:
    try:
        return load_settings()
    except (UnsafeConfigurationError, ValueError) as exc:
        errors.print(f"[bold red]invalid configuration:[/] {exc}")
        raise typer.Exit(code=2) from exc
