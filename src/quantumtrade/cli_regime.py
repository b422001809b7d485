"""``quantumtrade regime``: a symbol's (or a bar file's) regime segments, and a shaded chart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from quantumtrade.core.settings import load_settings
from quantumtrade.domain.clock import SystemClock
from quantumtrade.domain.errors import AppError
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.csv import ImportValidationError, read_bar_file
from quantumtrade.marketdata.simulator.source import SimulatedMarket

if TYPE_CHECKING:
    from quantumtrade.ml.regime import RegimeResult

console = Console()
errors = Console(stderr=True)
COLOURS = {"bull": "#2da44e", "bear": "#cf222e", "sideways": "#9a6700"}


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _bars(symbol: str, data: Path | None, timeframe: Timeframe, years: float) -> pd.DataFrame:
    if data is not None:
        try:
            return read_bar_file(data)
        except (ImportValidationError, OSError, ValueError) as exc:
            _fail(f"{data}: {exc}")
    settings = load_settings()
    market = SimulatedMarket(seed=settings.market_seed, clock=SystemClock())
    known = {info.symbol for info in market.symbols()}
    wanted = symbol.strip().upper()
    if wanted not in known:
        _fail(f"unknown symbol {symbol!r}; known: {', '.join(sorted(known))}")
    end = datetime.now(UTC)
    return market.bars(wanted, timeframe, end - timedelta(days=365.25 * years), end)


def plot(result: RegimeResult, close: pd.Series, path: Path, title: str) -> None:
    """Write a chart of ``close`` with each regime segment shaded (PNG, by the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    figure, axis = plt.subplots(figsize=(11, 5))
    try:
        axis.plot(close.index, close.to_numpy(), color="#24292f", linewidth=1.0)
        for segment in result.segments():
            axis.axvspan(
                segment.start.to_pydatetime(),  # type: ignore[arg-type]  # dates are fine
                segment.end.to_pydatetime(),  # type: ignore[arg-type]
                color=COLOURS[segment.label],
                alpha=0.18,
                linewidth=0,
            )
        axis.set_title(title)
        axis.set_ylabel("close")
        axis.legend(
            handles=[Patch(color=c, alpha=0.4, label=name) for name, c in COLOURS.items()],
            loc="upper left",
        )
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)


def regime(
    symbol: Annotated[str, typer.Argument(help="Symbol, e.g. AAPL (a label with --data).")],
    data: Annotated[
        Path | None, typer.Option(help="CSV or Parquet bars (timestamp, close, ...).")
    ] = None,
    plot_path: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG of the price shaded by regime.")
    ] = None,
    timeframe: Annotated[str, typer.Option(help="1Day or 1Hour (simulated market).")] = "1Day",
    mode: Annotated[str, typer.Option(help="smoothed (hindsight) or filtered.")] = "smoothed",
    years: Annotated[float, typer.Option(help="History to read from the market.")] = 10.0,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Print a symbol's regime segments: bull, bear or sideways, from a fitted HMM."""
    if mode not in ("smoothed", "filtered"):
        _fail("--mode must be smoothed or filtered")
    if output not in ("table", "json"):
        _fail("--format must be table or json")
    try:
        frame = Timeframe.parse(timeframe)
    except ValueError as exc:
        _fail(str(exc))
    bars = _bars(symbol, data, frame, years)
    # Imported here: the model (hmmlearn, scikit-learn, SciPy) takes about a second to load,
    # which every other command of the CLI would pay.
    from quantumtrade.services.regime import _classify

    try:
        _classify.require_enough(bars)
        timeframe_of = _classify.infer_timeframe(pd.DatetimeIndex(bars.index))
        result = _classify.classify_bars(bars, timeframe_of, mode)
    except AppError as exc:
        _fail(exc.message)
    segments = _classify.segment_views(result)
    close = bars["close"]
    for segment in segments:
        span = close[segment["start"] : segment["end"]]
        segment["return"] = float(span.iloc[-1] / span.iloc[0] - 1.0) if len(span) else None
    if output == "json":
        console.print_json(json.dumps({"symbol": symbol, "mode": mode, "segments": segments}))
    else:
        table = Table(title=f"{symbol.upper()} regimes ({mode}, {len(bars)} bars)")
        for column in ("start", "end", "regime", "bars", "return"):
            table.add_column(column, justify="right" if column in ("bars", "return") else "left")
        for s in segments:
            change = "" if s["return"] is None else f"{100 * s['return']:+.1f} %"
            colour = COLOURS[s["trend_regime"]]
            table.add_row(
                s["start"][:10],
                s["end"][:10],
                f"[{colour}]{s['trend_regime']}[/]",
                str(s["bars"]),
                change,
            )
        console.print(table)
    if plot_path is not None:
        plot(result, close, plot_path, f"{symbol.upper()}: price by regime ({mode})")
        errors.print(f"chart written to {plot_path}")
