"""Request and response bodies of ``/api/backtest``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, model_validator

from quantumtrade.api.schemas.common import IsoDateTime, StrictModel, Uuid

Status = Literal["queued", "running", "completed", "failed"]


class BacktestCreate(StrictModel):
    """A backtest of one registered strategy on one symbol, or on an uploaded dataset.

    Bars come from the market (``symbol``, ``start``, ``end`` required; ``timeframe`` defaults
    to ``1Day``) or, with ``dataset_id``, from one of your uploaded files: then ``symbol`` may
    be left out (it must match the dataset's label if given), ``start`` and ``end`` default to
    the file's span, and ``timeframe`` (which sets the default ``periods_per_year``) to the bar
    length inferred from the file, else ``1Day``.

    Execution options mirror ``BacktestConfig``: ``fill`` is ``next_open`` (trade at the next
    bar's open) or ``close``; sizing ``fixed_fraction`` (default), ``all_in``, ``fixed_qty`` or
    ``vol_target``, in whole shares unless ``fractional`` (always on for crypto); commission
    ``per_share`` and/or ``percentage`` with optional minimum and maximum; ``slippage_bps``;
    ``tick_size``: omitted or null fills at the modelled price exactly, ``"us"`` rounds fill
    prices onto the US tick grid against the trader (and cash to the cent) as paper trading
    does, a number onto that tick. Omitted options take the engine's defaults.
    """

    strategy: str = Field(min_length=1, max_length=50, examples=["sma_crossover"])
    symbol: str | None = Field(default=None, min_length=1, max_length=20, examples=["AAPL"])
    symbols: list[str] | None = Field(
        default=None, min_length=1, max_length=1, description="One symbol for now."
    )
    dataset_id: Uuid | None = Field(
        default=None, description="Backtest on this uploaded dataset instead of the market."
    )
    start: IsoDateTime | None = Field(default=None, examples=["2020-01-01T00:00:00Z"])
    end: IsoDateTime | None = Field(default=None, examples=["2023-01-01T00:00:00Z"])
    timeframe: Literal["1Day", "1Hour", "1Min"] | None = None
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fast": 10, "slow": 30}])
    name: str | None = Field(default=None, max_length=200)
    initial_cash: float = Field(default=100_000.0, gt=0, le=1e12)
    fill: Literal["next_open", "close"] = "next_open"
    sizing: Literal["fixed_qty", "fixed_fraction", "all_in", "vol_target"] | None = None
    fractional: StrictBool | None = Field(
        default=None, description="Size in fractions of a share (down to 1e-9), not whole ones."
    )
    tick_size: Literal["us"] | Annotated[float, Field(gt=0, lt=1_000_000)] | None = Field(
        default=None,
        description="Tick rounding of fill prices: null (off: the modelled price exactly), "
        '"us" ($0.01 at or above $1, $0.0001 below) or a tick size.',
        examples=["us", 0.01],
    )
    quantity: float | None = None
    fraction: float | None = None
    vol_target: float | None = None
    vol_lookback: int | None = None
    max_leverage: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    slippage_bps: float | None = None
    per_share: float | None = None
    per_share_min: float | None = None
    per_share_max: float | None = None
    percentage: float | None = None
    percentage_min: float | None = None
    percentage_max: float | None = None
    periods_per_year: int | None = Field(
        default=None, description="Defaults from the timeframe and the symbol's asset class."
    )

    @model_validator(mode="after")
    def _one_source(self) -> BacktestCreate:
        if self.symbol is not None and self.symbols is not None:
            raise ValueError("give one of symbol or symbols, not both")
        if self.dataset_id is None:
            if self.symbol is None and self.symbols is None:
                raise ValueError("give symbol (or dataset_id to use an uploaded file)")
            if self.start is None or self.end is None:
                raise ValueError("start and end are required unless dataset_id is given")
        return self

    @property
    def the_symbol(self) -> str | None:
        if self.symbol is not None:
            return self.symbol
        return self.symbols[0] if self.symbols else None

    def config_options(self) -> dict[str, Any]:
        """Return the engine options that were given, named as ``BacktestConfig`` names them."""
        # Fields a subclass adds (an optimisation's grid...) are not engine options either.
        extra = set(type(self).model_fields) - set(BacktestCreate.model_fields)
        options = self.model_dump(
            exclude={"strategy", "symbol", "symbols", "start", "end", "timeframe"}
            | {"params", "name", "fill", "dataset_id"}
            | extra,
            exclude_none=True,
        )
        options["fill_timing"] = self.fill
        return options


class WalkForwardIn(StrictModel):
    """Walk-forward windows, in bars: choose on ``in_sample``, score on the next ``out_of_sample``.

    ``folds`` (default: as many as fit) windows end at the last bar; ``anchored`` in-sample
    windows all start at the first bar; ``warmup`` bounds the history a window's indicators
    may read before it (default: all of it).
    """

    in_sample: int = Field(ge=2, le=2_000_000)
    out_of_sample: int = Field(ge=2, le=2_000_000)
    folds: int | None = Field(default=None, ge=1, le=1_000)
    anchored: StrictBool = False
    warmup: int | None = Field(default=None, ge=0, le=2_000_000)


class OptimizationCreate(BacktestCreate):
    """A parameter search over ``grid`` (name -> candidate values; ``params`` fixes the rest).

    Without ``walk_forward`` every combination is scored on the whole range (a grid search,
    in-sample only); with it, params are chosen per in-sample window and scored only on the
    out-of-sample window after it. ``objective`` is a metric name (``sharpe`` by default;
    ``max_drawdown``, ``max_drawdown_duration`` and ``volatility`` are minimised).
    """

    grid: dict[str, list[Any]] = Field(
        min_length=1, max_length=10, examples=[{"fast": [5, 10, 20], "slow": [30, 50, 100]}]
    )
    objective: str = Field(default="sharpe", max_length=40)
    walk_forward: WalkForwardIn | None = None


class BacktestAccepted(BaseModel):
    id: uuid.UUID
    status: Status


class BacktestSummary(BaseModel):
    id: uuid.UUID
    kind: str = "backtest"
    dataset_id: uuid.UUID | None = None
    name: str | None
    strategy: str
    symbols: list[str]
    timeframe: str
    grid: dict[str, list[Any]] | None = None
    objective: str | None = None
    walk_forward: dict[str, Any] | None = None
    params: dict[str, Any]
    config: dict[str, Any]
    start: datetime | None
    end: datetime | None
    status: str
    progress: float
    error: str | None
    metrics: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None


class BacktestOut(BacktestSummary):
    """A backtest with its equity curve (with drawdown) and trades once completed; an
    optimisation with its report."""

    equity: list[dict[str, Any]] | None = None
    trades: list[dict[str, Any]] | None = None
    report: dict[str, Any] | None = None


class BacktestPage(BaseModel):
    items: list[BacktestSummary]
    total: int
    limit: int
    offset: int


class MonteCarloRequest(StrictModel):
    """``reshuffle`` permutes the closed trades' P&L; ``bootstrap`` resamples period returns."""

    method: Literal["reshuffle", "bootstrap"] = "reshuffle"
    simulations: int = Field(default=1000, ge=1, le=20_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    block_size: int = Field(default=20, ge=1, le=10_000)
    ruin_threshold: float = Field(
        default=0.5, ge=0, lt=1, description="Ruin: equity at or below this share of the start."
    )


class MonteCarloOut(BaseModel):
    method: str
    simulations: int
    seed: int | None
    initial_cash: float
    final_equity: dict[str, float]
    max_drawdown: dict[str, float]
    probability_of_ruin: float


class DatasetOut(BaseModel):
    """An uploaded bar file: its label, bar length (if regular), size and time span."""

    id: uuid.UUID
    name: str
    symbol: str
    asset_class: str
    timeframe: str | None
    filename: str
    rows: int
    first_time: datetime
    last_time: datetime
    size_bytes: int
    sha256: str
    created_at: datetime


class DatasetPage(BaseModel):
    items: list[DatasetOut]
    total: int
    limit: int
    offset: int
