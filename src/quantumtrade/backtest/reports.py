"""The reports of a parameter search: ranked combinations, walk-forward folds, JSON-safe.

Every report's ``to_dict()`` turns NaN and infinities into ``None`` and timestamps into ISO
text, so it can be stored as JSON and sent over the API as it is.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

Params = dict[str, Any]


def _json_safe(value: Any) -> Any:
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


@dataclasses.dataclass(frozen=True)
class RankedParams:
    """One combination of a grid search: its rank (1 = best), params, score and metrics."""

    rank: int
    params: Params
    score: float
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (NaN and infinities become None)."""
        return _json_safe(dataclasses.asdict(self))  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class GridSearchReport:
    """Every valid combination scored on all the bars, best first."""

    strategy: str
    objective: str
    maximize: bool
    bars: int
    first_time: str
    last_time: str
    combinations: int
    skipped: int
    ranking: tuple[RankedParams, ...]

    @property
    def best(self) -> RankedParams:
        """Return the top-ranked combination."""
        return self.ranking[0]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: the fields, ``best`` and the full ``ranking``."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        body["ranking"] = [r.to_dict() for r in self.ranking]
        return {"kind": "grid_search", **_json_safe(body), "best": self.best.to_dict()}


@dataclasses.dataclass(frozen=True)
class FoldReport:
    """One walk-forward fold: its windows, the params chosen in-sample and both scores.

    Indexes are half-open bar positions; ``*_first_time`` / ``*_last_time`` are the
    timestamps of each window's first and last bar. ``oos_entries`` holds the bar position
    of every out-of-sample trade's entry.
    """

    index: int
    is_start: int
    is_end: int
    oos_start: int
    oos_end: int
    is_first_time: str
    is_last_time: str
    oos_first_time: str
    oos_last_time: str
    params: Params
    is_score: float
    oos_score: float
    oos_metrics: dict[str, float]
    oos_entries: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (``oos_entries`` summarised as ``oos_trades``)."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del body["oos_entries"]
        body["oos_trades"] = len(self.oos_entries)
        return _json_safe(body)  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class WalkForwardReport:
    """Per-fold in-sample choice and out-of-sample score, and the stitched out-of-sample run.

    ``oos_summary`` is ``performance_summary`` of the chained out-of-sample equity;
    ``overfitting_gap`` is ``mean_is_score - mean_oos_score`` (for a maximised objective a
    positive gap means the in-sample score flattered the params).
    """

    strategy: str
    objective: str
    maximize: bool
    bars: int
    in_sample: int
    out_of_sample: int
    anchored: bool
    warmup: int | None
    combinations: int
    skipped: int
    folds: tuple[FoldReport, ...]
    oos_total_return: float
    oos_summary: dict[str, float]
    mean_is_score: float
    mean_oos_score: float
    overfitting_gap: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: the fields with each fold as a dict."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        body["folds"] = [fold.to_dict() for fold in self.folds]
        return {"kind": "walk_forward", **_json_safe(body)}
