"""A content hash of a fitted model, the same for the same seed and data.

:func:`model_hash` serialises a model's state canonically and hashes it with SHA-256. A model
with a ``fingerprint()`` method (the gradient-boosted model dumps its boosters as text) is
hashed by that; anything else by walking its attributes: numbers by ``repr`` (exact for
floats), arrays by dtype, shape and bytes, mappings by sorted key, objects with a
``state_dict()`` (neural networks) by that, LightGBM boosters by their text dump, scikit-learn
estimators and other objects by their attributes, recursively.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def _walk(value: Any, out: hashlib._Hash, seen: set[int]) -> None:
    if value is None or isinstance(value, bool | int | float | complex | str | np.generic):
        out.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, bytes):
        out.update(b"bytes:" + value + b";")
        return
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        out.update(f"ndarray:{array.dtype.str}:{array.shape};".encode())
        if array.dtype.kind == "O":
            for item in array.ravel():
                _walk(item, out, seen)
        else:
            out.update(array.tobytes())
        return
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        out.update(f"{type(value).__name__};".encode())
        _walk(value.to_numpy(), out, seen)
        if not isinstance(value, pd.Index):
            _walk(np.asarray(value.index.astype(str)), out, seen)
        if isinstance(value, pd.DataFrame):
            _walk(np.asarray(value.columns.astype(str)), out, seen)
        return
    # ``seen`` holds the objects on the current path only: it detects true cycles, and an id
    # is never reused while its object is on the path (temporaries die once walked)
    if id(value) in seen:
        out.update(b"cycle;")
        return
    seen.add(id(value))
    try:
        _walk_container(value, out, seen)
    finally:
        seen.discard(id(value))


def _walk_container(value: Any, out: hashlib._Hash, seen: set[int]) -> None:
    if isinstance(value, Mapping):
        out.update(f"mapping:{len(value)};".encode())
        for key in sorted(value, key=repr):
            _walk(repr(key), out, seen)
            _walk(value[key], out, seen)
        return
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        out.update(f"{type(value).__name__}:{len(items)};".encode())
        for item in items:
            _walk(item, out, seen)
        return
    fingerprint = getattr(value, "fingerprint", None)
    if callable(fingerprint):
        _walk(fingerprint(), out, seen)
        return
    dump = getattr(value, "model_to_string", None)
    if callable(dump):
        _walk(dump(), out, seen)
        return
    state_dict = getattr(value, "state_dict", None)
    if callable(state_dict):
        state = {k: _tensor(v) for k, v in state_dict().items()}
        _walk(state, out, seen)
        return
    out.update(f"object:{type(value).__module__}.{type(value).__qualname__};".encode())
    attributes: dict[str, Any] = dict(getattr(value, "__dict__", {}))
    for cls in type(value).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if hasattr(value, slot):
                attributes[slot] = getattr(value, slot)
    _walk(attributes, out, seen)


def _tensor(value: Any) -> Any:
    """Return a tensor-like value as a numpy array (anything else unchanged)."""
    detach = getattr(value, "detach", None)
    if callable(detach):
        return np.asarray(detach().cpu().numpy())
    return value


def model_hash(model: object) -> str:
    """Return the SHA-256 (hex) of the model's canonical state: equal for equal fitted models."""
    digest = hashlib.sha256()
    _walk(model, digest, set())
    return digest.hexdigest()
