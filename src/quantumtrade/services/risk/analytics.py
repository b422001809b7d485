"""Read-only risk analytics of a portfolio: VaR/CVaR, risk metrics, stress tests, stop suggestions.

Conventions (the maths is in ``domain.risk``, whose module docstrings give the formulas):

- A position's market value is its quantity times the last price (negative = short); equity is
  the account's equity (cash plus market values).
- History is the simple daily returns of completed sessions' closes (today's unfinished session
  is left out) over the last ``lookback_days`` sessions that every series shares: dates are
  intersected, so a crypto pair's weekend moves fold into the next weekday's return.
- Losses are positive (VaR, CVaR); P&L is signed (a stress loss is a negative P&L).
- Percentages are fractions (0.0123 = 1.23 %), of equity or of gross exposure as named.
- Answers are JSON-ready: plain floats, None where a figure is undefined (never NaN). An empty
  portfolio answers zeros and empty lists.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Portfolio
from quantumtrade.domain import risk
from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.services.trading import performance, portfolios
from quantumtrade.services.trading.desk import TradingDesk

VarMethod = Literal["historical", "parametric", "monte_carlo", "all"]
METHODS = ("historical", "parametric", "monte_carlo")
BENCHMARK = "SPY"
CORRELATION_WARNING = 0.8
VOLATILITY_SPIKE = 2.0
MIN_OBSERVATIONS = 20
MAX_SHOCKS = 100
# Monte Carlo holds paths x positions normals at once (8 bytes each): at most 80 MB.
MAX_MONTE_CARLO_DRAWS = 10_000_000
_DAYS_PER_SESSION = 365.0 / 252.0 * 1.03  # calendar days per NYSE session, with slack
_FETCHES = 8  # bar requests in flight at once
_SHOCK_ITEM = re.compile(r"\s*([A-Za-z0-9./\-]{1,20})\s*:\s*([^,]+?)\s*")

VAR_CONVENTIONS = {
    "sign": "VaR and CVaR are positive losses in the portfolio currency (negative = a gain).",
    "returns": "Simple daily returns of completed sessions' closes over the last lookback_days "
    "sessions all holdings share; positions valued at the last price.",
    "horizon": "One-day figures scaled by sqrt(horizon_days) (i.i.d. returns); zero mean.",
    "quantile": "Historical and Monte Carlo: k = ceil((1 - confidence) * scenarios); VaR is the "
    "k-th largest loss, CVaR the mean of the k largest, so CVaR >= VaR.",
    "parametric": "Normal variance-covariance: VaR = z * sigma_p * sqrt(h) with the sample "
    "covariance (ddof=1); Monte Carlo draws correlated normals from the same covariance.",
    "components": "Parametric: Euler components, summing to VaR. Historical and Monte Carlo: "
    "each position's mean loss over the k tail scenarios, summing to CVaR.",
    "percentages": "Fractions (0.0123 = 1.23 %) of equity or of gross exposure, as named.",
}


def _num(value: Any) -> float | None:
    """Return a plain float (-0.0 as 0.0), or None for NaN and infinities."""
    number = float(value) + 0.0
    return number if math.isfinite(number) else None


def _share(part: float, whole: float) -> float | None:
    return _num(part / whole) if whole > 0.0 else None


def _refuse(message: str, code: str, **details: Any) -> Unprocessable:
    return Unprocessable(message, code=code, details=details or None)


def _require(ok: bool, message: str, code: str = "invalid_risk_parameter") -> None:
    if not ok:
        raise _refuse(message, code)


# --- market data ----------------------------------------------------------------------------


def _book(positions: Mapping[str, Any], prices: Mapping[str, Any]) -> pd.Series:
    """Return the market value of each open position, by symbol in alphabetical order."""
    values = {s: float(p.qty * prices[s]) for s, p in sorted(positions.items()) if p.qty != 0}
    return pd.Series(values, dtype="float64")


async def _daily_bars(desk: TradingDesk, symbol: str, sessions: int, now: datetime) -> pd.DataFrame:
    """Return the completed daily bars of about the last ``sessions`` sessions, by UTC date."""
    start = now - timedelta(days=math.ceil((sessions + 1) * _DAYS_PER_SESSION) + 10)
    try:
        bars = await desk.container.market.get_bars(symbol, Timeframe.DAY_1, start, now)
    except LookupError as exc:
        raise _refuse(f"No price history for {symbol}.", "no_price_history", symbol=symbol) from exc
    index = pd.DatetimeIndex(bars.index).tz_convert(UTC).tz_localize(None).normalize()
    frame = bars.set_axis(index)
    frame = frame[frame.index < pd.Timestamp(now.astimezone(UTC).date())]
    return frame[~frame.index.duplicated(keep="last")]


async def _returns(
    desk: TradingDesk, symbols: Sequence[str], lookback_days: int, now: datetime
) -> pd.DataFrame:
    """Return the last ``lookback_days`` daily returns the symbols share (dates x symbols)."""
    gate = asyncio.Semaphore(_FETCHES)

    async def closes(symbol: str) -> pd.Series:
        async with gate:
            bars = await _daily_bars(desk, symbol, lookback_days, now)
        return bars["close"].astype("float64").rename(symbol)

    series = await asyncio.gather(*(closes(symbol) for symbol in dict.fromkeys(symbols)))
    frame = pd.concat(series, axis=1, join="inner").sort_index()
    frame = frame[(frame > 0.0).all(axis=1)]
    returns = frame.pct_change().iloc[1:].tail(lookback_days)
    if len(returns) < MIN_OBSERVATIONS:
        shortest = min(series, key=len)
        raise _refuse(
            f"Not enough shared price history: {len(returns)} daily returns where "
            f"{MIN_OBSERVATIONS} are needed ({shortest.name} has {len(shortest)} closes).",
            "insufficient_history",
            observations=len(returns),
            required=MIN_OBSERVATIONS,
        )
    return returns


def _history(returns: pd.DataFrame | None, lookback_days: int) -> dict[str, Any]:
    dates = pd.DatetimeIndex([] if returns is None else returns.index)
    return {
        "lookback_days": lookback_days,
        "observations": len(dates),
        "start": dates[0].date().isoformat() if len(dates) else None,
        "end": dates[-1].date().isoformat() if len(dates) else None,
    }


# --- value at risk --------------------------------------------------------------------------


def check_var_inputs(
    *, confidence: float, horizon_days: int, lookback_days: int, paths: int, seed: int
) -> None:
    """Refuse parameters outside the ranges the API documents (422)."""
    _require(0.5 < confidence < 0.9999, "confidence must lie in (0.5, 0.9999).")
    _require(1 <= horizon_days <= 30, "horizon_days must lie in 1..30.")
    _require(30 <= lookback_days <= 1000, "lookback_days must lie in 30..1000.")
    _require(100 <= paths <= 100_000, "paths must lie in 100..100000.")
    _require(0 <= seed < 2**32, "seed must lie in 0..4294967295.")


def _var_view(
    result: risk.VarResult | None, values: Mapping[str, float], equity: float
) -> dict[str, Any]:
    if result is None:  # an empty book has nothing at risk
        zero = dict.fromkeys(("var", "cvar", "var_pct_of_equity", "cvar_pct_of_equity"), 0.0)
        zero |= {"var_pct_of_gross": 0.0, "cvar_pct_of_gross": 0.0}
        return zero | {"component_basis": None, "components": []}
    basis = result.var if result.component_basis == "var" else result.cvar
    components = [
        {
            "symbol": symbol,
            "market_value": values[symbol],
            "component": _num(part),
            "share": _num(part / basis) if basis else None,
        }
        for symbol, part in sorted(result.components.items(), key=lambda item: -item[1])
    ]
    return {
        "var": _num(result.var),
        "cvar": _num(result.cvar),
        "var_pct_of_equity": _share(result.var, equity),
        "cvar_pct_of_equity": _share(result.cvar, equity),
        "var_pct_of_gross": _num(result.var_pct),
        "cvar_pct_of_gross": _num(result.cvar_pct),
        "component_basis": result.component_basis,
        "components": components,
    }


def var_figures(
    values: pd.Series,
    returns: pd.DataFrame | None,
    *,
    equity: float,
    methods: Sequence[str] = METHODS,
    confidence: float,
    horizon_days: int,
    paths: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Return each method's JSON-ready VaR view of a book (``returns`` None when it is empty)."""
    if values.empty or returns is None:
        return {method: _var_view(None, {}, equity) for method in methods}
    # Columns in the positions' order, row-major: a frame's own array is column-major, which
    # makes the covariance and the scenario products about twice as slow.
    matrix = np.ascontiguousarray(returns[list(values.index)].to_numpy(dtype=np.float64))
    compute: dict[str, Callable[[], risk.VarResult]] = {
        "historical": lambda: risk.historical_var(values, matrix, confidence, horizon_days),
        "parametric": lambda: risk.parametric_var(values, matrix, confidence, horizon_days),
        "monte_carlo": lambda: risk.monte_carlo_var(
            values, matrix, confidence, horizon_days, paths=paths, seed=seed
        ),
    }
    plain = dict(zip(map(str, values.index), values.to_numpy().tolist(), strict=True))
    return {method: _var_view(compute[method](), plain, equity) for method in methods}


async def value_at_risk(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    method: VarMethod = "all",
    confidence: float = 0.95,
    horizon_days: int = 1,
    lookback_days: int = 252,
    paths: int = 10_000,
    seed: int = 42,
) -> dict[str, Any]:
    """Return VaR and CVaR of the portfolio by one or all methods, with component VaR."""
    check_var_inputs(
        confidence=confidence,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        paths=paths,
        seed=seed,
    )
    methods = METHODS if method == "all" else (method,)
    _require(set(methods) <= set(METHODS), f"Unknown VaR method {method!r}.")
    now = desk.container.clock.now()
    account, positions, prices = await portfolios.figures(db, desk=desk, portfolio=portfolio)
    values, equity = _book(positions, prices), float(account.equity)
    if "monte_carlo" in methods and paths * len(values) > MAX_MONTE_CARLO_DRAWS:
        raise _refuse(
            f"Monte Carlo would draw {paths:,} paths x {len(values)} positions; keep the "
            f"product at most {MAX_MONTE_CARLO_DRAWS:,} (ask for fewer paths).",
            "monte_carlo_too_large",
            max_paths=MAX_MONTE_CARLO_DRAWS // len(values),
        )
    returns = await _returns(desk, list(values.index), lookback_days, now) if len(values) else None
    figures = await asyncio.to_thread(
        var_figures,
        values,
        returns,
        equity=equity,
        methods=methods,
        confidence=confidence,
        horizon_days=horizon_days,
        paths=paths,
        seed=seed,
    )
    return {
        "portfolio_id": str(portfolio.id),
        "as_of": now.isoformat(),
        "currency": portfolio.currency,
        "equity": equity,
        "gross_exposure": float(values.abs().sum()),
        "positions": len(values),
        "confidence": confidence,
        "horizon_days": horizon_days,
        "history": _history(returns, lookback_days),
        "monte_carlo": {"paths": paths, "seed": seed} if "monte_carlo" in methods else None,
        "methods": figures,
        "conventions": VAR_CONVENTIONS,
    }


# --- risk metrics and stress tests ----------------------------------------------------------


def parse_shocks(text: str | None) -> dict[str, float]:
    """Parse ``"AAPL:-0.1,MSFT:-0.05"`` into per-symbol returns; refuse bad syntax (422).

    Each shock is a simple return as a fraction in [-1, 10] (a price cannot fall below zero).
    Symbols are upper-cased here; the caller resolves them against the market.
    """
    if text is None or not text.strip():
        return {}
    items = text.split(",")
    _require(len(items) <= MAX_SHOCKS, f"At most {MAX_SHOCKS} shocks.", "invalid_shocks")
    shocks: dict[str, float] = {}
    for item in items:
        shown = item.strip()[:40]
        match = _SHOCK_ITEM.fullmatch(item)
        try:
            value = float(match.group(2)) if match else math.nan
        except ValueError:
            value = math.nan
        if match is None or not math.isfinite(value):
            raise _refuse(
                f"Bad shock {shown!r}: write SYMBOL:RETURN pairs separated by commas, "
                "e.g. AAPL:-0.1,MSFT:-0.05 (returns as fractions).",
                "invalid_shocks",
                item=shown,
            )
        symbol = match.group(1).upper()
        if not -1.0 <= value <= 10.0:
            raise _refuse(f"Shock {shown!r} must lie in [-1, 10].", "invalid_shocks", item=shown)
        if symbol in shocks:
            raise _refuse(f"{symbol} is shocked twice.", "invalid_shocks", item=shown)
        shocks[symbol] = value
    return shocks


def _stress_view(
    result: risk.StressResult, equity: float, kind: str, **extra: Any
) -> dict[str, Any]:
    return {
        "scenario": result.scenario,
        "kind": kind,
        **extra,
        "pnl": _num(result.pnl),
        "pnl_pct_of_equity": _share(result.pnl, equity),
        "pnl_pct_of_gross": _num(result.pnl_pct),
        "positions": [
            {"symbol": s, "pnl": _num(p)}
            for s, p in zip(result.labels, result.position_pnl, strict=True)
        ],
    }


def _stress_tests(
    values: pd.Series,
    returns: pd.DataFrame,
    betas: Mapping[str, float],
    equity: float,
    sectors: Mapping[str, str | None],
    sector_move: float,
) -> list[dict[str, Any]]:
    """Return market -10 % / -20 % by beta, volatility spike and largest-sector scenarios."""
    views = [
        _stress_view(result, equity, "market", shock=shock)
        for shock, result in zip(
            risk.DEFAULT_MARKET_SHOCKS, risk.market_shocks(values, betas), strict=True
        )
    ]
    spike = risk.volatility_spike(values, returns, VOLATILITY_SPIKE, confidence=0.99)
    loss = risk.StressResult(
        scenario=f"volatility x{VOLATILITY_SPIKE:g}",
        pnl=-spike.var,
        pnl_pct=-spike.var_pct,
        position_pnl=tuple(-c for c in spike.component_var),
        labels=spike.labels,
    )
    base = _num(risk.parametric_var(values, returns, 0.99).var)
    extra = {"multiple": VOLATILITY_SPIKE, "var_99_1d": _num(spike.var), "base_var_99_1d": base}
    views.append(_stress_view(loss, equity, "volatility_spike", **extra))
    by_sector: dict[str, float] = {}
    for symbol, value in values.items():
        if sector := sectors.get(str(symbol)):
            by_sector[sector] = by_sector.get(sector, 0.0) + abs(float(value))
    if by_sector:
        largest = min(by_sector, key=lambda name: (-by_sector[name], name))
        moved = risk.sector_shock(
            values, {s: v for s, v in sectors.items() if v}, largest, sector_move
        )
        views.append(_stress_view(moved, equity, "sector", sector=largest, shock=sector_move))
    return views


def _betas(returns: pd.DataFrame, benchmark: pd.Series) -> dict[str, float]:
    """Return each column's OLS beta on the benchmark, as ``domain.risk.beta`` computes it.

    All columns share the benchmark's dates, so one covariance product replaces a pandas
    alignment per position (500 positions: about 2 ms instead of 500).
    """
    bench = benchmark.to_numpy(dtype=np.float64)
    matrix = returns.to_numpy(dtype=np.float64)
    if len(bench) < 2 or float(np.var(bench, ddof=1)) < 1e-24:
        return dict.fromkeys(map(str, returns.columns), math.nan)
    centred = bench - bench.mean()
    slopes = (matrix - matrix.mean(axis=0)).T @ centred / float(centred @ centred)
    return dict(zip(map(str, returns.columns), slopes.tolist(), strict=True))


def _plain_matrix(matrix: npt.NDArray[np.float64]) -> list[list[float | None]]:
    """Return the matrix as nested lists of floats, None where undefined."""
    cells = matrix.astype(object)
    cells[~np.isfinite(matrix)] = None
    rows: list[list[float | None]] = cells.tolist()
    return rows


def metric_figures(
    values: pd.Series,
    returns: pd.DataFrame,
    benchmark: pd.Series | None,
    *,
    equity: float,
    sectors: Mapping[str, str | None],
    sector_move: float = -0.10,
) -> dict[str, Any]:
    """Return exposure, beta, volatility, correlation, concentration and stress of a held book."""
    symbols = list(values.index)
    gross = float(values.abs().sum())
    # An undefined beta (a flat benchmark) counts as 1, like a missing benchmark.
    betas = _betas(returns, benchmark) if benchmark is not None else {}
    betas = {s: b for s, b in betas.items() if math.isfinite(b)}
    plain = dict(zip(symbols, values.to_numpy().tolist(), strict=True))
    series = risk.portfolio_returns(values, returns)
    exposure = risk.exposure(values)
    report = risk.correlation_report(values, returns, CORRELATION_WARNING)
    herfindahl = risk.herfindahl(values)
    return {
        "positions": [
            {
                "symbol": s,
                "market_value": plain[s],
                "weight": _share(plain[s], gross),
                "sector": sectors.get(s),
                "beta": _num(betas[s]) if s in betas else None,
            }
            for s in symbols
        ],
        "exposure": {
            "gross": _num(exposure.gross),
            "net": _num(exposure.net),
            "long": _num(exposure.long),
            "short": _num(exposure.short),
            "gross_pct_of_equity": _share(exposure.gross, equity),
            "net_pct_of_equity": _share(exposure.net, equity),
            "beta_weighted": _num(sum(betas.get(s, 1.0) * plain[s] for s in symbols)),
        },
        "beta": _num(risk.beta(series, benchmark.to_numpy())) if benchmark is not None else None,
        "volatility_annualised": _num(risk.annualised_volatility(series)),
        "correlation": {
            "symbols": symbols,
            "matrix": _plain_matrix(report.matrix.to_numpy(dtype=np.float64)),
            "threshold": CORRELATION_WARNING,
            "warnings": [
                {
                    "first": p.first,
                    "second": p.second,
                    "correlation": _num(p.correlation),
                    "message": f"{p.first} and {p.second} move together (rho "
                    f"{p.correlation:+.2f}): their risks add up rather than diversify.",
                }
                for p in report.pairs
            ],
        },
        "concentration": {"herfindahl": herfindahl, "effective_positions": 1.0 / herfindahl},
        "stress": _stress_tests(values, returns, betas, equity, sectors, sector_move),
    }


def _empty_metrics() -> dict[str, Any]:
    exposure = dict.fromkeys(("gross", "net", "long", "short", "gross_pct_of_equity"), 0.0)
    exposure |= {"net_pct_of_equity": 0.0, "beta_weighted": 0.0}
    stress = [
        {"scenario": f"market {shock:+.0%}", "kind": "market", "shock": shock, "pnl": 0.0}
        | {"pnl_pct_of_equity": 0.0, "pnl_pct_of_gross": 0.0, "positions": []}
        for shock in risk.DEFAULT_MARKET_SHOCKS
    ]
    correlation = {"symbols": [], "matrix": [], "threshold": CORRELATION_WARNING, "warnings": []}
    return {
        "positions": [],
        "exposure": exposure,
        "beta": 0.0,
        "volatility_annualised": 0.0,
        "correlation": correlation,
        "concentration": {"herfindahl": 0.0, "effective_positions": 0.0},
        "stress": stress,
    }


async def risk_metrics(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    shocks: Mapping[str, float] | None = None,
    lookback_days: int = 252,
    sector_move: float = -0.10,
) -> dict[str, Any]:
    """Return exposure, beta, volatility, correlation, concentration, drawdown and stress tests.

    Stress: market -10 % / -20 % by each position's beta to SPY, volatility x2 (99 % one-day
    parametric VaR), the largest sector by gross exposure moved by ``sector_move``, and the
    caller's per-symbol ``shocks`` (symbols not held are listed and change nothing).
    """
    _require(30 <= lookback_days <= 1000, "lookback_days must lie in 30..1000.")
    _require(-1.0 <= sector_move <= 1.0, "sector_shock must lie in [-1, 1].")
    wanted = {desk.symbol_info(s).symbol: v for s, v in (shocks or {}).items()}
    now = desk.container.clock.now()
    account, positions, prices = await portfolios.figures(db, desk=desk, portfolio=portfolio)
    values, equity = _book(positions, prices), float(account.equity)
    infos = {info.symbol: info for info in desk.container.market.symbols()}
    bench = BENCHMARK if BENCHMARK in infos else None
    warnings = [] if bench else [f"{BENCHMARK} is unavailable: no beta; market shocks use beta 1."]
    returns: pd.DataFrame | None = None
    if values.empty:
        figures = _empty_metrics()
    else:
        shared = await _returns(
            desk, [*values.index, *([bench] if bench else [])], lookback_days, now
        )
        returns = shared[list(values.index)]
        sectors = {s: infos[s].sector if s in infos else None for s in values.index}
        figures = await asyncio.to_thread(
            metric_figures,
            values,
            returns,
            shared[bench] if bench else None,
            equity=equity,
            sectors=sectors,
            sector_move=sector_move,
        )
    if wanted:
        applied = {s: v for s, v in wanted.items() if s in values.index}
        unheld = sorted(set(wanted) - set(applied))
        nothing = risk.StressResult("custom", 0.0, 0.0, (), ())
        custom = risk.symbol_shocks(values, applied) if len(values) else nothing
        view = _stress_view(custom, equity, "custom", shocks=wanted, unheld_symbols=unheld)
        figures["stress"].append(view)
        if unheld:
            warnings.append(f"Shocks on symbols not held change nothing: {', '.join(unheld)}.")
    drawdown = await _drawdown(db, desk, portfolio, bench)  # commits the curve's stored days
    return {
        "portfolio_id": str(portfolio.id),
        "as_of": now.isoformat(),
        "currency": portfolio.currency,
        "equity": equity,
        "benchmark": bench,
        "history": _history(returns, lookback_days),
        **figures,
        "drawdown": drawdown,
        "warnings": warnings,
    }


async def _drawdown(
    db: AsyncSession, desk: TradingDesk, portfolio: Portfolio, bench: str | None
) -> dict[str, Any]:
    """Return the current and maximum drawdown of the time-weighted equity curve."""
    if bench is None:
        return {"current": None, "max": None, "since": None}
    report = await performance.report(db, desk=desk, portfolio=portfolio, benchmark=bench)
    daily = [item["return"] for item in report["returns"]["daily"] if item["return"] is not None]
    state = risk.drawdown_state(pd.Series(np.cumprod([1.0, *(1.0 + r for r in daily)])))
    return {"current": _num(state.current), "max": _num(state.maximum), "since": report["since"]}
