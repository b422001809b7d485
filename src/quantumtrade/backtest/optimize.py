"""Parameter search without fooling yourself: grid search and walk-forward validation.

Conventions:

- A grid maps parameter names to candidate values; the combinations are its Cartesian product
  in grid order (the last name varies fastest). Each is validated by the strategy's params
  class: invalid ones (``fast >= slow``) are skipped and counted, never run.
- The objective is one metric of the engine's metrics dict. ``max_drawdown``,
  ``max_drawdown_duration`` and ``volatility`` are minimised, every other metric maximised. A
  NaN score ranks last; ties keep grid order, so the ranking is deterministic.
- Windows are half-open bar ranges ``[start, end)``. Walk-forward fold ``k`` chooses the
  params with the best score on its in-sample window and scores only them, only on the
  out-of-sample window that follows. Rolling windows slide by the out-of-sample length;
  anchored windows all start at bar 0. With ``folds`` given, the windows end at the last bar
  and the oldest bars are left out (rolling) or join the first in-sample window (anchored).
- Warm-up without look-ahead: a window's signals are computed on the bars before its start
  too (all of them, or the last ``warmup`` bars), because indicators need history and the
  strategies are causal (a signal uses bars up to its own). Trading and metrics start at the
  window's first bar: the account opens flat with ``initial_cash`` there, and a position the
  history already called for is entered at the window's first fill (the next open by
  default). Out-of-sample bars therefore never influence the choice of params, and
  in-sample trades never count in an out-of-sample score.
- The stitched out-of-sample equity chains the folds' curves, each fold reinvesting the last
  one's final equity; its summary is ``performance_summary`` of that curve.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.backtest.compute import ComputeBackend, LocalBackend, Progress
from quantumtrade.backtest.engine import (
    BAR_COLUMNS,
    BacktestConfig,
    BacktestResult,
    BarArrays,
    evaluate_signals,
    run_backtest,
)
from quantumtrade.backtest.reports import (
    FoldReport,
    GridSearchReport,
    Params,
    RankedParams,
    WalkForwardReport,
)
from quantumtrade.backtest.strategies import Int8Array, StrategyParamError, from_dict, get_spec
from quantumtrade.backtest.strategies.shared import IndicatorCache, WindowIndicators
from quantumtrade.domain.metrics import CURVE_METRICS, TRADE_METRICS, performance_summary

__all__ = [
    "MAX_COMBINATIONS",
    "METRICS",
    "MINIMISED",
    "Fold",
    "FoldReport",
    "GridSearchReport",
    "Objective",
    "ParameterGrid",
    "Params",
    "RankedParams",
    "WalkForwardReport",
    "backtest_window",
    "expand_grid",
    "grid_search",
    "walk_forward",
    "walk_forward_windows",
    "window_signals",
]

MAX_COMBINATIONS = 100_000
METRICS = (*CURVE_METRICS, *TRADE_METRICS, "exposure")
MINIMISED = frozenset({"max_drawdown", "max_drawdown_duration", "volatility"})
_MAX_CHUNK = 16

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class ParameterGrid:
    """The valid combinations of a grid, in grid order, and how many were skipped."""

    strategy: str
    names: tuple[str, ...]
    combinations: tuple[Params, ...]
    skipped: int


@dataclasses.dataclass(frozen=True)
class Objective:
    """A metric to rank by and its direction."""

    metric: str = "sharpe"
    maximize: bool = True

    @classmethod
    def named(cls, metric: str) -> Objective:
        """Return the objective for ``metric`` (minimised for drawdown and volatility)."""
        if metric not in METRICS:
            raise ValueError(f"unknown objective {metric!r}; choose one of {', '.join(METRICS)}")
        return cls(metric, metric not in MINIMISED)

    def score(self, metrics: Mapping[str, float]) -> float:
        """Return the metric's value (NaN when missing)."""
        return float(metrics.get(self.metric, math.nan))

    def rank(self, scores: Sequence[float]) -> list[int]:
        """Return positions ordered best first: NaN last, ties in their original order."""
        sign = -1.0 if self.maximize else 1.0

        def key(i: int) -> tuple[bool, float, int]:
            value = scores[i]
            return (math.isnan(value), 0.0 if math.isnan(value) else sign * value, i)

        return sorted(range(len(scores)), key=key)


@dataclasses.dataclass(frozen=True)
class Fold:
    """One walk-forward split: in-sample ``[is_start, is_end)``, then ``[is_end, oos_end)``."""

    index: int
    is_start: int
    is_end: int
    oos_end: int

    @property
    def oos_start(self) -> int:
        """Return the first out-of-sample bar (the bar after the in-sample window)."""
        return self.is_end


def expand_grid(
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    max_combinations: int = MAX_COMBINATIONS,
) -> ParameterGrid:
    """Expand ``grid`` into the strategy's valid parameter combinations.

    Raise ``ValueError`` when the grid is empty, names an unknown parameter, has a name with
    no values, exceeds ``max_combinations``, or yields no valid combination.
    """
    spec = get_spec(strategy)
    if not grid:
        raise ValueError("the parameter grid is empty")
    fields = {f.name for f in dataclasses.fields(spec.params_type)}
    unknown = sorted(set(grid) - fields)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) for {strategy}: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(fields))}"
        )
    empty = sorted(name for name, values in grid.items() if len(values) == 0)
    if empty:
        raise ValueError(f"no values for parameter(s): {', '.join(empty)}")
    total = math.prod(len(values) for values in grid.values())
    if total > max_combinations:
        raise ValueError(f"{total:,} combinations exceed the limit of {max_combinations:,}")
    names = tuple(grid)
    base = dict(fixed or {})
    valid: list[Params] = []
    for values in itertools.product(*(grid[name] for name in names)):
        params = base | dict(zip(names, values, strict=True))
        try:
            from_dict(strategy, params)
        except StrategyParamError:
            continue
        valid.append(params)
    if not valid:
        raise ValueError(f"none of the {total:,} combinations is valid for {strategy}")
    return ParameterGrid(strategy, names, tuple(valid), total - len(valid))


def walk_forward_windows(
    n_bars: int,
    in_sample: int,
    out_of_sample: int,
    *,
    folds: int | None = None,
    anchored: bool = False,
) -> list[Fold]:
    """Return the folds over ``n_bars`` bars (see the module docstring for the layout)."""
    if in_sample < 2 or out_of_sample < 2:
        raise ValueError("in_sample and out_of_sample must each be at least 2 bars")
    possible = (n_bars - in_sample) // out_of_sample
    if possible < 1:
        raise ValueError(
            f"{n_bars:,} bars cannot hold {in_sample:,} in-sample + {out_of_sample:,} "
            "out-of-sample bars"
        )
    count = possible if folds is None else folds
    if not 1 <= count <= possible:
        raise ValueError(f"folds must be between 1 and {possible} for these windows")
    offset = n_bars - in_sample - count * out_of_sample
    result = []
    for k in range(count):
        is_end = offset + in_sample + k * out_of_sample
        is_start = 0 if anchored else is_end - in_sample
        result.append(Fold(k, is_start, is_end, is_end + out_of_sample))
    return result


@dataclasses.dataclass(frozen=True)
class _Task:
    strategy: str
    config: BacktestConfig
    start: int
    end: int
    warm_start: int
    combinations: tuple[Params, ...]
    detail: bool = False
    share_indicators: bool = True


@dataclasses.dataclass(frozen=True)
class _Evaluation:
    metrics: dict[str, float]
    equity: FloatArray | None = None
    entries: tuple[int, ...] = ()


def _columns(arrays: BarArrays, start: int, end: int) -> dict[str, FloatArray]:
    return {name: getattr(arrays, name)[start:end] for name in BAR_COLUMNS}


def _window(arrays: BarArrays, start: int, end: int) -> BarArrays:
    if start == 0 and end == len(arrays):
        return arrays
    return BarArrays(
        open=arrays.open[start:end],
        high=arrays.high[start:end],
        low=arrays.low[start:end],
        close=arrays.close[start:end],
        volume=arrays.volume[start:end],
    )


# The indicators a sweep shares, per set of bars in this process (a worker keeps its copy of
# the bars for the whole sweep, so its cache lives as long as the sweep).
_SHARED: weakref.WeakKeyDictionary[BarArrays, IndicatorCache] = weakref.WeakKeyDictionary()


def indicator_cache(arrays: BarArrays) -> IndicatorCache:
    """Return the shared-indicator cache of ``arrays`` in this process."""
    cache = _SHARED.get(arrays)
    if cache is None:
        cache = _SHARED[arrays] = IndicatorCache()
    return cache


def window_signals(
    arrays: BarArrays,
    strategy: str,
    params: Mapping[str, Any],
    start: int,
    end: int,
    warm_start: int,
    *,
    share_indicators: bool = False,
) -> Int8Array:
    """Return the strategy's signals for bars ``[start, end)``, computed from ``warm_start``.

    With ``share_indicators`` a strategy that can (``StrategySpec.shared``) takes its
    indicators from the cache of ``arrays``, computed once per window and parameter value; the
    signals are the same.
    """
    if not 0 <= warm_start <= start < end <= len(arrays):
        raise ValueError(f"need 0 <= warm_start <= start < end <= {len(arrays)}")
    spec = get_spec(strategy)
    bound = spec.bind(from_dict(strategy, params))
    history = _columns(arrays, warm_start, end)
    if share_indicators and spec.shared is not None:
        shared = WindowIndicators(history["close"], indicator_cache(arrays), (warm_start, end))
        signals = spec.shared(shared, params=bound.params)
    else:
        close, high, low, volume = (history[c] for c in ("close", "high", "low", "volume"))
        signals = bound.signals(close, high, low, volume)
    return signals[start - warm_start :]


def backtest_window(
    bars: pd.DataFrame,
    strategy: str,
    params: Mapping[str, Any],
    *,
    start: int,
    end: int,
    warm_start: int = 0,
    config: BacktestConfig | None = None,
) -> BacktestResult:
    """Backtest ``bars[start:end]`` with signals computed from ``bars[warm_start:end]``.

    The result's bar positions (``entry_index``, ``exit_index``) count from ``start``.
    """
    arrays = BarArrays.from_frame(bars)
    signals = window_signals(arrays, strategy, params, start, end, warm_start)
    return run_backtest(bars.iloc[start:end], signals, config)


def _evaluate(arrays: BarArrays, task: _Task) -> list[_Evaluation]:
    start, end = task.start, task.end
    window = _window(arrays, start, end)
    out = []
    for params in task.combinations:
        signals = window_signals(
            arrays, task.strategy, params, start, end, task.warm_start,
            share_indicators=task.share_indicators,
        )  # fmt: skip
        if not task.detail:
            out.append(_Evaluation(evaluate_signals(window, signals, task.config)))
            continue
        assert arrays.index is not None
        frame = pd.DataFrame(_columns(arrays, start, end), index=arrays.index[start:end])
        result = run_backtest(frame, signals, task.config)
        entries = tuple(int(i) + start for i in result.trades["entry_index"])
        out.append(_Evaluation(result.metrics, result.equity.to_numpy(np.float64), entries))
    return out


def _chunks(combinations: Sequence[Params], workers: int) -> list[tuple[Params, ...]]:
    size = max(1, min(_MAX_CHUNK, len(combinations) // (workers * 8)))
    return [tuple(combinations[i : i + size]) for i in range(0, len(combinations), size)]


def _run(
    runner: ComputeBackend,
    arrays: BarArrays,
    tasks: list[_Task],
    progress: Progress | None,
    done_before: int,
    total: int,
) -> list[_Evaluation]:
    evaluations = sum(len(task.combinations) for task in tasks)

    def report(done: int, count: int) -> None:
        if progress is not None and count:
            progress(done_before + round(evaluations * done / count), total)

    batches = runner.map(_evaluate, tasks, shared=arrays, progress=report)
    return [evaluation for batch in batches for evaluation in batch]


def _mean(values: Sequence[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return math.fsum(kept) / len(kept) if kept else math.nan


def _time(bars: pd.DataFrame, position: int) -> str:
    return str(pd.Timestamp(bars.index[position]).isoformat())


def _arrays(bars: pd.DataFrame) -> BarArrays:
    if len(bars) < 2:
        raise ValueError("need at least two bars")
    return BarArrays.from_frame(bars)


def grid_search(
    bars: pd.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    objective: str = "sharpe",
    config: BacktestConfig | None = None,
    fixed: Mapping[str, Any] | None = None,
    backend: ComputeBackend | None = None,
    progress: Progress | None = None,
    max_combinations: int = MAX_COMBINATIONS,
    share_indicators: bool = True,
) -> GridSearchReport:
    """Backtest every valid combination of ``grid`` on ``bars`` and rank them by ``objective``.

    This scores in-sample only: use ``walk_forward`` to see how the choice holds up. Without a
    ``backend`` a local process pool over all CPUs runs the sweep. ``share_indicators`` (the
    default) computes each indicator once per distinct parameter value, not once per
    combination, for the strategies that can; the results are the same either way.
    """
    arrays = _arrays(bars)
    goal = Objective.named(objective)
    expanded = expand_grid(strategy, grid, fixed=fixed, max_combinations=max_combinations)
    config = config or BacktestConfig()
    runner = backend or LocalBackend()
    try:
        tasks = [
            _Task(strategy, config, 0, len(bars), 0, chunk, share_indicators=share_indicators)
            for chunk in _chunks(expanded.combinations, runner.workers)
        ]
        total = len(expanded.combinations)
        evaluations = _run(runner, arrays, tasks, progress, 0, total)
    finally:
        if backend is None:
            runner.close()
    scores = [goal.score(e.metrics) for e in evaluations]
    ranking = tuple(
        RankedParams(rank, expanded.combinations[i], scores[i], evaluations[i].metrics)
        for rank, i in enumerate(goal.rank(scores), start=1)
    )
    return GridSearchReport(
        strategy=strategy,
        objective=goal.metric,
        maximize=goal.maximize,
        bars=len(bars),
        first_time=_time(bars, 0),
        last_time=_time(bars, len(bars) - 1),
        combinations=len(expanded.combinations),
        skipped=expanded.skipped,
        ranking=ranking,
    )


def walk_forward(
    bars: pd.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    in_sample: int,
    out_of_sample: int,
    folds: int | None = None,
    anchored: bool = False,
    warmup: int | None = None,
    objective: str = "sharpe",
    config: BacktestConfig | None = None,
    fixed: Mapping[str, Any] | None = None,
    backend: ComputeBackend | None = None,
    progress: Progress | None = None,
    max_combinations: int = MAX_COMBINATIONS,
    share_indicators: bool = True,
) -> WalkForwardReport:
    """Choose params on each in-sample window and score them on the next out-of-sample one.

    ``warmup`` bounds the history before a window that its signals see (None: all of it);
    see the module docstring for the conventions. ``share_indicators`` as for ``grid_search``.
    """
    arrays = _arrays(bars)
    if warmup is not None and warmup < 0:
        raise ValueError("warmup must not be negative")
    goal = Objective.named(objective)
    expanded = expand_grid(strategy, grid, fixed=fixed, max_combinations=max_combinations)
    windows = walk_forward_windows(
        len(bars), in_sample, out_of_sample, folds=folds, anchored=anchored
    )
    config = config or BacktestConfig()

    def warm(start: int) -> int:
        return 0 if warmup is None else max(0, start - warmup)

    combos = expanded.combinations
    total = len(windows) * (len(combos) + 1)
    runner = backend or LocalBackend()
    try:
        chunks = _chunks(combos, runner.workers)
        tasks = [
            _Task(
                strategy,
                config,
                f.is_start,
                f.is_end,
                warm(f.is_start),
                chunk,
                share_indicators=share_indicators,
            )
            for f in windows
            for chunk in chunks
        ]
        in_sample_runs = _run(runner, arrays, tasks, progress, 0, total)
        chosen: list[tuple[Params, float]] = []
        for k in range(len(windows)):
            scores = [
                goal.score(e.metrics) for e in in_sample_runs[k * len(combos) :][: len(combos)]
            ]
            best = goal.rank(scores)[0]
            chosen.append((combos[best], scores[best]))
        oos_tasks = [
            _Task(strategy, config, f.oos_start, f.oos_end, warm(f.oos_start), (params,), True)
            for f, (params, _) in zip(windows, chosen, strict=True)
        ]
        oos_runs = _run(runner, arrays, oos_tasks, progress, total - len(windows), total)
    finally:
        if backend is None:
            runner.close()
    reports = tuple(
        FoldReport(
            index=f.index,
            is_start=f.is_start,
            is_end=f.is_end,
            oos_start=f.oos_start,
            oos_end=f.oos_end,
            is_first_time=_time(bars, f.is_start),
            is_last_time=_time(bars, f.is_end - 1),
            oos_first_time=_time(bars, f.oos_start),
            oos_last_time=_time(bars, f.oos_end - 1),
            params=params,
            is_score=is_score,
            oos_score=goal.score(run.metrics),
            oos_metrics=run.metrics,
            oos_entries=run.entries,
        )
        for f, (params, is_score), run in zip(windows, chosen, oos_runs, strict=True)
    )
    stitched = _stitch(bars, windows, oos_runs, config.initial_cash)
    mean_is = _mean([r.is_score for r in reports])
    mean_oos = _mean([r.oos_score for r in reports])
    return WalkForwardReport(
        strategy=strategy,
        objective=goal.metric,
        maximize=goal.maximize,
        bars=len(bars),
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        anchored=anchored,
        warmup=warmup,
        combinations=len(combos),
        skipped=expanded.skipped,
        folds=reports,
        oos_total_return=float(stitched.iloc[-1] / config.initial_cash - 1.0),
        oos_summary=performance_summary(stitched, periods_per_year=config.periods_per_year),
        mean_is_score=mean_is,
        mean_oos_score=mean_oos,
        overfitting_gap=mean_is - mean_oos,
    )


def _stitch(
    bars: pd.DataFrame, windows: Sequence[Fold], runs: Sequence[_Evaluation], initial: float
) -> pd.Series:
    pieces, scale = [], 1.0
    for run in runs:
        assert run.equity is not None
        pieces.append(run.equity * scale)
        scale *= float(run.equity[-1]) / initial
    index = np.concatenate([np.arange(f.oos_start, f.oos_end) for f in windows])
    return pd.Series(np.concatenate(pieces), index=bars.index[index], name="equity")
