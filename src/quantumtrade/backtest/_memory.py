"""Large output arrays backed by huge pages.

A backtest over a million bars returns two fresh 8 MB arrays (equity and positions). From
glibc's heap they are faulted in 4 KiB page by page, about 2,000 faults a run on this VM,
which cost more than the bar loop itself. ``large_empty`` maps such an array on its own,
aligned to 2 MiB and advised for transparent huge pages, so it faults in a few 2 MiB pages
instead. Where the platform has no ``MADV_HUGEPAGE`` it is ``np.empty``.
"""

from __future__ import annotations

import mmap

import numpy as np
import numpy.typing as npt

_HUGE_PAGE = 2 << 20
# Below this an array is left to NumPy: the alignment slack would outweigh the saving.
_THRESHOLD = 4 << 20


def large_empty(length: int) -> npt.NDArray[np.float64]:
    """Return an uninitialised float64 array of ``length``, huge-page backed when large."""
    size = length * 8
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if size < _THRESHOLD or advice is None:
        return np.empty(length, dtype=np.float64)
    mapping = mmap.mmap(-1, size + _HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mapping.madvise(advice)
    raw = np.frombuffer(mapping, dtype=np.uint8)  # keeps the mapping alive as its base
    start = -raw.ctypes.data % _HUGE_PAGE
    return raw[start : start + size].view(np.float64)
