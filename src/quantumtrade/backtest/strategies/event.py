"""Per-bar strategies in the ``init`` / ``next`` style, and the adapter to a signal array.

Slower than a vectorised ``signals`` function (one Python call per bar), but often the easiest
way to write a rule. Look-ahead is impossible by construction: at bar ``i`` the strategy sees
read-only views of the series cut at ``i + 1``.

Example::

    class Cross(EventStrategy):
        def init(self) -> None:
            self.position = 0

        def next(self, bar: History) -> int:
            if len(bar.close) >= 30:
                fast, slow = bar.close[-10:].mean(), bar.close[-30:].mean()
                self.position = 1 if fast > slow else 0
            return self.position

    positions = EventStrategyAdapter(Cross).signals(close)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from quantumtrade.backtest.strategies._base import FloatArray, Int8Array, as_inputs


@dataclasses.dataclass(frozen=True)
class History:
    """The series up to and including the current bar (read-only views)."""

    index: int
    close: FloatArray
    high: FloatArray | None
    low: FloatArray | None
    volume: FloatArray | None


class EventStrategy:
    """Base class of per-bar strategies: override ``init`` and ``next``.

    ``init`` runs once before the first bar of every run and must reset all state, so one
    instance can be run several times. ``next`` runs once per bar and returns the target position
    (``+1``, ``0`` or ``-1``; ``-1`` only when ``allow_short`` is true).
    """

    allow_short: bool = False

    def init(self) -> None:
        """Reset the state before a run."""

    def next(self, bar: History) -> int:
        """Return the target position after seeing ``bar`` (history up to now)."""
        raise NotImplementedError


def _read_only(array: FloatArray | None) -> FloatArray | None:
    if array is None:
        return None
    view = array.view()
    view.flags.writeable = False
    return view


def run_event_strategy(
    strategy: EventStrategy,
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
) -> Int8Array:
    """Run ``strategy`` bar by bar and return its target positions as an int8 array."""
    c, h, lo, v = as_inputs(close, high, low, volume)
    # Private read-only copies: the strategy cannot alter the caller's data or the future.
    c_ro, h_ro, lo_ro, v_ro = (_read_only(None if a is None else a.copy()) for a in (c, h, lo, v))
    assert c_ro is not None
    allowed = {-1, 0, 1} if strategy.allow_short else {0, 1}
    out = np.zeros(c.shape[0], dtype=np.int8)
    strategy.init()
    for i in range(c.shape[0]):
        end = i + 1
        bar = History(
            index=i,
            close=c_ro[:end],
            high=None if h_ro is None else h_ro[:end],
            low=None if lo_ro is None else lo_ro[:end],
            volume=None if v_ro is None else v_ro[:end],
        )
        position = strategy.next(bar)
        # bool and float are rejected so a mistaken truth value or price cannot pass as a position
        valid = isinstance(position, int | np.integer) and not isinstance(position, bool)
        if not valid or position not in allowed:
            raise ValueError(
                f"{type(strategy).__name__}.next returned {position!r} at bar {i}; "
                f"expected one of {sorted(allowed)}"
            )
        out[i] = position
    return out


@dataclasses.dataclass(frozen=True)
class EventStrategyAdapter:
    """Turn an ``EventStrategy`` factory into a ``SignalStrategy``.

    A factory (usually the class itself) rather than an instance, so every run starts from a
    fresh object and no state leaks between runs.
    """

    factory: Callable[[], EventStrategy]

    def signals(
        self,
        close: ArrayLike,
        high: ArrayLike | None = None,
        low: ArrayLike | None = None,
        volume: ArrayLike | None = None,
    ) -> Int8Array:
        return run_event_strategy(self.factory(), close, high, low, volume)
