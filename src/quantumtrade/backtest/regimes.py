"""Strategy evidence per market regime: which strategy earned most while each regime held.

Every candidate (a strategy with one parameter set) is backtested over each symbol's whole
history, so its indicators have their warm-up and its positions their real entries. Its return
over each bar is then credited to the regime known at the bar before (the label a trader had
when holding the position). Parameters are chosen per regime on the in-sample part of history;
strategies are ranked by their Sharpe ratio on the out-of-sample part, which the choice never
saw. Nothing here knows which strategy "should" suit a regime: the ranking is the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.backtest.engine import BacktestConfig, BarArrays, signal_equity, strategy_signals

FloatArray = npt.NDArray[np.float64]
SignalFunction = Callable[[BarArrays], npt.ArrayLike]

TREND_REGIMES = ("bull", "bear", "sideways")
# A small grid per built-in strategy: enough to choose, few enough to run daily.
DEFAULT_GRID: dict[str, tuple[dict[str, object], ...]] = {
    "sma_crossover": (
        {"fast": 10, "slow": 30},
        {"fast": 20, "slow": 50},
        {"fast": 50, "slow": 200},
    ),
    "rsi": ({"period": 14}, {"period": 7}),
    "macd": ({},),
    "mean_reversion": ({}, {"entry_z": 1.5}),
    "momentum": ({}, {"lookback": 60}),
}


@dataclass(frozen=True)
class Candidate:
    """A strategy and one parameter set; ``signals`` runs a strategy outside the registry."""

    strategy: str
    params: Mapping[str, object] = field(default_factory=dict)
    signals: SignalFunction | None = None

    def target(self, arrays: BarArrays) -> npt.ArrayLike:
        """Return the candidate's target position at each bar."""
        if self.signals is not None:
            return self.signals(arrays)
        return strategy_signals(arrays, self.strategy, self.params)


def default_candidates() -> list[Candidate]:
    """Return every built-in strategy with each parameter set of :data:`DEFAULT_GRID`."""
    return [Candidate(name, params) for name, grid in DEFAULT_GRID.items() for params in grid]


@dataclass(frozen=True)
class Evidence:
    """How a candidate did over the bars of one regime (pooled across symbols)."""

    sharpe: float | None  # annualised, of the pooled per-bar returns
    annual_return: float | None  # mean per-bar return x periods per year
    total_return: float | None  # mean across symbols of the compounded in-regime return
    max_drawdown: float | None  # median across symbols of the in-regime curve's drawdown
    bars: int
    segments: int  # runs of consecutive bars of the regime, over all symbols
    symbols: int

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as JSON-ready values."""
        return {
            "sharpe": self.sharpe,
            "annual_return": self.annual_return,
            "total_return": self.total_return,
            "max_drawdown": self.max_drawdown,
            "bars": self.bars,
            "segments": self.segments,
            "symbols": self.symbols,
        }


@dataclass(frozen=True)
class Recommendation:
    """A strategy ranked for a regime, with the parameters chosen in sample."""

    regime: str
    rank: int
    strategy: str
    params: Mapping[str, object]
    in_sample: Evidence
    out_of_sample: Evidence


def candidate_returns(
    arrays: BarArrays, candidates: Sequence[Candidate], config: BacktestConfig | None = None
) -> FloatArray:
    """Return each candidate's return over each bar (row per candidate; bar 0 is 0)."""
    out = np.zeros((len(candidates), len(arrays)), dtype=np.float64)
    for row, candidate in enumerate(candidates):
        equity = signal_equity(arrays, candidate.target(arrays), config)
        out[row, 1:] = equity[1:] / equity[:-1] - 1.0
    return out


def known_labels(labels: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Return, for each bar, the label known at the close before it ("" for the first bar)."""
    current = np.asarray(labels, dtype=np.str_)
    known = np.empty(len(current), dtype=current.dtype if len(current) else "<U1")
    if len(current):
        known[0] = ""
        known[1:] = current[:-1]
    return known


def rank_by_regime(
    labels: Sequence[npt.ArrayLike],
    index: Sequence[pd.DatetimeIndex],
    returns: Sequence[FloatArray],
    candidates: Sequence[Candidate],
    *,
    out_of_sample_start: pd.Timestamp,
    regimes: Iterable[str] = TREND_REGIMES,
    periods_per_year: float = 252.0,
    min_bars: int = 20,
) -> dict[str, list[Recommendation]]:
    """Rank strategies per regime by out-of-sample Sharpe; choose parameters in sample.

    ``labels``, ``index`` and ``returns`` hold one entry per symbol: the regime label known at
    each bar's close, the bars' times, and :func:`candidate_returns`. A regime with fewer than
    ``min_bars`` pooled bars on either side gets no Sharpe, and ranks last.
    """
    known = [known_labels(lab) for lab in labels]
    late = [np.asarray(ix >= out_of_sample_start) for ix in index]
    result: dict[str, list[Recommendation]] = {}
    for regime in regimes:
        in_masks = [(k == regime) & ~o for k, o in zip(known, late, strict=True)]
        out_masks = [(k == regime) & o for k, o in zip(known, late, strict=True)]
        chosen: dict[str, tuple[int, Evidence]] = {}
        for row, candidate in enumerate(candidates):
            rows = [r[row] for r in returns]
            evidence = _evidence(rows, in_masks, periods_per_year, min_bars)
            best = chosen.get(candidate.strategy)
            if best is None or _better(evidence, best[1]):
                chosen[candidate.strategy] = (row, evidence)
        picks = []
        for row, in_sample in chosen.values():
            rows = [r[row] for r in returns]
            oos = _evidence(rows, out_masks, periods_per_year, min_bars)
            picks.append((row, in_sample, oos))
        picks.sort(key=lambda pick: -math.inf if pick[2].sharpe is None else pick[2].sharpe)
        picks.reverse()
        result[regime] = [
            Recommendation(
                regime=regime,
                rank=rank,
                strategy=candidates[row].strategy,
                params=dict(candidates[row].params),
                in_sample=in_sample,
                out_of_sample=oos,
            )
            for rank, (row, in_sample, oos) in enumerate(picks, start=1)
        ]
    return result


def _better(new: Evidence, old: Evidence) -> bool:
    if new.sharpe is None:
        return False
    return old.sharpe is None or new.sharpe > old.sharpe


def _evidence(
    rows: Sequence[FloatArray],
    masks: Sequence[npt.NDArray[np.bool_]],
    periods_per_year: float,
    min_bars: int,
) -> Evidence:
    pooled = [r[m] for r, m in zip(rows, masks, strict=True) if m.any()]
    segments = sum(_runs(m) for m in masks)
    values = np.concatenate(pooled) if pooled else np.zeros(0)
    if len(values) < max(min_bars, 2):
        return Evidence(None, None, None, None, len(values), segments, len(pooled))
    mean, std = float(values.mean()), float(values.std(ddof=1))
    sharpe = mean / std * math.sqrt(periods_per_year) if std > 0 else None
    compounded = [float(np.prod(1.0 + part) - 1.0) for part in pooled]
    drawdowns = [_max_drawdown(part) for part in pooled]
    return Evidence(
        sharpe=sharpe,
        annual_return=mean * periods_per_year,
        total_return=float(np.mean(compounded)),
        max_drawdown=float(np.median(drawdowns)),
        bars=len(values),
        segments=segments,
        symbols=len(pooled),
    )


def _runs(mask: npt.NDArray[np.bool_]) -> int:
    """Return how many runs of True ``mask`` has."""
    if not len(mask):
        return 0
    starts = mask[1:] & ~mask[:-1]
    return int(starts.sum()) + int(mask[0])


def _max_drawdown(returns: FloatArray) -> float:
    curve = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(np.concatenate(([1.0], curve)))[1:]
    return float(np.max(1.0 - curve / peak)) if len(curve) else 0.0
