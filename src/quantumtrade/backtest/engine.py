"""The bar-by-bar backtest engine: target positions in, trades, equity and metrics out.

Conventions:

- ``signals[i]`` is the position to hold after bar ``i`` closes: ``+1`` long, ``0`` flat,
  ``-1`` short. With ``fill_timing="next_open"`` (the default) it trades at bar ``i + 1``'s
  open, so no decision uses a price it could not have seen; with ``"close"`` it trades at bar
  ``i``'s close. An order goes out only when the signal changes: after a stop-loss or
  take-profit exit the engine stays flat until the signal moves.
- Sizing (whole shares for the equity-based modes, rounded down; with ``fractional=True``
  down to the paper ledger's step of 1e-9 shares instead): ``"fixed_qty"`` trades
  ``quantity`` shares; ``"fixed_fraction"`` buys ``floor(fraction * equity / fill price)``
  shares; ``"all_in"`` is ``fixed_fraction`` with the fraction 1; ``"vol_target"`` scales the
  notional to ``min(vol_target / realised_vol, max_leverage) * equity`` where ``realised_vol``
  is the annualised standard deviation (ddof=1, ``sqrt(periods_per_year)``) of the last
  ``vol_lookback`` close-to-close returns up to the signal bar; without that history (or with
  zero volatility) it does not enter. Equity for sizing is the cash after closing any
  position at the same fill; the entry commission is not reserved out of it.
- Stop-loss and take-profit are fractions of the entry fill price, checked against each bar's
  low and high after the entry fill (a fill at the open sees that bar's range; a fill at the
  close does not). If both levels lie inside one bar, the stop is assumed to have hit first
  (the bar's path is unknown, and assuming the worse outcome does not flatter the strategy).
  A bar opening beyond the stop fills at the open. The stop exits as a market order, with
  slippage; the take-profit as a limit order, at its level (or the better open) with no
  slippage, as ``domain.execution.limit_fillable`` fills.
- Execution mirrors ``domain.execution`` so paper trading and backtests agree:
  ``slippage_bps`` is ``FixedBps(bps)`` applied to the open or close (the reference price);
  the commission is ``PerShare(per_share, per_share_min, per_share_max)`` plus
  ``Percentage(percentage, percentage_min, percentage_max)`` on every fill, each rounded up
  to the cent before clamping. Regulatory fees are not modelled.
- Tick rounding (``tick_size``) is off by default: every fill happens at the modelled price
  exactly (the reference price moved by the slippage; the stop or limit level) and cash moves
  by the exact value ``qty * price``, so with costs off the engine agrees with a plain loop,
  vectorbt or backtesting.py to float precision. ``tick_size="us"`` puts fill prices on the US
  tick grid as paper trading does ($0.01 at or above $1, $0.0001 below; a buy rounded up, a
  sell down), and a number puts them on that tick; either way cash then moves as the paper
  ledger books a fill, by its value rounded to the cent (half to even), and the position is
  marked at each close the same way. Prices already on the grid are left as they are.
- A trade's ``pnl`` is its realised P&L ``side * qty * (exit - entry)`` (as the ledger's
  ``realized_pl``) net of its entry and exit fees; its ``fees`` column is their sum. The
  equity curve is cash plus the marked position, so when the run ends flat the final equity
  equals ``initial_cash + trades.pnl.sum()`` (with tick rounding on, up to the cent rounding:
  under half a cent per fill; exact with whole shares at whole-cent prices). A position open
  at the end stays open (marked to market, not in ``trades``).
- ``evaluate_strategy`` / ``evaluate_signals`` run the same engine on ``BarArrays`` (checked
  once, then reused) and return only the metrics dict, equal to ``run_backtest(...).metrics``;
  they build no DataFrame or Series and keep no equity curve, for parameter sweeps that call
  them many times. Either way the metrics are summed by the engine block by block as it
  writes the equity (``domain.metrics.summary_feed``), to the bit what
  ``performance_summary_values`` gives on the finished curve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.backtest import _kernels
from quantumtrade.backtest._memory import large_empty
from quantumtrade.backtest.strategies import BoundStrategy, from_dict, get_spec
from quantumtrade.domain.metrics import (
    SUMMARY_BLOCK,
    TRADING_DAYS,
    summary_figures,
    summary_start,
)

FillTiming = Literal["next_open", "close"]
Sizing = Literal["fixed_qty", "fixed_fraction", "all_in", "vol_target"]
TickSize = Literal["us"] | float | None

_SIZING_CODES: dict[str, int] = {
    "fixed_qty": _kernels.SIZE_FIXED_QTY,
    "fixed_fraction": _kernels.SIZE_FIXED_FRACTION,
    "all_in": _kernels.SIZE_FIXED_FRACTION,
    "vol_target": _kernels.SIZE_VOL_TARGET,
}
EXIT_REASONS: dict[int, str] = {
    _kernels.EXIT_SIGNAL: "signal",
    _kernels.EXIT_STOP: "stop_loss",
    _kernels.EXIT_TAKE_PROFIT: "take_profit",
}
TRADE_COLUMNS = [
    "entry_time",
    "exit_time",
    "entry_index",
    "exit_index",
    "side",
    "qty",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "exit_reason",
]
BAR_COLUMNS = ("open", "high", "low", "close", "volume")
# ``exit_reason`` is categorical: its codes are the kernel's, its categories the names.
EXIT_REASON_DTYPE = pd.CategoricalDtype([EXIT_REASONS[code] for code in sorted(EXIT_REASONS)])

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]


@dataclass(frozen=True, kw_only=True)
class BacktestConfig:
    """How the engine fills, sizes and charges; see the module docstring for the rules."""

    initial_cash: float = 100_000.0
    fill_timing: FillTiming = "next_open"
    sizing: Sizing = "fixed_fraction"
    quantity: float = 100.0
    fraction: float = 1.0
    vol_target: float = 0.15
    vol_lookback: int = 20
    max_leverage: float = 1.0
    stop_loss: float | None = None
    take_profit: float | None = None
    slippage_bps: float = 0.0
    per_share: float = 0.0
    per_share_min: float = 0.0
    per_share_max: float | None = None
    percentage: float = 0.0
    percentage_min: float = 0.0
    percentage_max: float | None = None
    periods_per_year: int = TRADING_DAYS
    tick_size: TickSize = None
    fractional: bool = False

    def __post_init__(self) -> None:
        if self.fill_timing not in ("next_open", "close"):
            raise ValueError(f"fill_timing must be next_open or close, got {self.fill_timing!r}")
        if self.sizing not in _SIZING_CODES:
            raise ValueError(f"sizing must be one of {sorted(_SIZING_CODES)}, got {self.sizing!r}")
        if not self.initial_cash > 0.0:
            raise ValueError("initial_cash must be positive")
        if not (self.quantity > 0.0 and self.fraction > 0.0 and self.vol_target > 0.0):
            raise ValueError("quantity, fraction and vol_target must be positive")
        if self.vol_lookback < 2 or self.periods_per_year < 1 or not self.max_leverage > 0.0:
            raise ValueError("need vol_lookback >= 2, periods_per_year >= 1, max_leverage > 0")
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be a fraction in (0, 1), got {value}")
        for prefix in ("per_share", "percentage"):
            rate, low = getattr(self, prefix), getattr(self, f"{prefix}_min")
            high = getattr(self, f"{prefix}_max")
            if rate < 0.0 or low < 0.0 or (high is not None and high < low):
                raise ValueError(f"{prefix} needs rate >= 0 and 0 <= minimum <= maximum")
        if self.slippage_bps < 0.0:
            raise ValueError("slippage_bps must not be negative")
        tick = self.tick_size
        if not (
            tick is None
            or tick == "us"
            or (isinstance(tick, int | float) and not isinstance(tick, bool) and 0 < tick < 1e6)
        ):
            raise ValueError(f"tick_size must be None, 'us' or a positive number, got {tick!r}")

    def tick_rule(self) -> tuple[int, float]:
        """Return the kernel's tick mode and tick size."""
        if self.tick_size is None:
            return _kernels.TICK_OFF, 0.0
        if self.tick_size == "us":
            return _kernels.TICK_US, 0.0
        return _kernels.TICK_FIXED, float(self.tick_size)

    def fee_parameters(self) -> npt.NDArray[np.float64]:
        """Return the six commission numbers the kernel takes (no maximum is infinity)."""
        return np.array(
            [
                self.per_share,
                self.per_share_min,
                math.inf if self.per_share_max is None else self.per_share_max,
                self.percentage,
                self.percentage_min,
                math.inf if self.percentage_max is None else self.percentage_max,
            ],
            dtype=np.float64,
        )


@dataclass(frozen=True)
class BacktestResult:
    """Closed trades (one row each), the equity curve at each close, positions and metrics.

    ``trades`` columns: ``entry_time``, ``exit_time``, ``entry_index``, ``exit_index`` (bar
    positions), ``side`` (+1 long, -1 short), ``qty`` (shares, positive), ``entry_price``,
    ``exit_price``, ``fees`` (entry + exit commission), ``pnl`` (net of fees) and
    ``exit_reason`` (categorical: ``signal``, ``stop_loss`` or ``take_profit``).
    ``metrics`` is ``performance_summary`` of the equity with the trades' P&L and the
    positions. ``still_open`` is the position held at the end, which is in no trade: its side
    (0 when flat), quantity and entry bar. ``positions``, the signed share count held at each
    close, is built from the trades and ``still_open`` when first read.
    """

    trades: pd.DataFrame
    equity: pd.Series
    metrics: dict[str, float]
    still_open: tuple[int, float, int] = (0, 0.0, 0)
    # Each closed trade's entry bar, exit bar and signed quantity, apart from ``trades`` so
    # that changing the frame does not change the positions.
    _legs: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.empty((3, 0)), repr=False, compare=False
    )

    @cached_property
    def positions(self) -> pd.Series:
        """The signed share count held at each close (named ``position``)."""
        values = large_empty(len(self.equity))
        side, qty, entry = self.still_open
        _kernels.fill_positions(
            values,
            self._legs[0].astype(np.int64),
            self._legs[1].astype(np.int64),
            self._legs[2],
            np.array([side, qty, entry], dtype=np.float64),
        )
        return pd.Series(values, index=self.equity.index, name="position", copy=False)


@dataclass(frozen=True, eq=False)
class BarArrays:
    """Bars as read-only, contiguous float64 columns of one length, checked once on creation.

    ``open``, ``high``, ``low`` and ``close`` must be finite and positive; ``volume`` is kept
    as given. ``index`` is the bars' UTC ``DatetimeIndex`` when known (``from_frame`` keeps
    it); the evaluate functions do not need it. The columns are read-only views, so one
    instance can be shared by many runs; an input array that is already contiguous float64 is
    not copied, and writing to it afterwards changes the bars (and voids the checks).
    """

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    index: pd.DatetimeIndex | None = None

    def __post_init__(self) -> None:
        length = -1
        for name in BAR_COLUMNS:
            column = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if column.ndim != 1:
                raise ValueError(f"{name} must be one-dimensional, got shape {column.shape}")
            if length >= 0 and column.shape[0] != length:
                raise ValueError(f"{name} has {column.shape[0]} bars, open has {length}")
            length = column.shape[0]
            view = column.view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)
        if length == 0:
            raise ValueError("bars are empty")
        if self.index is not None:
            _check_index(self.index)
            if len(self.index) != length:
                raise ValueError(f"index has {len(self.index)} entries for {length} bars")
        if not _kernels.prices_valid(self.open, self.high, self.low, self.close):
            raise ValueError("open, high, low and close must be finite and positive")

    def __len__(self) -> int:
        return int(self.close.shape[0])

    @classmethod
    def from_frame(cls, bars: pd.DataFrame) -> BarArrays:
        """Check and convert a DataFrame of bars (open, high, low, close, volume; UTC index)."""
        _check_columns(bars)
        if len(bars) == 0:
            raise ValueError("bars are empty")
        index = bars.index
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError("bars need a UTC DatetimeIndex")
        columns = {name: bars[name].to_numpy(dtype=np.float64) for name in BAR_COLUMNS}
        return cls(**columns, index=index)


def _check_columns(bars: pd.DataFrame) -> None:
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack column(s): {', '.join(missing)}")


def _check_index(index: pd.Index) -> None:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or str(index.tz) != "UTC":
        raise ValueError("bars need a UTC DatetimeIndex")


def _checked_target(signals: npt.ArrayLike, length: int) -> Int8Array:
    raw = np.asarray(signals)
    if raw.shape != (length,):
        raise ValueError(f"signals must have shape ({length},), got {raw.shape}")
    if raw.dtype == np.int8:
        target = np.ascontiguousarray(raw)
        valid = bool(_kernels.all_unit(target))
    else:
        valid = bool(np.isin(raw, (-1, 0, 1)).all())
        target = np.ascontiguousarray(raw, dtype=np.int8)
    if not valid:
        raise ValueError("signals must be -1, 0 or +1")
    return target


class _Run(NamedTuple):
    raw: FloatArray  # the trades, field-major (run_kernel's rows)
    reasons: Int8Array
    still_open: FloatArray  # side, quantity and entry bar of the position held at the end
    equity: FloatArray  # at each close, or only the last block's (keep=False)
    metrics: dict[str, float]


def _simulate(
    arrays: BarArrays, target: Int8Array, config: BacktestConfig, *, keep: bool = True
) -> _Run:
    # ``keep=False`` is for callers that need the metrics alone: no equity curve is kept. The
    # positions at each close are only summed into the metrics.
    nan = math.nan
    tick_mode, tick = config.tick_rule()
    fraction = 1.0 if config.sizing == "all_in" else float(config.fraction)
    equity = large_empty(len(target) if keep else SUMMARY_BLOCK)
    position = np.empty(SUMMARY_BLOCK, dtype=np.float64)
    summary = summary_start(0.0)
    raw, reasons, still_open = _kernels.run_kernel(
        arrays.open,
        arrays.high,
        arrays.low,
        arrays.close,
        target,
        config.fill_timing == "close",
        float(config.initial_cash),
        _SIZING_CODES[config.sizing],
        float(config.quantity),
        fraction,
        float(config.vol_target),
        int(config.vol_lookback),
        float(config.max_leverage),
        float(config.periods_per_year),
        nan if config.stop_loss is None else float(config.stop_loss),
        nan if config.take_profit is None else float(config.take_profit),
        float(config.slippage_bps),
        config.fee_parameters(),
        tick_mode,
        tick,
        bool(config.fractional),
        equity,
        position,
        summary,
    )
    metrics = summary_figures(summary, raw[7], True, config.periods_per_year)
    return _Run(raw, reasons, still_open, equity, metrics)


def run_backtest(
    bars: pd.DataFrame, signals: npt.ArrayLike, config: BacktestConfig | None = None
) -> BacktestResult:
    """Trade the target positions ``signals`` over ``bars`` (open, high, low, close, volume)."""
    config = config or BacktestConfig()
    _check_columns(bars)
    target = np.asarray(signals)
    if target.shape != (len(bars),):
        raise ValueError(f"signals must have shape ({len(bars)},), got {target.shape}")
    return _result(BarArrays.from_frame(bars), bars.index, signals, config)


def _result(
    arrays: BarArrays, index: pd.Index, signals: npt.ArrayLike, config: BacktestConfig
) -> BacktestResult:
    target = _checked_target(signals, len(arrays))
    raw, reasons, still_open, equity_values, metrics = _simulate(arrays, target, config)
    # The kernel's arrays are fresh and private, so the Series can own them without a copy.
    equity = pd.Series(equity_values, index=index, name="equity", copy=False)
    side, qty, entry = still_open
    return BacktestResult(
        trades=_trade_frame(index, raw, reasons),
        equity=equity,
        metrics=metrics,
        still_open=(int(side), float(qty), int(entry)),
        _legs=np.stack([raw[0], raw[1], raw[2] * raw[3]]),
    )


def _trade_frame(index: pd.Index, raw: FloatArray, reasons: Int8Array) -> pd.DataFrame:
    entry = raw[0].astype(np.int64)
    exit_ = raw[1].astype(np.int64)
    # The kernel's rows are fresh and private, so the frame can hold them without a copy.
    return pd.DataFrame(
        {
            "entry_time": index.take(entry),
            "exit_time": index.take(exit_),
            "entry_index": entry,
            "exit_index": exit_,
            "side": raw[2].astype(np.int8),
            "qty": raw[3],
            "entry_price": raw[4],
            "exit_price": raw[5],
            "fees": raw[6],
            "pnl": raw[7],
            "exit_reason": pd.Categorical.from_codes(reasons, dtype=EXIT_REASON_DTYPE),
        },
        columns=TRADE_COLUMNS,
        copy=False,
    )


def _bind(strategy_name: str, params: Mapping[str, object] | None) -> BoundStrategy:
    return get_spec(strategy_name).bind(from_dict(strategy_name, params))


def _signals(strategy: BoundStrategy, arrays: BarArrays) -> Int8Array:
    return strategy.signals(arrays.close, arrays.high, arrays.low, arrays.volume)


def run_strategy(
    bars: pd.DataFrame,
    strategy_name: str,
    params: Mapping[str, object] | None = None,
    config: BacktestConfig | None = None,
) -> BacktestResult:
    """Compute the registered strategy's signals on ``bars`` and backtest them."""
    strategy = _bind(strategy_name, params)
    arrays = BarArrays.from_frame(bars)
    return _result(arrays, bars.index, _signals(strategy, arrays), config or BacktestConfig())


def evaluate_signals(
    arrays: BarArrays, signals: npt.ArrayLike, config: BacktestConfig | None = None
) -> dict[str, float]:
    """Backtest ``signals`` over ``arrays`` and return only the metrics (no DataFrames)."""
    config = config or BacktestConfig()
    target = _checked_target(signals, len(arrays))
    return _simulate(arrays, target, config, keep=False).metrics


def signal_equity(
    arrays: BarArrays, signals: npt.ArrayLike, config: BacktestConfig | None = None
) -> FloatArray:
    """Backtest ``signals`` over ``arrays`` and return only the equity at each close."""
    config = config or BacktestConfig()
    return _simulate(arrays, _checked_target(signals, len(arrays)), config).equity


def strategy_signals(
    arrays: BarArrays, strategy_name: str, params: Mapping[str, object] | None = None
) -> Int8Array:
    """Return the registered strategy's target position at each bar."""
    return _signals(_bind(strategy_name, params), arrays)


def evaluate_strategy(
    arrays: BarArrays,
    strategy_name: str,
    params: Mapping[str, object] | None = None,
    config: BacktestConfig | None = None,
) -> dict[str, float]:
    """Return ``run_strategy(...).metrics`` for bars already checked into ``BarArrays``."""
    return evaluate_signals(arrays, _signals(_bind(strategy_name, params), arrays), config)
