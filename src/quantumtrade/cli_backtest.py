"""``quantumtrade backtest``: run a strategy on the simulated market or a bar file."""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from quantumtrade.backtest import runs
from quantumtrade.domain.clock import SystemClock
from quantumtrade.domain.errors import AppError
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.csv import ImportValidationError, read_bar_file

if TYPE_CHECKING:  # imported when used: a run on a bar file needs no market
    from quantumtrade.marketdata.simulator.source import SimulatedMarket

console = Console()
errors = Console(stderr=True)

# The execution-model options that every command running the engine takes.
FillOption = Annotated[str, typer.Option(help="next_open or close.")]
SizingOption = Annotated[str, typer.Option(help="fixed_fraction, all_in, fixed_qty or vol_target.")]
FractionalOption = Annotated[
    bool, typer.Option("--fractional", help="Size in fractions of a share (always for crypto).")
]
TickOption = Annotated[
    str,
    typer.Option(
        "--tick",
        help="Tick rounding of fill prices: off (the modelled price exactly), us ($0.01, or "
        "$0.0001 below $1, against the trader; cash to the cent) or a tick size.",
    ),
]
CashOption = Annotated[float, typer.Option(help="Starting cash.")]
SlippageOption = Annotated[float, typer.Option(help="Slippage in basis points.")]
PerShareOption = Annotated[float, typer.Option(help="Commission per share.")]
PercentageOption = Annotated[float, typer.Option(help="Commission as a fraction of value.")]


def parse_tick(text: str) -> str | float | None:
    """Read ``--tick``: off, us or a positive tick size."""
    word = text.strip().lower()
    if word == "off":
        return None
    if word == "us":
        return "us"
    try:
        tick = float(word)
    except ValueError:
        raise typer.BadParameter(f"--tick is off, us or a tick size, got {text!r}") from None
    if not 0.0 < tick < 1e6:
        raise typer.BadParameter(f"--tick must be a positive tick size, got {text!r}")
    return tick


def engine_options(
    fill: str,
    sizing: str,
    initial_cash: float,
    slippage_bps: float,
    per_share: float,
    percentage: float,
    *,
    fractional: bool = False,
    tick: str = "off",
) -> dict[str, Any]:
    """Return the ``BacktestConfig`` options the shared flags give."""
    return {
        "initial_cash": initial_cash,
        "fill_timing": fill,
        "sizing": sizing,
        "slippage_bps": slippage_bps,
        "per_share": per_share,
        "percentage": percentage,
        "fractional": fractional,
        "tick_size": parse_tick(tick),
    }


def parse_value(text: str) -> Any:
    """Read ``10`` as an int, ``0.5`` as a float, ``true``/``false`` as booleans, else text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def parse_params(items: list[str]) -> dict[str, Any]:
    """Turn ``["fast=10", "slow=30"]`` into ``{"fast": 10, "slow": 30}``."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--param takes NAME=VALUE, got {item!r}")
        params[name.strip()] = parse_value(raw)
    return params


def parse_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {text!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def equity_html(curve: list[dict[str, Any]], title: str) -> str:
    """Return a self-contained HTML page charting equity and drawdown as inline SVG."""
    width, height, pad = 900, 260, 40
    equity = [point["equity"] for point in curve]
    drawdown = [point["drawdown"] for point in curve]

    def polyline(values: list[float], low: float, high: float, colour: str) -> str:
        span = (high - low) or 1.0
        step = (width - 2 * pad) / max(len(values) - 1, 1)
        points = " ".join(
            f"{pad + i * step:.1f},{height - pad - (v - low) / span * (height - 2 * pad):.1f}"
            for i, v in enumerate(values)
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'

    def chart(values: list[float], low: float, high: float, colour: str, label: str) -> str:
        return (
            f'<h2>{label}</h2><svg width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="4" y="{pad - 10}" font-size="12">{high:,.2f}</text>'
            f'<text x="4" y="{height - pad + 20}" font-size="12">{low:,.2f}</text>'
            f"{polyline(values, low, high, colour)}</svg>"
        )

    first, last = (curve[0]["time"], curve[-1]["time"]) if curve else ("", "")
    return (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(first)} to {html.escape(last)}</p>"
        + chart(equity, min(equity, default=0.0), max(equity, default=1.0), "#1f6feb", "Equity")
        + chart(drawdown, min(drawdown, default=-1.0), 0.0, "#cf222e", "Drawdown")
    )


def equity_png(curve: list[dict[str, Any]], title: str, path: Path) -> None:
    """Write a PNG chart of equity over drawdown (shared time axis) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    times = pd.to_datetime([point["time"] for point in curve], utc=True)
    equity = [point["equity"] for point in curve]
    drawdown = [100.0 * point["drawdown"] for point in curve]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        top.plot(times, equity, color="#1f6feb", linewidth=1.2)
        top.set_title(title)
        top.set_ylabel("equity")
        top.grid(alpha=0.3)
        bottom.fill_between(times, drawdown, 0.0, color="#cf222e", alpha=0.4, linewidth=0)
        bottom.set_ylabel("drawdown %")
        bottom.grid(alpha=0.3)
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    finally:
        plt.close(figure)


# Ranges of more bars than this load in pieces, so the progress bar moves.
_CHUNK_BARS = 100_000


def load_market_bars(
    market: SimulatedMarket,
    symbol: str,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    progress: Progress,
) -> pd.DataFrame:
    """Return the simulated bars of ``[start, end)``, loaded in pieces with a progress bar.

    The simulator gives the same bars for a range whole or in pieces (deterministic by seed).
    """
    pieces = max(1, min(200, int((end - start) / timeframe.delta) // _CHUNK_BARS))
    step = (end - start) / pieces
    task = progress.add_task("Loading bars", total=pieces)
    frames = []
    for k in range(pieces):
        low = start + k * step
        high = end if k == pieces - 1 else start + (k + 1) * step
        frames.append(asyncio.run(market.get_bars(symbol, timeframe, low, high)))
        progress.advance(task)
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())


def simulated_market() -> SimulatedMarket:
    """Return the simulated market the server would run, by its configured seed."""
    from quantumtrade.core.settings import load_settings
    from quantumtrade.marketdata.simulator.source import SimulatedMarket

    return SimulatedMarket(seed=load_settings().market_seed, clock=SystemClock())


def load_bars(
    spec: runs.BacktestSpec,
    data: Path | None,
    market: SimulatedMarket | None,
    progress: Progress,
) -> pd.DataFrame:
    """Return the bars of ``spec``'s range from the bar file ``data``, else the market."""
    if data is None:
        if market is None:
            market = simulated_market()
        return load_market_bars(market, spec.symbol, spec.timeframe, spec.start, spec.end, progress)
    reading = progress.add_task(f"Reading {data.name}", total=1)
    bars = read_bar_file(data)
    progress.advance(reading)
    return bars[(bars.index >= spec.start) & (bars.index < spec.end)]


def backtest(
    strategy: Annotated[str, typer.Option(help="sma_crossover, rsi, macd, mean_reversion, ...")],
    symbol: Annotated[str, typer.Option(help="Symbol, e.g. AAPL (a label with --data).")],
    start: Annotated[str, typer.Option(help="First day, ISO (2024-01-01).")],
    end: Annotated[str, typer.Option(help="End (exclusive), ISO.")],
    param: Annotated[list[str] | None, typer.Option(help="Strategy parameter NAME=VALUE.")] = None,
    timeframe: Annotated[str, typer.Option(help="1Day, 1Hour or 1Min.")] = "1Day",
    data: Annotated[
        Path | None, typer.Option(help="CSV or Parquet bars instead of the market.")
    ] = None,
    fill: FillOption = "next_open",
    sizing: SizingOption = "fixed_fraction",
    initial_cash: CashOption = 100_000.0,
    slippage_bps: SlippageOption = 0.0,
    per_share: PerShareOption = 0.0,
    percentage: PercentageOption = 0.0,
    fractional: FractionalOption = False,
    tick: TickOption = "off",
    plot: Annotated[
        Path | None, typer.Option(help="Write an equity + drawdown chart (.png or .html).")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Run a strategy and print its metrics (a table, or JSON with every trade)."""
    if output not in ("table", "json"):
        raise typer.BadParameter("--format is table or json")
    if plot is not None and plot.suffix.lower() not in (".png", ".html", ".htm"):
        raise typer.BadParameter("--plot writes a .png or .html chart: give such a path")
    config = engine_options(
        fill, sizing, initial_cash, slippage_bps, per_share, percentage,
        fractional=fractional, tick=tick,
    )  # fmt: skip
    market = None if data is not None else simulated_market()
    if market is None:
        known = {symbol.strip().upper(): "crypto" if "/" in symbol else "us_equity"}
    else:
        known = {info.symbol: info.asset_class for info in market.symbols()}
    try:
        spec = runs.prepare_backtest(
            strategy=strategy,
            params=parse_params(param or []),
            symbol=symbol,
            known_symbols=known,
            timeframe=timeframe,
            start=parse_date(start),
            end=parse_date(end),
            config=config,
            bars_given=data is not None,
        )
        # The progress bar goes to stderr, so --format json output stays clean.
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as progress:
            bars = load_bars(spec, data, market, progress)
            if len(bars) < 2:
                raise typer.BadParameter("fewer than two bars in the range")
            running = progress.add_task(
                f"Backtesting {spec.strategy} on {len(bars):,} bars", total=1
            )
            metrics, result = runs.compute(bars, spec)
            progress.advance(running)
    except AppError as exc:
        errors.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(code=2) from exc
    except ImportValidationError as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    if plot is not None:
        title = f"{spec.strategy} on {spec.symbol}"
        if plot.suffix.lower() == ".png":
            equity_png(result["equity"], title, plot)
        else:
            plot.write_text(equity_html(result["equity"], title))
    if output == "json":
        body = {"strategy": spec.strategy, "symbol": spec.symbol, "params": spec.params}
        body |= {"metrics": metrics, "trades": result["trades"]}
        typer.echo(json.dumps(body, default=str, allow_nan=False))
        return
    table = Table(title=f"{spec.strategy} on {spec.symbol} ({spec.timeframe.value})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        shown = (
            "-" if value is None else f"{value:,.4f}" if isinstance(value, float) else str(value)
        )
        table.add_row(name, shown)
    console.print(table)
    console.print(f"{len(result['trades'])} trades" + (f"; chart: {plot}" if plot else ""))
