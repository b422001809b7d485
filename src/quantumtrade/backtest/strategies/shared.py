"""Indicators shared between the runs of a parameter sweep.

A sweep of ``sma_crossover`` over fast x slow windows needs SMA(n) for each distinct ``n``, not
for each combination: the 1,000 combinations of 40 fast and 25 slow windows need 65 SMAs. A
strategy with a ``shared`` signal function (``StrategySpec.shared``) asks a
:class:`WindowIndicators` for its indicators; the arrays are computed once per window of bars
and kept in an :class:`IndicatorCache`, least recently used first out, under a byte budget. The
shared function must give exactly the signals of the strategy's own function: the same
indicator kernels, the same arithmetic.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from quantumtrade.domain.indicators import sma

FloatArray = npt.NDArray[np.float64]

# Per set of bars in one process. A 1,000,000-bar array is 8 MB, so 256 MiB keeps 32 of them:
# every slow window of a typical grid plus the fast ones in use.
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass
class IndicatorCache:
    """Arrays by key, least recently used evicted first once they pass ``budget_bytes``."""

    budget_bytes: int = DEFAULT_BUDGET_BYTES
    computed: int = 0  # how many arrays were computed (misses)
    reused: int = 0  # how many requests an array already held answered (hits)
    _entries: OrderedDict[Hashable, FloatArray] = field(default_factory=OrderedDict)
    _bytes: int = 0

    def get(self, key: Hashable, compute: Callable[[], FloatArray]) -> FloatArray:
        """Return the array for ``key``, computing it with ``compute`` when not held."""
        held = self._entries.get(key)
        if held is not None:
            self._entries.move_to_end(key)
            self.reused += 1
            return held
        value = compute()
        value.flags.writeable = False  # shared by many runs: nobody may change it
        self.computed += 1
        if value.nbytes <= self.budget_bytes:
            self._entries[key] = value
            self._bytes += value.nbytes
            while self._bytes > self.budget_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes
        return value


@dataclass(frozen=True)
class WindowIndicators:
    """The indicators of one window of bars (``close``), through a shared cache.

    ``window`` identifies the bars within the cache's set of bars (for a sweep, the first and
    the end bar of the history the signals see).
    """

    close: FloatArray
    cache: IndicatorCache
    window: Hashable

    def sma(self, n: int) -> FloatArray:
        """SMA(n) of the closes, as ``domain.indicators.sma`` computes it."""
        return self.cache.get((self.window, "sma", int(n)), lambda: sma(self.close, int(n)))
